"""Scaling laws of Gadre et al. 2024 ("Language models scale reliably with over-training
and on downstream tasks", arXiv 2403.08540), fitted with scipy's least squares.

- `fit_cm`: loss against compute C and token multiplier M = D / N (their Eq. 4),
      L(C, M) = E + (a M^eta + b M^-eta) C^-eta.
  It is Chinchilla's E + A N^-alpha + B D^-beta with alpha = beta, rewritten with
  N = sqrt(C / 6M), D = sqrt(C M / 6): at fixed M, the reducible loss is a power law in
  C whose prefactor grows on both sides of M* = (b / a)^(1 / 2 eta), the compute-optimal
  multiplier. Fitted on log L (as they do) with a soft-L1 loss, from a grid of starts;
  E is fitted in [0, min L] or held fixed (a known irreducible loss).
- `fit_err`: top-1 error against loss (their Eq. 5), Err(L) = eps - k exp(-gamma L).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import least_squares

from .scaling import Fit, _positive, _rmse


def cm_law(C: np.ndarray, M: np.ndarray, E: float, a: float, b: float, eta: float
           ) -> np.ndarray:
    return E + (a * M ** eta + b * M ** -eta) * C ** -eta


def fit_cm(C: Sequence[float], M: Sequence[float], L: Sequence[float], *,
           E: float | None = None, f_scale: float = 1e-2, eta_max: float = 2.0) -> Fit:
    """L(C, M) = E + (a M^eta + b M^-eta) C^-eta on log L; E free in [0, min L) unless
    given. Parameters E, a, b, eta (a, b > 0 through their logs)."""
    C, M, L = _positive("C", C), _positive("M", M), _positive("L", L)
    if not (C.shape == M.shape == L.shape):
        raise ValueError("fit_cm: C, M and L must have one length")
    lC, lM, lL = np.log(C), np.log(M), np.log(L)
    hi = float(L.min())
    if E is not None and not 0 <= E < hi:
        raise ValueError(f"E: a fixed floor must be in [0, min L = {hi:.4g}), got {E}")

    def log_pred(th: np.ndarray) -> np.ndarray:
        e, la, lb, eta = th if E is None else (E, *th)
        red = np.logaddexp(la + eta * lM, lb - eta * lM) - eta * lC
        return np.logaddexp(red, np.log(e)) if e > 0 else red

    best = None
    e_starts = (0.0, 0.5 * hi, 0.9 * hi) if E is None else (E,)
    for e0 in e_starts:
        for eta0 in (0.1, 0.25, 0.5):
            for split in (0.1, 0.5, 0.9):  # share of the reducible loss in the a-term
                red = np.maximum(L - e0, 1e-6 * L)
                base = np.log(red) + eta0 * lC
                la0 = float(np.median(base - eta0 * lM + np.log(split)))
                lb0 = float(np.median(base + eta0 * lM + np.log(1 - split)))
                th0 = np.array([la0, lb0, eta0])
                lo, up = [-np.inf, -np.inf, 1e-4], [np.inf, np.inf, eta_max]
                if E is None:
                    th0 = np.r_[min(e0, 0.999 * hi), th0]
                    lo, up = [0.0, *lo], [hi, *up]
                r = least_squares(lambda th: log_pred(th) - lL, th0, bounds=(lo, up),
                                  loss="soft_l1", f_scale=f_scale, x_scale="jac",
                                  max_nfev=5000)
                if best is None or r.cost < best.cost:
                    best = r
    e, la, lb, eta = (float(v) for v in (best.x if E is None else (E, *best.x)))
    params = {"E": e, "a": float(np.exp(la)), "b": float(np.exp(lb)), "eta": eta}

    def pred(C_: np.ndarray, M_: np.ndarray) -> np.ndarray:
        return cm_law(C_, M_, e, params["a"], params["b"], eta)

    return Fit("overtrain_cm", params, _rmse(lL, np.log(pred(C, M))), pred)


def optimal_multiplier(fit: Fit) -> float:
    """M* = (b / a)^(1 / 2 eta): the multiplier minimising L(C, M) at fixed C."""
    return float((fit["b"] / fit["a"]) ** (1.0 / (2.0 * fit["eta"])))


def fit_err(L: Sequence[float], err: Sequence[float], *, eps_max: float = 1.0) -> Fit:
    """Err(L) = eps - k exp(-gamma L), least squares on err, eps in [0, eps_max],
    k, gamma > 0. Parameters eps, k, gamma."""
    L = np.asarray(L, dtype=float)
    err = np.asarray(err, dtype=float)
    if L.shape != err.shape or L.size < 3 or not np.all(np.isfinite(L * err)):
        raise ValueError("fit_err: needs >= 3 finite (L, err) pairs of one length")

    def pred_of(th: np.ndarray, x: np.ndarray) -> np.ndarray:
        eps, lk, gamma = th
        return eps - np.exp(lk - gamma * x)

    best = None
    for gamma0 in (0.3, 1.0, 3.0):
        eps0 = min(eps_max, float(err.max()) + 0.1)
        lk0 = float(np.log(max(eps0 - err.mean(), 1e-6)) + gamma0 * L.mean())
        r = least_squares(lambda th: pred_of(th, L) - err, np.array([eps0, lk0, gamma0]),
                          bounds=([0.0, -np.inf, 1e-4], [eps_max, np.inf, 50.0]),
                          x_scale="jac", max_nfev=5000)
        if best is None or r.cost < best.cost:
            best = r
    eps, lk, gamma = (float(v) for v in best.x)
    params = {"eps": eps, "k": float(np.exp(lk)), "gamma": gamma}

    def pred(x: np.ndarray) -> np.ndarray:
        return pred_of(best.x, x)

    return Fit("err_of_loss", params, float(np.sqrt(np.mean((pred(L) - err) ** 2))), pred)


__all__ = ["cm_law", "fit_cm", "fit_err", "optimal_multiplier"]
