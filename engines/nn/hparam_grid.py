"""A grid of teacher-student regression runs over (width, data, batch, learning rate),
trained as stacked programs, and the optimum read off each loss-vs-lr curve (torch).

Teacher. x ~ N(0, I_d); f(x) = v . tanh(W x / sqrt(d) + c), width `teacher_width`,
scaled so that Var f = 1; labels y = f(x) + noise * eps. Loss of a student g: the excess
risk E (g - f)^2 on a fixed set of fresh inputs plus noise^2, i.e. the expected test MSE
on noisy labels (the analogue of a validation loss with its irreducible floor).

Students. Two-hidden-layer ReLU MLPs d -> w -> w -> 1 in the standard parameterization
(nn.Linear's init, U(+-1/sqrt(fan_in))), N = d w + w^2 + w + 3 w + 1 parameters. One cell
(w, D, B) trains all its learning rates side by side as ONE stacked program: K models of
one shape (weights (K, fan_in, fan_out), baddbmm), every model starting from the same init
and reading the same D = steps * B fresh samples (common random numbers: the loss-vs-lr
curve of a cell has no noise from init or data order, only from the lr itself).

Optimizer: AdamW (engines/lm/stacked_train.StackedAdamW: decoupled weight decay, as
torch.optim.AdamW, a peak lr per model) on views of the flat parameters, linear warm-up
over `warmup` of the steps, cosine decay to `final` x peak. `lr_scaling`
'mup' is muP for Adam (Yang et al. 2022, Table 3) relative to `base_width`: the lr of the
hidden and output weight matrices x base_width / w (updates shrink as 1/fan_in) and the
output layer's init x sqrt(base_width / w) (variance 1/fan_in^2); input weights and biases
as in SP. It is the transfer rule under which the optimal lr stops moving with width.

`log_optimum` locates the optimum of a loss-vs-log2(lr) curve by a parabola through the
grid minimum and its two neighbours (vertex clipped to their span), the smoothing the
spec recommends over the raw argmin.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..lm.stacked_train import StackedAdamW


@dataclass(frozen=True)
class TanhTeacher:
    W: np.ndarray  # (width, d)
    c: np.ndarray  # (width,)
    v: np.ndarray  # (width,)
    noise: float

    @classmethod
    def draw(cls, rng: np.random.Generator, d: int = 16, width: int = 64,
             noise: float = 0.1) -> TanhTeacher:
        W = rng.standard_normal((width, d))
        c = 0.5 * rng.standard_normal(width)
        v = rng.standard_normal(width)
        probe = np.tanh(rng.standard_normal((8192, d)) @ W.T / np.sqrt(d) + c) @ v
        return cls(W, c, v / probe.std(), float(noise))

    @property
    def d(self) -> int:
        return self.W.shape[1]

    def __call__(self, X: np.ndarray) -> np.ndarray:
        return np.tanh(X @ self.W.T / np.sqrt(self.d) + self.c) @ self.v

    def sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        X = rng.standard_normal((n, self.d))
        return X, self(X) + self.noise * rng.standard_normal(n)


def n_params(d: int, width: int) -> int:
    return d * width + width + width * width + width + width + 1


class StackedMLP(torch.nn.Module):
    """K two-hidden-layer ReLU MLPs of one width: forward(x (K, B, d)) -> (K, B). All
    parameters of model k live in one flat row theta[k] (P,), read through views, so the
    optimizer is a few element-wise ops on one (K, P) tensor (the runs are many short,
    small-batch programs: per-op overhead, not arithmetic, sets their cost)."""

    def __init__(self, k: int, d: int, width: int, generator: torch.Generator,
                 inits: int = 1, out_scale: float = 1.0) -> None:
        """k models; `inits` independent initialisations, model i gets init i // (k //
        inits) (consecutive blocks share one init); `out_scale` multiplies the output
        layer's initial weights (muP: sqrt(base_width / width))."""
        super().__init__()
        if k % inits:
            raise ValueError(f"inits: must divide k ({k}), got {inits}")
        dims = [d, width, width, 1]
        self.shapes = []  # (offset, fan_in, fan_out) of each layer in theta
        self.matrices = []  # [start, end) of each weight matrix in theta
        off = 0
        for a, b in zip(dims[:-1], dims[1:]):
            self.shapes.append((off, a, b))
            self.matrices.append((off, off + a * b))
            off += a * b + b
        rows = []
        for _ in range(inits):
            parts = []
            for i, (_, a, b) in enumerate(self.shapes):
                bound = a ** -0.5
                scale = out_scale if i == len(self.shapes) - 1 else 1.0
                parts.append((torch.rand(a * b, generator=generator) * 2 - 1) * bound * scale)
                parts.append((torch.rand(b, generator=generator) * 2 - 1) * bound)
            rows.append(torch.cat(parts).expand(k // inits, off))
        self.theta = torch.nn.Parameter(torch.cat(rows).clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        K = self.theta.shape[0]
        h = x
        last = len(self.shapes) - 1
        for i, (off, a, b) in enumerate(self.shapes):
            W = self.theta[:, off:off + a * b].view(K, a, b)
            c = self.theta[:, off + a * b:off + a * b + b].view(K, 1, b)
            h = torch.baddbmm(c, h, W)
            if i < last:
                h = torch.relu(h)
        return h[..., 0]

    def views(self, flat: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(W (K, a, b), c (K, 1, b)) views of each layer into a (K, P) tensor."""
        K = flat.shape[0]
        return [(flat[:, off:off + a * b].view(K, a, b),
                 flat[:, off + a * b:off + a * b + b].view(K, 1, b))
                for off, a, b in self.shapes]

    @torch.no_grad()
    def mse_grad(self, x: torch.Tensor, y: torch.Tensor, out: torch.Tensor) -> None:
        """Write d/dtheta of each model's mean squared error on (x (K, B, d), y (K, B))
        into `out` (K, P): the backward pass by hand (three layers, ReLU), the same
        numbers as autograd (tests) at a fraction of its per-op overhead."""
        (W1, c1), (W2, c2), (W3, c3) = self.views(self.theta)
        (G1, g1), (G2, g2), (G3, g3) = self.views(out)
        h1 = torch.relu(torch.baddbmm(c1, x, W1))
        h2 = torch.relu(torch.baddbmm(c2, h1, W2))
        e = torch.baddbmm(c3, h2, W3)
        e = (e - y[..., None]).mul_(2.0 / x.shape[1])  # d loss / d output, (K, B, 1)
        torch.bmm(h2.transpose(1, 2), e, out=G3)
        torch.sum(e, 1, keepdim=True, out=g3)
        d2 = torch.bmm(e, W3.transpose(1, 2)).mul_(h2 > 0)
        G2.copy_(torch.bmm(h1.transpose(1, 2), d2))
        torch.sum(d2, 1, keepdim=True, out=g2)
        d1 = torch.bmm(d2, W2.transpose(1, 2)).mul_(h1 > 0)
        G1.copy_(torch.bmm(x.transpose(1, 2), d1))
        torch.sum(d1, 1, keepdim=True, out=g1)


def lr_factor(steps: int, warmup: float = 0.05, final: float = 0.1) -> np.ndarray:
    """Multiplier of the peak lr at steps 1..steps: linear warm-up, cosine to `final`."""
    t = np.arange(1, steps + 1, dtype=float)
    w = max(1, int(round(warmup * steps)))
    frac = np.clip((t - w) / max(1, steps - w), 0.0, 1.0)
    return np.where(t <= w, t / w, final + (1 - final) * 0.5 * (1 + np.cos(np.pi * frac)))


def _lr_groups(model: StackedMLP, width: int, lr_scaling: str,
              base_width: int) -> dict[float, list[tuple[int, int]]]:
    """Column spans [start, end) of theta per lr multiplier: all 1 in SP (one span, the
    whole row); muP: the hidden and output weight matrices x base_width / width."""
    scaled = set(model.matrices[1:]) if lr_scaling == "mup" else set()
    pieces = []
    for off, a, b in model.shapes:
        pieces.append((off, off + a * b, base_width / width if (off, off + a * b) in scaled
                       else 1.0))
        pieces.append((off + a * b, off + a * b + b, 1.0))
    groups: dict[float, list[tuple[int, int]]] = {}
    for start, end, mult in pieces:
        spans = groups.setdefault(mult, [])
        if spans and spans[-1][1] == start:
            spans[-1] = (spans[-1][0], end)  # merge with the previous span
        else:
            spans.append((start, end))
    return groups


def train_cell(teacher: TanhTeacher, width: int, D: int, B: int, lrs: Sequence[float], *,
               rng: np.random.Generator, generator: torch.Generator, X_test: torch.Tensor,
               f_test: torch.Tensor, betas: tuple[float, float] = (0.9, 0.95),
               weight_decay: float = 0.1, warmup: float = 0.05, final: float = 0.1,
               lr_scaling: str = "sp", base_width: int = 16, eps: float = 1e-8,
               replicates: int = 1, device: str | torch.device = "cpu",
               should_stop: Callable[[], bool] | None = None) -> np.ndarray:
    """Train one cell's runs and return their final losses (replicates, len(lrs)): excess
    risk on X_test plus noise^2; NaN for a run that diverged. A replicate is an own init
    and own data stream shared by all its lrs (so an lr appended to `lrs` is trained with
    the same inits and data as the others). AdamW as torch.optim.AdamW (StackedAdamW, one
    per lr multiplier: muP scales some matrices' lr): p <- p (1 - lr wd), then the
    bias-corrected Adam step."""
    R, n_lr = replicates, len(lrs)
    K = R * n_lr
    steps = max(1, D // B)
    out_scale = (base_width / width) ** 0.5 if lr_scaling == "mup" else 1.0
    model = StackedMLP(K, teacher.d, width, generator, inits=R, out_scale=out_scale).to(device)
    theta = model.theta
    grad = torch.zeros_like(theta)
    optimizers = []  # one StackedAdamW per lr multiplier, over views of theta and grad
    for mult, spans in _lr_groups(model, width, lr_scaling, base_width).items():
        views = []
        for start, end in spans:
            view = theta.detach()[:, start:end]
            view.grad = grad[:, start:end]  # mse_grad writes into `grad`, hence here
            views.append(view)
        optimizers.append((mult, StackedAdamW(views, betas=betas, eps=eps,
                                              weight_decay=weight_decay)))
    peak = torch.tensor(list(lrs) * R, dtype=torch.float32, device=device)  # (K,)
    sched = lr_factor(steps, warmup, final)
    X, y = teacher.sample(rng, steps * R * B)
    X = torch.as_tensor(X, dtype=torch.float32, device=device).reshape(steps, R, 1, B, -1)
    y = torch.as_tensor(y, dtype=torch.float32, device=device).reshape(steps, R, 1, B)
    for t in range(1, steps + 1):
        xb = X[t - 1].expand(R, n_lr, B, teacher.d).reshape(K, B, teacher.d)
        model.mse_grad(xb, y[t - 1].expand(R, n_lr, B).reshape(K, B), grad)
        for mult, opt in optimizers:
            opt.lr = peak * (mult * float(sched[t - 1]))
            opt.step()
        if should_stop is not None and should_stop():
            break
    with torch.no_grad():
        pred = model(X_test.expand(K, *X_test.shape))
        risk = ((pred - f_test) ** 2).mean(1).double().cpu().numpy()
    out = risk + teacher.noise ** 2
    out[~np.isfinite(out)] = np.nan
    return out.reshape(R, n_lr)


def log_optimum(log2_lrs: Sequence[float], losses: Sequence[float]) -> tuple[float, bool]:
    """(log2 lr at the optimum, interior?) of one loss curve: the vertex of the parabola
    in log(loss) through the grid minimum and its neighbours, clipped to their span; the
    grid edge itself (interior False) when the minimum sits on an edge. NaN losses
    (diverged runs) count as +inf."""
    x = np.asarray(log2_lrs, dtype=float)
    y = np.log(np.where(np.isfinite(losses), losses, np.inf))
    i = int(np.argmin(y))
    if i == 0 or i == len(x) - 1 or not np.all(np.isfinite(y[i - 1:i + 2])):
        return float(x[i]), 0 < i < len(x) - 1
    a, b, _ = np.polyfit(x[i - 1:i + 2], y[i - 1:i + 2], 2)
    if a <= 0:
        return float(x[i]), True
    return float(np.clip(-b / (2 * a), x[i - 1], x[i + 1])), True


def loss_at(log2_lrs: Sequence[float], losses: Sequence[float], log2_lr: float) -> float:
    """Loss at an lr off the grid: linear interpolation of log(loss) in log2(lr), the
    nearest edge value outside the grid (diverged runs count as NaN -> the result is NaN
    when it is needed)."""
    x = np.asarray(log2_lrs, dtype=float)
    y = np.log(np.asarray(losses, dtype=float))
    return float(np.exp(np.interp(log2_lr, x, y)))


__all__ = ["StackedMLP", "TanhTeacher", "log_optimum", "loss_at", "lr_factor", "n_params",
           "train_cell"]
