"""One small, fast torch training loop shared by the torch scenarios.

`train(...)` is a generator: it takes one optimizer step per iteration and yields a dict
of per-step metrics (step, loss, and whatever `evaluate` returns on the steps it runs), so
the scenario decides what to emit and the runner can cancel between steps. Data lives on
the device already (moved once by `to_device`); batches are drawn with an explicit
`torch.Generator`, so a run is repeatable from its seed on CPU without touching torch's
global RNG (several runs may share the process).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import nn

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def generator(seed: int, device: str = "cpu") -> torch.Generator:
    """A seeded generator for init and batching (CPU: init tensors are drawn on CPU)."""
    g = torch.Generator(device="cpu")
    g.manual_seed(seed)
    return g


def to_device(device: str, *tensors: Any) -> tuple[torch.Tensor, ...]:
    """Convert arrays/tensors to float32 (or keep integer labels) tensors on `device`."""
    out = []
    for t in tensors:
        t = torch.as_tensor(t)
        if t.is_floating_point():
            t = t.float()
        out.append(t.to(device))
    return tuple(out)


def train(model: nn.Module, loss_fn: LossFn, X: torch.Tensor, y: torch.Tensor,
          optimizer: torch.optim.Optimizer, steps: int, *,
          batch_size: int | None = None, gen: torch.Generator | None = None,
          evaluate: Callable[[int], dict[str, float]] | None = None, eval_every: int = 1,
          should_stop: Callable[[], bool] | None = None,
          after_step: Callable[[int], None] | None = None) -> Iterator[dict[str, float]]:
    """Full-batch (batch_size None) or mini-batch training for `steps` optimizer steps.

    Yields {"step": t, "loss": training loss of the step's batch, **evaluate(t)} after each
    step t = 1..steps (evaluate runs under no_grad on t % eval_every == 0 and the last step).
    Stops early, cleanly, when `should_stop()` turns true.
    """
    n = X.shape[0]
    model.train()
    for t in range(1, steps + 1):
        if batch_size is None or batch_size >= n:
            xb, yb = X, y
        else:
            idx = torch.randint(0, n, (batch_size,), generator=gen).to(X.device)
            xb, yb = X[idx], y[idx]
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        if after_step is not None:
            after_step(t)
        out = {"step": t, "loss": float(loss.detach())}
        if evaluate is not None and (t % eval_every == 0 or t == steps):
            model.eval()
            with torch.no_grad():
                out.update(evaluate(t))
            model.train()
        yield out
        if should_stop is not None and should_stop():
            return


@torch.no_grad()
def accuracy(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    """Classification accuracy: argmax for multi-class logits, sign for one logit."""
    out = model(X)
    if out.ndim == 1 or out.shape[-1] == 1:
        pred = (out.reshape(-1) > 0).to(y.dtype)
        target = (y.reshape(-1) > 0).to(y.dtype)
        return float((pred == target).float().mean())
    return float((out.argmax(-1) == y).float().mean())
