"""ROOT (Dao et al., arXiv 2509.16300): offline optimisation as distributional translation
through a probabilistic (Brownian) bridge from low- to high-value designs (torch).

Pieces: exact GP posterior means (RBF kernel, fixed hyper-parameters) as differentiable
synthetic functions; low/high pairs by Adam descent/ascent on each GP mean from every offline
point; an MLP v(x_t, t) -> x_high trained on Brownian-bridge samples
x_t = (1 - t) x_low + t x_high + sigma sqrt(t (1 - t)) eps; Euler-Maruyama sampling of the
bridge from the best offline designs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class GPMeans:
    """Posterior means of several RBF GPs (one per lengthscale) on the same data."""

    X: torch.Tensor  # (n, d)
    alpha: torch.Tensor  # (L, n)
    ls: torch.Tensor  # (L,)

    def __call__(self, Z: torch.Tensor) -> torch.Tensor:
        """Z (L, m, d) or (m, d) -> means (L, m)."""
        if Z.dim() == 2:
            Z = Z.expand(len(self.ls), *Z.shape)
        d2 = ((Z[:, :, None, :] - self.X[None, None]) ** 2).sum(-1)  # (L, m, n)
        K = torch.exp(-0.5 * d2 / self.ls[:, None, None] ** 2)
        return torch.einsum("lmn,ln->lm", K, self.alpha)


def fit_gp_means(X: torch.Tensor, y: torch.Tensor, lengthscales: list[float],
                 noise: float = 1e-3) -> GPMeans:
    """Exact GP means m(z) = k(z, X) (K + noise I)^-1 y, unit signal variance (y standardised)."""
    Xd, yd = X.double(), y.double()
    d2 = ((Xd[:, None] - Xd[None]) ** 2).sum(-1)
    alphas = []
    for ls in lengthscales:
        K = torch.exp(-0.5 * d2 / ls**2) + noise * torch.eye(len(X), dtype=torch.float64)
        alphas.append(torch.linalg.solve(K, yd))
    return GPMeans(X, torch.stack(alphas).to(X.dtype),
                   torch.tensor(lengthscales, dtype=X.dtype, device=X.device))


def climb(fn, X0: torch.Tensor, *, steps: int, lr: float, lo: float, hi: float,
          sign: float) -> torch.Tensor:
    """Adam ascent (sign +1) or descent (-1) of fn(Z) (elementwise outputs) from X0, clamped."""
    Z = X0.clone().requires_grad_(True)
    opt = torch.optim.Adam([Z], lr=lr)
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        (-sign * fn(Z).sum()).backward()
        opt.step()
        with torch.no_grad():
            Z.clamp_(lo, hi)
    return Z.detach()


def gp_pairs(gp: GPMeans, X0: torch.Tensor, *, steps: int, lr: float, lo: float,
             hi: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(x_low, x_high) pairs: descent and ascent on every GP mean from every start point."""
    L = len(gp.ls)
    Z0 = X0.expand(L, *X0.shape)
    hi_ = climb(gp, Z0, steps=steps, lr=lr, lo=lo, hi=hi, sign=1.0)
    lo_ = climb(gp, Z0, steps=steps, lr=lr, lo=lo, hi=hi, sign=-1.0)
    d = X0.shape[1]
    return lo_.reshape(-1, d), hi_.reshape(-1, d)


def offline_pairs(X: torch.Tensor, y: torch.Tensor, n_pairs: int,
                  gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Broken variant: random pairs of offline points ordered by y (no synthetic functions)."""
    i = torch.randint(len(X), (n_pairs,), generator=gen).to(X.device)
    j = torch.randint(len(X), (n_pairs,), generator=gen).to(X.device)
    up = (y[j] >= y[i])[:, None]
    return torch.where(up, X[i], X[j]), torch.where(up, X[j], X[i])


class Bridge(nn.Module):
    """Endpoint predictor x_hat_high = x_t + MLP([x_t, t])."""

    def __init__(self, d: int, hidden: int = 128):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d + 1, hidden), nn.SiLU(), nn.Linear(hidden, hidden),
                                 nn.SiLU(), nn.Linear(hidden, d))

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return x + self.net(torch.cat([x, t[:, None]], 1))


def train_bridge(bridge: Bridge, x_low: torch.Tensor, x_high: torch.Tensor, *, steps: int,
                 batch: int, lr: float, sigma: float,
                 gen: torch.Generator) -> Iterator[tuple[int, float]]:
    """MSE of the endpoint prediction on Brownian-bridge samples; yields (step, loss)."""
    opt = torch.optim.Adam(bridge.parameters(), lr=lr)
    n, d = x_low.shape
    dev = x_low.device
    for s in range(steps):
        idx = torch.randint(n, (batch,), generator=gen).to(dev)
        t = torch.rand(batch, generator=gen).to(dev)
        eps = torch.randn(batch, d, generator=gen).to(dev)
        a, b = x_low[idx], x_high[idx]
        xt = (1 - t[:, None]) * a + t[:, None] * b + sigma * torch.sqrt(t * (1 - t))[:, None] * eps
        loss = ((bridge(xt, t) - b) ** 2).sum(1).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        yield s, float(loss.detach())


@torch.no_grad()
def sample_bridge(bridge: Bridge, X0: torch.Tensor, *, n_steps: int, sigma: float, lo: float,
                  hi: float, gen: torch.Generator) -> Iterator[tuple[int, torch.Tensor]]:
    """Euler-Maruyama on dx = (x_hat_high - x) / (1 - t) dt + sigma dW, t: 0 -> 1; the last
    step jumps to the predicted endpoint. Yields (step, designs) for step 0..n_steps."""
    x = X0.clone()
    dt = 1.0 / n_steps
    yield 0, x.clone()
    for k in range(n_steps):
        t = torch.full((len(x),), k * dt, device=x.device)
        xh = bridge(x, t)
        if k == n_steps - 1:
            x = xh
        else:
            noise = torch.randn(x.shape, generator=gen).to(x.device)
            x = x + (xh - x) / (1 - k * dt) * dt + sigma * dt**0.5 * noise
        x = x.clamp(lo, hi)
        yield k + 1, x.clone()


def mlp_surrogate(X: torch.Tensor, y: torch.Tensor, *, hidden: int, steps: int, lr: float,
                  gen: torch.Generator) -> nn.Module:
    """The Grad baseline's surrogate: d -> hidden -> hidden -> 1 ReLU MLP, full-batch Adam MSE."""
    torch.manual_seed(int(torch.randint(2**31, (1,), generator=gen)))
    net = nn.Sequential(nn.Linear(X.shape[1], hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                        nn.ReLU(), nn.Linear(hidden, 1)).to(X.device)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    for _ in range(steps):
        loss = ((net(X)[:, 0] - y) ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    for q in net.parameters():
        q.requires_grad_(False)
    return net
