"""pass@k: the chance that at least one of k independent samples is correct (numpy).

Two ways to get it, which must agree:

- exact, from the model's probability p of the correct answer (Chen, Raventós et al. 2025,
  Eq. 1):  pass@k = 1 - (1 - p)^k;
- estimated, from n sampled answers of which c are correct, with the unbiased estimator
  of Chen et al. 2021 (Codex / HumanEval, Eq. 1):  pass@k = 1 - C(n - c, k) / C(n, k),
  the chance that a k-subset drawn without replacement from the n samples holds a correct
  one. Its expectation over c ~ Binomial(n, p) is exactly 1 - (1 - p)^k for k <= n.

Both are computed in a numerically stable form: the binomial ratio as a running product
(as in the Codex reference code) and 1 - (1 - p)^k as -expm1(k log1p(-p)).
"""

from __future__ import annotations

import numpy as np


def pass_at_k_exact(p: np.ndarray | float, k: int) -> np.ndarray:
    """1 - (1 - p)^k, element-wise, for p in [0, 1] and k >= 1."""
    p = np.clip(np.asarray(p, dtype=np.float64), 0.0, 1.0)
    with np.errstate(divide="ignore"):
        return -np.expm1(k * np.log1p(-p))


def pass_at_k_unbiased(n: int, c: np.ndarray | int, k: int) -> np.ndarray:
    """The unbiased estimator 1 - C(n - c, k) / C(n, k) from c correct of n samples.

    C(n - c, k) / C(n, k) = prod_{i = n - c + 1}^{n} (1 - k / i), which is 0 when n - c < k
    (every k-subset holds a correct sample). Vectorised over c."""
    if not 1 <= k <= n:
        raise ValueError(f"k: expected an integer in [1, n = {n}], got {k}")
    c = np.asarray(c, dtype=np.int64)
    if np.any((c < 0) | (c > n)):
        raise ValueError(f"c: expected counts in [0, {n}]")
    i = np.arange(1, n + 1, dtype=np.float64)
    # log(1 - k/i) for i = 1..n; the factor at i = k is zero, so a product reaching down
    # to i <= k is zero: those entries are -inf (the i < k ones are never reached alone)
    log_factor = np.full(n, -np.inf)
    log_factor[k:] = np.log1p(-k / i[k:])
    # suffix sums: S[m] = sum_{i = m + 1}^{n} log(1 - k/i), S[n] = 0
    suffix = np.concatenate([np.cumsum(log_factor[::-1])[::-1], [0.0]])
    log_ratio = suffix[n - c]  # sum over i = n - c + 1 .. n
    return -np.expm1(log_ratio)


def sample_correct_counts(probs: np.ndarray, y: np.ndarray, n: int,
                          rng: np.random.Generator) -> np.ndarray:
    """Draw n answers per problem from its categorical distribution `probs` (rows sum to 1)
    and count how many equal the correct answer y: the c of the unbiased estimator."""
    probs = np.asarray(probs, dtype=np.float64)
    cdf = np.cumsum(probs, axis=1)
    cdf[:, -1] = 1.0  # guard the last bin against rounding
    u = rng.random((probs.shape[0], n))
    answers = (u[:, :, None] >= cdf[:, None, :]).sum(axis=2)
    return (answers == np.asarray(y)[:, None]).sum(axis=1)
