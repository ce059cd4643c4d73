from __future__ import annotations

import functools
import math

import numpy as np
import pytest
import scenario_runs
from scenario_runs import failed_paper, metric_lines

from paramlab.engines.linalg import matrix_sensing as ms
from paramlab.scenarios import ParamError, load

SID = "robust-matrix-recovery-subgradient"
run_to_end = functools.partial(scenario_runs.run_to_end, SID)


@functools.cache
def quick_run(seed):
    return run_to_end(seed=seed)


failed_paper_criteria = failed_paper


# ------------------------------------------------------------------ the claim check


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quick_claim_check_passes(seed):
    h = quick_run(seed)
    assert h.verdict.passed, h.verdict


def test_final_error_is_logged_against_alpha_for_both_widths():
    h = quick_run(0)
    alphas, over = h.history.paired("alpha", "final_err_over")
    _, exact = h.history.paired("alpha", "final_err_exact")
    assert alphas == [1e-5, 1e-3, 1e-1]
    assert over == sorted(over)  # smaller init, smaller error (r' = d)
    assert max(exact) < 1e-5
    assert h.history.last_step == 900  # progress ends at T


def test_l2_loss_in_place_of_l1_fails():
    # a step small enough not to diverge on the outliers; the l2 runs do not recover
    h = run_to_end({"loss": "l2", "eta0": 0.05, "T": 300})
    assert not h.verdict.passed
    assert "SubGM r'=r (exact rank) final rel. error" in failed_paper_criteria(h)


@pytest.mark.filterwarnings("ignore:overflow encountered")
def test_l2_loss_with_the_l1_step_diverges():
    run_to_end({"loss": "l2"}, status="diverged")


def test_too_fast_step_decay_freezes_the_smallest_init():
    h = run_to_end({"rho": 0.9, "T": 200})
    assert not h.verdict.passed
    assert h.history.last("err_over_asmall") > 0.5


def test_large_init_fails_the_init_scale_criterion():
    h = run_to_end({"alpha_small": 0.3, "T": 500})  # the r'>r errors plateau by t~500
    assert not h.verdict.passed
    assert "SubGM r'>r error ratio alpha_small / alpha_large" in failed_paper_criteria(h)


def test_far_too_many_outliers_break_the_over_parameterized_runs():
    h = run_to_end({"p_out": 0.7, "T": 500})
    assert not h.verdict.passed
    assert "SubGM r'>r small init (alpha <= 0.001) worst final rel. error" in \
        failed_paper_criteria(h)


def test_same_seed_gives_identical_metric_lines(runs):
    a = run_to_end({"T": 30}, runs=runs, seed=5)
    b = run_to_end({"T": 30}, runs=runs, seed=5)
    c = run_to_end({"T": 30}, runs=runs, seed=6)
    assert metric_lines(a) == metric_lines(b)
    assert metric_lines(a) != metric_lines(c)


def test_search_rank_below_true_rank_is_rejected():
    with pytest.raises(ParamError, match="r_search"):
        load(SID).make_params("quick", {"r": 3, "r_search": 2})


# ------------------------------------------------------------------ engine cross-checks


def test_symmetric_gaussian_sensing_is_isometric_in_expectation():
    rng = np.random.default_rng(0)
    op = ms.SensingOperator.symmetric_gaussian(rng, 8, 4000)
    A = op.matrix.reshape(-1, 8, 8)
    assert np.allclose(A, np.swapaxes(A, 1, 2))
    M = rng.standard_normal((8, 8))
    M = M + M.T
    assert abs(np.mean(op.forward(M) ** 2) / np.sum(M**2) - 1) < 0.06


def test_subgm_step_is_the_l1_loss_gradient():
    rng = np.random.default_rng(1)
    op = ms.SensingOperator.symmetric_gaussian(rng, 6, 50)
    y = rng.standard_normal(50)
    X = rng.standard_normal((6, 3))

    def f(X):  # Ma & Fattahi's loss: 1/m sum_i |<A_i, X X^T> - y_i|
        return np.mean(np.abs(op.forward(X @ X.T) - y))

    G = ms.residual_matrix(op, X @ X.T, y, "l1")
    step = X - ms.symmetric_gd_step(X, G, 2 * 1.0)  # eta * 2 G X with eta = 1
    eps = 1e-7  # small enough that no residual changes sign
    for i, j in [(0, 0), (4, 2)]:
        E = np.zeros_like(X)
        E[i, j] = eps
        fd = (f(X + E) - f(X - E)) / (2 * eps)
        assert np.isclose(step[i, j], fd, rtol=1e-4)


@pytest.mark.parametrize("p_out", [0.0, 0.2])
def test_subgradient_points_along_the_error_despite_outliers(p_out):
    # Sign-RIP: E G = (1 - p) sqrt(2/pi) (M - M*) / ||M - M*||_F for outliers much larger
    # than the residual, so the sub-gradient keeps its direction under outliers
    rng = np.random.default_rng(2)
    d, m = 10, 4000
    op = ms.SensingOperator.symmetric_gaussian(rng, d, m)
    M_star = ms.planted_psd(rng, d, np.ones(2))
    y, _ = ms.corrupt_measurements(rng, op.forward(M_star), p_out, 100.0)
    M = M_star + 0.1 * ms.planted_psd(rng, d, np.ones(3))
    G = ms.residual_matrix(op, M, y, "l1")
    D = (M - M_star) / np.linalg.norm(M - M_star)
    cosine = np.sum(G * D) / np.linalg.norm(G)
    assert cosine > 0.85
    assert np.sum(G * D) == pytest.approx((1 - p_out) * math.sqrt(2 / math.pi), rel=0.1)


def test_outlier_model_corrupts_a_fraction_and_gaussian_model_all():
    rng = np.random.default_rng(3)
    y = rng.standard_normal(20000)
    y_out, mask = ms.corrupt_measurements(rng, y, 0.2, 10.0, "outlier")
    assert abs(mask.mean() - 0.2) < 0.01
    assert np.array_equal(y_out[~mask], y[~mask])
    assert abs(np.std((y_out - y)[mask]) - 10.0) < 0.3
    _, mask = ms.corrupt_measurements(rng, y, 0.2, 1.0, "gaussian")
    assert mask.all()


def test_geometric_step_size_decays_by_rho_per_step():
    assert ms.geometric_step_size(1.0, 0.985, 0) == 1.0
    assert ms.geometric_step_size(2.0, 0.5, 3) == 0.25


def test_sign_agreement_is_one_on_clean_data_and_drops_with_outliers():
    rng = np.random.default_rng(4)
    op = ms.SensingOperator.symmetric_gaussian(rng, 6, 2000)
    M_star = ms.planted_psd(rng, 6, np.ones(1))
    y = op.forward(M_star)
    y_out, mask = ms.corrupt_measurements(rng, y, 0.3, 100.0)
    M = np.stack([np.zeros((6, 6)), M_star])
    assert np.all(ms.sign_agreement(op, M, y, y) == 1.0)
    agree = ms.sign_agreement(op, M, y_out, y)
    assert np.all(agree < 1.0) and np.all(agree >= 1.0 - mask.mean() - 1e-12)
