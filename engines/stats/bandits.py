"""Multi-armed bandits with loss feedback (smaller is better), and a contextual wrapper.

Every learner has the same two-call protocol, one round at a time:

    arm = learner.choose()          # or choose(context) for contextual learners
    learner.update(loss)            # the loss of the arm just played

and keeps its own numpy Generator, so a seed fixes the whole sequence of choices.

- TsallisINF (Zimmert & Seldin, JMLR 2021), alpha = 1/2, eta_t = 2 / sqrt(t): the
  probabilities are w_i = 4 (eta_t (L_i - x))^{-2} with x the normalising constant (found by
  Newton's method), L the importance-weighted cumulative loss estimates. Optimal in both
  the adversarial and the stochastic regime. `adaptive_scale` divides L by the running
  mean of the observed losses, as in the TsallisINF.m of Khodak et al. (arXiv 2310.02246),
  so raw costs (iteration counts) can be fed without knowing their range.
- EXP3 (Auer et al. 2002) on losses in [0, 1], with the horizon-tuned rate
  eta = sqrt(2 ln K / (K T)).
- UCB1 (Auer, Cesa-Bianchi & Fischer 2002) on losses in [0, 1]: play the arm with the
  lowest mean minus sqrt(2 ln t / n_i).
- Binned: a contextual learner that discretises a 1-d context into bins and runs an
  independent base learner in each (the TsallisINFCB baseline of Khodak et al.).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np


class TsallisINF:
    def __init__(self, n_arms: int, rng: np.random.Generator, loss_offset: float = 0.0,
                 adaptive_scale: bool = False) -> None:
        self.K = n_arms
        self.rng = rng
        self.loss_offset = loss_offset  # subtracted from every loss (e.g. the least cost)
        self.adaptive_scale = adaptive_scale
        self.L = np.zeros(n_arms)  # importance-weighted cumulative loss estimates
        self.t = 1
        self._sum_loss = 0.0
        self._arm = -1
        self._p = np.full(n_arms, 1.0 / n_arms)

    def probabilities(self) -> np.ndarray:
        eta = 2.0 / math.sqrt(self.t)
        scale = 1.0
        if self.adaptive_scale and self.t > 1:
            scale = max(self._sum_loss / (self.t - 1), 1e-12)
        L = self.L / scale
        x = L.min() - 2.0 / eta  # here the best arm alone has weight 1: sum(w) >= 1
        for _ in range(100):  # Newton on sum(w(x)) = 1, monotone from the right side
            w = 4.0 / (eta * (L - x)) ** 2
            f = w.sum() - 1.0
            if abs(f) < 1e-12:
                break
            x -= f / (eta * np.sum(w**1.5))
        return w / w.sum()

    def choose(self) -> int:
        self._p = self.probabilities()
        self._arm = int(self.rng.choice(self.K, p=self._p))
        return self._arm

    def update(self, loss: float) -> None:
        ell = loss - self.loss_offset
        self.L[self._arm] += ell / self._p[self._arm]
        self._sum_loss += ell
        self.t += 1


class EXP3:
    def __init__(self, n_arms: int, horizon: int, rng: np.random.Generator,
                 eta: float | None = None) -> None:
        self.K = n_arms
        self.rng = rng
        self.eta = eta if eta is not None else math.sqrt(2 * math.log(n_arms) /
                                                          (n_arms * max(horizon, 1)))
        self.L = np.zeros(n_arms)
        self._arm = -1
        self._p = np.full(n_arms, 1.0 / n_arms)

    def probabilities(self) -> np.ndarray:
        z = -self.eta * (self.L - self.L.min())
        w = np.exp(z)
        return w / w.sum()

    def choose(self) -> int:
        self._p = self.probabilities()
        self._arm = int(self.rng.choice(self.K, p=self._p))
        return self._arm

    def update(self, loss: float) -> None:
        self.L[self._arm] += loss / self._p[self._arm]


class UCB1:
    def __init__(self, n_arms: int, rng: np.random.Generator) -> None:
        self.K = n_arms
        self.rng = rng  # unused (deterministic), kept for the common constructor shape
        self.n = np.zeros(n_arms)
        self.s = np.zeros(n_arms)
        self.t = 0
        self._arm = -1

    def choose(self) -> int:
        self.t += 1
        untried = np.flatnonzero(self.n == 0)
        if untried.size:
            self._arm = int(untried[0])
        else:
            lcb = self.s / self.n - np.sqrt(2.0 * math.log(self.t) / self.n)
            self._arm = int(np.argmin(lcb))
        return self._arm

    def update(self, loss: float) -> None:
        self.n[self._arm] += 1
        self.s[self._arm] += loss


class Binned:
    """Contextual: one independent base learner per bin of a scalar context in [lo, hi]."""

    def __init__(self, lo: float, hi: float, n_bins: int, make: Callable[[], object]) -> None:
        self.edges = np.linspace(lo, hi, n_bins + 1)[1:-1]
        self.learners = [make() for _ in range(n_bins)]
        self._bin = 0

    def choose(self, context: float) -> int:
        self._bin = int(np.searchsorted(self.edges, context, side="right"))
        return self.learners[self._bin].choose()

    def update(self, loss: float) -> None:
        self.learners[self._bin].update(loss)
