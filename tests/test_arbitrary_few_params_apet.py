from __future__ import annotations

import math
from functools import partial

import numpy as np
import pytest
import scenario_runs
import torch

from paramlab.engines.peft import apet

SID = "arbitrary-few-params-apet"
run_to_end = partial(scenario_runs.run_to_end, SID)
K90 = "k to reach 90% of full FT: widest / narrowest width"
INVERSION = "one fixed lr, k_mid: acc(narrowest) - acc(widest)"
LR_RATIO = "lr adapted with at k_mid: widest / narrowest (>= 0.75 sqrt(width ratio))"
GAP = "tuned lr, largest k: |acc(widest) - acc(narrowest)|"
MECHANISM = (INVERSION, LR_RATIO, GAP)


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _crit(h):
    return {c.name: c for c in h.verdict.criteria}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quick_fails_the_scale_claim_and_shows_the_lr_mechanism(seed):
    h = run_to_end(seed=seed)
    crit = _crit(h)
    assert not h.verdict.passed  # the honest FAIL: the wide model does not need fewer k
    assert K90 in scenario_runs.failed_paper(h)
    assert crit[K90].measured > 0.5
    for name in MECHANISM:
        assert crit[name].passed, (name, crit[name].measured)
    assert all(math.isfinite(c.measured) for c in crit.values())


def test_one_lr_shared_across_widths_fails_the_lr_rows():
    h = run_to_end({"lr_tuning": "shared"})
    crit = _crit(h)
    assert not crit[LR_RATIO].passed
    assert crit[LR_RATIO].measured == pytest.approx(1.0)


def _backbone(depth: int, w: int = 12) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    P = {"W1": torch.randn(w, 64, generator=g) / 8, "b1": torch.randn(w, generator=g) / 10,
         "Wh": torch.randn(10, w, generator=g) / 4, "bh": torch.randn(10, generator=g) / 10}
    if depth == 2:
        P |= {"W2": torch.randn(w, w, generator=g) / 4, "b2": torch.randn(w, generator=g) / 10}
    return P


@pytest.mark.parametrize("depth", [1, 2])
def test_sparse_layer_matches_a_dense_masked_model(depth):
    """Loss, gradient and accuracy of the CSR program equal autograd on each model's
    dense weight W + sum_e delta_e e_i e_j^T."""
    P = _backbone(depth)
    key = "W1" if depth == 1 else "W2"
    shape = tuple(P[key].shape)
    rng = np.random.default_rng(0)
    masks = [apet.random_entries(rng, shape, k) for k in (3, 17, 40)]
    layer = apet.SparseLastLayer.build(P, masks, [1.0, 1.0, 1.0])
    X = torch.rand(30, 64, generator=torch.Generator().manual_seed(1))
    y = torch.randint(0, 10, (30,), generator=torch.Generator().manual_seed(2))
    feats = layer.features(X)
    delta = torch.randn(60, generator=torch.Generator().manual_seed(3))
    loss, grad = layer.grad(feats, delta, y)
    acc = layer.accuracy(feats, delta, y)
    rows = np.repeat(np.arange(len(layer.crow) - 1), np.diff(layer.crow.numpy())) // 3
    for m in range(3):
        sel = np.flatnonzero(layer.model.numpy() == m)
        d = delta[sel].clone().requires_grad_(True)
        D = torch.zeros(shape).index_put((torch.as_tensor(rows[sel]), layer.col[sel]), d)
        out = apet.forward({**P, key: P[key] + D}, X)
        ref = torch.nn.functional.cross_entropy(out, y)
        ref.backward()
        assert float(loss[m]) == pytest.approx(float(ref.detach()), abs=1e-5)
        assert torch.allclose(grad[sel], d.grad, atol=1e-6)
        assert float(acc[m]) == pytest.approx(float((out.argmax(1) == y).float().mean()))


def test_random_entries_are_distinct_and_in_range():
    r, c = apet.random_entries(np.random.default_rng(0), (7, 5), 35)
    assert len({(a, b) for a, b in zip(r, c)}) == 35
    assert r.max() < 7 and c.max() < 5


def test_interp_log_k_and_argmax_log():
    assert apet.interp_log_k([10, 100], [0.2, 0.6], 0.4) == pytest.approx(10 ** 1.5)
    assert apet.interp_log_k([10, 100], [0.5, 0.6], 0.4) == 10
    assert math.isnan(apet.interp_log_k([10, 100], [0.1, 0.2], 0.4))
    # a parabola in log x peaking at x = 2 is found exactly from three grid points
    xs = [1.0, 3.0, 9.0]
    ys = [-(math.log(x) - math.log(2.0)) ** 2 for x in xs]
    assert apet.argmax_log(xs, ys) == pytest.approx(2.0)
    assert apet.argmax_log(xs, [3.0, 2.0, 1.0]) == 1.0
