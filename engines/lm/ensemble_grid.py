"""A grid of one-hidden-layer MLP language models on a short-context language, every width,
weight decay and ensemble member trained at once, with exact losses (numpy + torch).

The language has S = V**c contexts (every c-token context, base-V index, oldest token
most significant, as `markov.MarkovChain.state_of`). A model sees the one-hot context
[e(x_1), ..., e(x_c)] (c V inputs) and predicts the next token:

    logits(s) = W2 . gelu(sum_j A_j[x_j(s)] + b1) + b2,

A_j = the rows of the first layer's weight that read position j (a one-hot input makes
the first matmul a row lookup). Init as nn.Linear's default: U(-1/sqrt(fan_in), ...).

Because every context is enumerated, one forward pass over the S contexts gives both
    train loss = sum_{s,y} n(s, y) (-log q(y|s)) / n      (n(s, y): training counts),
identical to the mean cross-entropy over the n training windows (full batch), and
    val loss   = sum_s pi(s) sum_y P(y|s) (-log q(y|s)),
the exact expected cross-entropy on fresh text (pi: stationary context distribution, P:
true next-token rows), whose floor is the entropy rate H (val - H = the pi-weighted KL).

Grid. Models of one width form one stacked program (G, ...) and train side by side with
`StackedAdamW`: model g has its own weight decay (on the weights A, W2; biases are not
decayed). The G models share nothing, so each follows the trajectory it would follow
alone. Ensembles average the members' predicted probabilities (a mixture):
    q_ens(y|s) = (1/K) sum_k q_k(y|s);
by Jensen its loss is at most the members' mean loss, and the gap is their disagreement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from .stacked_train import StackedAdamW


@dataclass(frozen=True)
class ContextTable:
    tokens: np.ndarray  # (S, c) tokens of every context
    counts: np.ndarray  # (S, V) training counts n(s, y)
    target: np.ndarray  # (S, V) pi(s) P(y|s): the validation weights (sum to 1)
    entropy: float  # sum pi(s) H(P(.|s)): the floor of the val loss (nats)

    @property
    def n_train(self) -> int:
        return int(self.counts.sum())


def context_table(P: np.ndarray, pi: np.ndarray, tokens: np.ndarray, X_states: np.ndarray,
                  Y: np.ndarray) -> ContextTable:
    """P (S, V) true rows, pi (S,) context distribution, tokens (S, c) of each context,
    X_states (n,) context index of each training window, Y (n,) its next token."""
    S, V = P.shape
    counts = np.zeros((S, V))
    np.add.at(counts, (X_states, Y), 1.0)
    Pc = np.maximum(P, 1e-300)
    H = float(pi @ -(P * np.log(Pc)).sum(1))
    return ContextTable(tokens, counts, pi[:, None] * P, H)


def exact_loss(logq: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """sum_{s,y} w(s, y) (-log q(y|s)) for each model: logq (..., S, V), weights (S, V)."""
    return -(weights * logq).sum((-2, -1))


class OneHotMLPStack(torch.nn.Module):
    """G one-hidden-layer MLP LMs of width h over one-hot c-token contexts."""

    def __init__(self, G: int, V: int, c: int, h: int, generator: torch.Generator) -> None:
        super().__init__()

        def uniform(shape: tuple[int, ...], fan_in: int) -> torch.nn.Parameter:
            bound = fan_in ** -0.5
            u = torch.rand(shape, generator=generator, dtype=torch.float64)
            return torch.nn.Parameter(((2 * u - 1) * bound).float())

        self.A = uniform((G, c, V, h), c * V)
        self.b1 = uniform((G, 1, h), c * V)
        self.W2 = uniform((G, h, V), h)
        self.b2 = uniform((G, 1, V), h)

    def forward(self) -> torch.Tensor:
        """Logits (G, S, V) of every context, base-V order (oldest token most significant).
        The first layer is a broadcast sum of per-position rows, (G, V, 1, h) + (G, 1, V, h)
        for c = 2: no gather, so its backward is a plain reduction."""
        G, c, V, h = self.A.shape
        pre = self.A[:, 0]
        for j in range(1, c):
            pre = (pre.unsqueeze(-2) + self.A[:, j].reshape(G, *[1] * j, V, h))
        pre = pre.reshape(G, V ** c, h) + self.b1
        return torch.baddbmm(self.b2, F.gelu(pre), self.W2)

    def decayed(self) -> list[torch.nn.Parameter]:
        return [self.A, self.W2]

    def biases(self) -> list[torch.nn.Parameter]:
        return [self.b1, self.b2]


def ensemble_logq(logq: torch.Tensor) -> torch.Tensor:
    """Mixture of K members: logq (..., K, S, V) -> log (1/K) sum_k q_k, (..., S, V)."""
    K = logq.shape[-3]
    return torch.logsumexp(logq, dim=-3) - float(np.log(K))


@dataclass
class WidthGroup:
    width: int
    model: OneHotMLPStack
    wds: torch.Tensor  # (G,) weight decay of each model
    optimizers: tuple[StackedAdamW, StackedAdamW]


def build_grid(widths: Sequence[int], weight_decays: Sequence[float], members: int, V: int,
               c: int, lr: float, generator: torch.Generator, device: str = "cpu"
               ) -> list[WidthGroup]:
    """One stacked program per width: G = len(weight_decays) * members models, laid out
    weight-decay-major (model g = wd index * members + member)."""
    groups = []
    wd = torch.tensor(weight_decays, dtype=torch.float32).repeat_interleave(members)
    for h in widths:
        model = OneHotMLPStack(len(wd), V, c, h, generator).to(device)
        opts = (StackedAdamW(model.decayed(), lr=lr, weight_decay=wd.to(device)),
                StackedAdamW(model.biases(), lr=lr, weight_decay=0.0))
        groups.append(WidthGroup(h, model, wd, opts))
    return groups


def train_grid(groups: Sequence[WidthGroup], table: ContextTable, steps: int, *,
               device: str = "cpu", eval_every: int = 1,
               should_stop: Callable[[], bool] | None = None
               ) -> Iterator[dict[str, object]]:
    """Full-batch AdamW on the training counts, all groups in lockstep. Yields, at t = 0
    (before training), every eval_every steps and at the last step,
    {"step": t, "train": [(G,) per group], "val": [(G,) per group],
     "logq": [(G, S, V) per group]} (float64 log-probabilities, for ensembles)."""
    counts = torch.as_tensor(table.counts / table.n_train, dtype=torch.float32, device=device)
    counts64 = counts.double()
    target = torch.as_tensor(table.target, dtype=torch.float64, device=device)

    def evaluate(t: int) -> dict[str, object]:
        with torch.no_grad():
            logq = [F.log_softmax(g.model().double(), -1) for g in groups]
        return {"step": t, "train": [exact_loss(lq, counts64) for lq in logq],
                "val": [exact_loss(lq, target) for lq in logq], "logq": logq}

    yield evaluate(0)
    for t in range(1, steps + 1):
        for g in groups:
            for opt in g.optimizers:
                opt.zero_grad()
            logq = F.log_softmax(g.model(), -1)
            exact_loss(logq, counts).sum().backward()
            for opt in g.optimizers:
                opt.step()
        if t % eval_every == 0 or t == steps:
            yield evaluate(t)
        if should_stop is not None and should_stop():
            return

