"""IGNITE (Dao et al., NeurIPS 2024): surrogates trained under a sharpness constraint,
then gradient ascent on them (torch). Many surrogates train side by side as one stacked
program (weights carry a leading model axis M).

Surrogate: g(x) = v . tanh(W^T x + b) + c, one hidden tanh layer of H units. Its
sharpness at x is the norm of the gradient of the OUTPUT with respect to the PARAMETERS,
||grad_theta g(x)||, in closed form for this net (a = tanh(W^T x + b), s = v * (1 - a^2)):

    dg/dc = 1,  dg/dv = a,  dg/db = s,  dg/dW = x s^T
    ||grad_theta g(x)||^2 = 1 + ||a||^2 + ||s||^2 (||x||^2 + 1).

IGNITE trains  min_theta MSE(theta)  s.t.  mean_i ||grad_theta g(x_i)|| <= eps  with a
Lagrangian and dual ascent on the multiplier (the paper's Algorithm 1):
    loss = MSE + lam (sharp - eps),   lam <- max(0, lam + dual_lr (sharp - eps)).
eps is set relative to the sharpness the unconstrained fit has reached after a warm-up
(eps = ratio * sharpness at the end of the warm-up), the toy analogue of the paper's
per-task eps grid. Models whose ratio is None (or >= any reached value) stay plain MSE fits.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import torch


@dataclass
class StackedTanhMLP:
    W: torch.Tensor  # (M, d, H)
    b: torch.Tensor  # (M, H)
    v: torch.Tensor  # (M, H)
    c: torch.Tensor  # (M,)

    def params(self) -> list[torch.Tensor]:
        return [self.W, self.b, self.v, self.c]

    def hidden(self, X: torch.Tensor) -> torch.Tensor:
        """a = tanh(X W + b); X (M, n, d) or (n, d) shared by all models -> (M, n, H)."""
        if X.dim() == 2:
            X = X.expand(self.W.shape[0], *X.shape)
        return torch.tanh(torch.bmm(X, self.W) + self.b[:, None, :])

    def __call__(self, X: torch.Tensor) -> torch.Tensor:
        """g(X): (M, n)."""
        return torch.einsum("mnh,mh->mn", self.hidden(X), self.v) + self.c[:, None]

    def sharpness(self, X: torch.Tensor) -> torch.Tensor:
        """||grad_theta g(x)|| per model and point, closed form: (M, n)."""
        if X.dim() == 2:
            X = X.expand(self.W.shape[0], *X.shape)
        a = self.hidden(X)
        s = self.v[:, None, :] * (1 - a**2)
        sq = 1 + (a**2).sum(-1) + (s**2).sum(-1) * ((X**2).sum(-1) + 1)
        return torch.sqrt(sq)


def init_stacked(M: int, d: int, H: int, gen: torch.Generator) -> StackedTanhMLP:
    """nn.Linear's default init, one independent draw per model (CPU generator)."""
    def u(shape: tuple[int, ...], fan_in: int) -> torch.Tensor:
        k = 1 / math.sqrt(fan_in)
        return (torch.rand(shape, generator=gen) * 2 - 1) * k

    return StackedTanhMLP(u((M, d, H), d), u((M, H), d), u((M, H), H), u((M,), H))


def tied_init(model: StackedTanhMLP, groups: int) -> StackedTanhMLP:
    """Repeat the first M/groups models `groups` times (paired arms share init)."""
    return StackedTanhMLP(*(t.repeat(groups, *([1] * (t.dim() - 1))) for t in model.params()))


def train_ignite(model: StackedTanhMLP, X: torch.Tensor, y: torch.Tensor,
                 ratio: torch.Tensor, *, epochs: int, batch: int, lr: float,
                 dual_lr: float, warmup_frac: float, gen: torch.Generator,
                 tie_batches: int = 1) -> Iterator[dict[str, torch.Tensor]]:
    """Train all M surrogates on (X, y) (y standardised); yields per-epoch readings.

    ratio (M,): eps / warm-up sharpness per model; inf (or any value >= the largest
    sharpness) means unconstrained. Batches: every model draws its own permutation per
    epoch, except that models i and i + M/tie_batches share it (paired arms).
    Yields {"epoch", "mse", "sharp", "eps", "lam"} (tensors of shape (M,)) after each epoch
    (epoch 0 = before training).
    """
    M = model.W.shape[0]
    n = X.shape[0]
    dev = X.device
    for t in model.params():
        t.requires_grad_(True)
    opt = torch.optim.Adam(model.params(), lr=lr)
    lam = torch.zeros(M, device=dev)
    eps = torch.full((M,), math.inf, device=dev)
    ratio = ratio.to(dev)
    warm = max(1, round(warmup_frac * epochs))
    nb = -(-n // batch)
    base = M // tie_batches

    def read(epoch: int) -> dict[str, torch.Tensor]:
        with torch.no_grad():
            mse = ((model(X) - y) ** 2).mean(1)
            sharp = model.sharpness(X).mean(1)
        return {"epoch": torch.tensor(epoch), "mse": mse, "sharp": sharp,
                "eps": eps.clone(), "lam": lam.clone()}

    yield read(0)
    for ep in range(1, epochs + 1):
        perm = torch.argsort(torch.rand(base, n, generator=gen), dim=1).repeat(tie_batches, 1)
        perm = perm.to(dev)
        active = torch.isfinite(eps)
        for k in range(nb):
            idx = perm[:, k * batch:(k + 1) * batch]
            xb, yb = X[idx], y[idx]
            mse = ((model(xb) - yb) ** 2).mean(1)
            loss = mse
            if active.any():
                sharp = model.sharpness(xb).mean(1)
                gap = torch.where(active, sharp - torch.where(active, eps, 0.0), 0.0)
                loss = loss + lam * gap
                with torch.no_grad():
                    lam = torch.clamp(lam + dual_lr * gap.detach(), min=0.0)
            opt.zero_grad(set_to_none=True)
            loss.sum().backward()
            opt.step()
        if ep == warm:
            with torch.no_grad():
                s = model.sharpness(X).mean(1)
            # ratio >= 1: the bound sits at or above the sharpness reached, never binding
            eps = torch.where(ratio < 1.0, ratio * s, torch.full_like(s, math.inf))
        yield read(ep)
    for t in model.params():
        t.requires_grad_(False)


def gradient_ascent(model: StackedTanhMLP, X0: torch.Tensor, *, steps: int, lr: float,
                    lo: float, hi: float) -> Iterator[tuple[int, torch.Tensor, torch.Tensor]]:
    """Adam ascent of each model's own prediction from X0 (n, d), clamped to [lo, hi]^d.

    Yields (step, designs (M, n, d), predictions (M, n)) for step 0..steps.
    """
    M = model.W.shape[0]
    Xd = X0.expand(M, *X0.shape).clone().requires_grad_(True)
    opt = torch.optim.Adam([Xd], lr=lr)
    with torch.no_grad():
        yield 0, Xd.detach().clone(), model(Xd)
    for t in range(1, steps + 1):
        opt.zero_grad(set_to_none=True)
        (-model(Xd).sum()).backward()
        opt.step()
        with torch.no_grad():
            Xd.clamp_(lo, hi)
            yield t, Xd.detach().clone(), model(Xd)
