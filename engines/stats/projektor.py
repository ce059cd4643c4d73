"""Projektor (Kang, Just, Sahu, Jia 2023, "Performance Scaling via Optimal Transport"):
predict a model's accuracy for any mixture of data sources from the optimal-transport
distance between the mixture and a validation set, then project it to a larger data size.

- `SourceWorld`: K Gaussian classes in R^d (class information in the first `informative`
  coordinates, the rest pure noise); source 1 is clean but narrow (group-B classes rare),
  source 2 is balanced but its annotator confuses the group-A classes (a class of group A
  carries the label of the next group-A class with probability `flip`). The target is
  balanced and clean. `mixture` draws n points with a share p from source 1.
- `fit_softmax`: M multinomial logistic regressions (L2-penalised), each on its own data
  set of one size, fitted side by side as one separable strictly convex problem (scipy's
  L-BFGS on the sum: its minimum is every model's own minimum).
- `lda_embedding`: the validation set's linear discriminant directions, the "embedded
  features" the OT distance is computed in (the paper uses a pretrained feature
  extractor; an embedding fitted on labelled target data is the toy's stand-in).
- `otdd`: the label-aware dataset distance of Alvarez-Melis & Fusi (OTDD), which the
  paper uses: the ground cost between (x, y) and (x', y') is ||x - x'||^2 + lam * W2^2(
  P(x | y), P'(x | y')), the label-to-label term itself an exact OT distance between
  the class-conditional samples; `ot.emd2` solves both. `lam = 0` is the label-blind OT.
- `fit_ot_linear` (stage 1 with few pilot ratios: acc = a + b * OT), `fit_projektor6`
  (the paper's stage 1, P(p) = (b2 p^2 + b1 p + b0) OT(p) + c2 p^2 + c1 p + c0, needs six
  or more pilot ratios), `fit_poly` (the black-box fit in p) and `project_log` (stage 2,
  the line in log n through the two pilot sizes).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

# POT imports every array backend it can find (torch alone takes seconds); this engine hands
# it numpy arrays only, so the backends not yet loaded in this process stay off.
for _key, _module in (("PYTORCH", "torch"), ("JAX", "jax"), ("TENSORFLOW", "tensorflow"),
                      ("CUPY", "cupy")):
    if _module not in sys.modules:
        os.environ.setdefault(f"POT_BACKEND_DISABLE_{_key}", "1")
import ot  # noqa: E402

# ------------------------------------------------------------------------------- data


@dataclass(frozen=True)
class SourceWorld:
    """means (K, d); noise: within-class std; n_rare: how many classes (the last ones)
    source 1 under-represents, `rare` their total share in it; flip: source 2's
    probability of replacing a label y by y + 1 (mod K, "pair" noise) or by a uniformly
    drawn other class ("symmetric")."""

    means: np.ndarray
    noise: float
    n_rare: int
    rare: float
    flip: float
    flip_kind: str = "pair"
    shift: np.ndarray | None = None

    @property
    def n_classes(self) -> int:
        return self.means.shape[0]

    def _points(self, rng: np.random.Generator, y: np.ndarray) -> np.ndarray:
        return self.means[y] + self.noise * rng.standard_normal((len(y), self.means.shape[1]))

    def target(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        y = rng.permutation(np.arange(n) % self.n_classes)
        return self._points(rng, y), y

    def source1(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        K, B = self.n_classes, self.n_rare
        prior = np.r_[np.full(K - B, (1 - self.rare) / (K - B)), np.full(B, self.rare / B)]
        y = rng.choice(K, size=n, p=prior)
        X = self._points(rng, y)
        return (X if self.shift is None else X + self.shift), y

    def source2(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        K = self.n_classes
        y = rng.integers(0, K, size=n)
        X = self._points(rng, y)
        step = 1 if self.flip_kind == "pair" else rng.integers(1, K, size=n)
        flip = rng.random(n) < self.flip
        return X, np.where(flip, (y + step) % K, y)

    def pools(self, rng: np.random.Generator, n: int) -> tuple[tuple[np.ndarray, ...], ...]:
        """n points of each source: the common draws that `take` builds mixtures from."""
        return self.source1(rng, n), self.source2(rng, n)

    @staticmethod
    def take(pools: tuple[tuple[np.ndarray, ...], ...], n: int, p: float
             ) -> tuple[np.ndarray, np.ndarray]:
        """The mixture of n points with round(p n) from source 1: the first points of each
        pool, so that mixtures at nearby p share most of their points (common random
        numbers: the curves over p are smooth, their differences not drowned in noise)."""
        (X1, y1), (X2, y2) = pools
        n1 = int(round(p * n))
        return np.concatenate([X1[:n1], X2[: n - n1]]), np.concatenate([y1[:n1], y2[: n - n1]])

    def mixture(self, rng: np.random.Generator, n: int, p: float
                ) -> tuple[np.ndarray, np.ndarray]:
        """n fresh points, round(p n) from source 1 and the rest from source 2."""
        return self.take(self.pools(rng, n), n, p)


def source_world(rng: np.random.Generator, n_classes: int, dim: int, informative: int,
                 separation: float, noise: float, n_rare: int, rare: float, flip: float,
                 flip_kind: str = "pair", shift: float = 0.0) -> SourceWorld:
    means = np.zeros((n_classes, dim))
    means[:, :informative] = separation * rng.standard_normal((n_classes, informative))
    u = np.zeros(dim)
    u[:informative] = rng.standard_normal(informative)
    u *= shift / np.linalg.norm(u)
    return SourceWorld(means, noise, n_rare, rare, flip, flip_kind, u if shift else None)


# ---------------------------------------------------------------------------- learner


def fit_softmax(X: np.ndarray, Y: np.ndarray, n_classes: int, l2: float = 1e-2,
                max_iter: int = 200) -> np.ndarray:
    """M multinomial logistic regressions side by side: X (M, n, d), Y (M, n) ->
    W (M, d + 1, K) (last row the bias). Objective per model: mean cross-entropy +
    l2/2 ||weights||^2 (bias unpenalised); the models share nothing, so minimising the
    sum minimises each."""
    M, n, d = X.shape
    K = n_classes
    Xb = np.concatenate([X, np.ones((M, n, 1))], axis=2)
    onehot = np.zeros((M, n, K))
    np.put_along_axis(onehot, Y[..., None], 1.0, axis=2)
    XbT = np.ascontiguousarray(np.swapaxes(Xb, 1, 2))
    mask = np.ones((d + 1, K))
    mask[-1] = 0.0

    def fg(w: np.ndarray) -> tuple[float, np.ndarray]:
        W = w.reshape(M, d + 1, K)
        Z = np.matmul(Xb, W)
        Z -= Z.max(axis=2, keepdims=True)
        logsum = np.log(np.exp(Z).sum(axis=2, keepdims=True))
        P = np.exp(Z - logsum)
        loss = -(onehot * (Z - logsum)).sum() / n + 0.5 * l2 * ((W * mask) ** 2).sum()
        G = np.matmul(XbT, P - onehot) / n + l2 * W * mask
        return float(loss), G.ravel()

    res = minimize(fg, np.zeros(M * (d + 1) * K), jac=True, method="L-BFGS-B",
                   options={"maxiter": max_iter, "gtol": 1e-7})
    return res.x.reshape(M, d + 1, K)


def accuracy(W: np.ndarray, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(M,) test accuracy of every model of `fit_softmax` on one test set."""
    Z = np.matmul(X[None], W[:, :-1]) + W[:, -1][:, None, :]
    return (Z.argmax(axis=2) == y[None]).mean(axis=1)


# ------------------------------------------------------------------------ OT distance


def lda_embedding(X: np.ndarray, y: np.ndarray, n_classes: int, shrink: float = 0.1
                  ) -> np.ndarray:
    """(d, K - 1) projection onto the discriminant directions of (X, y), whitened by the
    pooled within-class covariance (shrunk towards its mean eigenvalue): Euclidean
    distance after it is the Mahalanobis distance in the class-relevant subspace."""
    d = X.shape[1]
    mu = np.stack([X[y == k].mean(0) for k in range(n_classes)])
    R = X - mu[y]
    Sw = R.T @ R / len(X)
    Sw = (1 - shrink) * Sw + shrink * np.trace(Sw) / d * np.eye(d)
    evals, evecs = np.linalg.eigh(Sw)
    Wh = evecs / np.sqrt(evals)
    mb = (mu - mu.mean(0)) @ Wh
    _, _, Vt = np.linalg.svd(mb, full_matrices=False)
    return Wh @ Vt[: n_classes - 1].T


def _sqdist(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    return np.maximum((A * A).sum(1)[:, None] + (B * B).sum(1)[None] - 2 * A @ B.T, 0.0)


def _gaussian(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """mean and the square root of the covariance of the rows of X."""
    mu = X.mean(0)
    R = X - mu
    S = R.T @ R / len(X)
    ev, V = np.linalg.eigh(S)
    return mu, (V * np.sqrt(np.maximum(ev, 0.0))) @ V.T


def label_distances(Xs: np.ndarray, ys: np.ndarray, Xv: np.ndarray, yv: np.ndarray,
                    n_classes: int, method: str = "gaussian") -> np.ndarray:
    """(K, K) W2^2 between the class-conditional samples: [y, y'] between the source points
    labelled y and the validation points labelled y'; NaN where the source has no point
    labelled y. "exact": OT between the two samples (`ot.emd2`); "gaussian": the closed
    form between Gaussians with the samples' means and covariances (Bures-Wasserstein,
    OTDD's fast approximation): ||m - m'||^2 + tr(S + S' - 2 (S^1/2 S' S^1/2)^1/2)."""
    K = n_classes
    D = np.full((K, K), np.nan)
    src = [a for a in range(K) if np.any(ys == a)]
    if method == "exact":
        for a in src:
            Sa = Xs[ys == a]
            for b in range(K):
                Vb = Xv[yv == b]
                D[a, b] = ot.emd2(np.full(len(Sa), 1 / len(Sa)),
                                  np.full(len(Vb), 1 / len(Vb)), _sqdist(Sa, Vb))
        return D
    gs = [_gaussian(Xs[ys == a]) for a in src]
    gv = [_gaussian(Xv[yv == b]) for b in range(K)]
    ms, Rs = np.stack([g[0] for g in gs]), np.stack([g[1] for g in gs])
    mv, Rv = np.stack([g[0] for g in gv]), np.stack([g[1] for g in gv])
    # (S^1/2 S' S^1/2) for every pair at once; its trace-sqrt from the eigenvalues
    cross = np.einsum("aij,bjk,akl->abil", Rs, Rv @ Rv, Rs)
    ev = np.linalg.eigvalsh(cross)
    tr_s = np.einsum("aij,aij->a", Rs, Rs)
    tr_v = np.einsum("bij,bij->b", Rv, Rv)
    bures = tr_s[:, None] + tr_v[None] - 2 * np.sqrt(np.maximum(ev, 0.0)).sum(-1)
    D[src] = _sqdist(ms, mv) + np.maximum(bures, 0.0)
    return D


def otdd(Xs: np.ndarray, ys: np.ndarray, Xv: np.ndarray, yv: np.ndarray, n_classes: int,
         lam: float = 1.0, method: str = "gaussian") -> float:
    """OTDD(source, validation) with cost ||x - x'||^2 + lam W2^2(y, y'), uniform weights,
    exact (`ot.emd2`). lam = 0: the label-blind OT distance between the feature clouds."""
    C = _sqdist(Xs, Xv)
    if lam > 0:
        C = C + lam * label_distances(Xs, ys, Xv, yv, n_classes, method)[ys][:, yv]
    return float(ot.emd2(np.full(len(Xs), 1 / len(Xs)), np.full(len(Xv), 1 / len(Xv)), C))


# ----------------------------------------------------------------------------- fits


def fit_ot_linear(ot_pilot: np.ndarray, acc_pilot: np.ndarray) -> tuple[float, float]:
    """Stage 1 with few pilot ratios: least-squares line acc = a + b OT."""
    b, a = np.polyfit(ot_pilot, acc_pilot, 1)
    return float(a), float(b)


def projektor6_design(p: np.ndarray, ot_values: np.ndarray) -> np.ndarray:
    p = np.asarray(p, dtype=float)
    o = np.asarray(ot_values, dtype=float)
    return np.stack([p * p * o, p * o, o, p * p, p, np.ones_like(p)], axis=1)


def fit_projektor6(p: np.ndarray, ot_values: np.ndarray, acc: np.ndarray) -> np.ndarray:
    """The paper's stage 1: P(p) = (b2 p^2 + b1 p + b0) OT(p) + c2 p^2 + c1 p + c0, least
    squares over the pilot ratios (minimum-norm when fewer than six)."""
    coef, *_ = np.linalg.lstsq(projektor6_design(p, ot_values), np.asarray(acc, float),
                               rcond=None)
    return coef


def fit_poly(p: np.ndarray, acc: np.ndarray, degree: int) -> np.ndarray:
    """The black-box scaling function in p: polynomial coefficients (highest first)."""
    return np.polyfit(np.asarray(p, float), np.asarray(acc, float), degree)


def project_log(P0: np.ndarray, P1: np.ndarray, n0: float, n1: float, n: float
                ) -> np.ndarray:
    """Stage 2: P(n) = [ln(n/n0) P(n1) - ln(n/n1) P(n0)] / ln(n1/n0), the line in log n
    through the predictions at the two pilot sizes."""
    return (np.log(n / n0) * np.asarray(P1) - np.log(n / n1) * np.asarray(P0)) \
        / np.log(n1 / n0)
