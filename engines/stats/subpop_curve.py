"""Accuracy on the curve: a synthetic "Waterbirds" and a zoo of logistic regressions
(Liang, Mao, Kwon, Yang, Zou 2023, arXiv 2305.02995).

Data. Labels y = +-1; a spurious attribute a = y with probability `rho`, else -y.
Features x = [core, spurious, noise...]: core = core_mu * y + core_noise * N(0, 1) (small
scale, nearly fully predictive), spurious = spur_mu * a + N(0, 1) (large scale, learned
first), and `n_noise` pure N(0, 1) dimensions. Majority group: a = y; minority: a != y.

Zoo. K L2-regularised logistic regressions (one per lambda), trained side by side by
full-batch gradient descent on mean logistic loss + lambda/2 ||w||^2 (bias unpenalised),
read at log-spaced checkpoints: every (lambda, epoch) is one model of the zoo, as the
paper's zoo spans hyper-parameters and training epochs. Optional group-balanced loss
weights (the re-weighting baseline: each of the four (y, a) cells weighs the same).

Fits. Over the zoo, minority accuracy against majority accuracy (standardised): the
linear fit ("accuracy on the line"), the quadratic fit (the moon), their R^2 and the
quadratic coefficient; and Miller et al.'s probit-linear fit for display.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Groups:
    X: np.ndarray  # (n, d)
    y: np.ndarray  # (n,) in {-1, +1}
    a: np.ndarray  # (n,) in {-1, +1}

    @property
    def minority(self) -> np.ndarray:
        return self.a != self.y


def sample(rng: np.random.Generator, n: int, rho: float, core_mu: float, core_noise: float,
           spur_mu: float, n_noise: int, stratified: bool = True) -> Groups:
    """n points with a = y on a share rho of them (rho = 0.5: the groups are balanced).

    Stratified (the default), as a curated data set like Waterbirds fixes its group counts:
    each label holds n/2 points, round(rho n/2) of them majority, so the sample's
    spurious correlation is exactly rho; otherwise y and a are drawn i.i.d."""
    if stratified:
        half = n // 2
        y = np.repeat(np.array([-1.0, 1.0]), [half, n - half])
        maj = np.concatenate([np.arange(m) < round(rho * m) for m in (half, n - half)])
        a = np.where(maj, y, -y)
        perm = rng.permutation(n)
        y, a = y[perm], a[perm]
    else:
        y = rng.choice(np.array([-1.0, 1.0]), size=n)
        a = np.where(rng.random(n) < rho, y, -y)
    core = core_mu * y + core_noise * rng.standard_normal(n)
    spur = spur_mu * a + rng.standard_normal(n)
    X = np.column_stack([core, spur, rng.standard_normal((n, n_noise))])
    return Groups(X, y, a)


def balanced_weights(g: Groups) -> np.ndarray:
    """Per-example weights (mean 1) giving each (y, a) cell the same total weight."""
    w = np.zeros(len(g.y))
    cells = [(yy, aa) for yy in (-1.0, 1.0) for aa in (-1.0, 1.0)]
    present = [c for c in cells if np.any((g.y == c[0]) & (g.a == c[1]))]
    for yy, aa in present:
        m = (g.y == yy) & (g.a == aa)
        w[m] = len(g.y) / (len(present) * m.sum())
    return w


def checkpoints(max_epoch: int, count: int) -> list[int]:
    """`count` (or fewer, after rounding) distinct log-spaced epochs in [1, max_epoch]."""
    if count < 2 or max_epoch <= 1:
        return [max(1, max_epoch)]
    step = math.log(max_epoch) / (count - 1)
    return sorted({round(math.exp(i * step)) for i in range(count)})


def train_zoo(train: Groups, lambdas: np.ndarray, epochs: list[int], lr: float,
              weights: np.ndarray | None = None):
    """Full-batch GD for K logistic regressions at once; yields (epoch, W, b) at each
    checkpoint epoch, W of shape (K, d), b of shape (K,). Starts from zero weights."""
    X, y = train.X, train.y
    n, d = X.shape
    K = len(lambdas)
    w_ex = np.ones(n) if weights is None else weights
    W = np.zeros((K, d))
    b = np.zeros(K)
    lam = np.asarray(lambdas, dtype=float)[:, None]
    marks = set(epochs)
    for t in range(1, max(epochs) + 1):
        margin = y[None, :] * (W @ X.T + b[:, None])  # (K, n)
        # d/dm log(1 + e^-m) = -sigmoid(-m); a stable sigmoid via tanh
        s = 0.5 * (1.0 - np.tanh(0.5 * margin))
        r = -(s * y[None, :] * w_ex[None, :]) / n  # (K, n)
        W -= lr * (r @ X + lam * W)
        b -= lr * r.sum(1)
        if t in marks:
            yield t, W.copy(), b.copy()


def group_accuracy(W: np.ndarray, b: np.ndarray, test: Groups) -> tuple[np.ndarray, np.ndarray]:
    """(majority accuracy, minority accuracy) of K linear models, each of shape (K,)."""
    return scores_accuracy(W @ test.X.T + b[:, None], test)


def scores_accuracy(scores: np.ndarray, test: Groups) -> tuple[np.ndarray, np.ndarray]:
    """(majority accuracy, minority accuracy) from scores of shape (K, n); sign = label."""
    correct = np.sign(scores) == test.y[None, :]
    mino = test.minority
    return correct[:, ~mino].mean(1), correct[:, mino].mean(1)


MLP = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # W1 (K,d,h), b1, w2 (K,h), b2


def mlp_scores(P: MLP, X: np.ndarray) -> np.ndarray:
    W1, b1, w2, b2 = P
    H = np.tanh(np.einsum("nd,kdh->knh", X, W1) + b1[:, None, :])
    return np.einsum("knh,kh->kn", H, w2) + b2[:, None]


def train_mlp_zoo(rng: np.random.Generator, train: Groups, lambdas: np.ndarray,
                  epochs: list[int], lr: float, hidden: int,
                  weights: np.ndarray | None = None):
    """The same zoo with one-hidden-layer tanh MLPs (the "across architectures" family):
    full-batch GD, L2 on both weight matrices; yields (epoch, (W1, b1, w2, b2)). Output
    weights start small (0.1 / sqrt(h)), so the first checkpoints sit near chance."""
    X, y = train.X, train.y
    n, d = X.shape
    K = len(lambdas)
    w_ex = np.ones(n) if weights is None else weights
    W1 = rng.standard_normal((K, d, hidden)) / math.sqrt(d)
    b1 = np.zeros((K, hidden))
    w2 = 0.1 * rng.standard_normal((K, hidden)) / math.sqrt(hidden)
    b2 = np.zeros(K)
    lam = np.asarray(lambdas, dtype=float)[:, None]
    marks = set(epochs)
    for t in range(1, max(epochs) + 1):
        H = np.tanh(np.einsum("nd,kdh->knh", X, W1) + b1[:, None, :])
        f = np.einsum("knh,kh->kn", H, w2) + b2[:, None]
        r = -0.5 * (1.0 - np.tanh(0.5 * y[None, :] * f)) * y[None, :] * w_ex[None, :] / n
        dH = r[:, :, None] * w2[:, None, :] * (1.0 - H ** 2)
        gw2 = np.einsum("kn,knh->kh", r, H) + lam * w2
        gW1 = np.einsum("nd,knh->kdh", X, dH) + lam[:, :, None] * W1
        w2 -= lr * gw2
        b2 -= lr * r.sum(1)
        W1 -= lr * gW1
        b1 -= lr * dH.sum(1)
        if t in marks:
            yield t, (W1.copy(), b1.copy(), w2.copy(), b2.copy())


@dataclass(frozen=True)
class CurveFit:
    r2_lin: float
    r2_quad: float
    c2: float  # quadratic coefficient on standardised majority accuracy
    range_ratio: float  # (range of minority acc) / (range of majority acc)
    r2_probit: float  # R^2 of the probit-linear fit (Miller et al.), in probit space
    spearman: float


def _r2(y: np.ndarray, yhat: np.ndarray) -> float:
    ss = float(((y - y.mean()) ** 2).sum())
    return float("nan") if ss == 0 else 1.0 - float(((y - yhat) ** 2).sum()) / ss


def probit(p: np.ndarray, eps: float = 1e-4) -> np.ndarray:
    from scipy.stats import norm

    return norm.ppf(np.clip(p, eps, 1 - eps))


def fit_curve(maj: np.ndarray, mino: np.ndarray) -> CurveFit:
    from scipy.stats import spearmanr

    maj = np.asarray(maj, float)
    mino = np.asarray(mino, float)
    sd = maj.std()
    if sd == 0 or len(maj) < 4:
        nan = float("nan")
        return CurveFit(nan, nan, nan, nan, nan, nan)
    z = (maj - maj.mean()) / sd
    p1 = np.polyfit(z, mino, 1)
    p2 = np.polyfit(z, mino, 2)
    pz, pm = probit(maj), probit(mino)
    pp = np.polyfit(pz, pm, 1)
    ratio = float(np.ptp(mino) / np.ptp(maj))
    return CurveFit(r2_lin=_r2(mino, np.polyval(p1, z)), r2_quad=_r2(mino, np.polyval(p2, z)),
                    c2=float(p2[0]), range_ratio=ratio,
                    r2_probit=_r2(pm, np.polyval(pp, pz)),
                    spearman=float(spearmanr(maj, mino)[0]))
