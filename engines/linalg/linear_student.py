"""Gradient-descent dynamics of a linear student learning a noisy linear teacher, solved in
closed form (Advani & Saxe, arXiv 1710.03667).

Teacher and data: y = X w* + eps, X (N x P) with iid N(0, 1) entries, ||w*||^2 = SNR,
eps ~ N(0, sigma^2). The student w is trained by gradient flow on

    L(w) = 1/(2N) ||X w - y||^2,     dw/dt = -C w + X^T y / N,     C = X^T X / N.

In the eigenbasis of C (the thin SVD X = U diag(s) V^T, eigenvalues lambda_k = s_k^2 / N)
every mode relaxes on its own:

    w(t) = w_inf + exp(-C t) (w0 - w_inf),   w_inf = X^+ y + (I - V V^T) w0,

so modes with small lambda_k are learned last, and when P > N the P - N directions with
lambda = 0 are frozen at their initial value (the "frozen subspace": large initial
weights there never decay, which is why over-parameterized students need a small init).
Discrete GD with step size lr replaces exp(-lambda t) by (1 - lr lambda)^(t / lr).

The test error for x ~ N(0, I_P) is E_g(w) = ||w - w*||^2 + sigma^2 (engines.linalg.linear.
gaussian_risk); E_train(w) = (1/N) ||X w - y||^2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def linear_teacher(rng: np.random.Generator, N: int, P: int, snr: float,
                   noise_var: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(X, y, w*): N samples x ~ N(0, I_P), w* uniform on the sphere ||w*||^2 = snr."""
    w_star = rng.standard_normal(P)
    w_star *= np.sqrt(snr) / np.linalg.norm(w_star)
    X = rng.standard_normal((N, P))
    y = X @ w_star + np.sqrt(noise_var) * rng.standard_normal(N)
    return X, y, w_star


def initial_weights(rng: np.random.Generator, P: int, sigma0: float) -> np.ndarray:
    """w0 ~ N(0, sigma0^2 / P I), so ||w0||^2 ~ sigma0^2 (the paper's init scale)."""
    return sigma0 * rng.standard_normal(P) / np.sqrt(P)


@dataclass(frozen=True)
class LinearGD:
    """Closed-form GD trajectory w(t) of the linear student from w0 on (X, y)."""

    Vt: np.ndarray  # (r, P) right singular vectors of X with s > 0 (the learnable modes)
    s: np.ndarray  # (r,) singular values of X
    Uty: np.ndarray  # (r,) U^T y
    w0: np.ndarray  # (P,) initial weights
    resid_perp_sq: float  # ||y - U U^T y||^2: what no w can fit
    N: int

    @classmethod
    def fit(cls, X: np.ndarray, y: np.ndarray, w0: np.ndarray,
            rcond: float = 1e-12) -> LinearGD:
        U, s, Vt = np.linalg.svd(X, full_matrices=False)
        keep = s > rcond * (s[0] if s.size else 0.0)
        U, s, Vt = U[:, keep], s[keep], Vt[keep]
        Uty = U.T @ y
        return cls(Vt, s, Uty, np.asarray(w0, dtype=np.float64),
                   float(max(y @ y - Uty @ Uty, 0.0)), X.shape[0])

    def with_init(self, w0: np.ndarray) -> LinearGD:
        """The same data from another initial point (the SVD is reused)."""
        return LinearGD(self.Vt, self.s, self.Uty, np.asarray(w0, dtype=np.float64),
                        self.resid_perp_sq, self.N)

    @property
    def curvatures(self) -> np.ndarray:
        """The nonzero eigenvalues lambda_k = s_k^2 / N of C = X^T X / N."""
        return self.s**2 / self.N

    def _remaining(self, times: np.ndarray, lr: float | None) -> np.ndarray:
        """(r, T): fraction of each mode still to learn, exp(-lambda t) for gradient flow
        or (1 - lr lambda)^(t / lr) for GD with step size lr."""
        lam = self.curvatures[:, None]
        t = np.asarray(times, dtype=np.float64)[None, :]
        if lr is None:
            return np.exp(-lam * t)
        return (1.0 - lr * lam) ** (t / lr)

    def _modes(self, times: np.ndarray, lr: float | None) -> np.ndarray:
        """(r, T): V^T w(t) = c_inf + remaining * (V^T w0 - c_inf), c_inf = U^T y / s."""
        c0 = self.Vt @ self.w0
        c_inf = self.Uty / self.s
        return c_inf[:, None] + self._remaining(times, lr) * (c0 - c_inf)[:, None]

    def coef(self, times: np.ndarray, lr: float | None = None) -> np.ndarray:
        """(P, T): w(t) at each time; the null-space part of w0 never moves."""
        c0 = self.Vt @ self.w0
        frozen = self.w0 - self.Vt.T @ c0
        return frozen[:, None] + self.Vt.T @ self._modes(times, lr)

    def limit(self) -> np.ndarray:
        """w_inf = X^+ y + (I - V V^T) w0 (the t -> infinity solution)."""
        return self.w0 - self.Vt.T @ (self.Vt @ self.w0) + self.Vt.T @ (self.Uty / self.s)

    def train_error(self, times: np.ndarray, lr: float | None = None) -> np.ndarray:
        """(T,): (1/N) ||X w(t) - y||^2 = (1/N) (||s c(t) - U^T y||^2 + ||y_perp||^2)."""
        resid = self.s[:, None] * self._modes(times, lr) - self.Uty[:, None]
        return (np.sum(resid**2, axis=0) + self.resid_perp_sq) / self.N


def gd_iterates(X: np.ndarray, y: np.ndarray, w0: np.ndarray, lr: float,
                steps: int) -> np.ndarray:
    """Reference loop: plain GD on 1/(2N)||X w - y||^2, returning (P, steps + 1) iterates.
    Used to cross-check LinearGD; scenarios use the closed form."""
    N = X.shape[0]
    w = np.array(w0, dtype=np.float64)
    out = [w.copy()]
    for _ in range(steps):
        w = w - lr * X.T @ (X @ w - y) / N
        out.append(w.copy())
    return np.stack(out, axis=1)
