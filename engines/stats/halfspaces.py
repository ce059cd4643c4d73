"""Homogeneous halfspaces x -> sign(w . x) on Gaussian data: learners, teachers, angles.

For x ~ N(0, I_d) the disagreement of two halfspaces is exactly angle(u, v) / pi, so the
population 0-1 error of a hypothesis h under the noiseless teacher w is

    L_{D_w}(h) = angle(h, w) / pi.

A teacher w is *consistent* with a sample S = {(x_i, y_i)} when y_i w . x_i >= 0 for all
i; every consistent teacher gives S the same likelihood, so nothing computed from S (and
from h = A(S)) can tell them apart. The spread of h's error over the consistent teachers,

    Delta = (max_w angle(h, w) - min_w angle(h, w)) / pi,   w in the consistent cone,

is therefore a lower bound on twice the worst-case slack of every bound that depends only
on (S, h) (Gastpar, Nachum, Shafer, Weinberger, ICLR 2024, arXiv 2309.13658).
`consistent_angle_range` computes it with SLSQP from w*, h and random feasible starts, in
every regime; when d > rank(A) a closed form exists (a null-space direction of the
constraints is orthogonal to h: `closed_form_max_angle`), and serves as the optimiser's
reference there. The returned teachers are repaired to be exactly consistent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def gaussian_sample(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    return rng.standard_normal((n, d))


def teacher(rng: np.random.Generator, d: int, kind: str = "isotropic", sparsity: int = 5
            ) -> np.ndarray:
    """A unit teacher: uniform on the sphere, or supported on `sparsity` random coordinates."""
    w = rng.standard_normal(d)
    if kind == "sparse" and sparsity < d:
        mask = np.zeros(d, dtype=bool)
        mask[rng.choice(d, size=sparsity, replace=False)] = True
        w = np.where(mask, w, 0.0)
    return w / np.linalg.norm(w)


def labels(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    y = np.sign(X @ w)
    y[y == 0] = 1.0
    return y


def hard_margin_svm(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The homogeneous hard-margin SVM, min |w| s.t. y_i w . x_i >= 1, solved exactly as a
    least-distance problem through non-negative least squares (Lawson & Hanson 1974,
    ch. 23): with G = diag(y) X, solve min_{u >= 0} |E u - f| for E = [G^T; 1^T], f = e_{d+1};
    then w = -r_{1..d} / r_{d+1} with r = E u - f. (sklearn's LinearSVC with a large C gives
    the same w where it converges, but its coordinate descent stalls at n >> d.)"""
    from scipy.optimize import nnls

    G = y[:, None] * X
    n, d = G.shape
    E = np.vstack([G.T, np.ones((1, n))])
    f = np.zeros(d + 1)
    f[-1] = 1.0
    u, _ = nnls(E, f, maxiter=50 * max(n, d))
    r = E @ u - f
    if abs(r[-1]) < 1e-12:
        raise ValueError("the sample is not linearly separable through the origin")
    return -r[:d] / r[-1]


def min_norm_least_squares(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """w = X^+ y: the minimum-norm interpolator of the labels when d >= n."""
    return np.linalg.lstsq(X, y, rcond=None)[0]


def angle(u: np.ndarray, v: np.ndarray) -> float:
    c = float(u @ v / (np.linalg.norm(u) * np.linalg.norm(v)))
    return float(np.arccos(np.clip(c, -1.0, 1.0)))


def population_error(h: np.ndarray, w: np.ndarray) -> float:
    """0-1 error of sign(h . x) against the teacher sign(w . x) for x ~ N(0, I)."""
    return angle(h, w) / np.pi


def normalized_margins(A: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Rows of A are y_i x_i; returns y_i w . x_i / (|x_i| |w|)."""
    return (A @ w) / (np.linalg.norm(A, axis=1) * np.linalg.norm(w))


def margin_bound(X: np.ndarray, y: np.ndarray, h: np.ndarray) -> float:
    """The classical margin bound value R^2 |h|^2 / (gamma^2 n) with gamma the functional
    margin min_i y_i h . x_i and R = max_i |x_i| (inf if h misclassifies a point)."""
    gamma = float(np.min(y * (X @ h)))
    if gamma <= 0:
        return float("inf")
    R = float(np.max(np.linalg.norm(X, axis=1)))
    return (R * np.linalg.norm(h) / gamma) ** 2 / len(y)


@dataclass
class AngleRange:
    theta_min: float  # smallest angle(h, w) over consistent w (0 when h is consistent)
    theta_max: float  # largest angle(h, w) over consistent w
    w_min: np.ndarray
    w_max: np.ndarray
    method: str  # "closed form" or "slsqp"

    @property
    def delta(self) -> float:
        """Spread of h's population error over indistinguishable (consistent) teachers."""
        return (self.theta_max - self.theta_min) / np.pi


def _repair(w: np.ndarray, A: np.ndarray, anchor: np.ndarray) -> np.ndarray:
    """Move w toward a strictly consistent `anchor` until every y_i w . x_i is positive
    (a normalized margin of at least 1e-12, so rounding cannot flip a sign)."""
    w = w / np.linalg.norm(w)
    target = 1e-12 * np.linalg.norm(A, axis=1)
    m, a = A @ w, A @ anchor
    if np.all(m >= target):
        return w
    bad = m < target
    t = float(np.max((target[bad] - m[bad]) / a[bad])) * (1 + 1e-6)
    w = w + t * anchor
    return w / np.linalg.norm(w)


def _extreme_cos(h: np.ndarray, A: np.ndarray, starts: list[np.ndarray], sign: float
                 ) -> np.ndarray:
    """argmin over unit w with A w >= 0 of sign * cos(h, w), by SLSQP from each start."""
    from scipy.optimize import minimize

    hu = h / np.linalg.norm(h)
    best, best_val = None, np.inf
    cons = ({"type": "ineq", "fun": lambda w: A @ w, "jac": lambda w: A},
            {"type": "eq", "fun": lambda w: np.array([w @ w - 1.0]),
             "jac": lambda w: 2.0 * w[None, :]})
    for w0 in starts:
        res = minimize(lambda w: sign * (hu @ w), w0 / np.linalg.norm(w0),
                       jac=lambda w: sign * hu, constraints=cons, method="SLSQP",
                       options={"maxiter": 300, "ftol": 1e-12})
        w = res.x if np.all(np.isfinite(res.x)) and np.linalg.norm(res.x) > 0 else w0
        val = sign * (hu @ w) / np.linalg.norm(w)
        if val < best_val:
            best, best_val = w, val
    return best


def random_consistent_start(A: np.ndarray, anchor: np.ndarray, rng: np.random.Generator
                            ) -> np.ndarray:
    """A random feasible start: a uniformly random direction g, moved toward the strictly
    consistent `anchor` until it is consistent (a random point on the cone's boundary
    when g is outside the cone, g itself when inside)."""
    g = rng.standard_normal(A.shape[1])
    return _repair(g, A, anchor)


def closed_form_max_angle(A: np.ndarray, h: np.ndarray, anchor: np.ndarray) -> np.ndarray | None:
    """When the constraints have a null space (d > rank A): the unit u in null(A) farthest
    from h, nudged to strict consistency; None when null(A) is empty. A reference for the
    optimiser, not the measurement."""
    from scipy.linalg import null_space

    N = null_space(A)  # directions invisible to every constraint
    if N.shape[1] == 0:
        return None
    u = -N @ (N.T @ h)
    if np.linalg.norm(u) < 1e-12 * np.linalg.norm(h):
        u = N[:, 0]
    u /= np.linalg.norm(u)
    return _repair(u + 1e-6 * anchor, A, anchor)


def consistent_angle_range(X: np.ndarray, y: np.ndarray, h: np.ndarray, w_star: np.ndarray,
                           rng: np.random.Generator, restarts: int = 3) -> AngleRange:
    """The range of angle(h, w) over teachers w consistent with (X, y), found by SLSQP in
    every regime (d > n included) from w_star, from h when h is consistent, and from
    `restarts` random feasible starts (`random_consistent_start`). w_star must be strictly
    consistent (it labelled the data). The maximum is a lower bound on the true one (a
    non-convex problem: the sphere); more random starts can only raise it."""
    A = y[:, None] * X
    anchor = w_star / np.linalg.norm(w_star)
    h_consistent = bool(np.min(A @ h) > 0)
    starts = [anchor] + ([h] if h_consistent else [])
    starts += [random_consistent_start(A, anchor, rng) for _ in range(restarts)]
    w_max = _repair(_extreme_cos(h, A, starts, +1.0), A, anchor)
    if h_consistent:
        w_min = h / np.linalg.norm(h)
    else:
        w_min = _repair(_extreme_cos(h, A, [anchor], -1.0), A, anchor)
    return AngleRange(angle(h, w_min), angle(h, w_max), w_min, w_max, "slsqp")
