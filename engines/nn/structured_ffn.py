"""Structured (low-rank) FFN stacks and self-guided training (torch).

Wei, Moalla, Pascanu, Gulcehre, "Building on Efficient Foundations: Effectively Training LLMs
with Structured Feedforward Layers" (NeurIPS 2024, arXiv 2406.16450).

The network is a residual "FFN stack": x -> W_in x -> depth blocks
    h <- h + W2 gelu(W1 LN(h) + b1)
-> LN -> W_out. A low-rank FFN factors both matrices, W1 = B1 A1 and W2 = B2 A2 with rank r.
Self-guided training (SGT, the paper's Sec. 4 and CLAIRE-Labo/StructuredFFN) adds a dense
guide M per matrix, initialised to the structured product, and trains
    out = alpha (x M^T) + (1 - alpha) struct(x),
with alpha = (1 + cos(pi t / T_sgt)) / 2 for t < T_sgt and 0 afterwards (M is then dropped).
Both terms are linear in x, so out = x (alpha M + (1 - alpha) B A)^T exactly: the effective
matrix is materialised once per step and the gradient reaching M is alpha times, the one
reaching the factors (1 - alpha) times, the gradient of the effective matrix - the same
gradients as the two-branch form.

`StackedFFN` holds K models side by side (first axis of every tensor = model), each with
its own alpha per step, so dense (alpha = 1 for ever, hidden units beyond `hidden_dense`
masked to zero), plain low-rank (alpha = 0), SGT and its variants train in one batched
program on common batches. Adam is element-wise, so a stacked model follows exactly the
trajectory it would follow alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch.nn import functional as F

# --------------------------------------------------------------------------- schedules


def sgt_alpha(kind: str, t: int, t_sgt: float) -> float:
    """Weight of the dense guide at step t. "cosine": the paper's (1 + cos(pi t/T)) / 2,
    "linear": 1 - t/T, "step": 1 then a hard switch to 0 at T (a broken variant), "none":
    0 (plain structured training), "dense": 1 for ever (the guide alone)."""
    if kind == "dense":
        return 1.0
    if kind == "none" or t >= t_sgt:
        return 0.0
    if kind == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * t / t_sgt))
    if kind == "linear":
        return 1.0 - t / t_sgt
    if kind == "step":
        return 1.0
    raise ValueError(f"unknown SGT schedule {kind!r}")


def lr_factor(t: int, steps: int, warmup: int) -> float:
    """Linear warm-up over `warmup` steps, then cosine to 0 at `steps`."""
    if t < warmup:
        return (t + 1) / warmup
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, (t - warmup) / max(1, steps - warmup))))


# --------------------------------------------------------------------------- FLOP/param counts


def ffn_macs(d: int, hidden: int, rank: int | None) -> int:
    """Multiply-accumulates per sample of one FFN block's two matrices."""
    return 2 * d * hidden if rank is None else 2 * rank * (d + hidden)


def ffn_params(d: int, hidden: int, rank: int | None) -> int:
    """Weights of one FFN block's two matrices plus b1."""
    return ffn_macs(d, hidden, rank) + hidden


def flop_matched_steps(steps: int, d: int, hidden: int, rank: int, sgt_frac: float) -> int:
    """Steps of plain low-rank training with the FLOPs of `steps` SGT steps: during the guide
    phase the layer computes the dense x M^T as well as the factored product, so its FFN
    cost is (d h + r (d + h)) / (r (d + h)) times plain (the repo's two-branch form)."""
    extra = ffn_macs(d, hidden, None) / ffn_macs(d, hidden, rank)
    return int(round(steps * (1.0 + sgt_frac * extra)))


# --------------------------------------------------------------------------- teacher


@dataclass(frozen=True)
class Teacher:
    """A random dense residual MLP: h = x; depth blocks h <- h + W2 gelu(W1 LN(h) + b1);
    y = W_out h. Weights N(0, gain^2 / fan_in), b1 ~ N(0, bias_std^2)."""

    W1: torch.Tensor  # (depth, hidden, d)
    b1: torch.Tensor  # (depth, hidden)
    W2: torch.Tensor  # (depth, d, hidden)
    W_out: torch.Tensor  # (d_out, d)

    @classmethod
    def draw(cls, gen: torch.Generator, d: int, d_out: int, depth: int, hidden: int,
             gain: float = 2.0, bias_std: float = 0.5) -> Teacher:
        return cls(
            W1=torch.randn(depth, hidden, d, generator=gen) * gain / math.sqrt(d),
            b1=torch.randn(depth, hidden, generator=gen) * bias_std,
            W2=torch.randn(depth, d, hidden, generator=gen) * gain / math.sqrt(hidden),
            W_out=torch.randn(d_out, d, generator=gen) / math.sqrt(d),
        )

    @torch.no_grad()
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        for l in range(self.W1.shape[0]):  # noqa: E741
            u = F.layer_norm(h, h.shape[-1:])
            h = h + F.gelu(u @ self.W1[l].T + self.b1[l]) @ self.W2[l].T
        return h @ self.W_out.T


def teacher_data(gen: torch.Generator, teacher: Teacher, n_train: int, n_val: int
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """x ~ N(0, I); targets standardised per output with the training mean and std."""
    d = teacher.W1.shape[2]
    x_tr = torch.randn(n_train, d, generator=gen)
    x_va = torch.randn(n_val, d, generator=gen)
    y_tr, y_va = teacher(x_tr), teacher(x_va)
    mu, sd = y_tr.mean(0), y_tr.std(0)
    return x_tr, (y_tr - mu) / sd, x_va, (y_va - mu) / sd


# --------------------------------------------------------------------------- student stack


def _lowrank_factors(gen: torch.Generator, K: int, depth: int, rows: int, cols: int,
                     rank: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The repo's init: SVD of a random N(0, 1/cols) matrix W = U S Vh; B = U[:, :r] sqrt(S),
    A = sqrt(S) Vh[:r] (the best rank-r approximation of a dense init, split evenly)."""
    W = torch.randn(K, depth, rows, cols, generator=gen) / math.sqrt(cols)
    U, S, Vh = torch.linalg.svd(W, full_matrices=False)
    s = S[..., :rank].sqrt()
    return U[..., :rank] * s[..., None, :], s[..., :, None] * Vh[..., :rank, :]


class StackedFFN(torch.nn.Module):
    """K residual FFN stacks side by side. Model k uses hidden units [0, hidden_k) of
    `hidden` (the rest masked to exactly zero); `dense[k]` says whether its guide M is a
    standard dense init (a dense model, trained with alpha = 1) or the product B A of its
    low-rank factors (a structured model, whose guide SGT blends in).

    All weights of model k live in row k of one (K, P) parameter `flat` (views give the
    named tensors), so the optimiser is a handful of whole-stack operations and models are
    picked out or tied by indexing rows."""

    def __init__(self, gen: torch.Generator, dense: list[bool], hidden_k: list[int],
                 d_in: int, d: int, d_out: int, depth: int, hidden: int, rank: int) -> None:
        super().__init__()
        K = len(dense)
        B1, A1 = _lowrank_factors(gen, K, depth, hidden, d, rank)
        B2, A2 = _lowrank_factors(gen, K, depth, d, hidden, rank)
        M1, M2 = B1 @ A1, B2 @ A2
        mask = torch.zeros(K, 1, hidden)
        for k, hk in enumerate(hidden_k):
            if dense[k]:
                M1[k] = torch.randn(depth, hidden, d, generator=gen) / math.sqrt(d)
                M2[k] = torch.randn(depth, d, hidden, generator=gen) / math.sqrt(hk)
            M1[k, :, hk:] = 0.0
            M2[k, :, :, hk:] = 0.0
            mask[k, :, :hk] = 1.0
        w = {
            "W_in": torch.randn(K, d, d_in, generator=gen) / math.sqrt(d_in),
            "b_in": torch.zeros(K, 1, d),
            "A1": A1, "B1": B1, "M1": M1, "b1": torch.zeros(K, depth, 1, hidden),
            "A2": A2, "B2": B2, "M2": M2,
            "W_out": torch.randn(K, d_out, d, generator=gen) / math.sqrt(d),
            "b_out": torch.zeros(K, 1, d_out),
        }
        self.names = list(w)
        self.shapes = [tuple(t.shape[1:]) for t in w.values()]
        self.sizes = [math.prod(sh) for sh in self.shapes]
        self.flat = torch.nn.Parameter(torch.cat([t.reshape(K, -1) for t in w.values()], 1))
        self.register_buffer("mask", mask)
        self.depth = depth

    @property
    def K(self) -> int:
        return self.flat.shape[0]

    def weights(self) -> dict[str, torch.Tensor]:
        """The named weight tensors of all models, (K, ...) views of `flat`."""
        chunks = self.flat.split(self.sizes, dim=1)
        return {n: c.reshape(self.K, *sh) for n, c, sh in zip(self.names, chunks, self.shapes)}

    def effective(self, alpha: torch.Tensor, w: dict[str, torch.Tensor] | None = None
                  ) -> tuple[torch.Tensor, torch.Tensor]:
        """alpha M + (1 - alpha) B A for both matrices of every block, alpha: (K,)."""
        w = self.weights() if w is None else w
        a = alpha[:, None, None, None]
        return (a * w["M1"] + (1 - a) * (w["B1"] @ w["A1"]),
                a * w["M2"] + (1 - a) * (w["B2"] @ w["A2"]))

    def forward(self, x: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
        """x: (B, d_in) shared by all models -> (K, B, d_out)."""
        w = self.weights()
        W1, W2 = self.effective(alpha, w)
        h = torch.baddbmm(w["b_in"], x.expand(self.K, *x.shape), w["W_in"].transpose(1, 2))
        for l in range(self.depth):  # noqa: E741
            u = F.layer_norm(h, h.shape[-1:])
            z = F.gelu(torch.baddbmm(w["b1"][:, l], u, W1[:, l].transpose(1, 2))) * self.mask
            h = torch.baddbmm(h, z, W2[:, l].transpose(1, 2))
        h = F.layer_norm(h, h.shape[-1:])
        return torch.baddbmm(w["b_out"], h, w["W_out"].transpose(1, 2))


def per_model_mse(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(K, B, d_out) predictions vs (B, d_out) targets -> (K,) mean squared errors."""
    return ((pred - y) ** 2).mean(dim=(1, 2))


@torch.no_grad()
def evaluate(model: StackedFFN, alpha: torch.Tensor, x: torch.Tensor, y: torch.Tensor,
             chunk: int = 2048) -> torch.Tensor:
    """(K,) MSE over (x, y), in chunks."""
    tot = torch.zeros(alpha.shape[0], device=x.device)
    for i in range(0, x.shape[0], chunk):
        tot += per_model_mse(model(x[i:i + chunk], alpha), y[i:i + chunk]) \
            * min(chunk, x.shape[0] - i)
    return (tot / x.shape[0]).cpu()


@torch.no_grad()
def tie_init(model: StackedFFN, source: int, targets: list[int]) -> None:
    """Give models `targets` the initial weights of model `source` (a paired comparison:
    the variants then differ only by how they are trained)."""
    model.flat[targets] = model.flat[source].clone()


def select(model: StackedFFN, idx: list[int]) -> StackedFFN:
    """A new stack holding copies of models `idx`."""
    import copy

    out = copy.copy(model)
    out._parameters = dict(model._parameters)
    out._buffers = dict(model._buffers)
    out.flat = torch.nn.Parameter(model.flat.detach()[idx].clone())
    out.mask = model.mask[idx].clone()
    return out
