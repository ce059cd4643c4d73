"""engines/stats/overtrain_law.py against known laws, scipy's curve_fit and a numeric
minimum."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import curve_fit, minimize_scalar

from paramlab.engines.stats import overtrain_law as ol

TRUE = dict(E=1.0, a=60.0, b=450.0, eta=0.34)


def _grid():
    n = np.array([1e3, 2e3, 4e3, 1e3, 2e3, 1e3, 8e3])
    m = np.array([20, 20, 20, 80, 80, 160, 40], dtype=float)
    return 6 * n * m * n, m


def test_fit_cm_recovers_a_noise_free_law_with_e_fixed_and_free():
    C, M = _grid()
    L = ol.cm_law(C, M, **TRUE)
    for E in (TRUE["E"], None):
        f = ol.fit_cm(C, M, L, E=E)
        assert f["eta"] == pytest.approx(TRUE["eta"], rel=1e-3)
        assert f["a"] == pytest.approx(TRUE["a"], rel=2e-2)
        assert f["b"] == pytest.approx(TRUE["b"], rel=2e-2)
        assert f["E"] == pytest.approx(TRUE["E"], rel=1e-3)
        far = ol.cm_law(6 * 2e4 * 640 * 2e4, 640.0, **TRUE)
        assert f.predict(6 * 2e4 * 640 * 2e4, 640.0) == pytest.approx(far, rel=1e-4)


def test_fit_cm_with_fixed_e_agrees_with_curve_fit_on_noisy_losses():
    rng = np.random.default_rng(4)
    C, M = _grid()
    L = ol.cm_law(C, M, **TRUE) * np.exp(0.004 * rng.standard_normal(C.size))
    f = ol.fit_cm(C, M, L, E=1.0, f_scale=1e3)  # a huge f_scale: plain least squares

    def log_law(x, la, lb, eta):
        c, m = x
        return np.log(1.0 + (np.exp(la) * m ** eta + np.exp(lb) * m ** -eta) * c ** -eta)

    ref, _ = curve_fit(log_law, (C, M), np.log(L), p0=(4.0, 6.0, 0.3), maxfev=20000)
    assert f["eta"] == pytest.approx(ref[2], rel=1e-3)
    assert np.log(f["a"]) == pytest.approx(ref[0], abs=1e-2)
    assert np.log(f["b"]) == pytest.approx(ref[1], abs=1e-2)


def test_optimal_multiplier_is_the_numeric_minimum_at_fixed_compute():
    C, M = _grid()
    f = ol.fit_cm(C, M, ol.cm_law(C, M, **TRUE), E=1.0)
    res = minimize_scalar(lambda lm: float(f.predict(1e10, np.exp(lm))), bounds=(0, 10),
                          method="bounded", options={"xatol": 1e-9})
    assert ol.optimal_multiplier(f) == pytest.approx(np.exp(res.x), rel=1e-4)


def test_fit_cm_rejects_a_floor_above_the_losses():
    C, M = _grid()
    with pytest.raises(ValueError, match="E:"):
        ol.fit_cm(C, M, ol.cm_law(C, M, **TRUE), E=5.0)


def test_fit_err_matches_curve_fit():
    rng = np.random.default_rng(1)
    L = np.linspace(1.1, 1.9, 12)
    err = 0.95 - 3.0 * np.exp(-1.3 * L) + 0.003 * rng.standard_normal(L.size)
    f = ol.fit_err(L, err)
    ref, _ = curve_fit(lambda x, e, k, g: e - k * np.exp(-g * x), L, err, p0=(0.9, 2, 1),
                       maxfev=20000)
    assert [f["eps"], f["k"], f["gamma"]] == pytest.approx(list(ref), rel=1e-3)
    clean = ol.fit_err(L, 0.95 - 3.0 * np.exp(-1.3 * L))
    assert clean["gamma"] == pytest.approx(1.3, rel=1e-4)
