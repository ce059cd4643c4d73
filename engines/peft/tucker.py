"""FLoRA's Tucker (core-space) adapter for a 4-D conv weight, LoRA on the reshaped conv
weight as its contrast, their exact trainable-parameter counts, and the two kinds of
ground-truth weight change (Tucker-structured and matrix-low-rank) used to compare them.

    FLoRA (Si et al. 2025):  dW[o,i,h,w] = s * sum_{a,b,c,d} G[a,b,c,d] U_out[o,a] U_in[i,b]
                                                        U_h[h,c] U_w[w,d]
        i.e. dW = s * G x1 U_out x2 U_in x3 U_h x4 U_w; the core G starts at zero, the
        factors kaiming-normal (a = sqrt(3)) as in the authors' flora layers.
        trainable: r_out r_in r_h r_w + C_out r_out + C_in r_in + k_h r_h + k_w r_w
    LoRA (HF peft Conv2d semantics):  dW = s * (B A).reshape(C_out, C_in, k_h, k_w),
        A (r x C_in k_h k_w) kaiming-uniform (a = sqrt(5)), B (C_out x r) zero.
        trainable: r (C_out + C_in k_h k_w)

Both start with dW = 0, so the adapted conv is the frozen conv exactly at step 0.
`delta()` returns dW as a tensor, so a caller may stack several adapters' weights into one
grouped convolution (the scenario trains all of them in one tensor program).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

Shape4 = tuple[int, int, int, int]


def tucker_count(shape: Sequence[int], ranks: Sequence[int]) -> int:
    """Core (prod ranks) plus one n_k x r_k factor per mode."""
    return int(math.prod(ranks)) + sum(int(n) * int(r) for n, r in zip(shape, ranks))


def conv_lora_count(shape: Sequence[int], rank: int) -> int:
    """LoRA on the C_out x (C_in k_h k_w) reshape: B (C_out x r) and A (r x C_in k_h k_w)."""
    c_out, c_in, kh, kw = shape
    return int(rank) * (c_out + c_in * kh * kw)


def matched_lora_rank(shape: Sequence[int], budget: int) -> int:
    """The smallest LoRA rank whose count is >= budget (LoRA never has fewer parameters)."""
    c_out, c_in, kh, kw = shape
    return max(1, -(-int(budget) // (c_out + c_in * kh * kw)))


def tucker_product(core: torch.Tensor, factors: Sequence[torch.Tensor]) -> torch.Tensor:
    """G x1 U_1 x2 U_2 x3 U_3 x4 U_4 for a 4-way core (one einsum)."""
    return torch.einsum("abcd,oa,ib,hc,wd->oihw", core, *factors)


class TuckerDelta(nn.Module):
    """FLoRA's dW for a conv weight of `shape` with Tucker `ranks` (trainable core and
    factors; the core starts at zero)."""

    def __init__(self, shape: Shape4, ranks: Shape4, scale: float = 1.0, *,
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.shape, self.ranks, self.scale = tuple(shape), tuple(ranks), float(scale)
        self.core = nn.Parameter(torch.zeros(*ranks))
        factors = []
        for n, r in zip(shape, ranks):
            # kaiming_normal_(a=sqrt(3)) on an (n, r) tensor: std = sqrt(2/(1+3)) / sqrt(r)
            std = math.sqrt(2.0 / (1.0 + 3.0)) / math.sqrt(r)
            factors.append(nn.Parameter(torch.randn(n, r, generator=generator) * std))
        self.factors = nn.ParameterList(factors)

    def forward(self) -> torch.Tensor:
        return self.scale * tucker_product(self.core, list(self.factors))

    def n_trainable(self) -> int:
        return tucker_count(self.shape, self.ranks)


class LoRAConvDelta(nn.Module):
    """LoRA's dW for a conv weight of `shape`: (B A) reshaped, B zero at start."""

    def __init__(self, shape: Shape4, rank: int, scale: float = 1.0, *,
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        c_out, c_in, kh, kw = shape
        self.shape, self.rank, self.scale = tuple(shape), int(rank), float(scale)
        fan_in = c_in * kh * kw
        bound = 1.0 / math.sqrt(fan_in)  # kaiming_uniform_(a=sqrt(5))
        self.A = nn.Parameter((torch.rand(rank, fan_in, generator=generator) * 2 - 1) * bound)
        self.B = nn.Parameter(torch.zeros(c_out, rank))

    def forward(self) -> torch.Tensor:
        return self.scale * (self.B @ self.A).reshape(self.shape)

    def n_trainable(self) -> int:
        return conv_lora_count(self.shape, self.rank)


class AdaptedConv2d(nn.Module):
    """conv(x, W0 + dW) + b0 over a frozen nn.Conv2d, dW from a TuckerDelta/LoRAConvDelta."""

    def __init__(self, base: nn.Conv2d, delta: nn.Module) -> None:
        super().__init__()
        self.base = base
        for p in base.parameters():
            p.requires_grad_(False)
        self.delta = delta

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = self.base
        return F.conv2d(x, b.weight + self.delta(), b.bias, b.stride, b.padding,
                        b.dilation, b.groups)


# --------------------------------------------------------------------------- ground truths


def _orthonormal(rng: np.random.Generator, n: int, r: int) -> np.ndarray:
    q, _ = np.linalg.qr(rng.standard_normal((n, r)))
    return q[:, :r]


def tucker_truth(rng: np.random.Generator, shape: Shape4, ranks: Shape4) -> np.ndarray:
    """A Tucker tensor: N(0, 1) core of `ranks` with orthonormal factors, unit norm."""
    core = rng.standard_normal(ranks)
    Us = [_orthonormal(rng, n, r) for n, r in zip(shape, ranks)]
    T = np.einsum("abcd,oa,ib,hc,wd->oihw", core, *Us)
    return T / np.linalg.norm(T)


def matrix_truth(rng: np.random.Generator, shape: Shape4, rank: int) -> np.ndarray:
    """A rank-`rank` matrix on the C_out x (C_in k_h k_w) reshape (LoRA's family), unit
    norm; its spatial part is unstructured."""
    c_out = shape[0]
    m = int(np.prod(shape[1:]))
    M = rng.standard_normal((c_out, rank)) @ rng.standard_normal((rank, m))
    return (M / np.linalg.norm(M)).reshape(shape)


def unfold(T: np.ndarray, mode: int) -> np.ndarray:
    """Mode-`mode` unfolding (n_mode x rest)."""
    return np.moveaxis(T, mode, 0).reshape(T.shape[mode], -1)


def multilinear_ranks(T: np.ndarray, tol: float = 1e-8) -> tuple[int, ...]:
    """Numerical rank of each mode unfolding (relative tolerance on singular values)."""
    out = []
    for k in range(T.ndim):
        s = np.linalg.svd(unfold(T, k), compute_uv=False)
        out.append(int((s > tol * s[0]).sum()))
    return tuple(out)


__all__ = ["AdaptedConv2d", "LoRAConvDelta", "TuckerDelta", "conv_lora_count",
           "matched_lora_rank", "matrix_truth", "multilinear_ranks", "tucker_count",
           "tucker_product", "tucker_truth", "unfold"]
