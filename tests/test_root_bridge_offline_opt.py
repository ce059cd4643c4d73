from __future__ import annotations

from functools import partial

import numpy as np
import pytest
import scenario_runs
import torch
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF

from paramlab.engines.nn import root_bridge as rb

SID = "root-bridge-offline-opt"
run_to_end = partial(scenario_runs.run_to_end, SID)
GAIN = "ROOT p100 - best offline (score, 1 = global max)"
ABS = "ROOT p100 (score, 1 = global max)"
TINY = {"n_offline": 200, "bridge_steps": 100, "sde_steps": 5, "n_starts": 16,
        "search_steps": 20, "short_steps": 10, "surrogate_steps": 50, "pair_steps": 10}


@pytest.mark.parametrize("seed", [0, 1])
def test_quick_root_lifts_designs_far_above_the_offline_data(seed):
    h = run_to_end(seed=seed)
    assert h.history.last("gain") >= 0.40
    assert h.history.last("vs_offline_pairs") >= 0.20
    assert h.verdict.passed, h.verdict.summary


def test_a_bridge_on_offline_pairs_only_fails():
    # control (the spec's broken variant): no synthetic functions, pairs of offline points
    h = run_to_end({"pairs": "offline"})
    failed = scenario_runs.failed_paper(h)
    assert GAIN in failed and ABS in failed


def test_same_seed_gives_identical_metrics():
    def values(seed):
        h = run_to_end(TINY, seed=seed)
        return {name: h.history.series(name) for name in h.history.names()}

    assert values(3) == values(3)
    assert values(3) != values(4)


def test_gp_means_match_sklearn():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (40, 3))
    y = np.sin(3 * X).sum(1)
    y = (y - y.mean()) / y.std()
    Z = rng.uniform(-1, 1, (7, 3))
    gp = rb.fit_gp_means(torch.tensor(X), torch.tensor(y), [0.5, 1.0], noise=1e-3)
    ours = gp(torch.tensor(Z)).numpy()
    for i, ls in enumerate([0.5, 1.0]):
        ref = GaussianProcessRegressor(RBF(ls), alpha=1e-3, optimizer=None).fit(X, y).predict(Z)
        np.testing.assert_allclose(ours[i], ref, rtol=1e-6, atol=1e-8)


def test_pairs_go_down_and_up_each_gp_mean():
    gen = torch.Generator().manual_seed(0)
    X = torch.rand(30, 2, generator=gen) * 2 - 1
    y = -(X**2).sum(1)
    y = (y - y.mean()) / y.std()
    gp = rb.fit_gp_means(X, y, [0.5, 1.0])
    lo, hi = rb.gp_pairs(gp, X, steps=30, lr=0.05, lo=-1.0, hi=1.0)
    assert lo.shape == hi.shape == (60, 2)
    Xs = torch.cat([X, X])
    L = torch.arange(2).repeat_interleave(30)
    m = lambda Z: gp(Z)[L, torch.arange(60)]  # noqa: E731
    assert (m(hi) >= m(Xs) - 1e-6).all() and (m(lo) <= m(Xs) + 1e-6).all()
    assert hi.abs().max() <= 1.0
