"""OpenELM layer-wise scaling (Mehta et al. 2024, arXiv 2404.14619): the per-layer
configuration arithmetic, the published configs it must reproduce, an exact parameter count,
and a stacked toy transformer whose layers may each have their own head count and FFN width.

Configuration arithmetic (corenet `openelm.py` / HF `configuration_openelm.py`, read only):
    m_qkv,i = round(linspace(a_min, a_max, L)_i, 2)      (alpha: 0.5 -> 1.0)
    m_ffn,i = round(linspace(b_min, b_max, L)_i, 2)      (beta:  0.5 -> 4.0)
    query_dim_i = make_divisible(d * m_qkv,i, divisor = head_dim * gqa_groups)
    q_heads_i = query_dim_i / head_dim,   kv_heads_i = q_heads_i / gqa_groups
    ffn_i = make_divisible(d * m_ffn,i, divisor = 256)          (a GLU: d -> 2 f -> d)
    make_divisible(v, D) = max(D, floor(v / D + 1/2) D), plus D if that is below 0.9 v.
Variants (the broken arithmetic a control runs): "head_dim_divisor" (divisor head_dim alone,
forgetting the GQA groups), "floor" (floor(v / D) D instead of make_divisible), "unrounded"
(multipliers not rounded to 2 decimals).

Parameter count of an OpenELM model: tied embeddings V d, final RMSNorm d; per layer the
fused QKV projection d (q + 2 kv) hd, the output projection q hd d, q/k RMSNorms 2 hd, two
RMSNorms 2 d, the GLU FFN 3 d f (no biases anywhere).

The toy: `StackedLayerwiseLM` holds K decoder-only causal transformers (pre-RMSNorm,
learned positions, tied embeddings, GLU-SiLU FFN, MHA) whose layer i has heads[k][i] heads
of size head_dim and an FFN of width ffn[k][i]. Each layer is stored at the widest model's
size; a model's unused heads and FFN units are masked to zero on the forward pass, so they
get no gradient and the K models train as K separate ones would (element-wise AdamW).
Init (explicit torch.Generator): weights N(0, 0.02), the residual projections
N(0, 0.02 / sqrt(2 L)) as GPT-2, RMSNorm gains 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

# -------------------------------------------------------------------- configuration arithmetic

VARIANTS = ("openelm", "head_dim_divisor", "floor", "unrounded")


def make_divisible(v: float, divisor: int, min_value: int | None = None) -> int:
    """corenet's make_divisible: nearest multiple of divisor (halves up), at least
    min_value (= divisor), bumped up one divisor when rounding lost more than 10 %."""
    min_value = divisor if min_value is None else min_value
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def linspace_multipliers(lo: float, hi: float, n: int, *, decimals: int | None = 2
                         ) -> list[float]:
    """linspace(lo, hi, n) rounded to `decimals` (numpy's round-half-even, as corenet)."""
    import numpy as np

    m = np.linspace(lo, hi, n)
    if decimals is not None:
        m = np.round(m, decimals)
    return [float(x) for x in m]


@dataclass(frozen=True)
class LayerwiseConfig:
    q_heads: tuple[int, ...]
    kv_heads: tuple[int, ...]
    ffn: tuple[int, ...]
    qkv_multipliers: tuple[float, ...]
    ffn_multipliers: tuple[float, ...]


def layerwise_config(layers: int, d_model: int, head_dim: int, *, gqa_groups: int = 4,
                     alpha: tuple[float, float] = (0.5, 1.0),
                     beta: tuple[float, float] = (0.5, 4.0), ffn_divisor: int = 256,
                     variant: str = "openelm") -> LayerwiseConfig:
    """Per-layer query/KV heads and FFN widths by OpenELM's layer-wise scaling rule."""
    if variant not in VARIANTS:
        raise ValueError(f"variant: expected one of {VARIANTS}, got {variant!r}")
    decimals = None if variant == "unrounded" else 2
    m_qkv = linspace_multipliers(*alpha, layers, decimals=decimals)
    m_ffn = linspace_multipliers(*beta, layers, decimals=decimals)

    def rnd(v: float, divisor: int) -> int:
        if variant == "floor":
            return max(divisor, int(v // divisor) * divisor)
        return make_divisible(v, divisor)

    head_div = head_dim if variant == "head_dim_divisor" else head_dim * gqa_groups
    q_heads, kv_heads = [], []
    for m in m_qkv:
        q = rnd(d_model * m, head_div) // head_dim
        q_heads.append(q)
        kv_heads.append(max(1, q // gqa_groups))
    ffn = [rnd(d_model * m, ffn_divisor) for m in m_ffn]
    return LayerwiseConfig(tuple(q_heads), tuple(kv_heads), tuple(ffn), tuple(m_qkv),
                           tuple(m_ffn))


def openelm_params(cfg: LayerwiseConfig, d_model: int, head_dim: int, vocab: int = 32000
                   ) -> int:
    """Exact parameter count (tied embeddings, no biases, q/k norms, GLU FFN)."""
    total = vocab * d_model + d_model
    for q, kv, f in zip(cfg.q_heads, cfg.kv_heads, cfg.ffn):
        total += d_model * (q + 2 * kv) * head_dim + q * head_dim * d_model
        total += 2 * head_dim + 2 * d_model + 3 * d_model * f
    return total


@dataclass(frozen=True)
class OpenELMSize:
    name: str
    nominal: float  # parameters the name claims
    layers: int
    d_model: int
    head_dim: int
    q_heads: tuple[int, ...]
    kv_heads: tuple[int, ...]
    ffn: tuple[int, ...] | None  # None: no published list found (270M)


# The released config.json lists (as copied by a third-party converter; the 1.1B head lists
# cross-checked against an MLX-quantised OpenELM-1_1B config.json). Data, not arithmetic.
PUBLISHED = (
    OpenELMSize("270M", 270e6, 16, 1280, 64,
                (12,) * 5 + (16,) * 7 + (20,) * 4, (3,) * 5 + (4,) * 7 + (5,) * 4, None),
    OpenELMSize("450M", 450e6, 20, 1536, 64,
                (12,) * 3 + (16,) * 7 + (20,) * 6 + (24,) * 4,
                (3,) * 3 + (4,) * 7 + (5,) * 6 + (6,) * 4,
                (768, 1024, 1280, 1536, 1792, 2304, 2560, 2816, 3072, 3328, 3584, 3840,
                 4096, 4352, 4608, 5120, 5376, 5632, 5888, 6144)),
    OpenELMSize("1.1B", 1.1e9, 28, 2048, 64,
                (16,) * 3 + (20,) * 7 + (24,) * 8 + (28,) * 6 + (32,) * 4,
                (4,) * 3 + (5,) * 7 + (6,) * 8 + (7,) * 6 + (8,) * 4,
                (1024, 1280, 1536, 1792, 2048, 2304, 2560, 2816, 3072, 3328, 3584, 3840,
                 4096, 4608, 4608, 5120, 5376, 5632, 5888, 6144, 6400, 6656, 6912, 7168,
                 7424, 7680, 7936, 8192)),
    OpenELMSize("3B", 3e9, 36, 3072, 128,
                (12,) * 4 + (16,) * 14 + (20,) * 12 + (24,) * 6,
                (3,) * 4 + (4,) * 14 + (5,) * 12 + (6,) * 6,
                (1536, 1792, 2048, 2560, 2816, 3072, 3328, 3584, 4096, 4352, 4608, 4864,
                 5120, 5632, 5888, 6144, 6400, 6656, 7168, 7424, 7680, 7936, 8192, 8704,
                 8960, 9216, 9472, 9728, 10240, 10496, 10752, 11008, 11264, 11776, 12032,
                 12288)),
)


# -------------------------------------------------------------------------------- the toy

def toy_allocation(layers: int, d_model: int, head_dim: int, alpha: tuple[float, float],
                   beta: tuple[float, float], divisor: int = 16
                   ) -> tuple[list[int], list[int]]:
    """Per-layer (heads, ffn) of a toy model by the same rule at toy scale (MHA, no GQA;
    one divisor for heads and FFN)."""
    m_qkv = linspace_multipliers(*alpha, layers)
    m_ffn = linspace_multipliers(*beta, layers)
    heads = [make_divisible(d_model * m, divisor) // head_dim for m in m_qkv]
    ffn = [make_divisible(d_model * m, divisor) for m in m_ffn]
    return heads, ffn


def block_params(heads: Sequence[int], ffn: Sequence[int], d_model: int, head_dim: int
                 ) -> int:
    """Transformer-block parameters of one toy model: QKV 3 d h hd, out h hd d, GLU 3 d f,
    two RMSNorm gains 2 d per layer."""
    return sum(4 * d_model * h * head_dim + 3 * d_model * f + 2 * d_model
               for h, f in zip(heads, ffn))


def matched_uniform(heads: Sequence[int], ffn: Sequence[int], d_model: int, head_dim: int,
                    divisor: int = 16) -> tuple[list[int], list[int]]:
    """A uniform allocation with as many block parameters as (heads, ffn): the layer-mean
    head count rounded, then the FFN width (a multiple of divisor) that matches best."""
    L = len(heads)
    h = max(1, round(sum(heads) / L))
    target = block_params(heads, ffn, d_model, head_dim)
    rest = target / L - 4 * d_model * h * head_dim - 2 * d_model
    f = max(divisor, round(rest / (3 * d_model) / divisor) * divisor)
    return [h] * L, [f] * L


def rms_norm(x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * g


class StackedLayerwiseLM(nn.Module):
    """K causal transformers, layer i of model k with heads[k][i] heads and FFN ffn[k][i].

    forward(idx (K, B, T)) -> logits (K, B, T, V)."""

    def __init__(self, heads: Sequence[Sequence[int]], ffn: Sequence[Sequence[int]], *,
                 vocab: int, d_model: int, head_dim: int, max_len: int,
                 generator: torch.Generator) -> None:
        super().__init__()
        K, L = len(heads), len(heads[0])
        self.K, self.L, self.d, self.hd = K, L, d_model, head_dim
        self.hmax = [max(h[i] for h in heads) for i in range(L)]
        self.fmax = [max(f[i] for f in ffn) for i in range(L)]
        d, std = d_model, 0.02
        resid = std / math.sqrt(2 * L)

        def normal(*shape: int, s: float = std) -> nn.Parameter:
            return nn.Parameter(torch.randn(*shape, generator=generator) * s)

        self.tok = normal(K, vocab, d)
        self.pos = normal(K, max_len, d)
        self.wqkv = nn.ParameterList(normal(K, d, 3 * h * head_dim) for h in self.hmax)
        self.wo = nn.ParameterList(normal(K, h * head_dim, d, s=resid) for h in self.hmax)
        self.w1 = nn.ParameterList(normal(K, d, 2 * f) for f in self.fmax)
        self.w2 = nn.ParameterList(normal(K, f, d, s=resid) for f in self.fmax)
        self.g1 = nn.Parameter(torch.ones(K, L, d))
        self.g2 = nn.Parameter(torch.ones(K, L, d))
        self.gf = nn.Parameter(torch.ones(K, d))
        # masks: 1 for a model's own heads / FFN units, 0 for the padding up to the widest
        for i in range(L):
            hm = torch.tensor([[1.0 if j < h[i] else 0.0 for j in range(self.hmax[i])]
                               for h in heads])
            fm = torch.tensor([[1.0 if j < f[i] else 0.0 for j in range(self.fmax[i])]
                               for f in ffn])
            self.register_buffer(f"head_mask{i}", hm)
            self.register_buffer(f"ffn_mask{i}", fm)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        K, B, T = idx.shape
        d, hd = self.d, self.hd
        x = torch.gather(self.tok, 1, idx.reshape(K, B * T, 1).expand(K, B * T, d))
        x = x.reshape(K, B, T, d) + self.pos[:, None, :T]
        x = x.reshape(K, B * T, d)
        for i in range(self.L):
            H = self.hmax[i]
            h = rms_norm(x, self.g1[:, i, None])
            q, k, v = torch.bmm(h, self.wqkv[i]).split(H * hd, dim=-1)
            q, k, v = (t.reshape(K * B, T, H, hd).transpose(1, 2) for t in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            y = y.reshape(K, B, H, T, hd) * getattr(self, f"head_mask{i}")[:, None, :, None,
                                                                           None]
            y = y.permute(0, 1, 3, 2, 4).reshape(K, B * T, H * hd)
            x = x + torch.bmm(y, self.wo[i])
            h = rms_norm(x, self.g2[:, i, None])
            a, b = torch.bmm(h, self.w1[i]).chunk(2, dim=-1)
            u = F.silu(a) * b * getattr(self, f"ffn_mask{i}")[:, None]
            x = x + torch.bmm(u, self.w2[i])
        x = rms_norm(x, self.gf[:, None])
        logits = torch.bmm(x, self.tok.transpose(1, 2))
        return logits.reshape(K, B, T, -1)


# ------------------------------------------------------------------- the recall task (MQAR)

def recall_batch(n: int, npairs: int, vocab: int, generator: torch.Generator
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """Multi-query associative recall: npairs (key, value) pairs, then the same keys in a
    shuffled order, each followed by its value. Keys distinct in 0..V/2-1, values uniform in
    V/2..V-1. Returns tokens (n, 4 npairs) and the target mask (n, 4 npairs - 1) of the
    positions whose next token is a recalled value (loss is read only there)."""
    half = vocab // 2
    keys = torch.argsort(torch.rand(n, half, generator=generator), dim=1)[:, :npairs]
    vals = torch.randint(half, vocab, (n, npairs), generator=generator)
    order = torch.argsort(torch.rand(n, npairs, generator=generator), dim=1)
    qk, qv = torch.gather(keys, 1, order), torch.gather(vals, 1, order)
    ctx = torch.stack([keys, vals], dim=2).reshape(n, 2 * npairs)
    qry = torch.stack([qk, qv], dim=2).reshape(n, 2 * npairs)
    seq = torch.cat([ctx, qry], dim=1)
    mask = torch.zeros(n, 4 * npairs - 1, dtype=torch.bool)
    mask[:, 2 * npairs::2] = True  # after a queried key: predict its value
    return seq, mask


def recall_loss(logits: torch.Tensor, seq: torch.Tensor, mask: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-model CE and accuracy on the recall positions. logits (K, B, T, V) of seq[:, :-1]
    inputs, seq (K, B, T+1), mask (B or K x B, T)."""
    tgt = seq[..., 1:]
    lp = logits.log_softmax(-1)
    nll = -torch.gather(lp, -1, tgt.unsqueeze(-1)).squeeze(-1)
    m = mask.expand_as(nll).to(nll.dtype)
    ce = (nll * m).sum((1, 2)) / m.sum((1, 2))
    hit = (logits.argmax(-1) == tgt).to(nll.dtype)
    acc = (hit * m).sum((1, 2)) / m.sum((1, 2))
    return ce, acc


def lr_at(t: int, steps: int, lr: float, warmup: float = 0.05, floor: float = 0.1) -> float:
    """Linear warm-up over warmup * steps, then cosine decay to floor * lr."""
    w = max(1, int(warmup * steps))
    if t < w:
        return lr * (t + 1) / w
    frac = (t - w) / max(1, steps - w)
    return lr * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * frac)))
