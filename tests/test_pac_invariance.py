from __future__ import annotations

import numpy as np
import pytest

from paramlab.engines.stats import pac_invariance as pi
from paramlab.engines.stats.linear_iv import second_moments


def _family(seed=0, d=6, **kw):
    return pi.random_world(np.random.default_rng(seed), d, **kw)


def test_batched_covariances_match_the_linear_sem_engine_for_each_intervention():
    fam = _family(d=8)
    theta = fam.draw(np.random.default_rng(1), 5)
    batch = fam.covariances(theta)
    for i in range(5):
        assert np.allclose(batch[i], fam.sem_at(theta[i]).covariance())


def test_intervened_covariance_matches_monte_carlo_samples():
    fam = _family(d=6)
    theta = np.array([0.7, -0.4, -0.8, 0.9])
    Sigma = fam.covariances(theta[None])[0]
    n = 300_000
    M = second_moments(fam.sem_at(theta).sample(np.random.default_rng(2), n))
    sd = np.sqrt((np.outer(np.diag(Sigma), np.diag(Sigma)) + Sigma**2) / n)
    assert np.abs(M - Sigma).max() / sd.max() < 6.0


def test_intervention_scales_only_the_sites_incoming_weights_and_noise():
    fam = _family(d=6)
    B, sd = fam.weights(np.array([[0.5, -0.5, 0.2, 0.4]]))
    changed = ~np.isclose(B[0], fam.sem.B)
    assert set(np.nonzero(changed)[1]) <= {0, 2}
    assert np.allclose(B[0][:, 2], 0.5 * fam.sem.B[:, 2])  # t for X2 is -0.5
    assert np.allclose(sd[0] / fam.sem.noise_sd, [1.1, 1, 1.2, 1, 1, 1, 1])
    B0, sd0 = fam.weights(np.zeros((1, 4)))
    assert np.allclose(B0[0], fam.sem.B) and np.allclose(sd0[0], fam.sem.noise_sd)


def test_wishart_moments_have_the_mean_and_variance_of_sample_moments():
    rng = np.random.default_rng(3)
    fam = _family(d=4)
    Sigma = fam.covariances(np.zeros((1, 4)))[0]
    n, draws = 50, 20_000
    W = pi.sample_moments(rng, np.repeat(Sigma[None], draws, axis=0), n)
    var = (Sigma**2 + np.outer(np.diag(Sigma), np.diag(Sigma))) / n  # Wishart variance
    se = np.sqrt(var / draws)
    assert np.abs(W.mean(axis=0) - Sigma).max() / se.max() < 5.0
    assert np.allclose(W.var(axis=0), var, rtol=0.06)


def test_wishart_moments_agree_with_scipy_and_with_real_samples_in_distribution():
    from scipy.stats import ks_2samp, wishart

    rng = np.random.default_rng(4)
    fam = _family(d=4)
    Sigma = fam.covariances(np.array([[0.3, 0.1, -0.5, 0.2]]))[0]
    n, draws = 40, 4000
    y, S = fam.d, [0, 2]

    def coef(M):  # the OLS coefficient of Y on (X0, X2): what the scenario reads
        return np.linalg.solve(M[:, S][:, :, S], M[:, S, y][..., None])[:, 1, 0]

    ours = coef(pi.sample_moments(rng, np.repeat(Sigma[None], draws, axis=0), n))
    ref = coef(wishart(df=n, scale=Sigma).rvs(draws, random_state=5) / n)
    L = np.linalg.cholesky(Sigma)
    V = rng.standard_normal((draws, n, len(Sigma))) @ L.T
    real = coef(second_moments(V))
    assert ks_2samp(ours, ref).pvalue > 0.01
    assert ks_2samp(ours, real).pvalue > 0.01


def test_subset_coefficients_equal_sklearn_least_squares_without_intercept():
    from sklearn.linear_model import LinearRegression

    fam = _family(d=5)
    V = fam.sem.sample(np.random.default_rng(6), 500)
    index = pi.SubsetIndex(tuple(pi.subsets(5, 3)))
    beta = index.coefficients(second_moments(V)[None], fam.d)[0]
    for i, S in enumerate(index.subsets):
        lr = LinearRegression(fit_intercept=False).fit(V[:, list(S)], V[:, fam.d])
        assert np.allclose(beta[i, :len(S)], lr.coef_)
        assert np.isnan(beta[i, len(S):]).all()


def test_subset_counts_are_the_specs():
    assert len(pi.subsets(6, 3)) == 41 and len(pi.subsets(12, 3)) == 298


def test_regression_on_the_causal_parents_is_exactly_invariant_and_on_the_child_not():
    # interventions on X0 (a parent) and X2 (a child) leave Y's own mechanism alone, so
    # beta_{X0, X1} is the structural coefficient in every environment; X2's is not
    fam = _family(seed=7, d=6)
    Sig = fam.covariances(fam.draw(np.random.default_rng(8), 200))
    index = pi.SubsetIndex(((0, 1), (2,)))
    beta = index.coefficients(Sig, fam.d)
    assert np.allclose(beta[:, 0, :2], fam.sem.B[[0, 1], fam.d])
    assert np.ptp(beta[:, 1, 0]) > 0.3


def test_survivors_are_nested_and_match_a_direct_count():
    rng = np.random.default_rng(9)
    dev = rng.uniform(0, 1, size=(50, 30))
    ks = (1, 2, 5, 10, 20, 50)
    surv = pi.survivors(dev, 0.9, ks)
    for row, k in zip(surv, ks):
        assert np.array_equal(row, (dev[:k] <= 0.9).all(axis=0))
    assert (surv[1:] <= surv[:-1]).all()


def test_naive_training_keeps_the_k1_survivors_at_every_k():
    fam = _family(seed=10)
    index = pi.SubsetIndex(tuple(pi.subsets(6, 3)))
    res = pi.evaluate_world(np.random.default_rng(11), fam, index, (1, 5, 50), 0.15, 2.0,
                            2000, 200, naive=True)
    assert (res.passing == res.passing[0]).all()


def test_exact_training_keeps_the_causal_parents_and_zero_violation_for_them():
    fam = _family(seed=12)
    index = pi.SubsetIndex(tuple(pi.subsets(6, 3)))
    res = pi.evaluate_world(np.random.default_rng(13), fam, index, (1, 50), 0.15, 2.0,
                            0, 300)
    assert res.parents_pass
    assert res.violation[index.subsets.index((0, 1))] == 0.0
    assert res.worst()[-1] <= res.worst()[0]


def test_occam_bound_formula():
    assert pi.occam_bound(41, 50, 0.05) == pytest.approx((np.log(41) + np.log(20)) / 50)
