"""Supervised fine-tuning of a pre-trained tiny LM over a grid of batch sizes and learning
rates, with the early training signals logged per run (numpy + torch).

Base. A context-window MLP LM (mlp_lm.MLPLM) pre-trained with AdamW on a k-th order Markov
language A (markov.MarkovChain): the "pre-trained checkpoint", built once from its recipe
(`pretrain_base`, meant for ctx.cached).

SFT task. Language B is A with a share of its transition rows redrawn (`shifted_chain`):
the "instruction" behaviour the base must learn on those contexts while keeping A's
behaviour on the rest. The SFT set is a small fixed set of B windows, optionally with a
share of its next tokens replaced by uniform ones ("noisy instruction data"); it is read
for a fixed number of epochs, so a batch of b windows means n / b steps per epoch.

Grid. All learning rates of one batch size train side by side as one stacked program
(StackedMLPLM + StackedAdamW with a learning rate per model), every model starting from
the base weights. `SFTProgram.step` takes one optimizer step and returns each model's
batch loss and the L2 norm of its full gradient (all parameters), the paper's two early
signals.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from . import markov
from .mlp_lm import MLPLM, StackedMLPLM, cross_entropy_per_model, init_
from .stacked_train import StackedAdamW, epoch_schedule

# ------------------------------------------------------------------------------ base


def base_chain(recipe: dict) -> markov.MarkovChain:
    rng = np.random.default_rng(recipe["seed"])
    return markov.MarkovChain.dirichlet(rng, recipe["vocab"], recipe["order"],
                                        recipe["alpha"])


def pretrain_base(recipe: dict) -> dict[str, np.ndarray]:
    """Pre-train one MLPLM on language A (seeded from the recipe only). recipe keys: seed,
    vocab, order, alpha, context, d_emb, hidden, steps, batch, lr. Returns the weights
    (embed, W0.., b0..) and the final loss on fresh A windows next to A's entropy rate."""
    chain = base_chain(recipe)
    rng = np.random.default_rng(recipe["seed"] + 1)
    g = torch.Generator().manual_seed(recipe["seed"])
    n = recipe["steps"] * recipe["batch"]
    X, Y = (torch.from_numpy(a) for a in markov.sample_windows(chain, rng, n,
                                                               recipe["context"]))
    net = init_(MLPLM(recipe["vocab"], recipe["context"], recipe["d_emb"],
                      recipe["hidden"]), g)
    model = StackedMLPLM([net])
    opt = StackedAdamW(model.parameters(), lr=recipe["lr"], weight_decay=0.0)
    order = torch.randperm(n, generator=g).reshape(recipe["steps"], 1, recipe["batch"])
    for t in range(recipe["steps"]):
        # cosine decay to 10 %: a converged-looking checkpoint, as released bases are
        lr = recipe["lr"] * (0.55 + 0.45 * np.cos(np.pi * t / recipe["steps"]))
        opt.lr = float(lr)
        opt.zero_grad()
        idx = order[t]
        cross_entropy_per_model(model(X[idx]), Y[idx]).sum().backward()
        opt.step()
    Xv, Yv = markov.sample_windows(chain, rng, 4096, recipe["context"])
    with torch.no_grad():
        val = cross_entropy_per_model(model(torch.from_numpy(Xv)[None]),
                                      torch.from_numpy(Yv)[None])
    out = {"embed": model.embed.detach()[0].numpy().copy(),
           "val_loss": np.array([float(val[0])]),
           "entropy_rate": np.array([chain.entropy_rate()])}
    for i, (W, b) in enumerate(zip(model.weights, model.biases)):
        out[f"W{i}"] = W.detach()[0].numpy().copy()
        out[f"b{i}"] = b.detach()[0].numpy().copy()
    return out


def stacked_from_base(arrays: dict[str, np.ndarray], k: int) -> StackedMLPLM:
    """k copies of the base weights as one stacked model."""
    embed = torch.from_numpy(arrays["embed"])
    n_layers = sum(1 for key in arrays if key.startswith("W"))
    Ws = [torch.from_numpy(arrays[f"W{i}"]) for i in range(n_layers)]
    bs = [torch.from_numpy(arrays[f"b{i}"]) for i in range(n_layers)]
    vocab, d_emb = embed.shape
    context = Ws[0].shape[0] // d_emb
    net = MLPLM(vocab, context, d_emb, Ws[0].shape[1], layers=n_layers - 1)
    with torch.no_grad():
        net.embed.weight.copy_(embed)
        for layer, W, b in zip([*net.hidden, net.out], Ws, bs):
            layer.weight.copy_(W.T)
            layer.bias.copy_(b[0])
    return StackedMLPLM([net] * k)


# ------------------------------------------------------------------------------ SFT task


def shifted_chain(chain: markov.MarkovChain, rng: np.random.Generator, share: float,
                  alpha: float) -> tuple[markov.MarkovChain, np.ndarray]:
    """Language B: `chain` with round(share * n_states) rows redrawn from Dirichlet(alpha).
    Returns B and the boolean mask of the redrawn (new-behaviour) rows."""
    n = chain.n_states
    changed = np.zeros(n, dtype=bool)
    changed[rng.choice(n, size=int(round(share * n)), replace=False)] = True
    P = chain.P.copy()
    new = rng.dirichlet(np.full(chain.V, alpha), size=int(changed.sum()))
    new = np.maximum(new, 1e-9)
    P[changed] = new / new.sum(1, keepdims=True)
    return markov.MarkovChain(P, chain.V, chain.order), changed


def noisy_labels(Y: np.ndarray, rng: np.random.Generator, share: float,
                 vocab: int) -> np.ndarray:
    """Y with a `share` of its entries replaced by uniform tokens."""
    out = Y.copy()
    flip = rng.random(Y.shape[0]) < share
    out[flip] = rng.integers(0, vocab, size=int(flip.sum()))
    return out


# ------------------------------------------------------------------------------ grid


def grad_norms(model: StackedMLPLM) -> torch.Tensor:
    """(K,) L2 norm of each model's full gradient (all its parameters)."""
    total = None
    for p in model.parameters():
        if p.grad is None:
            continue
        sq = p.grad.pow(2).reshape(p.shape[0], -1).sum(1)
        total = sq if total is None else total + sq
    return total.sqrt()


@dataclass
class SFTProgram:
    """The runs of one batch size: one model per learning rate, all from the base."""

    model: StackedMLPLM
    opt: StackedAdamW
    schedule: torch.Tensor  # (steps, K, batch) window indices into the SFT set
    lrs: torch.Tensor  # (K,) peak learning rates
    warmup: int = 0
    cosine: bool = False

    @property
    def steps(self) -> int:
        return self.schedule.shape[0]

    def lr_at(self, t: int) -> torch.Tensor:
        """Learning rate of step t (1-based): linear warm-up, then constant or cosine."""
        factor = 1.0
        if self.warmup > 0 and t <= self.warmup:
            factor = t / self.warmup
        elif self.cosine:
            frac = (t - self.warmup) / max(1, self.steps - self.warmup)
            factor = 0.5 * (1 + np.cos(np.pi * frac))
        return self.lrs * factor

    def step(self, t: int, X: torch.Tensor, Y: torch.Tensor
             ) -> tuple[torch.Tensor, torch.Tensor]:
        """Optimizer step t (1-based) -> (batch loss (K,), gradient norm (K,))."""
        self.opt.lr = self.lr_at(t)
        self.opt.zero_grad()
        idx = self.schedule[t - 1]
        losses = cross_entropy_per_model(self.model(X[idx]), Y[idx])
        losses.sum().backward()
        norms = grad_norms(self.model)
        self.opt.step()
        return losses.detach(), norms.detach()


def build_program(arrays: dict[str, np.ndarray], lrs: Sequence[float], batch: int,
                  n_train: int, epochs: int, generator: torch.Generator, *,
                  weight_decay: float = 0.0, warmup: int = 0, cosine: bool = False,
                  device: str = "cpu") -> SFTProgram:
    """The runs of one batch size: epochs over n_train windows, batch windows per step
    (n_train / batch steps an epoch), one reading order shared by all its learning rates."""
    k = len(lrs)
    steps = epochs * n_train // batch
    order = epoch_schedule(n_train, steps, batch, generator)
    model = stacked_from_base(arrays, k).to(device)
    lr_t = torch.tensor(list(lrs), dtype=torch.float32, device=device)
    opt = StackedAdamW(model.parameters(), lr=lr_t, weight_decay=weight_decay)
    schedule = order[:, None, :].expand(steps, k, batch).to(device)
    return SFTProgram(model, opt, schedule, lr_t, warmup=warmup, cosine=cosine)


@torch.no_grad()
def eval_loss(model: StackedMLPLM, X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """(K,) mean next-token loss of each model on the shared windows X, Y."""
    K = model.k
    return cross_entropy_per_model(model(X.expand(K, *X.shape)), Y.expand(K, -1))
