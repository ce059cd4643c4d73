"""Gradual magnitude pruning (Zhu & Gupta 2017, "To prune, or not to prune").

The sparsity schedule (their eq. 1): starting at step t0 with sparsity s_i, prune every
dt steps for n pruning events, to reach the final sparsity s_f at t0 + n dt:

    s_t = s_f + (s_i - s_f) (1 - (t - t0) / (n dt))^3,   t in {t0, t0 + dt, ..., t0 + n dt}

so pruning is fast early (when many redundant weights exist) and slow near the end. At
each event the weights of each pruned layer with the smallest magnitudes are masked to
reach s_t (a per-layer threshold); masked weights stay zero (the mask multiplies both
the weights and their gradients) and the network keeps training in between: the lost
accuracy is recovered while the sparsity rises. (The power 3 is a parameter; TF-MOT's
`PolynomialDecay(power=3)` is the same schedule.)

`GradualPruner` plugs into the shared torch loop through its `after_step` hook:

    pruner = GradualPruner([model.layers[0]], schedule)
    for out in torch_train.train(..., after_step=pruner.after_step): ...
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class CubicSchedule:
    s_f: float  # final sparsity
    t0: int  # first pruning step
    n: int  # number of pruning events after t0
    dt: int  # steps between events
    s_i: float = 0.0  # initial sparsity
    power: float = 3.0

    @classmethod
    def spanning(cls, s_f: float, start: int, end: int, events: int, s_i: float = 0.0,
                 power: float = 3.0) -> CubicSchedule:
        """Start at step `start` (sparsity s_i) and prune `events` times, every
        (end - start) // events steps, the last event at (about) step `end`."""
        n = max(1, events)
        dt = max(1, (end - start) // n)
        return cls(s_f, start, n, dt, s_i, power)

    @property
    def end(self) -> int:
        return self.t0 + self.n * self.dt

    def sparsity(self, t: int) -> float:
        """s_t of eq. 1, held constant between events; s_i before t0, s_f after the end."""
        if t < self.t0:
            return self.s_i
        k = min(self.n, (t - self.t0) // self.dt)  # events done so far (minus one)
        frac = k * self.dt / (self.n * self.dt)
        return self.s_f + (self.s_i - self.s_f) * (1.0 - frac) ** self.power

    def is_event(self, t: int) -> bool:
        return self.t0 <= t <= self.end and (t - self.t0) % self.dt == 0


def magnitude_mask(weight: torch.Tensor, sparsity: float) -> torch.Tensor:
    """A 0/1 mask keeping the (1 - sparsity) fraction of entries with the largest |w|
    (the k = round(sparsity * numel) smallest are pruned; ties broken by kthvalue)."""
    k = int(round(sparsity * weight.numel()))
    if k <= 0:
        return torch.ones_like(weight)
    flat = weight.detach().abs().flatten()
    threshold = torch.kthvalue(flat.cpu(), k).values.to(weight.device)
    mask = (weight.detach().abs() > threshold).to(weight.dtype)
    # exact count despite ties at the threshold: prune the first tied entries too
    deficit = int(mask.numel() - mask.sum().item()) - k
    if deficit < 0:
        tied = ((weight.detach().abs() == threshold) & (mask > 0)).flatten().nonzero()
        mask.view(-1)[tied[: -deficit, 0]] = 0
    return mask


class GradualPruner:
    """Per-layer magnitude masks on the weights of `layers`, following `schedule`."""

    def __init__(self, layers: Sequence[nn.Linear], schedule: CubicSchedule) -> None:
        self.layers = list(layers)
        self.schedule = schedule
        self.masks = [torch.ones_like(layer.weight) for layer in self.layers]
        for layer, mask in zip(self.layers, self.masks):
            # masked gradients: pruned weights get no update signal (Adam's state for them
            # decays); the weights themselves are re-zeroed after every step
            layer.weight.register_hook(lambda g, m=mask: g * m)

    @torch.no_grad()
    def prune_to(self, sparsity: float) -> None:
        for layer, mask in zip(self.layers, self.masks):
            mask.copy_(magnitude_mask(layer.weight * mask, sparsity))
            layer.weight.mul_(mask)

    @torch.no_grad()
    def apply(self) -> None:
        for layer, mask in zip(self.layers, self.masks):
            layer.weight.mul_(mask)

    def after_step(self, t: int) -> None:
        """Call after optimizer step t (1-based): prune at scheduled events, keep zeros."""
        if self.schedule.is_event(t):
            self.prune_to(self.schedule.sparsity(t))
        else:
            self.apply()

    def sparsity(self) -> float:
        total = sum(m.numel() for m in self.masks)
        return 1.0 - sum(float(m.sum()) for m in self.masks) / total


def nonzeros(layers: Sequence[nn.Linear]) -> int:
    """Number of non-zero weights (biases not counted)."""
    return sum(int((layer.weight != 0).sum()) for layer in layers)
