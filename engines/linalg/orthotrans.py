"""OrthoTrans (OLinear, Yue et al. 2025, arXiv 2505.08550) at toy scale, in closed form (numpy).

OrthoTrans encodes a lookback window x (length L) as x Q_L and decodes a forecast in the
transformed domain z (length H) as z Q_H^T, where Q_L / Q_H are the eigenvectors of the
temporal Pearson correlation matrix of the training lookback / target windows (the paper's
Eq. for the correlation matrix, eigenvalues in descending order). A linear forecaster is fit
between the two domains by ridge regression; `k` keeps only the leading components.

Everything here is a pure function of arrays: no training loop, no I/O.
"""

from __future__ import annotations

import numpy as np

from .adam import Adam


def synthetic_series(rng: np.random.Generator, channels: int, length: int,
                     periods: tuple[float, ...], phi: float, noise: float,
                     trend: float) -> np.ndarray:
    """(channels, length): per channel, sinusoids of the given periods (random phase and
    amplitude in [0.5, 1.5]) + AR(1, phi) noise of innovation std `noise` scaled to a
    stationary std `noise` / sqrt(1 - phi^2) + a linear trend of random sign, standardised."""
    t = np.arange(length, dtype=float)
    amp = rng.uniform(0.5, 1.5, (channels, len(periods)))
    phase = rng.uniform(0.0, 2 * np.pi, (channels, len(periods)))
    w = 2 * np.pi / np.asarray(periods, dtype=float)
    s = (amp[:, :, None] * np.sin(w[None, :, None] * t + phase[:, :, None])).sum(1)
    e = rng.standard_normal((channels, length)) * noise
    ar = np.empty_like(e)
    ar[:, 0] = e[:, 0] / np.sqrt(max(1 - phi * phi, 1e-6))
    for i in range(1, length):
        ar[:, i] = phi * ar[:, i - 1] + e[:, i]
    slope = rng.choice([-1.0, 1.0], channels)[:, None] * trend / length
    x = s + ar + slope * t
    return (x - x.mean(1, keepdims=True)) / x.std(1, keepdims=True)


def windows(series: np.ndarray, lookback: int, horizon: int,
            stride: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Channel-independent windows of a (C, T) array: X (n, L), Y (n, H), with the lookback
    window's mean removed from both (the instance normalisation of the spec)."""
    C, T = series.shape
    starts = np.arange(0, T - lookback - horizon + 1, stride)
    idx = starts[:, None] + np.arange(lookback + horizon)[None, :]
    W = series[:, idx].reshape(-1, lookback + horizon)
    X, Y = W[:, :lookback], W[:, lookback:]
    m = X.mean(1, keepdims=True)
    return X - m, Y - m


def pearson_basis(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (descending) and eigenvectors (columns) of the L x L temporal Pearson
    correlation matrix of the rows of X (OrthoTrans's Q)."""
    R = np.corrcoef(X, rowvar=False)
    vals, vecs = np.linalg.eigh(R)
    order = np.argsort(vals)[::-1]
    vecs = vecs[:, order]
    vecs = vecs * np.sign(vecs[np.abs(vecs).argmax(0), np.arange(vecs.shape[1])])
    return vals[order], vecs


def dct_basis(n: int) -> np.ndarray:
    """Orthonormal DCT-II basis as columns, lowest frequency first (x @ D = DCT-II of x)."""
    i = np.arange(n)
    D = np.cos(np.pi * (i[:, None] + 0.5) * i[None, :] / n) * np.sqrt(2.0 / n)
    D[:, 0] /= np.sqrt(2.0)
    return D


def max_offdiag(R: np.ndarray) -> float:
    """max |off-diagonal| of a square matrix."""
    return float(np.abs(R - np.diag(np.diag(R))).max())


def transformed_correlation(X: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """Covariance of the Pearson-standardised rows of X in basis Q, divided by the
    eigenvalue scale: Q^T R Q (diagonal when Q is R's eigenbasis)."""
    R = np.corrcoef(X, rowvar=False)
    return Q.T @ R @ Q


def ridge(Z: np.ndarray, Y: np.ndarray, lam: float) -> np.ndarray:
    """argmin_W ||Z W - Y||^2 + lam * n * ||W||^2 (no intercept: windows are mean-removed)."""
    n, d = Z.shape
    return np.linalg.solve(Z.T @ Z + lam * n * np.eye(d), Z.T @ Y)


def fit_in_basis(X: np.ndarray, Y: np.ndarray, QL: np.ndarray, QH: np.ndarray, k_in: int,
                 k_out: int, lam: float) -> np.ndarray:
    """Ridge between the first k_in input and k_out output coordinates of the bases; returns
    the equivalent time-domain map (L, H): x -> x QL_k W QH_k^T."""
    A, B = QL[:, :k_in], QH[:, :k_out]
    W = ridge(X @ A, Y @ B, lam)
    return A @ W @ B.T


def mse(X: np.ndarray, Y: np.ndarray, M: np.ndarray) -> float:
    return float(np.mean((X @ M - Y) ** 2))


def random_orthogonal(rng: np.random.Generator, n: int) -> np.ndarray:
    """A Haar-random orthogonal matrix (QR of a Gaussian, signs fixed)."""
    Q, R = np.linalg.qr(rng.standard_normal((n, n)))
    return Q * np.sign(np.diag(R))


def adam_linear(Z: np.ndarray, Y: np.ndarray, steps: int, lr: float, beta1: float = 0.9,
                beta2: float = 0.999, eps: float = 1e-8):
    """Full-batch Adam on the linear map W (zero init) minimising mean ||Z W - Y||^2 / H.
    Yields (t, W) after every step t = 1..steps (W is updated in place: copy it to keep
    it). Adam's per-coordinate scaling is the only part of the fit that is not invariant
    to an orthogonal change of basis."""
    n, H = len(Z), Y.shape[1]
    S, B = Z.T @ Z / n, Z.T @ Y / n
    W = np.zeros((Z.shape[1], H))
    opt = Adam(lr=lr, beta1=beta1, beta2=beta2, eps=eps)
    for t in range(1, steps + 1):
        opt.step(W, 2.0 * (S @ W - B) / H)
        yield t, W


def train_windows(channels: int, length: int, lookback: int, horizon: int,
                  train_frac: float = 0.7) -> int:
    """Number of training windows `windows` yields for the first train_frac of the series."""
    return channels * max(int(train_frac * length) - lookback - horizon + 1, 0)


def mlp_in_bases(Ztr: np.ndarray, Ytr: np.ndarray, Zte: np.ndarray, Yte: np.ndarray,
                 hidden: int, epochs: int, lr: float, batch: int, seed: int,
                 device: str = "cpu", reps: int = 1):
    """The spec's forecaster, one per basis, trained side by side: MLP d -> hidden -> H (ReLU)
    on stacked inputs Ztr (k, n, d) -> targets Ytr (k, n, H), minibatch Adam, MSE; every
    basis starts from the same init and sees the same minibatches; `reps` independent inits
    per basis. Yields (epoch, step, test MSE per basis averaged over the reps (k,), forward)
    after every epoch, epoch 0 = at init; forward maps (reps * k, m, d) inputs, rep-major."""
    import torch

    g = torch.Generator().manual_seed(seed)
    k, n, d = Ztr.shape
    H = Ytr.shape[2]

    def t(a: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(a, dtype=torch.float32, device=device)

    Ztr_t, Ytr_t, Zte_t, Yte_t = (t(a).repeat(reps, 1, 1) for a in (Ztr, Ytr, Zte, Yte))
    # nn.Linear's default init (uniform +-1/sqrt(fan_in)), shared across the bases of a rep

    def init(shape: tuple[int, int], fan_in: int) -> torch.Tensor:
        w = (torch.rand(reps, *shape, generator=g) * 2 - 1) / fan_in ** 0.5
        return w.repeat_interleave(k, dim=0)

    W1, b1 = init((d, hidden), d), init((1, hidden), d)
    W2, b2 = init((hidden, H), hidden), init((1, H), hidden)
    params = [p.to(device).requires_grad_(True) for p in (W1, b1, W2, b2)]
    opt = torch.optim.Adam(params, lr=lr)

    def forward(Z: torch.Tensor) -> torch.Tensor:
        W1, b1, W2, b2 = params
        return torch.relu(Z @ W1 + b1) @ W2 + b2

    def test_mse() -> np.ndarray:
        with torch.no_grad():
            e = ((forward(Zte_t) - Yte_t) ** 2).mean(dim=(1, 2)).cpu().numpy()
            return e.reshape(reps, k).mean(0)

    step = 0
    yield 0, 0, test_mse(), forward
    for ep in range(1, epochs + 1):
        perm = torch.randperm(n, generator=g).to(device)
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            # sum over bases of each basis's mean loss: the k fits stay independent
            loss = ((forward(Ztr_t[:, idx]) - Ytr_t[:, idx]) ** 2).mean(dim=(1, 2)).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
        yield ep, step, test_mse(), forward
