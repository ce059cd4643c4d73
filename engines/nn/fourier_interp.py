"""Batched 1-D periodic interpolators: a tanh MLP with or without a random-Fourier-feature
input layer (Tancik et al. 2020; the RFF-NN of Mojgani et al., arXiv 2309.13211).

S independent networks (one per snapshot) are trained at once with batched matmuls.
Input of the plain MLP: (cos x, sin x), so it is periodic; input of the RFF net:
[sin(B x), cos(B x)] with integer frequencies B = round(N(0, sigma_B)) (B != 0 so every
feature is periodic on [0, 2 pi)). Adam with a cosine learning-rate decay, full batch,
MSE on the observed points, float32; evaluation on the grid in float64, because float32
rounding times k^4 wrecks fourth derivatives.
"""

from __future__ import annotations

import math

import numpy as np
import torch


def rff_frequencies(rng: np.random.Generator, n_freq: int, sigma: float) -> np.ndarray:
    b = np.rint(rng.normal(0.0, sigma, n_freq))
    while (b == 0).any():
        b[b == 0] = np.rint(rng.normal(0.0, sigma, int((b == 0).sum())))
    return b


def features(x: torch.Tensor, B: torch.Tensor | None) -> torch.Tensor:
    """x: (S, m); B: (S, F) or None -> (S, m, 2F) or (S, m, 2)."""
    if B is None:
        return torch.stack([torch.cos(x), torch.sin(x)], dim=-1)
    bx = x[:, :, None] * B[:, None, :]
    return torch.cat([torch.sin(bx), torch.cos(bx)], dim=-1)


def init_weights(gen: torch.Generator, S: int, d_in: int, width: int, depth: int,
                 device: str) -> list[torch.Tensor]:
    """torch.nn.Linear's default init (U(+-1/sqrt(fan_in)) for weights and biases), stacked."""
    dims = [d_in] + [width] * depth + [1]
    out = []
    for a, b in zip(dims[:-1], dims[1:]):
        bound = 1.0 / math.sqrt(a)
        W = (torch.rand(S, a, b, generator=gen) * 2 - 1) * bound
        c = (torch.rand(S, 1, b, generator=gen) * 2 - 1) * bound
        out += [W.to(device).requires_grad_(), c.to(device).requires_grad_()]
    return out


def forward(params: list[torch.Tensor], h: torch.Tensor) -> torch.Tensor:
    n_layers = len(params) // 2
    for i in range(n_layers):
        h = torch.baddbmm(params[2 * i + 1], h, params[2 * i])
        if i < n_layers - 1:
            h = torch.tanh(h)
    return h[..., 0]


def fit(x_obs: np.ndarray, y_obs: np.ndarray, B: np.ndarray | None, *, width: int,
        depth: int, steps: int, lr: float, lr_min: float, seed: int,
        device: str = "cpu") -> tuple[list[torch.Tensor], list[float]]:
    """Train S nets on (x_obs[s], y_obs[s]); returns the weights and the mean MSE per step."""
    gen = torch.Generator().manual_seed(seed)
    S = x_obs.shape[0]
    x = torch.tensor(x_obs, dtype=torch.float32, device=device)
    y = torch.tensor(y_obs, dtype=torch.float32, device=device)
    Bt = None if B is None else torch.tensor(B, dtype=torch.float32, device=device)
    h0 = features(x, Bt)
    params = init_weights(gen, S, h0.shape[-1], width, depth, device)
    opt = torch.optim.Adam(params, lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps, eta_min=lr_min)
    losses = []
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        per_net = ((forward(params, h0) - y) ** 2).mean(dim=1)
        per_net.sum().backward()  # independent nets: the sum's gradient is each net's own
        opt.step()
        sched.step()
        losses.append(float(per_net.mean().detach()))
    return params, losses


def evaluate(params: list[torch.Tensor], x: np.ndarray, B: np.ndarray | None) -> np.ndarray:
    """The S nets on points x (shape (m,)) in float64 on the CPU: (S, m)."""
    with torch.no_grad():
        p64 = [t.detach().to("cpu", torch.float64) for t in params]
        S = p64[0].shape[0]
        xt = torch.tensor(np.broadcast_to(x, (S, x.shape[0])).copy(), dtype=torch.float64)
        Bt = None if B is None else torch.tensor(B, dtype=torch.float64)
        return forward(p64, features(xt, Bt)).numpy()
