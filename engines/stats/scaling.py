"""Scaling-law fits: power laws and their variants fitted in log space, held-out
prediction with relative error, and bootstrap intervals over seeds.

Laws (x > 0, values > 0):
- `power_law`:        y = a · x^(-b) (+ c when `offset`): the irreducible term c is the
  asymptote (loss at infinite x).
- `log_linear`:       log y = a + Σ_j b_j log x_j (closed-form least squares), e.g. the
  optimal learning rate against model and data size, log η* = a + b log N + c log D.
- `two_term`:         y = E + A / N^α + B / D^β (Hoffmann et al. 2022, "Chinchilla"),
  fitted on log y with a Huber loss as they do, from several starts.

Every fit minimises residuals of log y, so a law spanning decades is not fitted to its
largest values only; scipy's bounded least squares does the work. `relative_error`
compares a prediction with a held-out measurement; `bootstrap` refits on seeds drawn
with replacement and returns percentile intervals of every fitted parameter.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import least_squares


@dataclass(frozen=True)
class Fit:
    """Fitted parameters by name, the law that predicts with them, and the fit's
    root-mean-square residual in log y."""

    law: str
    params: dict[str, float]
    rmse_log: float
    _predict: Callable[..., np.ndarray] = field(repr=False, compare=False)

    def predict(self, *x: np.ndarray | float) -> np.ndarray:
        return self._predict(*(np.asarray(v, dtype=float) for v in x))

    def __getitem__(self, name: str) -> float:
        return self.params[name]


def _positive(name: str, v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    if v.size == 0 or not np.all(np.isfinite(v)) or np.any(v <= 0):
        raise ValueError(f"{name}: a scaling fit needs finite values > 0")
    return v


# ------------------------------------------------------------------------ y = a x^-b + c


def power_law(x: Sequence[float], y: Sequence[float], *, offset: bool = False,
              c_max: float | None = None) -> Fit:
    """y = a · x^(-b) (+ c, 0 <= c <= min(y) or `c_max`), least squares on log y.
    Without the offset the fit is the closed-form line through (log x, log y)."""
    x, y = _positive("x", x), _positive("y", y)
    lx, ly = np.log(x), np.log(y)
    slope, icpt = np.polyfit(lx, ly, 1)
    if not offset:
        a, b = float(np.exp(icpt)), float(-slope)
        pred = lambda t: a * t ** (-b)  # noqa: E731
        return Fit("power_law", {"a": a, "b": b}, _rmse(ly, np.log(pred(x))), pred)
    hi = float(np.min(y)) if c_max is None else float(c_max)

    def resid(th: np.ndarray) -> np.ndarray:
        la, b, c = th
        return np.log(np.exp(la - b * lx) + c) - ly

    best = None
    for frac in (0.0, 0.5, 0.9):  # starts for the asymptote: none, half, most of min y
        c0 = frac * hi * 0.999
        rest = np.maximum(y - c0, 1e-12 * y)
        s, i = np.polyfit(lx, np.log(rest), 1)
        th0 = np.array([i, max(-s, 1e-6), c0])
        r = least_squares(resid, th0, bounds=([-np.inf, 0.0, 0.0], [np.inf, np.inf, hi]),
                          x_scale="jac", xtol=1e-12, ftol=1e-12, gtol=1e-12)
        if best is None or r.cost < best.cost:
            best = r
    la, b, c = (float(v) for v in best.x)
    a = float(np.exp(la))
    pred = lambda t: a * t ** (-b) + c  # noqa: E731
    return Fit("power_law", {"a": a, "b": b, "c": c}, _rmse(ly, np.log(pred(x))), pred)


# ------------------------------------------------------------- log y = a + Σ b_j log x_j


def log_linear(xs: Sequence[Sequence[float]], y: Sequence[float]) -> Fit:
    """log y = a + Σ_j b_j log x_j by least squares; `xs` holds one sequence per
    variable. Parameters are named a, b1, b2, ..."""
    y = _positive("y", y)
    cols = [_positive(f"x{j + 1}", x) for j, x in enumerate(xs)]
    if any(c.shape != y.shape for c in cols):
        raise ValueError("log_linear: every x must have y's length")
    design = np.column_stack([np.ones_like(y)] + [np.log(c) for c in cols])
    coef, *_ = np.linalg.lstsq(design, np.log(y), rcond=None)
    names = ["a"] + [f"b{j + 1}" for j in range(len(cols))]
    params = {n: float(v) for n, v in zip(names, coef, strict=True)}

    def pred(*t: np.ndarray) -> np.ndarray:
        out = np.full(np.broadcast(*t).shape, params["a"])
        for j, v in enumerate(t):
            out = out + params[f"b{j + 1}"] * np.log(v)
        return np.exp(out)

    return Fit("log_linear", params, _rmse(np.log(y), design @ coef), pred)


# --------------------------------------------------------- y = E + A/N^alpha + B/D^beta


def two_term(n: Sequence[float], d: Sequence[float], y: Sequence[float], *,
             huber_delta: float = 1e-3, starts: int = 4,
             rng: np.random.Generator | None = None) -> Fit:
    """L(N, D) = E + A / N^α + B / D^β fitted on log L with a Huber loss (δ in log
    units, Hoffmann et al. use 1e-3), best of a grid of starts (plus random ones from
    `rng`). Bounds: E in [0, min L], α, β in [0, 3]."""
    n, d, y = _positive("N", n), _positive("D", d), _positive("L", y)
    ln, ld, ly = np.log(n), np.log(d), np.log(y)
    hi = float(np.min(y))

    def model(th: np.ndarray, ln_: np.ndarray, ld_: np.ndarray) -> np.ndarray:
        e, la, lb, al, be = th
        terms = np.logaddexp(la - al * ln_, lb - be * ld_)  # log(A/N^α + B/D^β), no overflow
        return np.logaddexp(terms, np.log(e)) if e > 0 else terms

    grid = [(e, al, be) for e in (0.0, 0.5 * hi) for al in (0.3, 0.8) for be in (0.3, 0.8)]
    if rng is not None:
        grid += [(rng.uniform(0, hi), rng.uniform(0.05, 1.5), rng.uniform(0.05, 1.5))
                 for _ in range(starts)]
    best = None
    for e0, al0, be0 in grid:
        scale = max(hi - e0, 1e-9 * hi)
        th0 = np.array([e0 * 0.999, np.log(scale / 2) + al0 * ln.mean(),
                        np.log(scale / 2) + be0 * ld.mean(), al0, be0])
        r = least_squares(lambda th: model(th, ln, ld) - ly, th0,
                          bounds=([0.0, -np.inf, -np.inf, 0.0, 0.0],
                                  [hi, np.inf, np.inf, 3.0, 3.0]),
                          loss="huber", f_scale=huber_delta, x_scale="jac", max_nfev=4000)
        if best is None or r.cost < best.cost:
            best = r
    e, la, lb, al, be = (float(v) for v in best.x)
    params = {"E": e, "A": float(np.exp(la)), "B": float(np.exp(lb)), "alpha": al, "beta": be}

    def pred(n_: np.ndarray, d_: np.ndarray) -> np.ndarray:
        return e + params["A"] / n_ ** al + params["B"] / d_ ** be

    return Fit("two_term", params, _rmse(ly, np.log(pred(n, d))), pred)


# ------------------------------------------------------------------ prediction, intervals


def relative_error(predicted: float | np.ndarray, measured: float | np.ndarray) -> np.ndarray:
    """|predicted - measured| / |measured| (NaN where measured is 0 or either is NaN)."""
    p, m = np.asarray(predicted, dtype=float), np.asarray(measured, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.abs(p - m) / np.abs(m)
    return np.where(m == 0, np.nan, out)


def bootstrap(fit: Callable[[np.ndarray], dict[str, float]], n_groups: int, *,
              reps: int = 200, level: float = 0.9,
              rng: np.random.Generator) -> dict[str, tuple[float, float]]:
    """Percentile intervals of each fitted quantity when the `n_groups` groups (seeds)
    are drawn with replacement: `fit(indices)` refits on the chosen groups and returns
    named quantities. A refit that raises ValueError is skipped."""
    if n_groups < 2:
        raise ValueError("bootstrap: needs at least 2 groups")
    draws: dict[str, list[float]] = {}
    for _ in range(reps):
        idx = rng.integers(0, n_groups, n_groups)
        try:
            got = fit(idx)
        except ValueError:
            continue
        for k, v in got.items():
            draws.setdefault(k, []).append(float(v))
    lo, hi = (1 - level) / 2 * 100, (1 + level) / 2 * 100
    return {k: (float(np.percentile(v, lo)), float(np.percentile(v, hi)))
            for k, v in draws.items()}


def _rmse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))


__all__ = ["Fit", "bootstrap", "log_linear", "power_law", "relative_error", "two_term"]
