"""Factorized matrix sensing: a linear sensing operator and (sub-)gradient steps on
symmetric X X^T and asymmetric F G^T factorizations.

Symbols follow Xiong, Ding & Du (arXiv 2310.01769) and Ma & Fattahi (arXiv 2202.08788):
    y = A(M*),   A(M)_i = <A_i, M>,   A_i with iid N(0, 1/m) entries,
so that E[A*A] = identity. The losses are
    symmetric:   f(X)    = 1/4 ||A(X X^T) - y||^2      grad = sym(S) X
    asymmetric:  f(F, G) = 1/2 ||A(F G^T) - y||^2      grad = (S G, S^T F)
with S = A*(A(M) - y) for the l2 loss and S = A*(sign(A(M) - y)) / m for the l1 loss
(a sub-gradient). Everything is batched over a leading axis so that several variants
of one problem share one matrix product per step.

Robust recovery (Ma & Fattahi) uses unnormalized sensing matrices (`symmetric_gaussian`)
and averages the loss over the m measurements: the sub-gradient method (SubGM) on
    f(X) = 1/m sum_i |<A_i, X X^T> - y_i|,   y = A(M*) + s  (s: outliers or noise),
is X <- X - eta_t * 2 G X with G = 1/m sum_i sign(<A_i, X X^T> - y_i) A_i
= residual_matrix(op, X X^T, y, "l1"), i.e. symmetric_gd_step(X, G, 2 * eta_t), and
eta_t = eta0 * rho^t decays geometrically.
"""

from __future__ import annotations

import numpy as np


class SensingOperator:
    """A: R^{n1 x n2} -> R^m, stored as an (m, n1*n2) matrix. `identity` is matrix
    factorization (A = I, m = n1*n2)."""

    def __init__(self, matrix: np.ndarray | None, n1: int, n2: int) -> None:
        self.matrix = matrix
        self.n1, self.n2 = n1, n2
        self.m = n1 * n2 if matrix is None else matrix.shape[0]

    @classmethod
    def gaussian(cls, rng: np.random.Generator, n1: int, n2: int, m: int) -> SensingOperator:
        return cls(rng.standard_normal((m, n1 * n2)) / np.sqrt(m), n1, n2)

    @classmethod
    def identity(cls, n1: int, n2: int) -> SensingOperator:
        return cls(None, n1, n2)

    @classmethod
    def symmetric_gaussian(cls, rng: np.random.Generator, n: int, m: int) -> SensingOperator:
        """A_i = (B_i + B_i^T) / 2 with B_i iid N(0, 1) entries, unnormalized (Ma & Fattahi):
        <A_i, M> ~ N(0, ||M||_F^2) for symmetric M, and the losses carry the 1/m."""
        B = rng.standard_normal((m, n, n))
        return cls((0.5 * (B + np.swapaxes(B, -1, -2))).reshape(m, n * n), n, n)

    def forward(self, M: np.ndarray) -> np.ndarray:
        """(..., n1, n2) -> (..., m)"""
        flat = M.reshape(*M.shape[:-2], self.n1 * self.n2)
        return flat if self.matrix is None else flat @ self.matrix.T

    def adjoint(self, r: np.ndarray) -> np.ndarray:
        """(..., m) -> (..., n1, n2)"""
        flat = r if self.matrix is None else r @ self.matrix
        return flat.reshape(*r.shape[:-1], self.n1, self.n2)


def planted_psd(rng: np.random.Generator, n: int, spectrum: np.ndarray) -> np.ndarray:
    """M* = U diag(spectrum) U^T with U a random n x r orthonormal frame."""
    U, _ = np.linalg.qr(rng.standard_normal((n, len(spectrum))))
    return (U * spectrum) @ U.T


def residual_matrix(op: SensingOperator, M: np.ndarray, y: np.ndarray,
                    loss: str = "l2") -> np.ndarray:
    """S = A*(g(A(M) - y)) with g = identity (l2) or sign / m (l1 sub-gradient)."""
    r = op.forward(M) - y
    if loss == "l1":
        r = np.sign(r) / op.m
    elif loss != "l2":
        raise ValueError(f"unknown loss {loss!r}")
    return op.adjoint(r)


def symmetric_gd_step(X: np.ndarray, S: np.ndarray, lr: float) -> np.ndarray:
    """X <- X - lr * sym(S) X   (batched over the leading axis)."""
    sym = 0.5 * (S + np.swapaxes(S, -1, -2))
    return X - lr * sym @ X


def asymmetric_gd_step(F: np.ndarray, G: np.ndarray, S: np.ndarray,
                       lr: float) -> tuple[np.ndarray, np.ndarray]:
    """F <- F - lr S G,  G <- G - lr S^T F  (simultaneous update)."""
    return F - lr * S @ G, G - lr * np.swapaxes(S, -1, -2) @ F


def random_factor(rng: np.random.Generator, n: int, k: int, scale: float) -> np.ndarray:
    """Small random init: iid N(0, scale^2 / n) entries, so each column has norm ~ scale."""
    return scale * rng.standard_normal((n, k)) / np.sqrt(n)


def frobenius_error(M: np.ndarray, M_star: np.ndarray) -> np.ndarray:
    return np.linalg.norm(M - M_star, axis=(-2, -1))


# ------------------------------------------------ robust recovery (Ma & Fattahi, 2202.08788)


def corrupt_measurements(rng: np.random.Generator, y: np.ndarray, p: float, scale: float,
                         model: str = "outlier") -> tuple[np.ndarray, np.ndarray]:
    """y + s and the mask of corrupted entries. `outlier`: each y_i is corrupted with
    probability p by s_i ~ N(0, scale^2) (sparse gross errors); `gaussian`: every y_i gets
    s_i ~ N(0, scale^2) (dense noise; p is not used)."""
    if model == "outlier":
        mask = rng.random(y.shape) < p
    elif model == "gaussian":
        mask = np.ones(y.shape, dtype=bool)
    else:
        raise ValueError(f"unknown noise model {model!r}")
    s = np.where(mask, scale * rng.standard_normal(y.shape), 0.0)
    return y + s, mask


def geometric_step_size(eta0: float, rho: float, t: int) -> float:
    """eta_t = eta0 * rho^t: the exponentially decaying step size of SubGM."""
    return eta0 * rho**t


def sign_agreement(op: SensingOperator, M: np.ndarray, y: np.ndarray,
                   y_clean: np.ndarray) -> np.ndarray:
    """Fraction of i with sign(<A_i, M> - y_i) == sign(<A_i, M> - y_clean_i): how often the
    l1 sub-gradient on corrupted data points where the clean one does (the Sign-RIP idea).
    Batched over the leading axes of M."""
    z = op.forward(M)
    return np.mean(np.sign(z - y) == np.sign(z - y_clean), axis=-1)
