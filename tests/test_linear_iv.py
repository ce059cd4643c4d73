from __future__ import annotations

import numpy as np
import pytest

from paramlab.engines.stats import linear_iv as liv


def _world(seed=0, leak=0.0, sigma_a=1.0, d=6, k=3):
    return liv.draw_world(np.random.default_rng(seed), d, k, conf=1.5, leak=leak,
                          sigma_a=sigma_a)


def test_sem_covariance_matches_monte_carlo_moments():
    w = _world(leak=0.5, sigma_a=0.7)
    Sigma = w.sem.covariance()
    n = 400_000
    M = liv.second_moments(w.sem.sample(np.random.default_rng(1), n))
    # sd of a sample second moment of Gaussians: sqrt((S_ii S_jj + S_ij^2) / n)
    sd = np.sqrt((np.outer(np.diag(Sigma), np.diag(Sigma)) + Sigma**2) / n)
    z = np.abs(M - Sigma) / np.where(sd > 0, sd, 1.0)
    assert z.max() < 5.0
    assert np.allclose(M, Sigma, atol=0.05)


def test_sem_covariance_matches_the_model_written_out_by_hand():
    w = _world(leak=0.3, sigma_a=0.8)
    C = w.sem.covariance()
    b = w.sem.blocks
    G = w.Gamma
    Sxx = np.eye(w.d) + G.T @ G  # X = Gamma^T H + N(0, I)
    Saa = Sxx + w.sigma_a**2 * w.S @ w.S.T
    Sxy = Sxx @ w.beta + G.T @ w.gamma_y
    Syy = w.beta @ Sxx @ w.beta + 2 * w.beta @ G.T @ w.gamma_y + w.gamma_y @ w.gamma_y \
        + w.noise**2
    assert np.allclose(C[b["X"], b["X"]], Sxx)
    assert np.allclose(C[b["XA"], b["XA"]], Saa)
    assert np.allclose(C[b["X"], b["Y"]][:, 0], Sxy)
    assert np.allclose(C[b["Y"], b["Y"]], Syy)
    assert np.allclose(C[b["Z"], b["XA"]], w.sigma_a**2 * w.S.T)


def test_outcome_is_invariant_to_the_augmentation():
    # beta is orthogonal to S, so z never reaches Y: Y = beta^T X_aug + gamma^T H + noise
    w = _world(leak=0.4)
    C, b = w.sem.covariance(), w.sem.blocks
    assert np.allclose(w.S.T @ w.beta, 0.0)
    assert np.allclose(C[b["Z"], b["Y"]], 0.0)
    assert np.allclose(C[b["XA"], b["Y"]][:, 0],
                       C[b["XA"], b["XA"]] @ w.beta + w.Gamma.T @ w.gamma_y)


def test_population_erm_bias_is_the_omitted_confounder_formula():
    w = _world()
    est = liv.estimate(w.sem.covariance(), w.sem.blocks, np.array([0.0]))
    Sxx = np.eye(w.d) + w.Gamma.T @ w.Gamma
    assert np.allclose(est.erm, w.beta + np.linalg.solve(Sxx, w.Gamma.T @ w.gamma_y))


def _data(seed=2, n=500):
    w = _world(seed, leak=0.2)
    V = w.sem.sample(np.random.default_rng(seed + 10), n)
    b = w.sem.blocks
    return w, V[:, b["XA"]], V[:, b["Z"]], V[:, b["Y"]][:, 0], liv.second_moments(V)


def test_ivl_at_alpha_zero_is_least_squares():
    w, Xa, Z, y, M = _data()
    est = liv.estimate(M, w.sem.blocks, np.array([0.0]))
    assert np.allclose(est.ivl[0], np.linalg.lstsq(Xa, y, rcond=None)[0])


@pytest.mark.parametrize("alpha", [0.5, 10.0, 300.0])
def test_ivl_equals_anchor_regression_with_gamma_one_plus_alpha(alpha):
    # anchor regression (Rothenhausler et al. 2021): OLS after W = I - (1 - sqrt(gamma)) P_Z
    w, Xa, Z, y, M = _data()
    Pz = Z @ np.linalg.solve(Z.T @ Z, Z.T)
    W = np.eye(len(y)) - (1 - np.sqrt(1 + alpha)) * Pz
    anchor = np.linalg.lstsq(W @ Xa, W @ y, rcond=None)[0]
    est = liv.estimate(M, w.sem.blocks, np.array([alpha]))
    assert np.allclose(est.ivl[0], anchor, rtol=1e-8, atol=1e-10)


def test_ivl_tends_to_two_stage_least_squares_when_exactly_identified():
    rng = np.random.default_rng(3)
    n, d = 800, 3
    Z = rng.standard_normal((n, d))
    H = rng.standard_normal(n)
    X = Z @ rng.standard_normal((d, d)) + np.outer(H, [1.0, -1.0, 0.5]) \
        + rng.standard_normal((n, d))
    y = X @ np.array([1.0, 0.0, -2.0]) + 2 * H + rng.standard_normal(n)
    Pz = Z @ np.linalg.solve(Z.T @ Z, Z.T)  # the textbook 2SLS with the hat matrix
    tsls = np.linalg.solve(X.T @ Pz @ X, X.T @ Pz @ y)
    b = liv.ivl(X.T @ X / n, X.T @ y / n, Z.T @ X / n, Z.T @ Z / n, Z.T @ y / n, 1e9)
    assert np.allclose(b, tsls, atol=1e-6)
    assert not np.allclose(np.linalg.lstsq(X, y, rcond=None)[0], tsls, atol=0.05)


def test_ivl_batches_over_replicates_and_alphas():
    w, Xa, Z, y, M = _data()
    alphas = np.array([0.0, 1.0, 10.0])
    both = liv.estimate(np.stack([M, 2 * M]), w.sem.blocks, alphas)  # scaling M changes nothing
    assert both.ivl.shape == (2, 3, w.d) and both.erm.shape == (2, w.d)
    assert np.allclose(both.ivl[0], both.ivl[1])
    single = liv.estimate(M, w.sem.blocks, 10.0)
    assert np.allclose(single.ivl, both.ivl[0, 2])


def test_population_ivl_removes_the_confounding_bias_as_alpha_grows_without_leak():
    # z is a valid instrument for the S-block and beta has no S-component: the IV limit is
    # beta itself, and the anchor penalty moves IVL monotonically toward it
    w = _world(sigma_a=1.0)
    est = liv.estimate(w.sem.covariance(), w.sem.blocks, np.array([0.0, 1.0, 10.0, 1e8]))
    errs = liv.relative_causal_error(est.ivl, w.beta)
    assert np.all(np.diff(errs) < 0) and errs[-1] < 1e-6
    assert liv.relative_causal_error(est.erm, w.beta) > errs[0]


def test_common_shocks_give_coupled_samples_across_strengths():
    w = _world(sigma_a=1.0)
    E = np.random.default_rng(4).standard_normal((50, w.sem.p))
    b = w.sem.blocks
    V1, V2 = w.sem.propagate(E), w.with_(sigma_a=3.0).sem.propagate(E)
    assert np.allclose(V1[:, b["X"]], V2[:, b["X"]])
    assert np.allclose(V2[:, b["Z"]], 3.0 * V1[:, b["Z"]])
