"""Projecting undesired directions out of embeddings, and linear probes that read what is left.

DECOR (Jang et al., arXiv 2412.09169, Sec. 4) removes the semantics of undesired words from
a prompt's text embedding by projecting it onto the orthogonal complement of the undesired
token embeddings:

    V   = orthonormal basis of span{e_1, ..., e_m}       (right singular vectors of E, m x d)
    X'  = X - alpha X V V^T                              (X: n tokens x d, alpha in [0, 1])

alpha = 1 is the orthogonal projection P = I - V V^T (symmetric, idempotent, X' V = 0);
alpha in (0, 1) moves only part of the way, which is the paper's knob between removing the
undesired content and keeping everything else. Every function takes leading batch axes, so
many prompts (or many customisations, each with its own V) are projected in one call.

A linear probe reads a vector back as coefficients on a dictionary of known directions
(`least_squares_probe`): y ~ M c, c = argmin ||M c - y||. It is how a leakage measurement
asks "how much of concept k is in this output": the coefficient on column k.
"""

from __future__ import annotations

import numpy as np


def undesired_basis(E: np.ndarray, rank: int | None = None, rtol: float = 1e-10) -> np.ndarray:
    """Orthonormal basis V (d, r) of the span of the rows of E (m, d), from its SVD.

    rank=None keeps every direction whose singular value exceeds rtol * s_max (the numerical
    rank); an integer keeps the top `rank` right singular vectors (the paper's option of
    projecting out only the leading directions of many undesired words).
    """
    E = np.atleast_2d(np.asarray(E, dtype=np.float64))
    _, s, Vt = np.linalg.svd(E, full_matrices=False)
    r = int(np.sum(s > rtol * (s[0] if s.size else 0.0))) if rank is None else int(rank)
    return Vt[:r].T.copy()


def unit_directions(E: np.ndarray) -> np.ndarray:
    """V (..., d, 1) for one undesired vector per batch entry: e / ||e|| (rank-1 basis)."""
    E = np.asarray(E, dtype=np.float64)
    return (E / np.linalg.norm(E, axis=-1, keepdims=True))[..., None]


def project_out(X: np.ndarray, V: np.ndarray, alpha: float | np.ndarray = 1.0) -> np.ndarray:
    """X' = X - alpha X V V^T (DECOR's projection), V with orthonormal columns.

    X (..., n, d) or (..., d); V (..., d, r) broadcasting against X's batch axes; alpha a
    scalar or an array broadcasting against X's leading axes (one strength per prompt).
    """
    X = np.asarray(X, dtype=np.float64)
    vec = X.ndim == V.ndim - 1  # X holds single vectors (..., d)
    Xm = X[..., None, :] if vec else X
    coef = Xm @ V  # (..., n, r): the undesired coordinates of every token
    out = Xm - np.asarray(alpha, dtype=np.float64)[..., None, None] * (
        coef @ np.swapaxes(V, -1, -2))
    return out[..., 0, :] if vec else out


def complement_projector(V: np.ndarray) -> np.ndarray:
    """P = I - V V^T: the orthogonal projector onto the complement of span(V)."""
    d = V.shape[-2]
    return np.eye(d) - V @ np.swapaxes(V, -1, -2)


def least_squares_probe(Y: np.ndarray, M: np.ndarray) -> np.ndarray:
    """Coefficients c (..., m) with M c closest to y in least squares, for every row y of Y.

    M (D, m) is the dictionary of known directions (columns); rank-deficient M gives the
    minimum-norm coefficients (pseudo-inverse).
    """
    return np.asarray(Y, dtype=np.float64) @ np.linalg.pinv(M).T


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of the last axes (NaN where either vector is zero)."""
    na = np.linalg.norm(a, axis=-1)
    nb = np.linalg.norm(b, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sum(a * b, axis=-1) / (na * nb)
