"""Losses aligned with pass@N, and exact pass@N of a classifier (torch).

Direct Coverage Optimization (Chen, Raventós, Cheng, Ganguli, Druckmann 2025, Eq. 4): with
p the model's probability of the correct answer, a problem is solved within N independent
samples with probability 1 - (1 - p)^N, so the loss is

    L_DCO(N) = -log(1 - (1 - p)^N).

N = 1 gives cross-entropy, -log p. Its gradient with respect to log p is cross-entropy's
scaled by F(N, p) = N p (1 - p)^(N - 1) / (1 - (1 - p)^N) (the paper's confidence
regularizer), which is 1 at N = 1 and falls to 0 as p -> 1 for N > 1: once a problem is
likely solved within N tries, DCO stops pushing p up, so the model is not driven to
overconfidence on the examples it has learned.

Stable form: 1 - (1 - p)^N = p S with S = sum_{j=0}^{N-1} (1 - p)^j in [1, N], so

    L_DCO(N) = -log p - logsumexp_{j=0..N-1} (j log(1 - p)),

with log p from log-softmax and log(1 - p) = logsumexp of the wrong logits - logsumexp of
all logits. Both are accurate when p rounds to 0 or to 1 in float32 (where the direct
-log(1 - (1 - p)^N) gives inf or loses every digit of the gradient).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def log_prob_wrong(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """log(1 - p_y) from logits (..., K) and labels (...) without forming 1 - p_y."""
    mask = torch.nn.functional.one_hot(y, logits.shape[-1]).to(torch.bool)
    mask = mask.expand_as(logits)
    wrong = logits.masked_fill(mask, float("-inf"))
    return torch.logsumexp(wrong, dim=-1) - torch.logsumexp(logits, dim=-1)


def dco_loss(logits: torch.Tensor, y: torch.Tensor, N: int) -> torch.Tensor:
    """Mean over examples of -log(1 - (1 - p_y)^N); logits (..., n, K), labels (n,).

    Leading batch dimensions (e.g. stacked models) are kept apart: the mean is over the
    last (example) dimension only, so a stacked (k, n, K) input gives k losses."""
    if N < 1:
        raise ValueError(f"N: expected an integer >= 1, got {N}")
    log_p = torch.log_softmax(logits, dim=-1).gather(
        -1, y.expand(logits.shape[:-1]).unsqueeze(-1)).squeeze(-1)
    if N == 1:  # cross-entropy
        return -log_p.mean(-1)
    j = torch.arange(N, dtype=logits.dtype, device=logits.device)
    log_s = torch.logsumexp(log_prob_wrong(logits, y).unsqueeze(-1) * j, dim=-1)
    return -(log_p + log_s).mean(-1)


def confidence_factor(p: torch.Tensor, N: int) -> torch.Tensor:
    """F(N, p) = N p (1 - p)^(N - 1) / (1 - (1 - p)^N): DCO's gradient over CE's."""
    return N * p * (1 - p) ** (N - 1) / (1 - (1 - p) ** N)


@torch.no_grad()
def correct_probability(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """p_y: the softmax probability of the correct answer, shape (..., n)."""
    return torch.softmax(logits, dim=-1).gather(
        -1, y.expand(logits.shape[:-1]).unsqueeze(-1)).squeeze(-1)


@torch.no_grad()
def pass_at_n(logits: torch.Tensor, y: torch.Tensor, Ns: Sequence[int]) -> torch.Tensor:
    """Exact pass@N averaged over problems, 1 - (1 - p_y)^N, for each N in Ns: (..., len(Ns))."""
    log_miss = log_prob_wrong(logits.double(), y)  # (..., n), float64: pass@N of tiny p
    Ns_t = torch.as_tensor(list(Ns), dtype=torch.float64, device=logits.device)
    return (-torch.expm1(log_miss.unsqueeze(-1) * Ns_t)).mean(-2).to(logits.dtype)


@torch.no_grad()
def mean_confidence(logits: torch.Tensor) -> torch.Tensor:
    """Mean over problems of the largest softmax probability, shape (...)."""
    return torch.softmax(logits, dim=-1).amax(-1).mean(-1)
