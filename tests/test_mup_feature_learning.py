from __future__ import annotations

import math
from functools import partial

import pytest
import scenario_runs
import torch
from torch.nn import functional as F

from paramlab.engines.nn import parametrization as pz
from paramlab.engines.nn import torch_train as tt

SID = "mup-feature-learning"
run_to_end = partial(scenario_runs.run_to_end, SID)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quick_claim_check_passes(seed):
    h = run_to_end(seed=seed)
    assert h.verdict.passed, h.verdict
    assert all(c.passed for c in h.verdict.criteria), h.verdict  # LR transfer too


def test_mup_with_a_1_over_sqrt_n_readout_loses_width_independent_feature_learning():
    h = run_to_end({"mup_readout": "1/sqrt(n)", "lr_transfer": False})
    failed = {c.name for c in h.verdict.criteria if not c.passed}
    assert not h.verdict.passed
    assert "|feature-movement slope| muP" in failed


def _effective(kind, width, readout_exponent=1.0):
    """(init variance, lr) of the effective weights W = multiplier * w, per layer."""
    scales = pz.layer_scalings(kind, 32, width, 3, lr=0.1, base_width=64,
                               readout_exponent=readout_exponent)
    return [v for s in scales for v in ((s.multiplier * s.std) ** 2, s.multiplier ** 2 * s.lr)]


def test_effective_scalings_follow_the_abc_tables():
    n, r = 1024, 1024 / 64
    sp, ntk, mup = (_effective(k, n) for k in ("sp", "ntk", "mup"))
    assert sp == pytest.approx([1 / 32, 0.1, 1 / n, 0.1, 1 / n, 0.1])
    assert ntk == pytest.approx([1 / 32, 0.1 / 32, 1 / n, 0.1 / n, 1 / n, 0.1 / n])
    assert mup == pytest.approx([1 / 32, 0.1 * r, 1 / n, 0.1, 1 / n**2, 0.1 / r])
    # the classic mistake (readout multiplier 1/sqrt(n)) gives an SP-like readout
    wrong = _effective("mup", n, readout_exponent=0.5)
    assert wrong[-2:] == pytest.approx([1 / (64 * n), 0.1])


def test_mup_learning_rates_equal_sp_at_the_base_width():
    assert _effective("mup", 64)[1::2] == pytest.approx(_effective("sp", 64)[1::2])


def test_one_step_feature_update_is_width_independent_in_mup_and_shrinks_in_ntk():
    def first_step_movement(kind, n, lr):
        g = tt.generator(0)
        X, y = pz.teacher_regression(64, 32, 4, generator=g)
        net, opt = pz.build(kind, 32, n, 2, 1, lr=lr, base_width=64, generator=g)
        with torch.no_grad():
            h0 = net.features(X)
        list(tt.train(net, F.mse_loss, X, y, opt, 1))
        with torch.no_grad():
            return pz.feature_movement(net.features(X), h0)

    mup = [first_step_movement("mup", n, 0.05) for n in (256, 4096)]
    ntk = [first_step_movement("ntk", n, 2.0) for n in (256, 4096)]
    assert 0.7 < mup[1] / mup[0] < 1.4
    assert ntk[1] / ntk[0] == pytest.approx(0.25, rel=0.3)  # (4096/256)^-1/2


def test_mup_package_trains_identically_at_width_512():
    mup = pytest.importorskip("mup")  # optional cross-check; not a paramlab dependency

    class Net(torch.nn.Module):
        def __init__(self, n):
            super().__init__()
            self.l1 = torch.nn.Linear(32, n, bias=False)
            self.l2 = torch.nn.Linear(n, n, bias=False)
            self.out = mup.MuReadout(n, 1, bias=False)

        def forward(self, x):
            return self.out(F.relu(self.l2(F.relu(self.l1(x)))))

    g = tt.generator(0)
    X, y = pz.teacher_regression(256, 32, 4, generator=g)
    ours, opt = pz.build("mup", 32, 512, 3, 1, lr=0.05, base_width=64, generator=g)
    theirs = Net(512)
    mup.set_base_shapes(theirs, Net(64), delta=Net(128))
    with torch.no_grad():  # the same effective weights (MuReadout divides by width_mult)
        theirs.l1.weight.copy_(ours.layers[0].weight)
        theirs.l2.weight.copy_(ours.layers[1].weight)
        theirs.out.weight.copy_(ours.layers[2].weight * ours.layers[2].multiplier * 8)
    their_opt = mup.MuSGD(theirs.parameters(), lr=0.05)
    a = [r["loss"] for r in tt.train(ours, F.mse_loss, X, y, opt, 40)]
    b = [r["loss"] for r in tt.train(theirs, F.mse_loss, X, y, their_opt, 40)]
    assert all(math.isfinite(v) for v in a)
    assert a == pytest.approx(b, rel=0.05)


def test_same_seed_gives_identical_metrics():
    small = {"widths": "64,128,256", "steps": 5, "lr_transfer": False}

    def values(seed):
        h = run_to_end(small, seed=seed)
        return {name: h.history.series(name) for name in h.history.names()}

    assert values(3) == values(3)
    assert values(3) != values(4)
