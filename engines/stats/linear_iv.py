"""Linear SEMs with hidden confounders, instruments and outcome-invariant augmentation:
exact population covariances, sampling, and the ERM / IV-like (IVL) estimators.

A linear SEM on p scalar variables, grouped in named blocks, with independent exogenous
noise: V = B^T V + diag(noise_sd) E, E ~ N(0, I_p), B[k, j] the weight of the edge k -> j.
Its covariance is the one of `linalg.sem` (there Lambda = B, Omega = diag(noise_sd^2)),

    Sigma = (I - B)^{-T} Omega (I - B)^{-1},                                         (1)

and one sample, as a row, is v = (noise_sd * e) (I - B)^{-1}. A node with noise_sd = 0 is a
deterministic function of its parents (an augmented treatment X + S z).

Outcome-invariant augmentation (Akbar, Kilbertus, Shen, Muandet, Dai, arXiv 2510.25128).
Treatment X in R^d, outcome Y = beta^T X + gamma^T H + noise with a hidden confounder H
that also drives X. An augmentation x -> x + S z (z ~ N(0, sigma_a^2 I_k), S a d x k
orthonormal basis) leaves the outcome mechanism unchanged when beta is orthogonal to S,
f(x + S z) = f(x), so the augmented pair (X_aug = X + S z, Y) is a draw from the SEM in
which the treatment has been (softly) intervened on along S: the augmentation is an
intervention that no confounder follows. Estimators, from data or from the population:

    ERM     b = argmin E (Y - b^T X)^2                          = Sxx^{-1} Sxy
    DA+ERM  b = argmin E (Y - b^T X_aug)^2                      (the same on X_aug)
    DA+IVL  b = argmin E (Y - b^T X_aug)^2 + alpha E (P_z (Y - b^T X_aug))^2          (2)
              = (Saa + alpha Saz Szz^{-1} Sza)^{-1} (Say + alpha Saz Szz^{-1} Szy)

P_z is the L2 projection on the span of z (in a sample, the hat matrix of Z). (2) is IV
regression with z as the instrument, regularized by ERM: alpha -> infinity is the
(generalized) IV solution, alpha = 0 is DA+ERM. z is only instrument-*like*: k < d, so
it cannot identify beta by itself. (2) equals anchor regression (Rothenhausler et al.
2021) with anchor z and gamma = 1 + alpha.

Every estimator here is a function of second moments, so one formula gives both the
sample estimate (moments of the data, `second_moments`) and the exact population limit
(the SEM covariance (1)); the difference between the two is pure finite-sample error.
The data have mean zero, so moments are uncentred and no intercept is fitted.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from paramlab.engines.linalg.sem import covariance_inverse

# --------------------------------------------------------------------------- linear SEM


@dataclass(frozen=True)
class LinearSEM:
    """V = B^T V + diag(noise_sd) E over named blocks of variables (independent noise)."""

    blocks: dict[str, slice]  # block name -> its columns in V
    B: np.ndarray  # (p, p): B[k, j] = weight of k -> j
    noise_sd: np.ndarray  # (p,) sd of each variable's own noise (0: deterministic node)

    @property
    def p(self) -> int:
        return len(self.noise_sd)

    @cached_property
    def _transfer(self) -> np.ndarray:
        """(I - B)^{-1}: a row of exogenous shocks times this is a row of V."""
        return np.linalg.inv(np.eye(self.p) - self.B)

    def covariance(self) -> np.ndarray:
        """The exact population covariance (1)."""
        return covariance_inverse(self.B, np.diag(self.noise_sd**2))

    def propagate(self, E: np.ndarray) -> np.ndarray:
        """Samples (..., n, p) from standard-normal shocks E (..., n, p); the same shocks
        through two SEMs give coupled samples (common random numbers)."""
        return (E * self.noise_sd) @ self._transfer

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.propagate(rng.standard_normal((n, self.p)))


def second_moments(V: np.ndarray) -> np.ndarray:
    """Uncentred second moments V^T V / n of samples (..., n, p): the sample analogue of
    the population covariance of a mean-zero SEM."""
    return np.swapaxes(V, -1, -2) @ V / V.shape[-2]


def sub(M: np.ndarray, blocks: dict[str, slice], a: str, b: str) -> np.ndarray:
    """The (a, b) block of a (..., p, p) moment matrix."""
    return M[..., blocks[a], blocks[b]]


# --------------------------------------------------------------------------- estimators


def ols(Sxx: np.ndarray, Sxy: np.ndarray) -> np.ndarray:
    """ERM / least squares from moments: Sxx^{-1} Sxy, (..., d)."""
    return np.linalg.solve(Sxx, Sxy[..., None])[..., 0]


def ivl(Sxx: np.ndarray, Sxy: np.ndarray, Szx: np.ndarray, Szz: np.ndarray,
        Szy: np.ndarray, alphas: np.ndarray | float) -> np.ndarray:
    """IV-like regression (2) from moments, for every alpha: (..., K, d) for K alphas, or
    (..., d) for a scalar alpha. alpha = 0 is least squares on the same treatment."""
    A = np.atleast_1d(np.asarray(alphas, dtype=np.float64))
    G = np.swapaxes(Szx, -1, -2) @ np.linalg.solve(Szz, Szx)  # Sxz Szz^-1 Szx
    g = np.swapaxes(Szx, -1, -2) @ np.linalg.solve(Szz, Szy[..., None])  # (..., d, 1)
    lhs = Sxx[..., None, :, :] + A[:, None, None] * G[..., None, :, :]
    rhs = Sxy[..., None, :, None] + A[:, None, None] * g[..., None, :, :]
    out = np.linalg.solve(lhs, rhs)[..., 0]
    return out[..., 0, :] if np.ndim(alphas) == 0 else out


def relative_causal_error(b: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """||b - beta|| / ||beta|| over the last axis. With do(X ~ N(0, I)) the excess risk of
    b over the causal beta is ||b - beta||^2, so this is also the square root of the
    relative excess OOD risk under interventions on X."""
    return np.linalg.norm(b - beta, axis=-1) / np.linalg.norm(beta)


# --------------------------------------------------------------------------- the DA world


@dataclass(frozen=True)
class AugmentationWorld:
    """Hidden confounder H (h) -> treatment X (d) -> outcome Y, H -> Y, and the outcome-
    invariant augmentation X_aug = X + S z. Confounding loads X through
    Gamma = conf (A_S S^T + leak A_perp P^T): along the augmentation directions S, plus a
    `leak` outside them (P = the orthogonal complement, which holds beta)."""

    S: np.ndarray  # (d, k) orthonormal: the augmentation subspace
    P: np.ndarray  # (d, d - k) orthonormal complement of S
    beta: np.ndarray  # (d,) causal effect, in span(P): f(x + S z) = f(x)
    A_S: np.ndarray  # (h, k) confounder loadings along S
    A_perp: np.ndarray  # (h, d - k) confounder loadings outside S
    gamma_y: np.ndarray  # (h,) confounder -> outcome
    conf: float
    leak: float
    sigma_a: float  # augmentation strength: z ~ N(0, sigma_a^2 I_k)
    noise: float  # outcome noise sd (treatment noise sd is 1)

    @property
    def d(self) -> int:
        return self.S.shape[0]

    @property
    def k(self) -> int:
        return self.S.shape[1]

    @property
    def Gamma(self) -> np.ndarray:
        """(h, d): X = Gamma^T H + noise."""
        return self.conf * (self.A_S @ self.S.T + self.leak * self.A_perp @ self.P.T)

    def with_(self, **changes) -> AugmentationWorld:
        """The same draws (basis, beta, loadings) with other strengths (sigma_a, leak, ...)."""
        return replace(self, **changes)

    @cached_property
    def sem(self) -> LinearSEM:
        h, d, k = len(self.gamma_y), self.d, self.k
        sizes = {"H": h, "Z": k, "X": d, "XA": d, "Y": 1}
        blocks, start = {}, 0
        for name, size in sizes.items():
            blocks[name] = slice(start, start + size)
            start += size
        B = np.zeros((start, start))
        B[blocks["H"], blocks["X"]] = self.Gamma
        B[blocks["X"], blocks["XA"]] = np.eye(d)
        B[blocks["Z"], blocks["XA"]] = self.S.T  # X_aug = X + S z
        B[blocks["X"], blocks["Y"]] = self.beta[:, None]  # outcome from the un-augmented X
        B[blocks["H"], blocks["Y"]] = self.gamma_y[:, None]
        sd = np.zeros(start)
        sd[blocks["H"]] = 1.0
        sd[blocks["Z"]] = self.sigma_a
        sd[blocks["X"]] = 1.0
        sd[blocks["Y"]] = self.noise
        return LinearSEM(blocks, B, sd)


def draw_world(rng: np.random.Generator, d: int, k: int, conf: float, leak: float,
               sigma_a: float, gamma_y: tuple[float, ...] = (2.0, -2.0),
               noise: float = 0.5) -> AugmentationWorld:
    """A random orthonormal basis Q = [S | P] (S its first k columns), a unit-norm beta in
    span(P) and N(0, 1) confounder loadings."""
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    S, P = Q[:, :k], Q[:, k:]
    w = rng.standard_normal(d - k)
    h = len(gamma_y)
    return AugmentationWorld(S=S, P=P, beta=P @ (w / np.linalg.norm(w)),
                             A_S=rng.standard_normal((h, k)),
                             A_perp=rng.standard_normal((h, d - k)),
                             gamma_y=np.asarray(gamma_y, dtype=np.float64),
                             conf=conf, leak=leak, sigma_a=sigma_a, noise=noise)


@dataclass(frozen=True)
class Estimates:
    erm: np.ndarray  # (..., d) least squares on X
    ivl: np.ndarray  # (..., K, d) IVL on (X_aug, z) for each alpha; alpha = 0 is DA+ERM


def estimate(M: np.ndarray, blocks: dict[str, slice], alphas: np.ndarray) -> Estimates:
    """ERM and DA+IVL(alpha) from a moment matrix over the SEM's blocks: sample moments
    give the estimates, the exact covariance gives their population limits."""
    m = lambda a, b: sub(M, blocks, a, b)  # noqa: E731
    return Estimates(
        erm=ols(m("X", "X"), m("X", "Y")[..., 0]),
        ivl=ivl(m("XA", "XA"), m("XA", "Y")[..., 0], m("Z", "XA"), m("Z", "Z"),
                m("Z", "Y")[..., 0], alphas))
