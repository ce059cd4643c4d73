from __future__ import annotations

from functools import partial

import numpy as np
import pytest
import scenario_runs

from paramlab.engines.stats import naive_bayes as nb

SID = "naive-bayes-vs-logreg"
run_to_end = partial(scenario_runs.run_to_end, SID)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quick_claim_check_passes(seed):
    h = run_to_end(seed=seed)
    assert h.verdict.passed, h.verdict


def test_per_class_variance_nb_fails_the_few_shot_check():
    # 2 samples per class cannot estimate a variance per class: the broken NB of the spec
    h = run_to_end({"n_min": 64, "n_max": 64, "m_floor": 0, "nb_variance": "per-class"})
    assert not h.verdict.passed
    failed = {c.name for c in h.verdict.criteria if not c.passed}
    assert "(b) LR - NB error at 2 shots per class, worst n >= 64" in failed


def test_pooled_nb_equals_diagonal_lda_from_sklearn():
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    class DiagonalCovariance:  # an sklearn covariance estimator: diag of the sample variance
        def fit(self, X):
            self.covariance_ = np.diag(np.var(X, axis=0))
            return self

    rng = np.random.default_rng(0)
    mix = nb.GaussianMixture.paper(5, 20, 0.5)
    X, y = mix.sample(rng, 40)
    Xt, _ = mix.sample(rng, 200)
    ours = nb.PooledGaussianNB().fit(X, y).predict(Xt)
    lda = LinearDiscriminantAnalysis(solver="lsqr", covariance_estimator=DiagonalCovariance())
    assert np.mean(ours == lda.fit(X, y).predict(Xt)) > 0.995


def test_per_class_nb_equals_sklearn_gaussian_nb():
    from sklearn.naive_bayes import GaussianNB

    rng = np.random.default_rng(1)
    mix = nb.GaussianMixture.paper(3, 10, 0.5)
    X, y = mix.sample(rng, 30)
    Xt, _ = mix.sample(rng, 300)
    ours = nb.PooledGaussianNB(pooled=False).fit(X, y).predict(Xt)
    theirs = GaussianNB(var_smoothing=1e-12).fit(X, y).predict(Xt)
    assert np.mean(ours == theirs) > 0.995


def test_bayes_rule_with_correlation_matches_full_covariance_lda():
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    rng = np.random.default_rng(2)
    mix = nb.GaussianMixture.paper(3, 8, 0.5, rho=0.5)
    X, y = mix.sample(rng, 4000)
    Xt, yt = mix.sample(rng, 1000)
    lda = LinearDiscriminantAnalysis().fit(X, y)
    assert abs(nb.error(mix.bayes_predict(Xt), yt) - nb.error(lda.predict(Xt), yt)) < 0.02


def test_sample_sizes_are_balanced_and_include_the_8n_point():
    ms = nb.sample_sizes(128, 5, 8.0, 512)
    assert all(m % 5 == 0 for m in ms) and ms == sorted(set(ms))
    assert nb.top_size(128, 5, 8.0) in ms and 10 in ms


def test_warm_started_lr_gives_the_same_classifier_as_a_cold_fit():
    rng = np.random.default_rng(3)
    mix = nb.GaussianMixture.paper(5, 32, 0.5)
    X0, y0 = mix.sample(rng, 40)
    X, y = mix.sample(rng, 80)
    Xt, _ = mix.sample(rng, 400)
    cold = nb.logistic_regression(X, y)
    warm = nb.logistic_regression(X, y, init=nb.logistic_regression(X0, y0))
    assert np.mean(cold.predict(Xt) == warm.predict(Xt)) > 0.99


def test_m_epsilon_is_inf_when_never_reached():
    assert nb.m_epsilon([10, 20, 40], [0.5, 0.3, 0.1], 0.09, 0.02) == 40
    assert nb.m_epsilon([10, 20], [0.5, 0.3], 0.0, 0.02) == float("inf")


def test_m_epsilon_interpolates_log_linearly_between_the_bracketing_points():
    # excess 0.06 at m = 100 and 0.01 at m = 400: eps = 0.02 is met 4/5 of the way in log m
    m = nb.m_epsilon([100, 400], [0.06, 0.01], 0.0, 0.02, interpolate=True)
    assert m == pytest.approx(100 * 4 ** 0.8)
    # reached at the first grid point: nothing to interpolate
    assert nb.m_epsilon([100, 400], [0.01, 0.0], 0.0, 0.02, interpolate=True) == 100
    # never reached: censored (inf), whatever the interpolation
    assert nb.m_epsilon([100, 400], [0.5, 0.3], 0.0, 0.02, interpolate=True) == float("inf")


def test_grid_reaches_lr_reach_times_n_with_half_octaves_beyond_4n():
    ms = nb.sample_sizes(64, 5, 8.0, 512, reach=16.0)
    assert ms[-1] == nb.top_size(64, 5, 16.0) and nb.top_size(64, 5, 8.0) in ms
    assert {5 * round(6 * 64 / 5), 5 * round(12 * 64 / 5)} <= set(ms)


def test_lr_not_reaching_the_target_is_reported_as_censored():
    # a grid that stops at 2n cannot hold LR's need (~8-10 n): censored, not a number
    h = run_to_end({"n_min": 64, "n_max": 64, "m_floor": 0, "max_mult": 2.0, "lr_reach": 0.0})
    assert h.history.last("lr_censored") == 1.0
    assert any("censored" in note for note in h.history.notes)
    inside = [c for c in h.verdict.criteria if c.name.startswith("(c) smallest m_eps(LR) /")]
    assert len(inside) == 1 and inside[0].measured == 1.0 and not inside[0].passed


def test_correlated_features_remove_the_nb_advantage_and_fail_its_sample_need():
    # control: equicorrelated noise (rho = 0.3) that NB ignores; its error stalls far above
    # the Bayes error, so it never comes within eps (m_eps = inf) and (a), (c) fail
    name = "(c) m_eps(NB), largest over n >= 64"
    h = run_to_end({"n_min": 64, "n_max": 64, "rho": 0.3, "lr_reach": 8.0})
    assert not h.verdict.passed
    failed = {c.name for c in h.verdict.criteria if c.tier == "paper" and not c.passed}
    assert name in failed and "(a) NB excess error at m = 8n, worst n >= 64" in failed
    normal = run_to_end()
    assert name not in {c.name for c in normal.verdict.criteria if not c.passed}
