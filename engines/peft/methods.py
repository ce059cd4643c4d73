"""PEFT methods attached to a pre-trained PatchTransformer, their trainable-parameter counts
by hand, and lock-step training of several methods on the same batches.

Every method freezes the backbone, replaces the head by a fresh trainable one for the
target classes (the same init for every method) and adds its own trainable modules:

    head         nothing else (linear probe; the contrast baseline)
    full         every backbone parameter trainable (full fine-tuning)
    lora         LoRA of rank r on the attention's W_q and W_v (He et al.'s LoRA set-up)
    seq_adapter  a bottleneck-r adapter after each FFN (sequential, Houlsby placement)
    par_adapter  a bottleneck-r adapter parallel to each FFN, scaled by s
    prefix       l prefix key/value vectors in each attention
    mam          Mix-and-Match: prefix (l_mam) on attention + scaled parallel FFN adapter (r_mam)

`expected_trainable` is the hand formula; `n_trainable(model)` the sum over the model's
trainable parameters; tests hold them equal for every method.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from paramlab.engines.peft import modules as M
from paramlab.engines.peft.backbones import (
    BackboneConfig,
    PatchTransformer,
    backbone_count,
    patchify,
)

METHODS = ("head", "full", "lora", "seq_adapter", "par_adapter", "prefix", "mam")


@dataclass(frozen=True)
class PEFTConfig:
    lora_rank: int = 4
    lora_targets: tuple[str, ...] = ("q", "v")
    bottleneck: int = 8
    scale: float = 4.0  # parallel adapter's s
    prefix_len: int = 8
    mam_prefix_len: int = 4
    mam_bottleneck: int = 4
    mam_scale: float = 4.0


def head_count(cfg: BackboneConfig, n_classes: int) -> int:
    return cfg.d * n_classes + n_classes


def expected_trainable(cfg: BackboneConfig, method: str, pc: PEFTConfig,
                       n_classes: int) -> int:
    """Trainable parameters of `method` on a backbone `cfg` with a fresh n_classes head."""
    d, L = cfg.d, cfg.layers
    extra = {
        "head": 0,
        "full": backbone_count(cfg),
        "lora": L * len(pc.lora_targets) * M.lora_count(d, d, pc.lora_rank),
        "seq_adapter": L * M.bottleneck_count(d, pc.bottleneck),
        "par_adapter": L * M.bottleneck_count(d, pc.bottleneck),
        "prefix": L * M.prefix_count(d, pc.prefix_len),
        "mam": L * (M.prefix_count(d, pc.mam_prefix_len)
                    + M.bottleneck_count(d, pc.mam_bottleneck)),
    }[method]
    return extra + head_count(cfg, n_classes)


def n_trainable(model: nn.Module) -> int:
    return M.count_trainable(model)


def _fresh_head(cfg: BackboneConfig, n_classes: int, g: torch.Generator) -> nn.Linear:
    head = nn.Linear(cfg.d, n_classes)
    with torch.no_grad():
        head.weight.copy_(torch.randn(n_classes, cfg.d, generator=g) * 0.02)
        head.bias.zero_()
    return head


def attach(base: PatchTransformer, method: str, pc: PEFTConfig, n_classes: int, *,
           seed: int) -> PatchTransformer:
    """A deep copy of `base` set up for `method` (base is untouched). `seed` draws the new
    head (the same for every method at one seed) and the method's own modules."""
    if method not in METHODS:
        raise ValueError(f"method: expected one of {', '.join(METHODS)}, got {method!r}")
    model = copy.deepcopy(base)
    cfg = model.cfg
    device = next(model.parameters()).device
    M.freeze_(model)
    g = torch.Generator().manual_seed(seed)
    model.head = _fresh_head(cfg, n_classes, g)
    g_method = torch.Generator().manual_seed(seed + 1)
    for block in model.blocks:
        if method == "full":
            for p in block.parameters():
                p.requires_grad_(True)
        elif method == "lora":
            for name in pc.lora_targets:
                setattr(block.attn, name, M.LoRALinear(getattr(block.attn, name),
                                                       pc.lora_rank, generator=g_method))
        elif method == "seq_adapter":
            block.ffn = M.SequentialAdapter(block.ffn, cfg.d, pc.bottleneck,
                                            generator=g_method)
        elif method == "par_adapter":
            block.ffn = M.ParallelAdapter(block.ffn, cfg.d, pc.bottleneck, pc.scale,
                                          generator=g_method)
        elif method in ("prefix", "mam"):
            length = pc.prefix_len if method == "prefix" else pc.mam_prefix_len
            block.attn.prefix = M.Prefix(cfg.d, length, generator=g_method)
            if method == "mam":
                block.ffn = M.ParallelAdapter(block.ffn, cfg.d, pc.mam_bottleneck,
                                              pc.mam_scale, generator=g_method)
    if method == "full":
        for p in model.parameters():
            p.requires_grad_(True)
    return model.to(device)


def accuracy(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    with torch.inference_mode():
        return (model(X).argmax(1) == y).float().mean().item()


def identity_gap(model: PatchTransformer, X: torch.Tensor, form: str = "gated"
                 ) -> tuple[float, float]:
    """Over every block of `model` (which holds prefixes) on the images X: the largest
    |direct prefix attention - `form`| of the heads' mix, and the mean gate λ (the softmax
    mass on the prefix keys). He et al.'s §3.1 identity: the gap is 0 for form="gated"."""
    gap, lams = 0.0, []
    with torch.no_grad():
        x = model.embed(patchify(X, model.cfg.patch)) + model.pos
        for block in model.blocks:
            h = block.ln1(x)
            attn = block.attn
            gap = max(gap, (attn.forms(h, "direct") - attn.forms(h, form)).abs().max().item())
            q, k, _ = attn.qkv(h)
            lams.append(M.prefix_gate(q, k, attn.prefix_heads()[0]).mean().item())
            x = block(x)
    return gap, sum(lams) / len(lams)


def train_lockstep(models: Sequence[nn.Module], lrs: Sequence[float],
                   data: Sequence[tuple[torch.Tensor, torch.Tensor]], steps: int, *,
                   batch: int, generator: torch.Generator,
                   evaluate: Callable[[int], dict[str, float]] | None = None,
                   eval_every: int = 1) -> Iterator[dict[str, object]]:
    """Adam on each model's trainable parameters; model i trains on data[i] = (X, y).
    Models given the same (X, y) objects read the same mini-batch at each step (a paired
    comparison). Yields {"step": t, "loss": [per model], **evaluate(t)} for t = 1..steps
    (evaluate on t % eval_every == 0 and the last step, with the models in eval mode)."""
    opts = [torch.optim.Adam([p for p in m.parameters() if p.requires_grad], lr=lr,
                             foreach=True)
            for m, lr in zip(models, lrs)]
    for t in range(1, steps + 1):
        batches: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        losses = []
        for m, opt, (X, y) in zip(models, opts, data):
            if id(X) not in batches:
                n = X.shape[0]
                if batch >= n:
                    batches[id(X)] = (X, y)
                else:
                    idx = torch.randint(0, n, (batch,), generator=generator).to(X.device)
                    batches[id(X)] = (X[idx], y[idx])
            xb, yb = batches[id(X)]
            m.train()
            loss = F.cross_entropy(m(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        out: dict[str, object] = {"step": t, "loss": losses}
        if evaluate is not None and (t % eval_every == 0 or t == steps):
            for m in models:
                m.eval()
            out |= evaluate(t)
        yield out


__all__ = ["METHODS", "PEFTConfig", "accuracy", "attach", "expected_trainable", "head_count",
           "identity_gap", "n_trainable", "train_lockstep"]
