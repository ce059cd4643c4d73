"""Sequences of linear systems and the cost of solving them with SOR.

The model problem of Khodak, Chow, Balcan & Talwalkar (ICLR 2024, arXiv 2310.02246): the
5-point Laplacian on an m x m interior grid with zero boundary, shifted by c,

    A(c) = -Lap_2D + c I   (4 + c on the diagonal, -1 for each grid neighbour),

solved by successive over-relaxation with relaxation omega. The *cost* of an instance is
the number of SOR sweeps until the relative residual |b - A x| / |b| drops below tol
(x_0 = 0), capped at `cap`.

`red_black_sor_iterations` runs many systems and many omegas in one vectorised pass with
the red-black (checkerboard) ordering. A is consistently ordered in that ordering, so
Young's theory applies exactly: with the Jacobi spectral radius
rho_J = 4 cos(pi h) / (4 + c), h = 1/(m + 1), the asymptotically optimal relaxation is
omega* = 2 / (1 + sqrt(1 - rho_J^2)). `sor_iterations` is the plain lexicographic SOR of
the authors' MATLAB `sor.m`, kept as a cross-check.
"""

from __future__ import annotations

import numpy as np


def shifted_laplacian(m: int, c: float):
    """A(c) as a scipy.sparse CSR matrix (lexicographic ordering of the m x m grid)."""
    import scipy.sparse as sp

    T = sp.diags([-np.ones(m - 1), np.full(m, 2.0), -np.ones(m - 1)], [-1, 0, 1])
    I_m = sp.identity(m)
    return (sp.kron(I_m, T) + sp.kron(T, I_m) + c * sp.identity(m * m)).tocsr()


def rho_jacobi(m: int, c: float | np.ndarray) -> float | np.ndarray:
    """Spectral radius of the Jacobi iteration matrix of A(c)."""
    return 4.0 * np.cos(np.pi / (m + 1)) / (4.0 + c)


def omega_opt(rho: float | np.ndarray) -> float | np.ndarray:
    """Young's optimal SOR relaxation for a consistently ordered matrix."""
    return 2.0 / (1.0 + np.sqrt(1.0 - rho**2))


def sor_iterations(A, b: np.ndarray, omega: float, tol: float, cap: int) -> int:
    """Lexicographic SOR, x <- x + (D/omega + L)^{-1} (b - A x), as in the authors' sor.m;
    returns the sweeps to relative residual < tol (cap if never). Dense triangular solves:
    meant for the small grids of cross-checks."""
    from scipy.linalg import solve_triangular

    Ad = A.toarray() if hasattr(A, "toarray") else np.asarray(A)
    M = np.diag(np.diag(Ad) / omega) + np.tril(Ad, k=-1)
    x = np.zeros_like(b)
    r = b.copy()
    norm0 = np.linalg.norm(b)
    for k in range(1, cap + 1):
        x = x + solve_triangular(M, r, lower=True, check_finite=False)
        r = b - Ad @ x
        if np.linalg.norm(r) / norm0 < tol:
            return k
    return cap


def red_black_sor_iterations(c: np.ndarray, b: np.ndarray, omegas: np.ndarray, tol: float,
                             cap: int, compact_every: int = 8) -> np.ndarray:
    """Sweeps of red-black SOR for every (instance, omega) pair, all at once.

    c: (T,) shifts; b: (T, m, m) right-hand sides; omegas: (K,). Returns an int array
    (T, K): the first sweep whose relative residual is below tol, or cap. Converged systems
    are dropped from the batch every `compact_every` sweeps."""
    T, m, _ = b.shape
    K = len(omegas)
    # one batch row per (instance, omega)
    bb = np.repeat(b, K, axis=0)
    diag = np.repeat(4.0 + np.asarray(c, dtype=np.float64), K)[:, None, None]
    om = np.tile(np.asarray(omegas, dtype=np.float64), T)[:, None, None]
    norm0 = np.sqrt(np.sum(bb**2, axis=(1, 2)))
    ii, jj = np.meshgrid(np.arange(m), np.arange(m), indexing="ij")
    colours = [((ii + jj) % 2 == 0), ((ii + jj) % 2 == 1)]  # red, then black

    x = np.zeros((T * K, m + 2, m + 2))  # zero Dirichlet boundary in the padding
    alive = np.arange(T * K)
    out = np.full(T * K, cap, dtype=np.int64)

    def neighbours(x):
        return x[:, :-2, 1:-1] + x[:, 2:, 1:-1] + x[:, 1:-1, :-2] + x[:, 1:-1, 2:]

    for sweep in range(1, cap + 1):
        inner = x[:, 1:-1, 1:-1]
        for mask in colours:  # Gauss-Seidel on one colour uses only the other colour
            gs = (bb + neighbours(x)) / diag
            inner[:, mask] = ((1.0 - om) * inner + om * gs)[:, mask]
        r = bb - (diag * inner - neighbours(x))
        rel = np.sqrt(np.sum(r**2, axis=(1, 2))) / norm0
        done = (rel < tol) & (out[alive] == cap)
        out[alive[done]] = np.minimum(out[alive[done]], sweep)
        if sweep % compact_every == 0 or sweep == cap:
            keep = rel >= tol
            if not keep.any():
                break
            alive, x, bb, diag, om, norm0 = (alive[keep], x[keep], bb[keep], diag[keep],
                                             om[keep], norm0[keep])
    return out.reshape(T, K)
