from __future__ import annotations

from functools import partial

import numpy as np
import pytest
import scenario_runs

from paramlab.engines.linalg import gauss_markov as gm

SID = "gauss-markov-residuals"
run_to_end = partial(scenario_runs.run_to_end, SID)


def failed(h) -> set[str]:
    return {c.name for c in h.verdict.criteria if c.tier == "paper" and not c.passed}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quick_claim_check_passes(seed):
    h = run_to_end(seed=seed)
    assert h.verdict.passed, h.verdict


def test_ridge_taken_as_the_estimator_fails_orthogonality_and_convergence():
    h = run_to_end({"estimator": "ridge"})
    assert not h.verdict.passed
    names = failed(h)
    assert any(n.startswith("orthogonality") for n in names)
    assert any(n.startswith("GD relative error") for n in names)


def test_heteroscedastic_noise_makes_wls_best_and_fails_the_gauss_markov_criterion():
    name = "OLS best linear unbiased: min_j Var_WLS / Var_OLS (Monte Carlo)"
    normal = run_to_end()
    assert name not in failed(normal)
    h = run_to_end({"noise": "heteroscedastic"})
    assert not h.verdict.passed
    names = failed(h)
    assert name in names
    assert any(n.startswith("lambda_min(Cov_WLS - Cov_OLS)") for n in names)
    # OLS is still unbiased and still GD's limit: only the "best" part fails
    assert not any(n.startswith(("OLS unbiased", "GD relative", "orthogonality"))
                   for n in names)


def test_dual_flow_identity_is_mechanism_tier_and_holds_for_ridge_too():
    h = run_to_end({"estimator": "ridge"})
    dual = [c for c in h.verdict.criteria if c.name.startswith("dual flow (identity)")]
    assert len(dual) == 1 and dual[0].tier == "mechanism" and dual[0].passed


def test_step_size_above_two_over_L_fails_convergence():
    h = run_to_end({"lr_mult": 2.5})
    assert not h.verdict.passed
    assert any(n.startswith("GD relative error") for n in failed(h))


def test_residual_flow_in_data_space_matches_parameter_flow():
    rng = np.random.default_rng(3)
    X = gm.design(rng, 50, 4, 0.5, 2.0)
    y = rng.standard_normal(50)
    paths = gm.gd_paths(X, y, 1.0 / gm.smoothness(X), 30)
    assert np.allclose(paths.resid, y[None, :] - paths.beta @ X.T, atol=1e-12)


def test_ols_matches_numpy_lstsq_and_wls_with_equal_weights_is_ols():
    rng = np.random.default_rng(4)
    X = gm.design(rng, 40, 3, 0.3, 2.0)
    Y = rng.standard_normal((40, 5))
    ols = np.linalg.lstsq(X, Y, rcond=None)[0]
    assert np.allclose(gm.weighted_least_squares(X, Y, np.full(40, 2.5)), ols)


def test_exact_wls_covariance_matches_monte_carlo():
    rng = np.random.default_rng(5)
    X = gm.design(rng, 30, 2, 0.5, 1.5)
    w = np.exp(rng.uniform(-1, 1, 30))
    E = rng.standard_normal((30, 20000))
    B = gm.weighted_least_squares(X, E, w)
    assert np.allclose(np.cov(B), gm.wls_covariance(X, w, 1.0), rtol=0.05, atol=1e-3)


def test_sandwich_covariance_matches_monte_carlo_under_heteroscedastic_noise():
    rng = np.random.default_rng(6)
    X = gm.design(rng, 40, 3, 0.5, 1.5)
    w = np.exp(rng.uniform(-1.5, 1.5, 40))
    E = rng.standard_normal((40, 40000)) / np.sqrt(w)[:, None]
    for A in (gm.wls_operator(X, np.ones(40)), gm.wls_operator(X, w), gm.ridge_operator(X, 3.0)):
        assert np.allclose(np.cov(A @ E), gm.estimator_covariance(A, 1.0 / w),
                           rtol=0.05, atol=2e-3)
    # the inverse-variance weights give Aitken's GLS covariance (X^T W X)^-1
    assert np.allclose(gm.estimator_covariance(gm.wls_operator(X, w), 1.0 / w),
                       np.linalg.inv(X.T @ (X * w[:, None])))
