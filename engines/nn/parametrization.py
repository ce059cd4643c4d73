"""abc-parametrizations of an MLP: SP, NTK and muP (Yang & Hu 2021, "Tensor Programs IV").

Each layer l stores a weight w^l and uses W^l = multiplier_l * w^l, with w^l drawn from
N(0, std_l^2) and trained by SGD at learning rate lr_l (the paper's a_l, b_l, c: W = n^-a w,
w ~ N(0, n^-2b), lr = eta n^-c). What training sees is the effective init variance
(multiplier * std)^2 and the effective learning rate multiplier^2 * lr of W, so two
parametrizations with the same effective pair train identically.

For a width-n MLP d_in -> n -> ... -> n -> d_out (no biases), with r = n / base_width:

    layer     SP                  NTK                      muP (SGD; TP5 Table 3, mup's style)
    input     N(0,1/d_in), eta    N(0,1), x 1/sqrt(d_in)   N(0,1/d_in), lr eta r
    hidden    N(0,1/n),    eta    N(0,1), x 1/sqrt(n)      N(0,1/n),    lr eta
    output    N(0,1/n),    eta    N(0,1), x 1/sqrt(n)      N(0,1/base^2) x 1/r, lr eta r
                                  (NTK: lr eta on every layer)

muP's readout is written as in the `mup` package (MuReadout + MuSGD): the stored weight
keeps a width-independent variance and the layer multiplies by 1/r, so the effective
readout has variance 1/n^2 and learning rate eta/r (TP5 Table 3: output init var
1/fan_in^2, lr eta/fan_in, here normalised by the base width). The learning rates equal
SP's at n = base_width, so a base learning rate tuned on the small net carries over; the
readout init is smaller than SP's by 1/base (an output ~ 0 at init, as the paper advises:
it keeps progressive sharpening and loss spikes away at the base lr).
`readout_exponent=0.5` gives the classic mistake of a 1/sqrt(n) readout multiplier: the
effective readout then has variance 1/(base n) and lr eta, i.e. SP's scaling, while the
input layer still gets lr eta r, and features no longer move by Theta(1) independently
of width.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from . import models

PARAMETRIZATIONS = ("sp", "ntk", "mup")


@dataclass(frozen=True)
class LayerScaling:
    std: float  # init std of the stored weight w
    multiplier: float  # W = multiplier * w in the forward pass
    lr: float  # SGD learning rate of w


def layer_scalings(kind: str, d_in: int, width: int, depth: int, *, lr: float,
                   base_width: int, readout_exponent: float = 1.0) -> list[LayerScaling]:
    """Per-layer (std, multiplier, lr) of a depth-layer MLP (depth >= 2 Linear layers)."""
    n, r = width, width / base_width
    fan_in = [d_in] + [n] * (depth - 1)
    if kind == "sp":
        return [LayerScaling(1 / math.sqrt(f), 1.0, lr) for f in fan_in]
    if kind == "ntk":
        return [LayerScaling(1.0, 1 / math.sqrt(f), lr) for f in fan_in]
    if kind == "mup":
        first = LayerScaling(1 / math.sqrt(d_in), 1.0, lr * r)  # vector-like: lr x fan_out
        hidden = [LayerScaling(1 / math.sqrt(n), 1.0, lr)] * (depth - 2)  # matrix-like
        readout = LayerScaling(1 / base_width, r ** -readout_exponent, lr * r)
        return [first, *hidden, readout]
    raise ValueError(f"parametrization: expected one of {', '.join(PARAMETRIZATIONS)}, "
                     f"got {kind!r}")


def build(kind: str, d_in: int, width: int, depth: int, d_out: int, *, lr: float,
          base_width: int, generator: torch.Generator, activation: str = "relu",
          readout_exponent: float = 1.0) -> tuple[models.MLP, torch.optim.SGD]:
    """An MLP in parametrization `kind` and its SGD optimizer (one param group per layer)."""
    scales = layer_scalings(kind, d_in, width, depth, lr=lr, base_width=base_width,
                            readout_exponent=readout_exponent)
    net = models.MLP(d_in, [width] * (depth - 1), d_out, activation=activation, bias=False,
                     multipliers=[s.multiplier for s in scales])
    models.init_normal_(net, [s.std for s in scales], generator=generator)
    groups = [{"params": layer.parameters(), "lr": s.lr} for layer, s in zip(net.layers, scales)]
    return net, torch.optim.SGD(groups, lr=lr)


def feature_movement(h_T: torch.Tensor, h_0: torch.Tensor) -> float:
    """RMS(h_T - h_0) / RMS(h_0): Theta(1) when features learn, -> 0 in the kernel regime."""
    return float((h_T - h_0).pow(2).mean().sqrt() / h_0.pow(2).mean().sqrt())


def teacher_regression(n_train: int, d_in: int, n_dirs: int, *,
                       generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """x ~ N(0, I), y = sum_j tanh(u_j . x) + 0.5 cos(2 u_1 . x) with unit u_j: a target that
    needs features along a few ridge directions (what a kernel of fixed features learns
    slowly)."""
    U = torch.randn(n_dirs, d_in, generator=generator)
    U = U / U.norm(dim=1, keepdim=True)
    X = torch.randn(n_train, d_in, generator=generator)
    Z = X @ U.T
    y = torch.tanh(Z).sum(dim=1) + 0.5 * torch.cos(2 * Z[:, 0])
    return X, y[:, None]
