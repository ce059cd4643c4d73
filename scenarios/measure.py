"""Safe measurements for claim checks: each helper returns float NaN where plain Python
would raise or divide by zero (an empty series, a zero denominator, too few points).

A Criterion built on NaN fails (`Criterion.at_most` etc. require a finite value), so a
check can write `Criterion.at_most("ratio", ratio(a, b), 0.5)` without guarding against a
run that produced nothing. Standard library only (imported by light paths); every helper
accepts any sequence of numbers (lists, tuples, arrays).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

NAN = math.nan


def _finite(x: object) -> bool:
    try:
        return math.isfinite(float(x))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def ratio(a: float, b: float) -> float:
    """a / b; NaN when b == 0 or either is non-finite (sign as in plain division)."""
    if not (_finite(a) and _finite(b)) or b == 0:
        return NAN
    return float(a) / float(b)


def log_slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Least-squares slope of log(y) against log(x) over the pairs where both are positive
    and finite (a power law's exponent); NaN with fewer than 2 such pairs or when all
    their x are equal."""
    pts = [(math.log(float(x)), math.log(float(y))) for x, y in zip(xs, ys)
           if _finite(x) and _finite(y) and x > 0 and y > 0]
    if len(pts) < 2:
        return NAN
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    if sxx == 0:
        return NAN
    return sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx


def first_below(xs: Sequence[float], ys: Sequence[float], threshold: float) -> float:
    """The first x whose y <= threshold; NaN when no y gets there."""
    for x, y in zip(xs, ys):
        if y <= threshold:
            return float(x)
    return NAN


def last(seq: Sequence[float]) -> float:
    """The last element; NaN when empty."""
    return float(seq[-1]) if len(seq) else NAN


def mean(seq: Sequence[float]) -> float:
    """The arithmetic mean; NaN when empty."""
    n = len(seq)
    return sum(float(v) for v in seq) / n if n else NAN


def maximum(seq: Sequence[float]) -> float:
    """The largest element; NaN when empty."""
    return float(max(seq)) if len(seq) else NAN


def minimum(seq: Sequence[float]) -> float:
    """The smallest element; NaN when empty."""
    return float(min(seq)) if len(seq) else NAN
