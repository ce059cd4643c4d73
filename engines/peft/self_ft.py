"""Selective self-to-supervised fine-tuning (S3FT, arXiv 2502.08130) on a toy "LM": a stack
of small MLP classifiers over a 20-token vocabulary, trained side by side as one batched
program (weights carry a leading model axis; Adam is elementwise, so one optimiser over the
stack equals one per model).

Vocabulary: class c has two valid surface forms, token c (style A, the pre-trained model's
own) and token c + 10 (style B, the annotator's gold). `mod 10` of a token is its meaning.

    world(seed, ...)       sklearn digits split 50/25/12.5/12.5 (pretrain / general eval /
                           ft train / ft test); the ft domain is shifted by `shift` pixels
                           (zero fill) plus Gaussian noise `sigma`.
    pretrain(recipe)       R replicas (different inits) trained on style-A targets; returns
                           numpy arrays for RunContext.cached.
    judge / targets        the judge ("own answer mod 10 == label", computed once with the
                           pre-trained model) and the SFT / S3FT / paraphrase target rules.
    forward / kl / acc     evaluation of the whole stack.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

N_CLASSES = 10
VOCAB = 20
NAMES = ("W1", "b1", "W2", "b2", "W3", "b3")


@lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype(np.float32), y


def world(seed: int, shift: int, sigma: float) -> dict[str, np.ndarray]:
    """Digits split by a seeded permutation; the ft halves live in the shifted, noisy domain."""
    X, y = _digits()
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(y))
    n = len(y)
    a, b, c = n // 2, n // 2 + n // 4, n // 2 + n // 4 + n // 8
    parts = {"pre": perm[:a], "gen": perm[a:b], "ft": perm[b:c], "test": perm[c:]}
    out: dict[str, np.ndarray] = {}
    for k, idx in parts.items():
        Xi = X[idx].copy()
        if k in ("ft", "test"):
            Xi = shift_images(Xi, shift)
            Xi = Xi + sigma * rng.standard_normal(Xi.shape).astype(np.float32)
        out["X_" + k], out["y_" + k] = Xi.astype(np.float32), y[idx].astype(np.int64)
    return out


def worlds(seed: int, replicas: int, shift: int, sigma: float) -> dict[str, np.ndarray]:
    """`replicas` independent splits (seeds seed * 1000 + r), stacked on a leading axis."""
    ws = [world(seed * 1000 + r, shift, sigma) for r in range(replicas)]
    return {k: np.stack([w[k] for w in ws]) for k in ws[0]}


def shift_images(X: np.ndarray, shift: int) -> np.ndarray:
    """Shift 8x8 images `shift` pixels to the right, zero-filling the left columns."""
    if shift == 0:
        return X
    im = X.reshape(-1, 8, 8)
    out = np.zeros_like(im)
    out[:, :, shift:] = im[:, :, :8 - shift]
    return out.reshape(-1, 64)


def init(models: int, width: int, gen: torch.Generator) -> list[torch.Tensor]:
    """nn.Linear's default init, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), for every stacked layer."""
    dims = [(64, width), (width, width), (width, VOCAB)]
    ps: list[torch.Tensor] = []
    for fi, fo in dims:
        bound = 1.0 / fi ** 0.5
        ps.append((torch.rand(models, fi, fo, generator=gen) * 2 - 1) * bound)
        ps.append((torch.rand(models, 1, fo, generator=gen) * 2 - 1) * bound)
    return ps


def forward(ps: list[torch.Tensor], X: torch.Tensor) -> torch.Tensor:
    """Logits (M, N, VOCAB); X is (N, 64), shared by every model, or (M, N, 64)."""
    W1, b1, W2, b2, W3, b3 = ps
    h = torch.relu(torch.matmul(X, W1) + b1)
    h = torch.relu(torch.matmul(h, W2) + b2)
    return torch.matmul(h, W3) + b3


def stacked_ce(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Sum over models of each model's mean cross-entropy; targets (M, N)."""
    M, N, V = logits.shape
    ce = F.cross_entropy(logits.reshape(M * N, V), targets.reshape(M * N), reduction="none")
    return ce.reshape(M, N).mean(1).sum()


def train(ps: list[torch.Tensor], X: torch.Tensor, targets: torch.Tensor, steps: int,
          lr: float, every: int = 0, callback: Any = None) -> list[torch.Tensor]:
    """Full-batch Adam on the stack; `callback(step, ps)` at step 0, every `every`, and last."""
    ps = [p.detach().clone().requires_grad_(True) for p in ps]
    opt = torch.optim.Adam(ps, lr=lr)
    for t in range(steps + 1):
        if callback is not None and (t == steps or (every and t % every == 0)):
            with torch.no_grad():
                callback(t, ps)
        if t == steps:
            break
        opt.zero_grad()
        stacked_ce(forward(ps, X), targets).backward()
        opt.step()
    return [p.detach() for p in ps]


def pretrain(recipe: dict[str, Any]) -> dict[str, np.ndarray]:
    """R replicas, each on its own split's pretraining part, with style-A targets
    (token = class)."""
    torch.manual_seed(int(recipe["seed"]))
    R = int(recipe["replicas"])
    w = worlds(int(recipe["seed"]), R, int(recipe["shift"]), float(recipe["sigma"]))
    gen = torch.Generator().manual_seed(int(recipe["seed"]) + 1)
    ps = init(R, int(recipe["width"]), gen)
    X = torch.from_numpy(w["X_pre"])
    T = torch.from_numpy(w["y_pre"])
    ps = train(ps, X, T, int(recipe["steps"]), float(recipe["lr"]))
    return {k: p.numpy().astype(np.float32) for k, p in zip(NAMES, ps, strict=True)}


def judge(pre_logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The pre-trained model's own answers (M, N) and whether each means the gold class."""
    own = pre_logits.argmax(-1)
    return own, (own % N_CLASSES) == labels


def targets(rule: str, own: torch.Tensor, correct: torch.Tensor, labels: torch.Tensor,
            style_shift: bool = True) -> torch.Tensor:
    """Training targets (M, N) under a rule: "sft" (gold everywhere), "s3ft" (own answer where
    judged correct, gold elsewhere), "para" (own answer where correct, the gold rewritten in
    the model's style A elsewhere). Without a style shift the gold is style A."""
    gold = labels + (N_CLASSES if style_shift else 0)
    gold = gold.expand_as(own)
    style_a = labels.expand_as(own)
    if rule == "sft":
        return gold.clone()
    if rule == "s3ft":
        return torch.where(correct, own, gold)
    if rule == "para":
        return torch.where(correct, own, style_a)
    raise ValueError(rule)


def valid_acc(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Accuracy per model where any valid surface form counts (argmax mod 10)."""
    return ((logits.argmax(-1) % N_CLASSES) == labels).float().mean(-1)


def kl(p_logits: torch.Tensor, q_logits: torch.Tensor) -> torch.Tensor:
    """Mean over inputs of KL(p || q) per model, in nats."""
    lp = F.log_softmax(p_logits, -1)
    lq = F.log_softmax(q_logits, -1)
    return (lp.exp() * (lp - lq)).sum(-1).mean(-1)
