"""Moment features of a set of frozen tokens: the representations of Moment Probing
(Gao et al. 2023, "Tuning Pre-trained Model via Moment Probing").

Linear probing (LP) classifies the mean token (first moment). Moment probing (MP) sees
the token *distribution* through its characteristic function, approximated by the first
and second moments: the mean and the token covariance (second-order pooling). The paper's
MHC^3 makes the second-order part cheap by splitting channels into heads; here the cheap
stand-in keeps only the per-head (block-diagonal) covariance blocks.

Pieces:
- `patch_tokens`: 8 x 8 images -> non-overlapping p x p patches, one token per patch;
- `RandomBackbone`: a frozen random "ViT-like" token map, fixed by the rng, never trained:
  h = tanh(patch W1 + pos), then one residual step h = h + tanh(h W2);
- `mean_token`, `moment_features`, `head_moment_features`: LP / MP / MP-heads features;
- `random_expansion_features`: the parameter-matched control, the mean of a random
  nonlinear token expansion of the same dimension as MP (it too samples the token
  distribution at random "frequencies", so it is expected to gain as well).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def patch_tokens(images: np.ndarray, patch: int) -> np.ndarray:
    """(N, S, S) images -> (N, (S/patch)^2, patch^2) tokens, row-major over patches."""
    N, S, _ = images.shape
    t = S // patch
    x = images.reshape(N, t, patch, t, patch).transpose(0, 1, 3, 2, 4)
    return x.reshape(N, t * t, patch * patch)


@dataclass(frozen=True)
class RandomBackbone:
    W1: np.ndarray  # (patch^2, d)
    pos: np.ndarray  # (L, d) position embedding
    W2: np.ndarray  # (d, d)

    @classmethod
    def draw(cls, rng: np.random.Generator, patch_dim: int, n_tokens: int, d: int,
             gain: float = 2.0) -> RandomBackbone:
        # gain 2 on W1: pixel patches in [0, 1] then reach tanh's curved range
        return cls(rng.standard_normal((patch_dim, d)) * gain / np.sqrt(patch_dim),
                   rng.standard_normal((n_tokens, d)) * 0.5,
                   rng.standard_normal((d, d)) / np.sqrt(d))

    def __call__(self, tokens: np.ndarray) -> np.ndarray:
        h = np.tanh(tokens @ self.W1 + self.pos)
        return h + np.tanh(h @ self.W2)


def mean_token(H: np.ndarray) -> np.ndarray:
    """First moment: (N, L, d) -> (N, d)."""
    return H.mean(axis=1)


def _upper_covariance(H: np.ndarray) -> np.ndarray:
    """Token covariance (1/L) sum (h - mean)(h - mean)^T, upper triangle with diagonal."""
    Hc = H - H.mean(axis=1, keepdims=True)
    C = np.einsum("nli,nlj->nij", Hc, Hc) / H.shape[1]
    iu = np.triu_indices(H.shape[2])
    return C[:, iu[0], iu[1]]


def moment_features(H: np.ndarray, second_order: bool = True) -> np.ndarray:
    """MP: [mean, upper triangle of the token covariance]: d + d(d+1)/2 features.
    `second_order=False` keeps only the mean (MP reduces to LP)."""
    if not second_order:
        return mean_token(H)
    return np.concatenate([mean_token(H), _upper_covariance(H)], axis=1)


def head_moment_features(H: np.ndarray, n_heads: int) -> np.ndarray:
    """MP-heads: the mean and each head's covariance block (channels split into n_heads
    groups): d + n_heads * (d/h)(d/h + 1)/2 features, a cheap stand-in for MHC^3."""
    d = H.shape[2]
    if d % n_heads:
        raise ValueError(f"n_heads must divide d ({d}), got {n_heads}")
    blocks = np.split(H, n_heads, axis=2)
    return np.concatenate([mean_token(H), *(_upper_covariance(b) for b in blocks)], axis=1)


def random_expansion_features(H: np.ndarray, dim: int, rng: np.random.Generator) -> np.ndarray:
    """The control: mean over tokens of tanh(h R + c), R (d, dim) ~ N(0, 1/d)."""
    d = H.shape[2]
    R = rng.standard_normal((d, dim)) / np.sqrt(d)
    c = rng.standard_normal(dim) * 0.5
    return np.tanh(H @ R + c).mean(axis=1)


def standardize(train: np.ndarray, *others: np.ndarray) -> list[np.ndarray]:
    """z-score every array with the train split's mean and std."""
    mu, sd = train.mean(axis=0), train.std(axis=0) + 1e-6
    return [(a - mu) / sd for a in (train, *others)]
