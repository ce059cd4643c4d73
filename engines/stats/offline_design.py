"""Offline model-based optimisation worlds (numpy): black boxes, offline data, scores.

A Design-Bench-like task at toy scale. A black box f: [lo, hi]^d -> R is to be MAXIMISED;
the optimiser never queries it, it only sees a static offline data set of (x, f(x)) from
which the best designs were hidden ("hide the top", as Design-Bench builds its tasks), and
it is judged by the true f of the designs it proposes, normalised as Design-Bench does:

    score(x) = (f(x) - f_min) / (f_max_offline - f_min),

with f_min the lowest value of the full (unhidden) sample and f_max_offline the best value
the optimiser saw, so 1.0 = the best offline design and > 1 = beyond the data.

Black boxes (all maximised, optimum known): `rippled_bowl` (a negated Rastrigin-type bowl
-||x - c||^2 - A sum(1 - cos 2 pi (x_i - c)), the rugged landscape IGNITE's world uses),
`rosenbrock` (negated, a curved valley), `ackley` (negated, flat plateau + central funnel).
`BLACK_BOXES` maps a name to a function of (X, **kwargs); `make_offline_task` draws the data.
Used by the IGNITE scenario; written so other offline-optimisation scenarios reuse it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

BlackBox = Callable[..., np.ndarray]


def rippled_bowl(X: np.ndarray, ripple: float = 1.0, centre: float = 0.5) -> np.ndarray:
    """-||x - c||^2 - ripple * sum_i (1 - cos 2 pi (x_i - c)); maximum 0 at x = c."""
    Z = np.asarray(X, dtype=float) - centre
    return -(Z**2).sum(-1) - ripple * (1.0 - np.cos(2 * np.pi * Z)).sum(-1)


def rosenbrock(X: np.ndarray) -> np.ndarray:
    """-sum_i [100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2]; maximum 0 at x = 1."""
    X = np.asarray(X, dtype=float)
    a, b = X[..., :-1], X[..., 1:]
    return -(100.0 * (b - a**2) ** 2 + (1.0 - a) ** 2).sum(-1)


def ackley(X: np.ndarray) -> np.ndarray:
    """Negated Ackley function (a = 20, b = 0.2, c = 2 pi); maximum 0 at x = 0."""
    X = np.asarray(X, dtype=float)
    d = X.shape[-1]
    r = np.sqrt((X**2).sum(-1) / d)
    s = np.cos(2 * np.pi * X).sum(-1) / d
    return 20.0 * np.exp(-0.2 * r) + np.exp(s) - 20.0 - np.e


BLACK_BOXES: dict[str, BlackBox] = {
    "rippled_bowl": rippled_bowl,
    "rosenbrock": rosenbrock,
    "ackley": ackley,
}


@dataclass(frozen=True)
class OfflineTask:
    """A static offline data set for a black box, and the score that judges designs."""

    X: np.ndarray  # (n, d) the designs the optimiser sees
    y: np.ndarray  # (n,) their true values
    f_min: float  # lowest value of the full sample (before hiding)
    f_max_offline: float  # best value the optimiser sees
    lo: float
    hi: float
    f: Callable[[np.ndarray], np.ndarray]

    def score(self, X: np.ndarray) -> np.ndarray:
        """Design-Bench normalised score of designs X (1 = best offline design)."""
        return (self.f(X) - self.f_min) / (self.f_max_offline - self.f_min)

    def normalise(self, values: np.ndarray) -> np.ndarray:
        return (np.asarray(values) - self.f_min) / (self.f_max_offline - self.f_min)

    def top(self, k: int) -> np.ndarray:
        """The k best offline designs (the usual starting points of gradient ascent)."""
        return self.X[np.argsort(-self.y, kind="stable")[:k]]


def make_offline_task(rng: np.random.Generator, f: Callable[[np.ndarray], np.ndarray],
                      dim: int, n: int, hide_top_frac: float = 0.5, lo: float = -2.0,
                      hi: float = 2.0) -> OfflineTask:
    """n uniform samples of [lo, hi]^dim; the best `hide_top_frac` of them are hidden."""
    X = rng.uniform(lo, hi, size=(n, dim))
    y = f(X)
    keep = np.argsort(y, kind="stable")[: max(2, round((1.0 - hide_top_frac) * n))]
    Xo, yo = X[keep], y[keep]
    return OfflineTask(Xo, yo, float(y.min()), float(yo.max()), lo, hi, f)
