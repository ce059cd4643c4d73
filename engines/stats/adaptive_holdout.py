"""Adaptive data analysis: answering statistical queries from a reused holdout.

A statistical query is a function phi(x, y) whose population mean the analyst wants; it
is answered from samples. When queries are chosen *adaptively* (after seeing earlier
answers), the empirical mean on a reused sample overfits. Thresholdout (Dwork, Feldman,
Hardt, Pitassi, Reingold, Roth, Science 2015, "The reusable holdout", Fig. 2 box; STOC
2015, arXiv 1411.2664) answers from the training set unless training and holdout disagree
by more than a noisy threshold; only then does it reveal the holdout value, with noise:

    T_hat <- T + gamma,  gamma ~ Noise(2 sigma)
    for each query phi:
        if budget < 1: stop (answer None)
        eta ~ Noise(4 sigma)
        if |E_holdout[phi] - E_train[phi]| > T_hat + eta:
            xi ~ Noise(sigma); gamma ~ Noise(2 sigma); T_hat <- T + gamma; budget -= 1
            answer E_holdout[phi] + xi
        else:
            answer E_train[phi]

Noise is Laplace (the paper) or Gaussian with that scale. Both mechanisms here take the
query values already averaged on each sample (vectorised: many queries at once, answered
in order, so the budget and the threshold refresh behave as for sequential queries).

`reusable_holdout_feature_selection` is the paper's demonstration analyst: pick features
correlated with the label on both training and holdout, then report the holdout accuracy
of a sign-vote classifier built on the top-k of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def _noise(rng: np.random.Generator, kind: str, scale: float, size=None):
    if scale == 0:
        return np.zeros(size) if size is not None else 0.0
    if kind == "laplace":
        return rng.laplace(0.0, scale, size)
    return rng.normal(0.0, scale, size)


class StandardHoldout:
    """The plain holdout: every query is answered with its holdout mean."""

    def __init__(self) -> None:
        self.queries = 0

    def answer(self, train_values: np.ndarray, holdout_values: np.ndarray) -> np.ndarray:
        self.queries += np.size(holdout_values)
        return np.asarray(holdout_values, dtype=np.float64).copy()


@dataclass
class Thresholdout:
    """Thresholdout with threshold T, noise scale sigma and a budget of over-threshold
    answers (inf: unlimited). `answer` takes per-query means on train and on holdout."""

    threshold: float
    sigma: float
    rng: np.random.Generator
    noise: str = "laplace"
    budget: float = float("inf")
    over_threshold: int = 0  # over-threshold answers given (budget spent)
    queries: int = 0
    _t_hat: float = field(init=False)

    def __post_init__(self) -> None:
        self._t_hat = self.threshold + _noise(self.rng, self.noise, 2 * self.sigma)

    def answer(self, train_values: np.ndarray, holdout_values: np.ndarray) -> np.ndarray:
        a_t = np.atleast_1d(np.asarray(train_values, dtype=np.float64))
        a_h = np.atleast_1d(np.asarray(holdout_values, dtype=np.float64))
        out = np.empty_like(a_t)
        eta = _noise(self.rng, self.noise, 4 * self.sigma, a_t.shape)
        for i in range(a_t.size):
            self.queries += 1
            if self.budget - self.over_threshold < 1:
                out[i] = np.nan  # budget exhausted: no answer
                continue
            if abs(a_h[i] - a_t[i]) > self._t_hat + eta[i]:
                out[i] = a_h[i] + _noise(self.rng, self.noise, self.sigma)
                self._t_hat = self.threshold + _noise(self.rng, self.noise, 2 * self.sigma)
                self.over_threshold += 1
            else:
                out[i] = a_t[i]
        return out


# --------------------------------------------------------------------------- the analyst


def noise_dataset(rng: np.random.Generator, n: int, d: int, signal_strength: float = 0.0,
                  n_signal: int = 0, signal_signs: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """x ~ N(0, I_d), y uniform in {-1, +1}; the first n_signal features are shifted by
    sign_j * signal_strength * y (no signal at all when signal_strength = 0)."""
    X = rng.standard_normal((n, d))
    y = rng.choice(np.array([-1.0, 1.0]), size=n)
    if signal_strength > 0 and n_signal > 0:
        signs = np.ones(n_signal) if signal_signs is None else signal_signs
        X[:, :n_signal] += signal_strength * signs[None, :] * y[:, None]
    return X, y


def correlations(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The d statistical queries phi_j(x, y) = x_j y, averaged over the sample."""
    return X.T @ y / len(y)


def sign_vote_accuracy(X: np.ndarray, y: np.ndarray, features: np.ndarray,
                       signs: np.ndarray) -> float:
    """Accuracy of the classifier sign(sum_j signs_j x_j) over the selected features
    (ties, possible only with no features, count as wrong)."""
    if len(features) == 0:
        return 0.5
    score = X[:, features] @ signs
    return float(np.mean(np.sign(score) == y))


@dataclass
class SelectionResult:
    k: int
    n_selected: int
    train_acc: float
    reported_acc: float  # what the mechanism answered for the holdout accuracy
    fresh_acc: float  # accuracy on fresh data: the truth


def reusable_holdout_feature_selection(train, holdout, fresh, mechanism, ks,
                                       cutoff: float) -> list[SelectionResult]:
    """The Science 2015 analyst. (1) Ask the mechanism for every feature's correlation with
    the label (train value vs holdout value); (2) keep features whose train correlation and
    answered correlation both exceed `cutoff` in absolute value with the same sign; (3) for
    each k, take the top-k kept features by |train correlation|, build the sign vote and
    ask the mechanism for its holdout accuracy."""
    (Xt, yt), (Xh, yh), (Xf, yf) = train, holdout, fresh
    c_train = correlations(Xt, yt)
    c_answer = mechanism.answer(c_train, correlations(Xh, yh))
    keep = np.flatnonzero((np.abs(c_train) > cutoff) & (np.abs(c_answer) > cutoff)
                          & (np.sign(c_train) == np.sign(c_answer)))
    order = keep[np.argsort(-np.abs(c_train[keep]), kind="stable")]
    out = []
    for k in ks:
        feats = order[:k]
        signs = np.sign(c_train[feats])
        acc_t = sign_vote_accuracy(Xt, yt, feats, signs)
        acc_h = sign_vote_accuracy(Xh, yh, feats, signs)
        reported = float(mechanism.answer(np.array([acc_t]), np.array([acc_h]))[0])
        out.append(SelectionResult(int(k), len(feats), acc_t, reported,
                                   sign_vote_accuracy(Xf, yf, feats, signs)))
    return out
