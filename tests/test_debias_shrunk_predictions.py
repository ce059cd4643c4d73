from __future__ import annotations

from functools import partial

import numpy as np
import pytest
import scenario_runs

from paramlab.engines.stats import debias as db

SID = "debias-shrunk-predictions"
run_to_end = partial(scenario_runs.run_to_end, SID)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quick_claim_check_passes(seed):
    h = run_to_end(seed=seed)
    assert h.verdict.passed, h.verdict


def test_lcc_with_slope_forced_to_one_fails():
    h = run_to_end({"lcc": "b=1"})
    assert not h.verdict.passed
    failed = {c.name for c in h.verdict.criteria if not c.passed}
    assert "LCC mean tau_hat/tau" in failed
    assert "Tweedie (resid. var.) mean tau_hat/tau" not in failed


def test_kde_score_matches_scipy_gaussian_kde_gradient():
    from scipy.stats import gaussian_kde

    rng = np.random.default_rng(0)
    data = rng.standard_normal(300) * 0.7 + 0.2
    kde = gaussian_kde(data)  # Scott's rule by default, the same bandwidth
    x = np.linspace(-1.5, 1.5, 7)
    e = 1e-5
    fd = (kde.logpdf(x + e) - kde.logpdf(x - e)) / (2 * e)
    assert np.allclose(db.kde_score(x, data), fd, rtol=1e-4, atol=1e-6)


def test_tweedie_on_gaussian_predictions_rescales_around_the_mean():
    # p = N(mu, s^2): Y_hat = mu + (P - mu)(1 + sigma^2 / s^2), slope (1 + sigma^2/s^2)
    rng = np.random.default_rng(1)
    P = 0.3 + 0.6 * rng.standard_normal(3000)
    Y_hat = db.tweedie(P, sigma2=0.64)
    slope = np.polyfit(P, Y_hat, 1)[0]
    assert abs(slope - (1 + 0.64 / 0.36)) < 0.1


def test_slope_matched_sigma2_gives_unit_slope_on_the_calibration_split():
    rng = np.random.default_rng(2)
    Y = rng.standard_normal(2000)
    P = 0.6 * Y + 0.3 * rng.standard_normal(2000)
    s2 = db.sigma2_slope_match(P, Y)
    assert abs(np.polyfit(Y, db.tweedie(P, s2), 1)[0] - 1) < 1e-8


def test_lcc_inverts_a_linear_shrinkage_exactly():
    Y = np.linspace(-2, 2, 50)
    P = 0.1 + 0.5 * Y
    a, b = db.linear_calibration(P, Y)
    assert np.allclose(db.lcc(P, a, b), Y)


def test_ppi_equals_oracle_when_every_unit_is_labelled():
    rng = np.random.default_rng(3)
    T = rng.integers(0, 2, 200)
    Y = rng.standard_normal(200) + 0.5 * T
    P = 0.5 * Y
    every = np.arange(200)
    assert np.isclose(db.ppi_difference_in_means(P, T, every, Y),
                      db.difference_in_means(Y, T))


def test_same_seed_gives_identical_ratios():
    small = {"n_upstream": 500, "n_calibration": 200, "trials": 5, "units": 200}
    a, b = run_to_end(small, seed=3), run_to_end(small, seed=3)
    assert a.history.series("ratio_tweedie_resid") == b.history.series("ratio_tweedie_resid")
