from __future__ import annotations

from functools import partial

import numpy as np
import pytest
import scenario_runs
from scenario_runs import metric_lines

from paramlab.engines.linalg import matrix_sensing as ms
from paramlab.scenarios import load
from paramlab.scenarios.base import Metric
from paramlab.scenarios.history import History

SID = "matrix-sensing-overparam"
run_to_end = partial(scenario_runs.run_to_end, SID)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quick_claim_check_passes(seed):
    h = run_to_end(seed=seed)
    assert h.verdict.passed, h.verdict


def test_check_fails_when_nothing_has_converged():
    h = run_to_end({"T": 50})
    assert not h.verdict.passed
    failed = {c.name for c in h.verdict.criteria if not c.passed}
    assert "sym k=r final error" in failed and "asym imbalanced final error" in failed


def test_check_fails_when_sym_and_asym_series_are_swapped():
    sc = load(SID)
    p = sc.make_params("quick")
    h = run_to_end()
    swap = {"err_sym_over": "err_asym_imb", "err_asym_imb": "err_sym_over",
            "err_sym_exact": "err_asym_bal", "err_asym_bal": "err_sym_exact"}
    events = []
    for name in h.history.names():
        for step, v in zip(*h.history.series(name)):
            events.append(Metric(step, {swap.get(name, name): v}))
    verdict = sc.check(History(events), p)
    assert not verdict.passed


def test_same_seed_gives_identical_metric_lines(runs):
    a = run_to_end({"T": 200}, runs=runs, seed=5)
    b = run_to_end({"T": 200}, runs=runs, seed=5)
    c = run_to_end({"T": 200}, runs=runs, seed=6)
    assert metric_lines(a) == metric_lines(b)
    assert metric_lines(a) != metric_lines(c)


def test_adjoint_is_the_adjoint_of_forward():
    rng = np.random.default_rng(0)
    op = ms.SensingOperator.gaussian(rng, 5, 4, 30)
    M, r = rng.standard_normal((5, 4)), rng.standard_normal(30)
    assert np.isclose(op.forward(M) @ r, np.sum(M * op.adjoint(r)))


def test_gaussian_operator_is_near_isometric_on_average():
    rng = np.random.default_rng(1)
    op = ms.SensingOperator.gaussian(rng, 10, 10, 4000)
    M = rng.standard_normal((10, 10))
    assert abs(np.linalg.norm(op.forward(M)) / np.linalg.norm(M) - 1) < 0.05


def test_symmetric_step_is_gradient_of_quarter_squared_loss():
    rng = np.random.default_rng(2)
    op = ms.SensingOperator.gaussian(rng, 6, 6, 50)
    y = rng.standard_normal(50)
    X = rng.standard_normal((6, 3))

    def loss(X):
        return 0.25 * np.sum((op.forward(X @ X.T) - y) ** 2)

    S = ms.residual_matrix(op, X @ X.T, y)
    grad = (X - ms.symmetric_gd_step(X, S, 1.0))
    eps, E = 1e-6, np.zeros_like(X)
    E[2, 1] = eps
    fd = (loss(X + E) - loss(X - E)) / (2 * eps)
    assert np.isclose(grad[2, 1], fd, rtol=1e-5)


def test_asymmetric_step_is_gradient_of_half_squared_loss():
    rng = np.random.default_rng(3)
    op = ms.SensingOperator.gaussian(rng, 5, 4, 40)
    y = rng.standard_normal(40)
    F, G = rng.standard_normal((5, 2)), rng.standard_normal((4, 2))

    def loss(F, G):
        return 0.5 * np.sum((op.forward(F @ G.T) - y) ** 2)

    S = ms.residual_matrix(op, F @ G.T, y)
    F1, G1 = ms.asymmetric_gd_step(F, G, S, 1.0)
    eps, E = 1e-6, np.zeros_like(G)
    E[3, 0] = eps
    fd = (loss(F, G + E) - loss(F, G - E)) / (2 * eps)
    assert np.isclose((G - G1)[3, 0], fd, rtol=1e-5)


def test_identity_sensing_is_matrix_factorization():
    h = run_to_end({"sensing": "identity", "T": 300})
    assert h.history.last("err_sym_exact") < 1e-8
