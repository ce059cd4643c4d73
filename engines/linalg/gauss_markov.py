"""Least squares seen from both sides: the parameter flow and the residual flow.

Multiple linear regression y = X beta + sigma eps (X is n x p, full column rank). The
least-squares loss J(beta) = 1/2 ||y - X beta||^2 has gradient -X^T r with the residual
r = y - X beta. Gradient descent therefore moves in two spaces at once:

    parameter space   beta_{t+1} = beta_t + eta X^T r_t                       (a)
    data space        r_{t+1}    = r_t - eta X X^T r_t                        (b)

and a variation of parameters maps to a variation of residuals through -X:
r_t - r_hat = -X (beta_t - beta_hat)  (the "dual flow" of Kamiura's Gauss-Markov
adjunction, arXiv 2507.02442). `gd_paths` iterates (a) and (b) *separately*, so their
agreement is a computed fact, not an identity by construction. The limit of (a) is the OLS
estimator beta_hat = X^+ y, the limit of (b) is the minimum residual r_hat = (I - P_X) y,
which is orthogonal to the columns of X (X^T r_hat = 0).

Gauss-Markov: under homoscedastic noise (Var eps = sigma^2 I), among linear unbiased
estimators OLS has the smallest covariance. The contrasts here are weighted least squares
with wrong weights (linear, unbiased, larger covariance) and ridge (linear, smaller
variance but biased). The theorem's premise matters: under heteroscedastic noise
Var eps_i = sigma^2 / w_i, WLS with the inverse-variance weights w (Aitken's generalized
least squares) is the best linear unbiased estimator and OLS is not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def design(rng: np.random.Generator, n: int, p: int, scale_lo: float, scale_hi: float
           ) -> np.ndarray:
    """Gaussian features with column scales spread evenly in [scale_lo, scale_hi]
    (anisotropic, so X^T X is ill-conditioned by about (scale_hi / scale_lo)^2)."""
    scales = np.linspace(scale_lo, scale_hi, p) if p > 1 else np.array([scale_hi])
    return rng.standard_normal((n, p)) * scales[None, :]


def smoothness(X: np.ndarray) -> float:
    """L = lambda_max(X^T X), the Lipschitz constant of grad J; GD is stable for eta < 2/L."""
    return float(np.linalg.norm(X, 2) ** 2)


@dataclass
class Paths:
    beta: np.ndarray  # (T+1, p) parameter path, iterated by (a)
    resid: np.ndarray  # (T+1, n) residual path, iterated by (b)


def gd_paths(X: np.ndarray, y: np.ndarray, eta: float, steps: int,
             beta0: np.ndarray | None = None) -> Paths:
    """Gradient descent on 1/2 ||y - X beta||^2, with the residual iterated on its own in
    data space (b) from r_0 = y - X beta_0."""
    p = X.shape[1]
    beta = np.zeros(p) if beta0 is None else np.asarray(beta0, dtype=np.float64).copy()
    r = y - X @ beta
    betas, resids = [beta.copy()], [r.copy()]
    for _ in range(steps):
        beta = beta + eta * (X.T @ (y - X @ beta))  # (a), in parameter space only
        r = r - eta * (X @ (X.T @ r))  # (b), in data space only
        betas.append(beta.copy())
        resids.append(r.copy())
    return Paths(np.array(betas), np.array(resids))


def dual_flow_error(X: np.ndarray, paths: Paths, beta_hat: np.ndarray, r_hat: np.ndarray
                    ) -> np.ndarray:
    """Per step, ||(r_t - r_hat) + X (beta_t - beta_hat)|| relative to ||r_t - r_hat|| +
    ||X (beta_t - beta_hat)|| + ||r_hat||: zero when parameter and residual variations
    correspond through -X."""
    dr = paths.resid - r_hat[None, :]
    Xdb = (paths.beta - beta_hat[None, :]) @ X.T
    scale = (np.linalg.norm(dr, axis=1) + np.linalg.norm(Xdb, axis=1)
             + np.linalg.norm(r_hat))
    return np.linalg.norm(dr + Xdb, axis=1) / np.where(scale > 0, scale, 1.0)


def relative_orthogonality(X: np.ndarray, r: np.ndarray) -> float:
    """||X^T r|| / (||X||_2 ||r||): 0 when r is orthogonal to every column of X."""
    denom = np.linalg.norm(X, 2) * np.linalg.norm(r)
    return float(np.linalg.norm(X.T @ r) / denom) if denom > 0 else 0.0


def weighted_least_squares(X: np.ndarray, Y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """beta_W = (X^T W X)^{-1} X^T W Y with W = diag(w); Y may hold one column per draw."""
    Xw = X * w[:, None]
    return np.linalg.solve(X.T @ Xw, Xw.T @ Y)


def estimator_covariance(A: np.ndarray, noise_var: np.ndarray) -> np.ndarray:
    """Cov(A y) = A diag(noise_var) A^T for a linear estimator beta = A y with independent
    noise of variances `noise_var` (one per sample)."""
    return (A * noise_var[None, :]) @ A.T


def wls_operator(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    """A_W = (X^T W X)^{-1} X^T W: beta_W = A_W y (w = 1: OLS)."""
    Xw = X * w[:, None]
    return np.linalg.solve(X.T @ Xw, Xw.T)


def ridge_operator(X: np.ndarray, lam: float) -> np.ndarray:
    """A = (X^T X + lam I)^{-1} X^T: beta_ridge = A y."""
    return np.linalg.solve(X.T @ X + lam * np.eye(X.shape[1]), X.T)


def ols_covariance(X: np.ndarray, sigma: float) -> np.ndarray:
    """Cov(beta_OLS) = sigma^2 (X^T X)^{-1}."""
    return sigma**2 * np.linalg.inv(X.T @ X)


def wls_covariance(X: np.ndarray, w: np.ndarray, sigma: float) -> np.ndarray:
    """Cov(beta_W) = sigma^2 (X^T W X)^{-1} X^T W^2 X (X^T W X)^{-1} under iid noise."""
    G = np.linalg.inv(X.T @ (X * w[:, None]))
    return sigma**2 * G @ (X.T @ (X * (w**2)[:, None])) @ G
