"""A tiny decoder-only (GPT-style, pre-LN) causal transformer with a KV cache, and the
matmul FLOP / byte count of one forward call.

    x = E[idx] + P[pos]
    for each layer:  x = x + Attn(LN(x));  x = x + MLP(LN(x))      (MLP: d -> 4d -> d, GELU)
    logits = W_head . LN(x)

`forward(idx, cache)` runs the new tokens idx (B, T) against the keys/values already in
`cache` (one (k, v) pair per layer, each (B, heads, n_past, d_head)) and returns the logits
of the new tokens and the grown cache (concatenation). With no cache it is an ordinary
causal forward over the whole sequence. Decoding with the cache therefore gives the same
logits as re-running the full prefix (tested to 1e-5); what changes is the work: a cached
decode step processes one token, a cache-less one the whole context again.

Attention is written out (q k^T, masked softmax, . v) rather than through SDPA so that
torch's own FLOP counter sees each matmul (used as the cross-check of `forward_flops`).
Init (explicit, from a torch.Generator): weights N(0, 0.02), residual projections
N(0, 0.02 / sqrt(2 L)) as in GPT-2, biases 0, LayerNorm 1/0.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

Cache = list[tuple[torch.Tensor, torch.Tensor]]


@dataclass(frozen=True)
class TransformerConfig:
    vocab: int = 256
    layers: int = 2
    d_model: int = 128
    heads: int = 2
    max_len: int = 512

    @property
    def d_head(self) -> int:
        return self.d_model // self.heads


class Block(nn.Module):
    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        d = cfg.d_model
        self.heads = cfg.heads
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.fc = nn.Linear(d, 4 * d)
        self.fc_out = nn.Linear(4 * d, d)

    def forward(self, x: torch.Tensor, past: tuple[torch.Tensor, torch.Tensor] | None
                ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        B, T, d = x.shape
        h = self.heads
        q, k, v = self.qkv(self.ln1(x)).split(d, dim=-1)
        q, k, v = (t.view(B, T, h, d // h).transpose(1, 2) for t in (q, k, v))
        if past is not None:
            k = torch.cat([past[0], k], dim=2)
            v = torch.cat([past[1], v], dim=2)
        S = k.shape[2]  # keys: n_past + T; query i sits at position n_past + i
        att = (q @ k.transpose(-2, -1)) / math.sqrt(d // h)
        if T > 1:
            qpos = torch.arange(S - T, S, device=x.device)[:, None]
            kpos = torch.arange(S, device=x.device)[None, :]
            att = att.masked_fill(kpos > qpos, float("-inf"))
        y = (att.softmax(-1) @ v).transpose(1, 2).reshape(B, T, d)
        x = x + self.proj(y)
        x = x + self.fc_out(F.gelu(self.fc(self.ln2(x))))
        return x, (k, v)


class TinyTransformer(nn.Module):
    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.tok = nn.Embedding(cfg.vocab, cfg.d_model)
        self.pos = nn.Embedding(cfg.max_len, cfg.d_model)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.layers))
        self.ln_f = nn.LayerNorm(cfg.d_model)
        self.head = nn.Linear(cfg.d_model, cfg.vocab, bias=False)

    def forward(self, idx: torch.Tensor, cache: Cache | None = None
                ) -> tuple[torch.Tensor, Cache]:
        n_past = 0 if not cache else cache[0][0].shape[2]
        T = idx.shape[1]
        pos = torch.arange(n_past, n_past + T, device=idx.device)
        x = self.tok(idx) + self.pos(pos)
        new: Cache = []
        for i, block in enumerate(self.blocks):
            x, kv = block(x, cache[i] if cache else None)
            new.append(kv)
        return self.head(self.ln_f(x)), new

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


@torch.no_grad()
def init_(model: TinyTransformer, generator: torch.Generator) -> TinyTransformer:
    resid = 0.02 / math.sqrt(2 * model.cfg.layers)
    for name, p in model.named_parameters():
        if name.endswith("bias"):
            p.zero_()
        elif ".ln" in name or name.startswith("ln_f"):
            p.fill_(1.0)
        else:
            std = resid if name.endswith(("proj.weight", "fc_out.weight")) else 0.02
            p.normal_(0.0, std, generator=generator)
    return model


@torch.no_grad()
def generate(model: TinyTransformer, prompt: torch.Tensor, n_out: int, *,
             kv_cache: bool = True,
             on_forward: Callable[[int, int], None] | None = None
             ) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Greedy decoding of n_out tokens after prompt (B, p): one prefill call, then n_out - 1
    decode calls. Returns the generated ids (B, n_out) and the last-position logits of each
    call. on_forward(n_new, n_past) is told the shape of every forward call (the FLOP
    clock's input): with the cache a decode call is (1, context so far), without it
    (context so far + 1, 0) — the whole sequence is recomputed."""
    seq = prompt
    cache: Cache | None = None
    out, logits_seen = [], []
    for step in range(n_out):
        if step == 0 or not kv_cache:
            new, n_past = seq, 0
            cache = None
        else:
            new, n_past = seq[:, -1:], seq.shape[1] - 1
        if on_forward is not None:
            on_forward(new.shape[1], n_past)
        logits, cache = model(new, cache)
        last = logits[:, -1]
        logits_seen.append(last)
        nxt = last.argmax(-1, keepdim=True)
        out.append(nxt)
        seq = torch.cat([seq, nxt], dim=1)
    return torch.cat(out, dim=1), logits_seen


def forward_flops(cfg: TransformerConfig, n_new: int, n_past: int, batch: int = 1) -> int:
    """Matmul FLOPs (2 per multiply-add) of one forward call on n_new tokens with n_past
    cached: per layer QKV 3d^2, out-proj d^2, MLP 8d^2 per token, scores and weighted sum
    d (n_past + n_new) each per token; the LM head d V per token. Embeddings, LayerNorm,
    softmax and GELU are not matmuls and are not counted (as in torch's FlopCounterMode)."""
    d, S = cfg.d_model, n_past + n_new
    per_token_layer = 12 * d * d + 2 * d * S
    return 2 * batch * n_new * (cfg.layers * per_token_layer + d * cfg.vocab)


def forward_bytes(cfg: TransformerConfig, n_params: int, n_new: int, n_past: int,
                  batch: int = 1, bytes_per_value: int = 4) -> int:
    """Bytes one forward call must move at least once: every weight, the cached keys and
    values it reads and the new ones it writes (the memory-bound side of the roofline)."""
    kv = 2 * cfg.layers * cfg.d_model * (n_past + n_new) * batch
    return bytes_per_value * (n_params + kv)


@dataclass(frozen=True)
class FlopClock:
    """A deterministic roofline clock: each forward call costs a fixed launch overhead per
    layer plus max(FLOPs / peak FLOP rate, bytes / memory bandwidth). A decode call moves
    every weight for one token (memory bound); a long prefill is compute bound — the two
    regimes whose difference the idealized-runtime model captures. The rate/bandwidth
    ratio (default 100 FLOP per byte) sits in the range of real accelerators."""

    flop_rate: float = 5e10        # FLOP/s
    bandwidth: float = 5e8         # bytes/s
    overhead_per_layer: float = 20e-6  # s per layer per forward call

    def forward_seconds(self, cfg: TransformerConfig, n_params: int, n_new: int,
                        n_past: int, batch: int = 1) -> float:
        flops = forward_flops(cfg, n_new, n_past, batch)
        moved = forward_bytes(cfg, n_params, n_new, n_past, batch)
        return (cfg.layers * self.overhead_per_layer
                + max(flops / self.flop_rate, moved / self.bandwidth))
