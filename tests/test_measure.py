"""The safe measurement helpers (scenarios/measure.py) and Verdict.of."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from paramlab.scenarios import measure
from paramlab.scenarios.base import Criterion, Verdict

nan, inf = math.nan, math.inf


# ------------------------------------------------------------------ ratio


def test_ratio_divides_and_keeps_the_sign():
    assert measure.ratio(3.0, 4.0) == 0.75
    assert measure.ratio(-3.0, 4.0) == -0.75
    assert measure.ratio(3.0, -4.0) == -0.75
    assert measure.ratio(0.0, 2.0) == 0.0
    assert measure.ratio(3, 2) == 1.5  # ints are fine


@pytest.mark.parametrize("a, b", [(1.0, 0.0), (0.0, 0.0), (1.0, -0.0), (nan, 1.0),
                                  (1.0, nan), (inf, 1.0), (1.0, inf), (-inf, 2.0)])
def test_ratio_is_nan_on_zero_or_non_finite(a, b):
    assert math.isnan(measure.ratio(a, b))


# ------------------------------------------------------------------ log_slope


def test_log_slope_of_an_exact_power_law():
    xs = [1, 2, 4, 8, 16]
    assert measure.log_slope(xs, [x ** -2.0 for x in xs]) == pytest.approx(-2.0, abs=1e-12)
    assert measure.log_slope(xs, [3 * x ** 0.5 for x in xs]) == pytest.approx(0.5, abs=1e-12)


def test_log_slope_skips_non_positive_and_non_finite_pairs():
    xs = [0, 1, 2, 4, -1, 8, 16]
    ys = [5, 1, 2, 4, 3, nan, 0]  # only (1, 1), (2, 2), (4, 4) count
    assert measure.log_slope(xs, ys) == pytest.approx(1.0, abs=1e-12)


def test_log_slope_least_squares_on_three_points():
    # log-log points (0, 0), (ln 2, ln 2), (ln 4, 0): slope 0 by symmetry
    assert measure.log_slope([1, 2, 4], [1, 2, 1]) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("xs, ys", [([], []), ([2.0], [3.0]), ([1, 2], [0, 0]),
                                    ([2, 2, 2], [1, 2, 3]), ([1, 2], [nan, inf])])
def test_log_slope_is_nan_with_fewer_than_two_usable_pairs(xs, ys):
    assert math.isnan(measure.log_slope(xs, ys))


# ------------------------------------------------------------------ first_below


def test_first_below_returns_the_first_x_at_or_under_the_threshold():
    xs = [10, 20, 30, 40]
    ys = [1.0, 0.5, 0.1, 0.05]
    assert measure.first_below(xs, ys, 0.5) == 20.0  # <= is inclusive
    assert measure.first_below(xs, ys, 0.2) == 30.0
    assert measure.first_below(xs, [0.0, 1.0, 0.0, 1.0], 0.0) == 10.0


def test_first_below_is_nan_when_never_reached():
    assert math.isnan(measure.first_below([1, 2, 3], [3.0, 2.0, 1.5], 1.0))
    assert math.isnan(measure.first_below([], [], 1.0))
    assert math.isnan(measure.first_below([1, 2], [nan, nan], 1.0))


# ------------------------------------------------------------------ last, mean, max, min


def test_last_mean_maximum_minimum():
    seq = [3.0, -1.0, 4.0, 2.0]
    assert measure.last(seq) == 2.0
    assert measure.mean(seq) == 2.0
    assert measure.maximum(seq) == 4.0
    assert measure.minimum(seq) == -1.0
    assert measure.mean((1, 2)) == 1.5 and isinstance(measure.mean((1, 2)), float)


@pytest.mark.parametrize("fn", [measure.last, measure.mean, measure.maximum, measure.minimum])
@pytest.mark.parametrize("empty", [[], ()])
def test_empty_sequences_give_nan(fn, empty):
    assert math.isnan(fn(empty))


def test_helpers_accept_arrays():
    np = pytest.importorskip("numpy")
    a = np.array([1.0, 2.0, 6.0])
    assert measure.last(a) == 6.0 and measure.mean(a) == 3.0
    assert measure.maximum(a) == 6.0 and measure.minimum(a) == 1.0
    assert math.isnan(measure.last(np.array([])))


def test_measure_imports_no_numpy():
    code = ("import sys; import paramlab.scenarios.measure; "
            "assert 'numpy' not in sys.modules, 'numpy imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


# ------------------------------------------------------------------ Verdict.of


def test_verdict_of_uses_the_success_summary_only_when_passing():
    v = Verdict.of([Criterion.at_most("error", 0.1, 1.0)], "error small")
    assert v.passed and v.summary == "error small"


def test_verdict_of_names_every_failed_paper_criterion_even_under_a_success_summary():
    crit = [Criterion.at_most("error", 2.0, 1.0),
            Criterion.at_least("accuracy", 0.9, 0.5),
            Criterion.between("slope", nan, -1.0, 1.0),
            Criterion.at_most("aside", 5.0, 1.0, tier="mechanism")]
    v = Verdict.of(crit, "the claim is reproduced")
    assert not v.passed
    assert v.summary == "claim not shown: error; slope"
    assert "reproduced" not in v.summary
    assert v.criteria == tuple(crit)


def test_verdict_of_ignores_failed_mechanism_checks_when_the_paper_tier_passes():
    v = Verdict.of([Criterion.at_most("error", 0.5, 1.0),
                    Criterion.at_most("aside", 5.0, 1.0, tier="mechanism")], "shown")
    assert v.passed and v.summary == "shown"


def test_verdict_of_without_paper_tier_is_decided_by_all_criteria():
    v = Verdict.of([Criterion.at_most("a", 0.5, 1.0, tier="mechanism"),
                    Criterion.at_most("b", 5.0, 1.0, tier="mechanism")], "shown")
    assert not v.passed and v.summary == "claim not shown: b"


def test_verdict_of_accepts_a_generator():
    v = Verdict.of((Criterion.at_least(n, 1.0, 0.0) for n in "xy"), "ok")
    assert len(v.criteria) == 2 and v.passed
