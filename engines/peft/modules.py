"""PEFT building blocks over a frozen base, after He et al. 2022 ("Towards a Unified View of
Parameter-Efficient Transfer Learning", arXiv 2110.04366), whose unified form is

    h <- h + s * Δh,    Δh = f(x W_down) W_up

with a different input x, placement and scale s per method:

- LoRA (Hu et al. 2021): W x + (alpha / r) B A x on a frozen Linear W; B starts at zero.
- Adapter (Houlsby et al. 2019): the bottleneck Δh = Up(ReLU(Down(h))) (Up starts at zero),
  placed *sequentially* after a sublayer, h = f(x); h + Δh(h), or *in parallel* with it,
  f(x) + s Δh(x) (He et al.'s parallel adapter, s = 4 in their best FFN variant).
- Prefix tuning (Li & Liang 2021): l trainable key and value vectors P_k, P_v (per layer,
  split over heads) prepended to the keys and values of a frozen attention.

He et al.'s identity (§3.1): attention over [P_k; K] with values [P_v; V] equals

    (1 - λ(x)) Attn(x q, K, V) + λ(x) softmax(q P_k^T) P_v,
    λ(x) = Σ_i exp(q P_k,i) / (Σ_i exp(q P_k,i) + Σ_j exp(q k_j)),

a parallel adapter whose output is gated by λ. `prefix_attention` computes the left side,
`gated_prefix_attention` the right (with `gated=False`, the ungated sum Attn + softmax(q
P_k^T) P_v, which is not the same function). λ is computed as a sigmoid of the difference
of the two log-sum-exps, which never overflows.

Every module's `n_trainable()` is its own hand formula (tested against the sum over its
trainable parameters); the base weights are frozen by the wrapper.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


def freeze_(module: nn.Module) -> nn.Module:
    """Turn off gradients for every parameter of `module` (in place)."""
    for p in module.parameters():
        p.requires_grad_(False)
    return module


def count_trainable(module: nn.Module) -> int:
    """sum(p.numel()) over the parameters that require gradients."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


# --------------------------------------------------------------------------- LoRA


def lora_count(d_in: int, d_out: int, rank: int) -> int:
    """A (rank x d_in) and B (d_out x rank)."""
    return rank * (d_in + d_out)


class LoRALinear(nn.Module):
    """y = W x + b + (alpha / r) B A x over a frozen nn.Linear (W, b).

    A ~ U(-1/sqrt(d_in), 1/sqrt(d_in)) (as nn.Linear's default init), B = 0, so the wrapped
    layer starts as the base layer exactly; alpha defaults to r (scaling 1)."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float | None = None, *,
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.base = freeze_(base)
        d_in, d_out = base.in_features, base.out_features
        bound = 1.0 / math.sqrt(d_in)
        A = (torch.rand(rank, d_in, generator=generator) * 2 - 1) * bound
        self.A = nn.Parameter(A.to(base.weight.device, base.weight.dtype))
        self.B = nn.Parameter(torch.zeros(d_out, rank, device=base.weight.device,
                                          dtype=base.weight.dtype))
        self.scaling = (rank if alpha is None else alpha) / rank

    @property
    def in_features(self) -> int:
        return self.base.in_features

    @property
    def out_features(self) -> int:
        return self.base.out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + self.scaling * ((x @ self.A.T) @ self.B.T)

    def n_trainable(self) -> int:
        return lora_count(self.base.in_features, self.base.out_features, self.A.shape[0])


# --------------------------------------------------------------------------- adapters


def bottleneck_count(d: int, r: int) -> int:
    """Down (r x d + r) and Up (d x r + d)."""
    return 2 * d * r + r + d


class Bottleneck(nn.Module):
    """Δh = Up(ReLU(Down(x))); Up's weight and bias start at zero, so Δh = 0 at init."""

    def __init__(self, d: int, r: int, *, generator: torch.Generator | None = None,
                 device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        self.down = nn.Linear(d, r, device=device, dtype=dtype)
        self.up = nn.Linear(r, d, device=device, dtype=dtype)
        with torch.no_grad():
            bound = 1.0 / math.sqrt(d)
            w = (torch.rand(r, d, generator=generator) * 2 - 1) * bound
            self.down.weight.copy_(w)
            self.down.bias.zero_()
            self.up.weight.zero_()
            self.up.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.up(F.relu(self.down(x)))

    def n_trainable(self) -> int:
        return bottleneck_count(self.down.in_features, self.down.out_features)


def _device_dtype(module: nn.Module) -> tuple[torch.device, torch.dtype]:
    p = next(module.parameters())
    return p.device, p.dtype


class SequentialAdapter(nn.Module):
    """h = f(x); h + Δh(h)  (Houlsby placement: the adapter reads the sublayer's output)."""

    def __init__(self, sublayer: nn.Module, d: int, r: int, *,
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.sublayer = freeze_(sublayer)
        device, dtype = _device_dtype(sublayer)
        self.adapter = Bottleneck(d, r, generator=generator, device=device, dtype=dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.sublayer(x)
        return h + self.adapter(h)

    def n_trainable(self) -> int:
        return self.adapter.n_trainable()


class ParallelAdapter(nn.Module):
    """f(x) + s Δh(x)  (He et al.'s parallel adapter: it reads the sublayer's input)."""

    def __init__(self, sublayer: nn.Module, d: int, r: int, scale: float = 1.0, *,
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.sublayer = freeze_(sublayer)
        device, dtype = _device_dtype(sublayer)
        self.adapter = Bottleneck(d, r, generator=generator, device=device, dtype=dtype)
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.sublayer(x) + self.scale * self.adapter(x)

    def n_trainable(self) -> int:
        return self.adapter.n_trainable()


# --------------------------------------------------------------------------- prefix


def prefix_count(d: int, length: int) -> int:
    """P_k and P_v, each length x d (all heads together)."""
    return 2 * length * d


class Prefix(nn.Module):
    """l key and l value vectors of width d (split over the heads by the attention).
    Init N(0, std); there is no zero init that leaves the attention unchanged (a zero key
    still takes softmax weight), so prefix tuning always perturbs the base at start."""

    def __init__(self, d: int, length: int, std: float = 0.5, *,
                 generator: torch.Generator | None = None,
                 device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        self.key = nn.Parameter((torch.randn(length, d, generator=generator) * std)
                                .to(device, dtype))
        self.value = nn.Parameter((torch.randn(length, d, generator=generator) * std)
                                  .to(device, dtype))

    def n_trainable(self) -> int:
        return prefix_count(self.key.shape[1], self.key.shape[0])


def attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """softmax(q k^T) v over the last two dims (q already carries the 1/sqrt(d_head))."""
    return torch.softmax(q @ k.transpose(-2, -1), dim=-1) @ v


def prefix_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                     pk: torch.Tensor, pv: torch.Tensor) -> torch.Tensor:
    """Attention over the keys [P_k; K] and values [P_v; V] (prefix tuning, directly).
    q, k, v: (..., n, dh); pk, pv: (..., l, dh), broadcast over the leading dims. The
    softmax is written out (`_softmax`) so that gradients are the same at any thread
    count."""
    lead = k.shape[:-2]
    pk = pk.expand(*lead, *pk.shape[-2:])
    pv = pv.expand(*lead, *pv.shape[-2:])
    keys, values = torch.cat([pk, k], -2), torch.cat([pv, v], -2)
    return _softmax(q @ keys.transpose(-2, -1)) @ values


def _softmax(s: torch.Tensor) -> torch.Tensor:
    """softmax over the last dim from exp and sum: ATen's fused softmax backward gives
    thread-count-dependent rounding when that dim is not a multiple of the vector width
    (16 tokens + 5 prefix vectors = 21)."""
    e = (s - s.amax(-1, keepdim=True).detach()).exp()
    return e / e.sum(-1, keepdim=True)


def prefix_gate(q: torch.Tensor, k: torch.Tensor, pk: torch.Tensor) -> torch.Tensor:
    """λ(x) of He et al. §3.1, shape (..., n, 1): the softmax mass on the prefix keys,
    sigmoid(logsumexp(q P_k^T) - logsumexp(q K^T))."""
    a = torch.logsumexp(q @ pk.transpose(-2, -1), dim=-1, keepdim=True)
    b = torch.logsumexp(q @ k.transpose(-2, -1), dim=-1, keepdim=True)
    return torch.sigmoid(a - b)


def gated_prefix_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                           pk: torch.Tensor, pv: torch.Tensor, gated: bool = True
                           ) -> torch.Tensor:
    """He et al. §3.1: (1 - λ) Attn(q, K, V) + λ softmax(q P_k^T) P_v, a parallel
    adapter on attention gated by λ. With gated=False: Attn + softmax(q P_k^T) P_v (the
    ungated sum, the broken variant)."""
    base = attention(q, k, v)
    delta = attention(q, pk, pv)
    if not gated:
        return base + delta
    lam = prefix_gate(q, k, pk)
    return (1 - lam) * base + lam * delta


__all__ = [
    "Bottleneck", "LoRALinear", "ParallelAdapter", "Prefix", "SequentialAdapter",
    "attention", "bottleneck_count", "count_trainable", "freeze_", "gated_prefix_attention",
    "lora_count", "prefix_attention", "prefix_count", "prefix_gate",
]
