"""PCB-Merging (parameter competition balancing): weight each entry by an intra-task
and an inter-task balancing score, drop low scores, and take the score-weighted mean."""

from __future__ import annotations

import torch

from paramlab.engines.params import ParamSpec

from .base import LAM, Tensor, register


def minmax_rows(x: Tensor) -> Tensor:
    """Row-wise min-max normalization to [0, 1] (PCB's `normalize(x, dim=1)`); a constant
    row maps to 0 instead of the reference code's 0/0."""
    lo = x.min(dim=1, keepdim=True).values
    hi = x.max(dim=1, keepdim=True).values
    return (x - lo) / (hi - lo).clamp_min(1e-12)


def clamp_rows(x: Tensor, min_ratio: float = 0.0, max_ratio: float = 0.0) -> Tensor:
    """PCB reference `clamp`: clip each row to [its int(d*min_ratio)-th smallest value,
    its int(d*(1-max_ratio)-1)-th smallest]. Kept index for index, so max_ratio > 0
    always clips at least the largest entry (the reference's off-by-one)."""
    d = x.shape[1]
    s = torch.sort(x, dim=1).values
    lo = s[:, int(d * min_ratio)].unsqueeze(1)
    hi = s[:, int(d * (1 - max_ratio) - 1)].unsqueeze(1)
    return torch.clamp(x, lo, hi)


@register("pcb", summary="parameter competition balancing: intra x inter scores, keep "
          "the top ratio, score-weighted mean, x lam",
          reference="Du et al. 2024, arXiv 2410.02396 (code: duguodong7/pcb-merging)",
          params=(
              ParamSpec.of("ratio", 0.1, "fraction of each task's entries kept by score",
                           range=(0.0, 1.0), closed="right"),
              ParamSpec.of("clamp", 1e-4, "outlier clip of |tau| at this quantile on both "
                           "ends (0 disables)", range=(0.0, 0.5), closed="left"),
              ParamSpec.of("activation", "tanh", "inter-balancing: tanh(tau_i * sum_j tau_j) "
                           "as in the public code, or sum_j softmax(norm(tau_i * tau_j)) as in "
                           "the paper's text", choices=("tanh", "softmax")),
              ParamSpec.of("inter_sign", 1, "sign of the inter-balancing term; -1 rewards "
                           "conflict instead of agreement (an ablation)", choices=(1, -1)),
              LAM))
def pcb(T: Tensor, ratio: float, clamp: float, activation: str, inter_sign: int,
        lam: float) -> Tensor:
    n, d = T.shape
    # outlier clip of |tau| (reference: clamp(|tau|, 1e-4, 1e-4)), signs restored
    tau_abs = clamp_rows(T.abs(), clamp, clamp)
    tau = torch.sign(T) * tau_abs
    # intra-balancing (self-awareness): exp(n * norm(|tau_i|)^2), Eq. 2 with softmax's exp
    intra = torch.exp(n * minmax_rows(tau_abs) ** 2)
    # inter-balancing (cross-awareness): agreement of tau_i with the other tasks, Eq. 3;
    # the public code uses the raw tau (before the clip) here
    if activation == "tanh":
        inter = torch.tanh(inter_sign * T * T.sum(dim=0))
    else:
        # row j of T[i] * T is tau_i * tau_j; softmax over the d parameters, sum over j
        inter = torch.stack([torch.softmax(minmax_rows(inter_sign * T[i] * T), dim=1)
                             .sum(dim=0) for i in range(n)])
    score = intra * inter                              # PCB matrix beta
    return lam * score_weighted_mean(tau, score, ratio)


def score_weighted_mean(tau: Tensor, score: Tensor, ratio: float) -> Tensor:
    """PCB's drop and rescale (Eq. 4-5): entries below each row's (1 - ratio) quantile of
    the score clip to it and normalize to weight 0; weights = minmax_row(clipped score);
    merged = sum_i tau_i * w_i / sum_i w_i."""
    scale = minmax_rows(clamp_rows(score, 1.0 - ratio, 0.0))
    return (tau * scale).sum(dim=0) / scale.sum(dim=0).clamp_min(1e-12)


@register("pcb_random", summary="control: PCB's pipeline (clip, keep the top ratio, "
          "score-weighted mean, x lam) with the balancing scores replaced by U(0, 1) noise",
          reference="ablation of Du et al. 2024 (same sparsity, no parameter competition)",
          stochastic=True, params=(
              ParamSpec.of("ratio", 0.1, "fraction of each task's entries kept by score",
                           range=(0.0, 1.0), closed="right"),
              ParamSpec.of("clamp", 1e-4, "outlier clip of |tau| at this quantile on both "
                           "ends (0 disables)", range=(0.0, 0.5), closed="left"),
              LAM))
def pcb_random(T: Tensor, ratio: float, clamp: float, lam: float,
               gen: torch.Generator) -> Tensor:
    tau = torch.sign(T) * clamp_rows(T.abs(), clamp, clamp)
    score = torch.rand(T.shape, generator=gen, device=gen.device).to(T.device)
    return lam * score_weighted_mean(tau, score, ratio)
