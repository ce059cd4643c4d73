"""Train K stacked models side by side, each on its own batches (torch).

`StackedAdamW` is AdamW (Loshchilov & Hutter 2019; the same update as torch.optim.AdamW)
on parameters whose first axis indexes the model, with a learning rate per model, so a
learning-rate grid trains in one program too. Every operation is element-wise, so model k
follows exactly the trajectory it would follow alone (tests/test_lm_engine.py checks this
against K separately trained models with torch.optim.AdamW).

`epoch_schedule` lays out which training windows each step reads: a dataset of n unique
windows is cycled epoch after epoch, reshuffled each epoch, until steps * batch windows
are read; `train_stacked` is the loop (a generator, one optimizer step per iteration).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import torch
from torch import nn

from .mlp_lm import cross_entropy_per_model


class StackedAdamW:
    """AdamW on stacked parameters (first axis = model); lr and weight_decay are floats or
    (K,) tensors, one value per model. Decoupled weight decay: p <- p (1 - lr wd), then the
    bias-corrected Adam step. With weight_decay 0.0 it is torch.optim.Adam's update. The lr
    attribute may be reassigned between steps (a schedule), and `step(scale)` multiplies it
    for one step."""

    def __init__(self, params: Iterable[nn.Parameter], lr: float | torch.Tensor = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float | torch.Tensor = 0.01) -> None:
        self.params = list(params)
        self.lr = lr
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.weight_decay = weight_decay
        self.t = 0
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]

    @staticmethod
    def _per_model(value: float | torch.Tensor, p: torch.Tensor) -> torch.Tensor | float:
        if isinstance(value, torch.Tensor):
            return value.to(p.device, p.dtype).reshape(-1, *[1] * (p.ndim - 1))
        return value

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self, scale: float = 1.0) -> None:
        self.t += 1
        c1 = 1 - self.beta1 ** self.t
        c2 = 1 - self.beta2 ** self.t
        decay = not (isinstance(self.weight_decay, float) and self.weight_decay == 0.0)
        for p, m, v in zip(self.params, self.m, self.v):
            if p.grad is None:
                continue
            lr = self._per_model(self.lr, p)
            if scale != 1.0:
                lr = lr * scale
            if decay:  # (p * 1.0 is p: skipping it changes no bit)
                p.mul_(1 - lr * self._per_model(self.weight_decay, p))
            m.mul_(self.beta1).add_(p.grad, alpha=1 - self.beta1)
            v.mul_(self.beta2).addcmul_(p.grad, p.grad, value=1 - self.beta2)
            denom = (v / c2).sqrt_().add_(self.eps)
            p.sub_(lr / c1 * m / denom)

    def select(self, params: Iterable[nn.Parameter], idx: list[int]) -> StackedAdamW:
        """The optimizer of models `idx` taken out of the stack: over `params` (their
        parameters, in the same order), with those models' moments, step count and
        hyper-parameters, so they go on exactly as they would have in the stack."""
        def rows(x: float | torch.Tensor) -> float | torch.Tensor:
            return x[idx].clone() if isinstance(x, torch.Tensor) and x.ndim else x

        out = StackedAdamW(params, lr=rows(self.lr), betas=(self.beta1, self.beta2),
                           eps=self.eps, weight_decay=rows(self.weight_decay))
        out.t = self.t
        out.m = [m[idx].clone() for m in self.m]
        out.v = [v[idx].clone() for v in self.v]
        return out


def epoch_schedule(n_unique: int, steps: int, batch: int, generator: torch.Generator, *,
                   offset: int = 0, fresh_each_epoch: bool = False) -> torch.Tensor:
    """(steps, batch) indices of the windows read at each step: epochs over n_unique
    windows (indices offset .. offset + n_unique - 1), a fresh permutation per epoch.
    fresh_each_epoch: epoch e reads windows offset + e * n_unique + perm instead, i.e. new
    data every epoch (the 'resample' control: as many epochs, no repetition)."""
    need = steps * batch
    epochs = -(-need // n_unique)
    order = [torch.randperm(n_unique, generator=generator)
             + offset + (e * n_unique if fresh_each_epoch else 0) for e in range(epochs)]
    return torch.cat(order)[:need].reshape(steps, batch)


def train_stacked(model: nn.Module, X: torch.Tensor, Y: torch.Tensor,
                  schedule: torch.Tensor, optimizer: StackedAdamW, *,
                  dropout: torch.Tensor | None = None,
                  generator: torch.Generator | None = None,
                  evaluate: Callable[[int], dict[str, torch.Tensor]] | None = None,
                  eval_every: int = 1,
                  should_stop: Callable[[], bool] | None = None
                  ) -> Iterator[dict[str, object]]:
    """schedule (steps, K, B): model k reads windows X[schedule[t, k]] at step t.

    Yields {"step": t, "loss": (K,) batch losses, **evaluate(t)} for t = 1..steps;
    evaluate runs in no_grad on t % eval_every == 0, on the last step, and (as t = 0)
    before training. Stops cleanly between steps when should_stop() turns true."""
    steps = schedule.shape[0]
    if evaluate is not None:
        with torch.no_grad():  # never yield inside no_grad: the consumer may train
            first = evaluate(0)
        yield {"step": 0, **first}
    for t in range(1, steps + 1):
        idx = schedule[t - 1]
        optimizer.zero_grad()
        losses = cross_entropy_per_model(model(X[idx], dropout, generator), Y[idx])
        losses.sum().backward()
        optimizer.step()
        out: dict[str, object] = {"step": t, "loss": losses.detach()}
        if evaluate is not None and (t % eval_every == 0 or t == steps):
            with torch.no_grad():
                out.update(evaluate(t))
        yield out
        if should_stop is not None and should_stop():
            return
