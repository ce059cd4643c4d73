"""A small model zoo for toy reproductions (torch).

`MLP` is the workhorse: a stack of Linear layers with an activation between them, where
each layer may carry a constant output multiplier (needed by abc-parametrizations such
as NTK and muP, where W is stored at one scale and used at another) and may be frozen
(e.g. a fixed second layer). Init is explicit: `init_normal_` sets each layer's weight
std, so a scenario states the scale its paper uses instead of inheriting torch defaults.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU, "identity": nn.Identity}


class ScaledLinear(nn.Linear):
    """y = multiplier * (x W^T + b)."""

    def __init__(self, d_in: int, d_out: int, *, bias: bool = True,
                 multiplier: float = 1.0) -> None:
        super().__init__(d_in, d_out, bias=bias)
        self.multiplier = multiplier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = super().forward(x)
        return out if self.multiplier == 1.0 else out * self.multiplier


class MLP(nn.Module):
    """d_in -> widths[0] -> ... -> widths[-1] -> d_out, activation between layers.

    `features(x)` returns the last hidden representation (before the output layer), which
    feature-learning and probing scenarios measure.
    """

    def __init__(self, d_in: int, widths: Sequence[int], d_out: int, *,
                 activation: str = "relu", bias: bool = True,
                 multipliers: Sequence[float] | None = None) -> None:
        super().__init__()
        dims = [d_in, *widths, d_out]
        mults = list(multipliers) if multipliers is not None else [1.0] * (len(dims) - 1)
        if len(mults) != len(dims) - 1:
            raise ValueError(f"need {len(dims) - 1} multipliers, got {len(mults)}")
        self.layers = nn.ModuleList(
            ScaledLinear(a, b, bias=bias, multiplier=m)
            for a, b, m in zip(dims[:-1], dims[1:], mults))
        self.act = ACTIVATIONS[activation]()

    def features(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers[:-1]:
            x = self.act(layer(x))
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers[-1](self.features(x))


class StackedMLP(nn.Module):
    """k MLPs of one shape run side by side as one batched program: forward(x) -> (k, n,
    d_out). Built from k initialised MLPs (with biases), whose weights it copies. With a
    loss that sums the k models' losses, each model's gradient is its own, so an
    element-wise optimizer (SGD, Adam, with or without weight decay) trains the k models
    exactly as k separate runs would, at about the cost of one for small models."""

    def __init__(self, nets: Sequence[MLP]) -> None:
        super().__init__()
        first = nets[0]
        if any(layer.bias is None for layer in first.layers):
            raise ValueError("StackedMLP needs MLPs with biases")
        self.act = first.act
        self.multipliers = [layer.multiplier for layer in first.layers]
        # weights stored as (k, d_in, d_out) for baddbmm, biases as (k, 1, d_out)
        self.weights = nn.ParameterList(
            nn.Parameter(torch.stack([net.layers[i].weight.detach().T for net in nets]))
            for i in range(len(first.layers)))
        self.biases = nn.ParameterList(
            nn.Parameter(torch.stack([net.layers[i].bias.detach()[None] for net in nets]))
            for i in range(len(first.layers)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.expand(len(self.weights[0]), *x.shape)
        last = len(self.weights) - 1
        for i, (W, b, mult) in enumerate(zip(self.weights, self.biases, self.multipliers)):
            h = torch.baddbmm(b, h, W)
            if mult != 1.0:
                h = h * mult
            if i < last:
                h = self.act(h)
        return h


def init_normal_(model: MLP, stds: Sequence[float], *, generator: torch.Generator,
                 bias_std: float = 0.0) -> MLP:
    """Re-initialize each layer's weight with N(0, std^2) (biases N(0, bias_std^2))."""
    with torch.no_grad():
        for layer, std in zip(model.layers, stds):
            layer.weight.normal_(0.0, std, generator=generator)
            if layer.bias is not None:
                if bias_std > 0:
                    layer.bias.normal_(0.0, bias_std, generator=generator)
                else:
                    layer.bias.zero_()
    return model


def param_count(model: nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
