"""Ridge regression and least squares, with the whole ridge path from one factorization.

Convention (scikit-learn's `Ridge(alpha=lam, fit_intercept=False)`, and the kernel ridge
regression of Simon et al., arXiv 2311.14646, with ridge delta = lam):

    w(lam) = argmin_w ||X w - y||^2 + lam ||w||^2
           = (X^T X + lam I_p)^{-1} X^T y          primal form, a p x p solve
           = X^T (X X^T + lam I_n)^{-1} y          dual (kernel) form, an n x n solve

The dual form only needs the kernel K = X X^T and predicts f(x) = k(x, X) a with
a = (K + lam I)^{-1} y. With the thin SVD X = U diag(s) V^T every lam costs one small
matrix product:

    w(lam) = V diag(s / (s^2 + lam)) U^T y,     X w(lam) = U diag(s^2 / (s^2 + lam)) U^T y,

and lam -> 0 gives the minimum-norm least-squares solution X^+ y. Directions whose
singular value is below `rcond * s_max` are treated as exact zeros (numerical rank), so a
tiny ridge on a rank-deficient X gives X^+ y and not rounding noise divided by lam.

`y` is one target vector (n,); `lams` may be a scalar or a 1-d array, and the path
methods return one column per lam.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def ridge_primal(X: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    """w = (X^T X + lam I)^{-1} X^T y by a Cholesky solve (lam > 0)."""
    import scipy.linalg  # (imported here: scipy.linalg costs ~1 s, the path needs none)

    A = X.T @ X + lam * np.eye(X.shape[1])
    return scipy.linalg.solve(A, X.T @ y, assume_a="pos")


def ridge_dual(K: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    """Dual coefficients a = (K + lam I)^{-1} y; predictions are k(x, X) @ a (lam > 0)."""
    import scipy.linalg

    return scipy.linalg.solve(K + lam * np.eye(K.shape[0]), y, assume_a="pos")


def min_norm_least_squares(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The minimum-norm solution of min_w ||X w - y||^2, i.e. X^+ y (the lam -> 0 limit)."""
    return np.linalg.lstsq(X, y, rcond=None)[0]


def _as_lams(lams: float | np.ndarray) -> np.ndarray:
    return np.atleast_1d(np.asarray(lams, dtype=np.float64))


def _squeeze(out: np.ndarray, lams: float | np.ndarray) -> np.ndarray:
    return out[..., 0] if np.ndim(lams) == 0 else out


@dataclass(frozen=True)
class RidgePath:
    """Ridge regression of y on X for any number of ridges, from one thin SVD of X."""

    U: np.ndarray  # (n, r) left singular vectors with s > rcond * s_max
    s: np.ndarray  # (r,) singular values
    Vt: np.ndarray  # (r, p) right singular vectors
    Uty: np.ndarray  # (r,) U^T y
    resid_perp_sq: float  # ||y - U U^T y||^2: the part of y no ridge can fit
    n: int

    @classmethod
    def fit(cls, X: np.ndarray, y: np.ndarray, rcond: float = 1e-12) -> RidgePath:
        U, s, Vt = np.linalg.svd(X, full_matrices=False)
        keep = s > rcond * (s[0] if s.size else 0.0)
        U, s, Vt = U[:, keep], s[keep], Vt[keep]
        Uty = U.T @ y
        perp = float(max(y @ y - Uty @ Uty, 0.0))
        return cls(U, s, Vt, Uty, perp, X.shape[0])

    def _shrink(self, lams: np.ndarray, power: int) -> np.ndarray:
        """(r, K) matrix s^power / (s^2 + lam) times U^T y, one column per lam."""
        s = self.s[:, None]
        return (s**power / (s**2 + lams[None, :])) * self.Uty[:, None]

    def coef(self, lams: float | np.ndarray) -> np.ndarray:
        """w(lam) = V diag(s / (s^2 + lam)) U^T y: (p,) for a scalar lam, else (p, K)."""
        L = _as_lams(lams)
        return _squeeze(self.Vt.T @ self._shrink(L, 1), lams)

    def fitted(self, lams: float | np.ndarray) -> np.ndarray:
        """X w(lam) = U diag(s^2 / (s^2 + lam)) U^T y: (n,) or (n, K)."""
        L = _as_lams(lams)
        return _squeeze(self.U @ self._shrink(L, 2), lams)

    def train_risk(self, lams: float | np.ndarray) -> np.ndarray:
        """Mean squared training residual (1/n) ||y - X w(lam)||^2, without forming X w."""
        L = _as_lams(lams)
        inside = (L[None, :] / (self.s[:, None] ** 2 + L[None, :])) * self.Uty[:, None]
        out = (np.sum(inside**2, axis=0) + self.resid_perp_sq) / self.n
        return out[0] if np.ndim(lams) == 0 else out


@dataclass(frozen=True)
class KernelRidgePath:
    """Kernel ridge regression a(lam) = (K + lam I)^{-1} y for many lam, from one
    eigendecomposition K = Q diag(mu) Q^T (K symmetric positive semi-definite)."""

    Q: np.ndarray  # (n, n)
    mu: np.ndarray  # (n,) eigenvalues, clipped at 0
    Qty: np.ndarray  # (n,)

    @classmethod
    def fit(cls, K: np.ndarray, y: np.ndarray) -> KernelRidgePath:
        mu, Q = np.linalg.eigh(K)
        return cls(Q, np.clip(mu, 0.0, None), Q.T @ y)

    def dual_coef(self, lams: float | np.ndarray) -> np.ndarray:
        """a(lam) = Q diag(1 / (mu + lam)) Q^T y: (n,) or (n, K); needs lam > 0."""
        L = _as_lams(lams)
        return _squeeze(self.Q @ (self.Qty[:, None] / (self.mu[:, None] + L[None, :])), lams)

    def fitted(self, lams: float | np.ndarray) -> np.ndarray:
        """K a(lam) = y - lam a(lam)."""
        L = _as_lams(lams)
        shrink = self.mu[:, None] / (self.mu[:, None] + L[None, :])
        return _squeeze(self.Q @ (shrink * self.Qty[:, None]), lams)

    def train_risk(self, lams: float | np.ndarray) -> np.ndarray:
        """(1/n) ||y - K a(lam)||^2 = (1/n) ||lam a(lam)||^2."""
        L = _as_lams(lams)
        inside = (L[None, :] / (self.mu[:, None] + L[None, :])) * self.Qty[:, None]
        out = np.sum(inside**2, axis=0) / self.Q.shape[0]
        return out[0] if np.ndim(lams) == 0 else out


def mse(pred: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mean squared error over samples (axis 0); pred may carry one column per lam."""
    diff = pred - (y[:, None] if pred.ndim == 2 and y.ndim == 1 else y)
    return np.mean(diff**2, axis=0)


def gaussian_risk(W: np.ndarray, w_star: np.ndarray, cov_eigs: np.ndarray | float = 1.0,
                  noise_var: float = 0.0) -> np.ndarray:
    """Population risk E (x.w - y)^2 of a linear predictor when x ~ N(0, diag(cov_eigs))
    and y = x.w_star + noise: sum_i lam_i (w_i - w*_i)^2 + noise_var.
    W is (p,) or (p, K) (one column per ridge or time)."""
    D = W - (w_star[:, None] if W.ndim == 2 else w_star)
    eigs = np.asarray(cov_eigs, dtype=np.float64)
    if eigs.ndim == 1 and W.ndim == 2:
        eigs = eigs[:, None]
    return np.sum(eigs * D**2, axis=0) + noise_var
