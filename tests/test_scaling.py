"""engines/stats/scaling.py against closed forms and scipy's curve_fit."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import curve_fit

from paramlab.engines.stats import scaling


def test_power_law_without_offset_is_exact_on_a_power_law():
    x = np.logspace(1, 5, 9)
    f = scaling.power_law(x, 3.0 * x ** -0.37)
    assert f["a"] == pytest.approx(3.0, rel=1e-10)
    assert f["b"] == pytest.approx(0.37, rel=1e-10)
    assert f.rmse_log < 1e-12
    assert f.predict(1e7) == pytest.approx(3.0 * 1e7 ** -0.37, rel=1e-9)


def test_power_law_with_offset_recovers_the_asymptote():
    x = np.logspace(0, 4, 12)
    y = 2.0 * x ** -0.5 + 0.8
    f = scaling.power_law(x, y, offset=True)
    assert f["c"] == pytest.approx(0.8, rel=1e-5)
    assert f["b"] == pytest.approx(0.5, rel=1e-5)
    # a pure power law fitted to the same data misses the far extrapolation
    naive = scaling.power_law(x, y)
    far = 2.0 * 1e8 ** -0.5 + 0.8
    assert scaling.relative_error(f.predict(1e8), far) < 1e-4
    assert scaling.relative_error(naive.predict(1e8), far) > 0.5


def test_power_law_with_offset_agrees_with_curve_fit_on_noisy_data():
    rng = np.random.default_rng(3)
    x = np.logspace(0, 4, 15)
    y = (1.5 * x ** -0.4 + 0.3) * np.exp(0.02 * rng.standard_normal(x.size))
    f = scaling.power_law(x, y, offset=True)
    ref, _ = curve_fit(lambda t, a, b, c: np.log(a * t ** -b + c), x, np.log(y),
                       p0=(1, 0.5, 0.1), bounds=([0, 0, 0], [np.inf, np.inf, y.min()]))
    assert [f["a"], f["b"], f["c"]] == pytest.approx(list(ref), rel=2e-3, abs=1e-4)


def test_log_linear_matches_lstsq_and_predicts_held_out():
    rng = np.random.default_rng(0)
    n, d = rng.uniform(1e3, 1e6, 30), rng.uniform(1e6, 1e9, 30)
    lr = np.exp(1.2 - 0.3 * np.log(n) + 0.1 * np.log(d))
    f = scaling.log_linear([n, d], lr)
    assert [f["a"], f["b1"], f["b2"]] == pytest.approx([1.2, -0.3, 0.1], abs=1e-9)
    assert f.predict(2e6, 3e9) == pytest.approx(np.exp(1.2 - 0.3 * np.log(2e6)
                                                       + 0.1 * np.log(3e9)), rel=1e-9)
    with pytest.raises(ValueError, match="length"):
        scaling.log_linear([n[:5]], lr)


def test_two_term_recovers_a_chinchilla_law():
    n = np.repeat(np.logspace(5, 8, 5), 5)
    d = np.tile(np.logspace(7, 10, 5), 5)
    true = dict(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)
    y = true["E"] + true["A"] / n ** true["alpha"] + true["B"] / d ** true["beta"]
    f = scaling.two_term(n, d, y, rng=np.random.default_rng(0))
    assert f["E"] == pytest.approx(true["E"], rel=1e-2)
    assert f["alpha"] == pytest.approx(true["alpha"], rel=2e-2)
    assert f["beta"] == pytest.approx(true["beta"], rel=2e-2)
    assert scaling.relative_error(f.predict(1e9, 1e11),
                                  1.69 + 406.4 / 1e9 ** 0.34 + 410.7 / 1e11 ** 0.28) < 1e-3


def test_bootstrap_interval_covers_the_true_exponent():
    rng = np.random.default_rng(1)
    x = np.logspace(1, 4, 8)
    seeds = [2.0 * x ** -0.5 * np.exp(0.05 * rng.standard_normal(x.size)) for _ in range(10)]

    def refit(idx):
        ys = np.mean([seeds[i] for i in idx], axis=0)
        return {"b": scaling.power_law(x, ys)["b"]}

    ci = scaling.bootstrap(refit, len(seeds), reps=300, rng=np.random.default_rng(2))
    lo, hi = ci["b"]
    assert lo < 0.5 < hi
    assert hi - lo < 0.05


def test_bad_input_is_a_value_error():
    with pytest.raises(ValueError, match="> 0"):
        scaling.power_law([1, 2, 3], [1, 0, 2])
    with pytest.raises(ValueError, match="finite"):
        scaling.power_law([1, np.nan], [1, 2])
    with pytest.raises(ValueError, match="2 groups"):
        scaling.bootstrap(lambda i: {}, 1, rng=np.random.default_rng(0))
    assert np.isnan(scaling.relative_error(1.0, 0.0))
