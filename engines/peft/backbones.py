"""A tiny pre-LN vision transformer over digit patches, its pre-training, and its weights as
numpy arrays (what `RunContext.cached` keeps between runs).

    tokens = Embed(patches) + pos              (8x8 digit -> (8/p)^2 patches of p*p pixels)
    for each block:  x = x + Attn(LN(x));  x = x + FFN(LN(x))     (FFN: d -> f -> d, GELU)
    features = mean over tokens of LN(x);  logits = head(features)

The attention keeps separate q, k, v, o Linears (LoRA wraps any of them), an optional
`prefix` (engines/peft/modules.Prefix) prepended to its keys and values, and `forms`
computes the per-head mix directly, in the gated-parallel-adapter form or ungated, for the
identity check on a trained model. `ffn` is one module so an adapter can wrap it.

`pretrain(recipe)` trains the backbone on the source classes of a pre-training corpus (a
seeded share of scikit-learn's digits, `corpus_split`; the rest is held out for downstream
tasks) with a seeded torch generator (recipe["seed"]) and returns its state as float32 numpy
arrays plus "meta.source_acc" (accuracy on held-out source images); `load(cfg, arrays)`
rebuilds it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from paramlab.engines.peft.modules import attention, gated_prefix_attention, prefix_attention

SIDE = 8


@dataclass(frozen=True)
class BackboneConfig:
    d: int = 32
    layers: int = 2
    heads: int = 4
    ffn: int = 128
    patch: int = 2
    n_classes: int = 5

    @property
    def tokens(self) -> int:
        return (SIDE // self.patch) ** 2

    @property
    def d_head(self) -> int:
        return self.d // self.heads


def backbone_count(cfg: BackboneConfig, with_head: bool = False) -> int:
    """Parameters of the backbone (embedding, positions, blocks, final LN), by hand."""
    d, f = cfg.d, cfg.ffn
    block = 2 * d + 4 * (d * d + d) + 2 * d + (d * f + f) + (f * d + d)
    n = cfg.patch ** 2 * d + d + cfg.tokens * d + cfg.layers * block + 2 * d
    return n + (d * cfg.n_classes + cfg.n_classes if with_head else 0)


def patchify(X: torch.Tensor, patch: int) -> torch.Tensor:
    """(N, 64) images -> (N, (8/p)^2, p*p) patches, row-major."""
    n, g = X.shape[0], SIDE // patch
    return (X.reshape(n, g, patch, g, patch).permute(0, 1, 3, 2, 4)
            .reshape(n, g * g, patch * patch))


class LayerNorm(nn.LayerNorm):
    """nn.LayerNorm computed as normalise, then scale and shift: ATen's fused CPU backward
    sums the weight's gradient in per-thread buffers, so its rounding depends on the thread
    count (6e-3 apart at 1 vs 2 threads on (128, 65, 32)); this form's gradients are the
    same at any thread count. Same parameters, names and state dict."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, self.normalized_shape, eps=self.eps) * self.weight + self.bias


class Attention(nn.Module):
    def __init__(self, cfg: BackboneConfig) -> None:
        super().__init__()
        d = cfg.d
        self.heads = cfg.heads
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.prefix: nn.Module | None = None  # a modules.Prefix, set by a PEFT method

    def _split(self, t: torch.Tensor) -> torch.Tensor:
        B, n, d = t.shape
        return t.view(B, n, self.heads, d // self.heads).transpose(1, 2)

    def qkv(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Per-head q (scaled by 1/sqrt(d_head)), k, v: each (B, heads, n, d_head)."""
        q, k, v = (self._split(m(x)) for m in (self.q, self.k, self.v))
        return q / math.sqrt(q.shape[-1]), k, v

    def prefix_heads(self) -> tuple[torch.Tensor, torch.Tensor]:
        """P_k, P_v split over heads: each (heads, l, d_head)."""
        assert self.prefix is not None
        length, d = self.prefix.key.shape
        split = lambda t: t.view(length, self.heads, d // self.heads).transpose(0, 1)  # noqa: E731
        return split(self.prefix.key), split(self.prefix.value)

    def forms(self, x: torch.Tensor, form: str = "direct") -> torch.Tensor:
        """The heads' mix before the output projection, (B, heads, n, d_head): 'direct'
        (prefix keys/values prepended), 'gated' (He et al.'s gated parallel adapter) or
        'ungated'; without a prefix all three are plain attention."""
        q, k, v = self.qkv(x)
        if self.prefix is None:
            return attention(q, k, v)
        pk, pv = self.prefix_heads()
        if form == "direct":
            return prefix_attention(q, k, v, pk, pv)
        return gated_prefix_attention(q, k, v, pk, pv, gated=form == "gated")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.forms(x)
        B, h, n, dh = y.shape
        return self.o(y.transpose(1, 2).reshape(B, n, h * dh))


class FFN(nn.Module):
    def __init__(self, cfg: BackboneConfig) -> None:
        super().__init__()
        self.fc = nn.Linear(cfg.d, cfg.ffn)
        self.out = nn.Linear(cfg.ffn, cfg.d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(F.gelu(self.fc(x)))


class Block(nn.Module):
    def __init__(self, cfg: BackboneConfig) -> None:
        super().__init__()
        self.ln1 = LayerNorm(cfg.d)
        self.attn = Attention(cfg)
        self.ln2 = LayerNorm(cfg.d)
        self.ffn: nn.Module = FFN(cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.ffn(self.ln2(x))


class PatchTransformer(nn.Module):
    def __init__(self, cfg: BackboneConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Linear(cfg.patch ** 2, cfg.d)
        self.pos = nn.Parameter(torch.zeros(cfg.tokens, cfg.d))
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.layers))
        self.ln_f = LayerNorm(cfg.d)
        self.head = nn.Linear(cfg.d, cfg.n_classes)

    def features(self, X: torch.Tensor) -> torch.Tensor:
        """(N, 64) images -> (N, d) pooled features."""
        x = self.embed(patchify(X, self.cfg.patch)) + self.pos
        for block in self.blocks:
            x = block(x)
        return self.ln_f(x).mean(1)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(X))


@torch.no_grad()
def init_(model: PatchTransformer, generator: torch.Generator) -> PatchTransformer:
    """Weights N(0, 0.02) (positions too), output projections N(0, 0.02 / sqrt(2 L))
    as in GPT-2, biases 0, LayerNorms 1/0."""
    resid = 0.02 / math.sqrt(2 * model.cfg.layers)
    for name, p in model.named_parameters():
        if name.endswith("bias"):
            p.zero_()
        elif ".ln" in name or name.startswith("ln_f"):
            p.fill_(1.0)
        else:
            std = resid if name.endswith(("attn.o.weight", "ffn.out.weight")) else 0.02
            p.copy_(torch.randn(p.shape, generator=generator) * std)
    return model


def digits_subset(classes: Sequence[int], index: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Digits X (N, 64) in [0, 1] and y relabelled 0..len(classes)-1, for those classes,
    among the images `index` (all when None)."""
    from paramlab.engines.data.digits import load_digits

    X, y = load_digits()
    if index is not None:
        X, y = X[index], y[index]
    keep = np.isin(y, classes)
    relabel = {c: i for i, c in enumerate(classes)}
    return X[keep], np.array([relabel[int(c)] for c in y[keep]], dtype=np.int64)


def corpus_split(recipe: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Indices into the 1,797 digits: (pre-training corpus, held out). A permutation drawn
    from recipe["seed"], cut at recipe["corpus_fraction"]; the held-out images are what a
    downstream task may use without ever having been seen in pre-training."""
    n = 1797
    perm = np.random.default_rng(int(recipe["seed"])).permutation(n)
    cut = int(round(float(recipe["corpus_fraction"]) * n))
    return np.sort(perm[:cut]), np.sort(perm[cut:])


def pretrain(recipe: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Train a backbone on the recipe's source classes of its pre-training corpus; its
    state as numpy arrays.

    recipe: the BackboneConfig fields, "source" (class list), "corpus_fraction", "steps",
    "lr", "batch", "seed". 85 % of the corpus's source images train it (AdamW, weight
    decay 0.01, cosine decay, mini-batches drawn from a torch generator seeded by
    recipe["seed"]), 15 % give "meta.source_acc"."""
    cfg = BackboneConfig(**{k: recipe[k] for k in asdict(BackboneConfig()) if k in recipe})
    g = torch.Generator().manual_seed(int(recipe["seed"]))
    corpus, _ = corpus_split(recipe)
    X, y = digits_subset(recipe["source"], corpus)
    X, y = torch.from_numpy(X), torch.from_numpy(y)
    perm = torch.randperm(len(y), generator=g)
    n_tr = int(0.85 * len(y))
    tr, te = perm[:n_tr], perm[n_tr:]
    model = init_(PatchTransformer(cfg), g)
    steps = int(recipe["steps"])
    opt = torch.optim.AdamW(model.parameters(), lr=float(recipe["lr"]), weight_decay=0.01,
                            foreach=True)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda t: 0.5 * (1 + math.cos(math.pi * min(t, steps) / steps)))
    batch = int(recipe["batch"])
    for _ in range(steps):
        idx = tr[torch.randint(0, n_tr, (batch,), generator=g)]
        loss = F.cross_entropy(model(X[idx]), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    with torch.no_grad():
        acc = (model(X[te]).argmax(1) == y[te]).float().mean().item()
    out = {k: v.detach().numpy().astype(np.float32).copy() for k, v in model.state_dict().items()}
    out["meta.source_acc"] = np.array([acc], dtype=np.float32)
    return out


def load(cfg: BackboneConfig, arrays: Mapping[str, np.ndarray],
         device: str | torch.device = "cpu") -> PatchTransformer:
    """A PatchTransformer holding `arrays` (from `pretrain`; meta.* entries ignored)."""
    model = PatchTransformer(cfg)
    state = {k: torch.from_numpy(np.asarray(v)) for k, v in arrays.items()
             if not k.startswith("meta.")}
    model.load_state_dict(state)
    return model.to(device)


__all__ = ["Attention", "BackboneConfig", "Block", "FFN", "PatchTransformer", "backbone_count",
           "corpus_split", "digits_subset", "init_", "load", "patchify", "pretrain"]
