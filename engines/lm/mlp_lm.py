"""A context-window MLP language model (Bengio et al. 2003 style), single and stacked.

    logits = W3 . drop(gelu(W2 . drop(gelu(W1 . [E x_1, ..., E x_c] + b1)) + b2)) + b3

`MLPLM` is one model (an ordinary nn.Module, the reference). `StackedMLPLM` holds K models
of one shape as stacked tensors (E: (K, V, d), W: (K, d_in, d_out)) and runs them as one
batched program: each model reads its own batch (idx: (K, B, c)) and may have its own
dropout rate. Because the K models share no parameter, the gradient of the summed loss
w.r.t. model k's weights is model k's own gradient, so an element-wise optimizer trains
the K models exactly as K separate runs would.

Init (explicit, from a torch.Generator, so runs never touch torch's global RNG): embedding
N(0, 1) as nn.Embedding; linear weights and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in)) as
nn.Linear's default.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F


class MLPLM(nn.Module):
    def __init__(self, vocab: int, context: int, d_emb: int, hidden: int, *,
                 dropout: float = 0.0, layers: int = 2) -> None:
        super().__init__()
        self.context = context
        self.embed = nn.Embedding(vocab, d_emb)
        dims = [context * d_emb, *[hidden] * layers]
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.out = nn.Linear(hidden, vocab)
        self.drop = nn.Dropout(dropout)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        h = self.embed(idx).flatten(-2)
        for layer in self.hidden:
            h = self.drop(F.gelu(layer(h)))
        return self.out(h)


@torch.no_grad()
def init_(model: MLPLM, generator: torch.Generator) -> MLPLM:
    model.embed.weight.normal_(0.0, 1.0, generator=generator)
    for layer in [*model.hidden, model.out]:
        bound = layer.in_features ** -0.5
        layer.weight.uniform_(-bound, bound, generator=generator)
        layer.bias.uniform_(-bound, bound, generator=generator)
    return model


class StackedMLPLM(nn.Module):
    """K MLPLMs of one shape side by side: forward(idx (K, B, c)) -> logits (K, B, V)."""

    def __init__(self, models: Sequence[MLPLM]) -> None:
        super().__init__()
        first = models[0]
        self.context = first.context
        self.embed = nn.Parameter(torch.stack([m.embed.weight.detach() for m in models]))
        # weights stored transposed, (K, d_in, d_out), for baddbmm; biases (K, 1, d_out)
        layers = lambda m: [*m.hidden, m.out]  # noqa: E731
        self.weights = nn.ParameterList(
            nn.Parameter(torch.stack([layers(m)[i].weight.detach().T for m in models]))
            for i in range(len(layers(first))))
        self.biases = nn.ParameterList(
            nn.Parameter(torch.stack([layers(m)[i].bias.detach()[None] for m in models]))
            for i in range(len(layers(first))))

    @classmethod
    def initialised(cls, k: int, vocab: int, context: int, d_emb: int, hidden: int, *,
                    generator: torch.Generator, layers: int = 2) -> StackedMLPLM:
        return cls([init_(MLPLM(vocab, context, d_emb, hidden, layers=layers), generator)
                    for _ in range(k)])

    @property
    def k(self) -> int:
        return self.embed.shape[0]

    def forward(self, idx: torch.Tensor, dropout: torch.Tensor | None = None,
                generator: torch.Generator | None = None) -> torch.Tensor:
        """idx (K, B, c) token ids; dropout (K,) rates applied after each hidden GELU
        (None or all-zero: no dropout, as in eval mode)."""
        K, B, _ = idx.shape
        rows = torch.arange(K, device=idx.device)[:, None, None]
        h = self.embed[rows, idx].reshape(K, B, -1)
        last = len(self.weights) - 1
        use_drop = dropout is not None and bool((dropout > 0).any())
        for i, (W, b) in enumerate(zip(self.weights, self.biases)):
            h = torch.baddbmm(b, h, W)
            if i < last:
                h = F.gelu(h)
                if use_drop:
                    h = stacked_dropout(h, dropout, generator)
        return h

    def model(self, k: int) -> MLPLM:
        """Model k as a standalone MLPLM (a copy of its current weights)."""
        d_emb = self.embed.shape[2]
        hidden = self.weights[0].shape[2]
        net = MLPLM(self.embed.shape[1], self.context, d_emb, hidden,
                    layers=len(self.weights) - 1)
        with torch.no_grad():
            net.embed.weight.copy_(self.embed[k])
            for layer, W, b in zip([*net.hidden, net.out], self.weights, self.biases):
                layer.weight.copy_(W[k].T)
                layer.bias.copy_(b[k, 0])
        return net


def stacked_dropout(h: torch.Tensor, rates: torch.Tensor,
                    generator: torch.Generator | None = None) -> torch.Tensor:
    """Inverted dropout with a rate per model: h (K, ...) entries kept with probability
    1 - rates[k] and scaled by 1 / (1 - rates[k]) (a rate of 0 keeps h as it is). The
    uniforms are drawn on the CPU generator, so a run repeats from its seed on any device."""
    keep = (1.0 - rates).to(h.dtype).reshape(-1, *[1] * (h.ndim - 1))
    u = torch.rand(h.shape, generator=generator).to(h.device)
    return h * (u < keep).to(h.dtype) / keep


def cross_entropy_per_model(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross-entropy (nats) of each model: logits (K, B, V), targets (K, B)
    -> (K,)."""
    K, B, V = logits.shape
    return F.cross_entropy(logits.reshape(K * B, V), targets.reshape(K * B),
                           reduction="none").reshape(K, B).mean(1)
