"""1-D periodic pseudo-spectral numerics and sparse model-error discovery (numpy).

The MEDIDA recipe of Mojgani, Chattopadhyay, Hassanzadeh (arXiv 2309.13211) on a toy:
one RK4 step of a model PDE u_t = -u u_x + nu u_xx (+ a missing term in the truth), the
analysis increment "observed change minus model-predicted change", a library of spectral
derivatives, and sequential thresholded least squares (STLSQ, the SINDy solver; the paper
uses an RVM, sklearn's ARDRegression is the cross-check).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

LIBRARY = ("u", "u_x", "u_xx", "u_xxx", "u_xxxx", "u u_x", "u^2")


def grid(n: int) -> np.ndarray:
    return 2.0 * np.pi * np.arange(n) / n


def wavenumbers(n: int) -> np.ndarray:
    return np.fft.rfftfreq(n, d=1.0 / n)


def random_field(rng: np.random.Generator, n: int, kmax: int, slope: float = 1.0) -> np.ndarray:
    """u = sum_{k=1..kmax} k^-slope cos(k x + phi_k), random phases, scaled to std 1."""
    x = grid(n)
    k = np.arange(1, kmax + 1)
    phi = rng.uniform(0.0, 2.0 * np.pi, kmax)
    u = (k[:, None] ** -slope * np.cos(k[:, None] * x[None, :] + phi[:, None])).sum(0)
    return u / u.std()


def derivative(u: np.ndarray, order: int) -> np.ndarray:
    """d^order u / dx^order by FFT (last axis periodic on [0, 2 pi)); Nyquist mode zeroed."""
    n = u.shape[-1]
    ik = 1j * wavenumbers(n)
    if n % 2 == 0:
        ik[-1] = 0.0  # the Nyquist mode has no well-defined odd derivative
    return np.fft.irfft(np.fft.rfft(u, axis=-1) * ik ** order, n=n, axis=-1)


def project(u: np.ndarray, kcut: int) -> np.ndarray:
    """Zero every Fourier mode k > kcut (the model's spectral truncation); kcut 0 = identity."""
    if kcut <= 0:
        return u
    n = u.shape[-1]
    uh = np.fft.rfft(u, axis=-1)
    uh[..., wavenumbers(n) > kcut] = 0.0
    return np.fft.irfft(uh, n=n, axis=-1)


def burgers_rhs(nu: float, extra: Callable[[np.ndarray], np.ndarray] | None = None):
    """RHS(u) = -u u_x + nu u_xx (+ extra(u), the term the model misses)."""
    def rhs(u: np.ndarray) -> np.ndarray:
        out = -u * derivative(u, 1) + nu * derivative(u, 2)
        return out + extra(u) if extra is not None else out
    return rhs


def rk4_step(rhs: Callable[[np.ndarray], np.ndarray], u: np.ndarray, dt: float) -> np.ndarray:
    k1 = rhs(u)
    k2 = rhs(u + 0.5 * dt * k1)
    k3 = rhs(u + 0.5 * dt * k2)
    k4 = rhs(u + dt * k3)
    return u + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)


def library(u: np.ndarray) -> np.ndarray:
    """Columns LIBRARY evaluated on the grid: shape (..., n, 7)."""
    d = [derivative(u, m) for m in range(1, 5)]
    return np.stack([u, d[0], d[1], d[2], d[3], u * d[0], u * u], axis=-1)


def increment(u_obs_t: np.ndarray, u_obs_next: np.ndarray, model_step_change: np.ndarray,
              dt: float) -> np.ndarray:
    """Analysis increment per unit time at the observed points: the observed change minus the
    model's predicted change from the interpolant, so interpolation misfit is not / dt."""
    return (u_obs_next - u_obs_t) / dt - model_step_change / dt


def stlsq(theta: np.ndarray, d: np.ndarray, threshold: float = 0.05,
          iters: int = 10) -> np.ndarray:
    """Sequential thresholded least squares on column-normalised theta and normalised d.

    Coefficients with |xi| < threshold in the normalised problem are zeroed and the rest
    refitted; returns xi in the original units (d ~ theta @ xi)."""
    cn = np.linalg.norm(theta, axis=0)
    cn = np.where(cn > 0, cn, 1.0)
    dn = np.linalg.norm(d) or 1.0
    A, b = theta / cn, d / dn
    active = np.ones(A.shape[1], dtype=bool)
    xi = np.zeros(A.shape[1])
    for _ in range(iters):
        xi = np.zeros(A.shape[1])
        if active.any():
            xi[active] = np.linalg.lstsq(A[:, active], b, rcond=None)[0]
        new = np.abs(xi) >= threshold
        if np.array_equal(new, active):
            break
        active = new
    xi[~active] = 0.0
    return xi * dn / cn


def ard(theta: np.ndarray, d: np.ndarray, threshold_lambda: float = 1e4) -> np.ndarray:
    """sklearn's ARDRegression (an RVM analogue) on the same normalised problem."""
    from sklearn.linear_model import ARDRegression

    cn = np.linalg.norm(theta, axis=0)
    cn = np.where(cn > 0, cn, 1.0)
    dn = np.linalg.norm(d) or 1.0
    model = ARDRegression(fit_intercept=False, threshold_lambda=threshold_lambda)
    model.fit(theta / cn, d / dn)
    return model.coef_ * dn / cn


def discovery_errors(xi: np.ndarray, theta: np.ndarray, true_index: int,
                     c: float) -> tuple[float, float]:
    """(rel, spur): relative error of the true term's coefficient, and the largest spurious
    term's contribution max_j |xi_j| ||theta_j|| over |c| ||theta_true||."""
    rel = abs(xi[true_index] - c) / abs(c)
    cn = np.linalg.norm(theta, axis=0)
    contrib = np.abs(xi) * cn / (abs(c) * cn[true_index])
    contrib[true_index] = 0.0
    return float(rel), float(contrib.max())
