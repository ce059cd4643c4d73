"""Eigenstructured regression tasks and random-feature maps.

Task (Simon, Karkada, Ghosh & Belkin, arXiv 2311.14646): a Gaussian design in the
eigenbasis of the data covariance,

    z ~ N(0, diag(lambda_1..lambda_M)),   lambda_i = i^{-alpha}            (power-law spectrum)
    y = sum_i v_i z_i + eps,  eps ~ N(0, sigma^2),   v_i^2 lambda_i ~ i^{-beta}

normalised so that the signal variance sum_i v_i^2 lambda_i is 1. A linear predictor
with coefficients b has population risk sum_i lambda_i (b_i - v_i)^2 + sigma^2.

Random features: phi(z) = F z / sqrt(N) with F (N x M) iid N(0, 1) ("linear Gaussian"
features). By RF universality these behave like any random-feature model with the same
kernel spectrum, and their kernel phi(z).phi(z') -> z.z' as N -> infinity, so the
infinite-width limit is ridge regression on z itself. ReLU features phi(x) =
sqrt(2/N) relu(W x / sqrt(d)) are provided for real-data variants.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def power_law_spectrum(M: int, alpha: float) -> np.ndarray:
    """Covariance eigenvalues lambda_i = i^{-alpha}, i = 1..M."""
    return np.arange(1, M + 1, dtype=np.float64) ** -alpha


def power_law_target(eigs: np.ndarray, beta: float) -> np.ndarray:
    """Target coefficients v_i >= 0 with v_i^2 lambda_i proportional to i^{-beta} and
    sum_i v_i^2 lambda_i = 1 (unit signal variance)."""
    power = np.arange(1, eigs.size + 1, dtype=np.float64) ** -beta
    power /= power.sum()
    return np.sqrt(power / eigs)


@dataclass(frozen=True)
class EigenTask:
    """y = z.v + eps with z ~ N(0, diag(eigs)); see the module docstring."""

    eigs: np.ndarray  # (M,) covariance eigenvalues
    v: np.ndarray  # (M,) target coefficients in the eigenbasis
    sigma: float  # label-noise standard deviation

    @classmethod
    def power_law(cls, M: int, alpha: float, beta: float, sigma: float) -> EigenTask:
        eigs = power_law_spectrum(M, alpha)
        return cls(eigs, power_law_target(eigs, beta), sigma)

    @property
    def M(self) -> int:
        return self.eigs.size

    def sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(Z, y): n inputs (n, M) and their noisy labels (n,)."""
        Z = rng.standard_normal((n, self.M)) * np.sqrt(self.eigs)
        y = Z @ self.v + self.sigma * rng.standard_normal(n)
        return Z, y

    def risk(self, B: np.ndarray) -> np.ndarray:
        """Population test risk of linear predictors z -> z.b (columns of B (M, K), or one
        b (M,)): sum_i lambda_i (b_i - v_i)^2 + sigma^2."""
        from .linear import gaussian_risk

        return gaussian_risk(B, self.v, self.eigs, self.sigma**2)


def gaussian_projection(rng: np.random.Generator, N: int, M: int) -> np.ndarray:
    """F (N x M) with iid N(0, 1) entries. Nested widths: the first N' rows of a wide F
    are the features of the narrower model."""
    return rng.standard_normal((N, M))


def linear_features(Z: np.ndarray, F: np.ndarray) -> np.ndarray:
    """Phi = Z F^T / sqrt(N): (n, N) linear Gaussian random features."""
    return Z @ F.T / np.sqrt(F.shape[0])


def feature_coef_to_input(w: np.ndarray, F: np.ndarray) -> np.ndarray:
    """A linear-feature predictor phi(z).w equals z.b with b = F^T w / sqrt(N)."""
    return F.T @ w / np.sqrt(F.shape[0])


def relu_features(X: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Phi = sqrt(2/N) relu(X W^T / sqrt(d)) for W (N x d) with iid N(0, 1) entries, so
    the kernel phi(x).phi(x') tends to the arc-cosine kernel of degree 1 (times ||x||||x'||/d)."""
    N, d = W.shape
    return np.sqrt(2.0 / N) * np.maximum(X @ W.T / np.sqrt(d), 0.0)


def linear_rf_ridge_risks(task: EigenTask, Z: np.ndarray, y: np.ndarray, F: np.ndarray,
                          lams: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ridge regression on the linear random features Phi = Z F^T / sqrt(N) for every lam
    (engines.linalg.linear convention: ||Phi w - y||^2 + lam ||w||^2), from one SVD of Phi.
    Returns (population test risk, mean training risk), one entry per lam; the test risk
    is exact (closed form in the eigenbasis), no test sample is drawn."""
    from .linear import RidgePath

    path = RidgePath.fit(linear_features(Z, F), y)
    B = feature_coef_to_input(path.coef(lams), F)
    return task.risk(B), path.train_risk(lams)


def kernel_limit_ridge_risks(task: EigenTask, Z: np.ndarray, y: np.ndarray,
                             lams: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The N -> infinity limit of `linear_rf_ridge_risks`: the RF kernel tends to z.z', so
    the model becomes ridge regression on z itself (kernel ridge with the linear kernel)."""
    from .linear import RidgePath

    path = RidgePath.fit(Z, y)
    return task.risk(path.coef(lams)), path.train_risk(lams)


def nested_rf_ridge_risks(task: EigenTask, Z: np.ndarray, y: np.ndarray, F: np.ndarray,
                          widths: list[int], lams: np.ndarray
                          ) -> tuple[np.ndarray, np.ndarray]:
    """`linear_rf_ridge_risks` for the nested models F[:N], N in `widths` (increasing), in
    the dual (kernel) form: with P = Z F^T computed once, the N-feature kernel is
    K_N = P[:, :N] P[:, :N]^T / N (built up one block of new features at a time), the dual
    coefficients a = (K_N + lam I)^{-1} y come from one eigendecomposition per N, and the
    input-space predictor is b = F[:N]^T P[:, :N]^T a / N. The training residual is
    y - K_N a = lam a. Returns (test risk, mean training risk), each (len(widths), len(lams));
    needs lam > 0 (a tiny lam gives the minimum-norm interpolator)."""
    n = Z.shape[0]
    P = Z @ F[:widths[-1]].T
    S = np.zeros((n, n))  # P[:, :N] P[:, :N]^T, grown block by block
    done = 0
    risk = np.empty((len(widths), lams.size))
    train = np.empty_like(risk)
    for k, N in enumerate(widths):
        S += P[:, done:N] @ P[:, done:N].T
        done = N
        mu, Q = np.linalg.eigh(S / N)
        mu = np.clip(mu, 0.0, None)
        A = Q @ ((Q.T @ y)[:, None] / (mu[:, None] + lams[None, :]))  # (n, K) dual coefs
        B = F[:N].T @ (P[:, :N].T @ A) / N
        risk[k] = task.risk(B)
        train[k] = np.mean((lams[None, :] * A) ** 2, axis=0)
    return risk, train
