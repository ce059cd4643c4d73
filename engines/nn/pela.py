"""PELA-style low-rank compression of an MLP (Guo, Wang, Kankanhalli, CVPR 2024).

Every compressed Linear W (out x in) becomes B @ A with rank
r = in * out / (ratio * (in + out)) (the repo's rank rule), initialised from the SVD
W = U S V^T as B = U_r sqrt(S_r), A = sqrt(S_r) V_r^T (the repo's sqrt(S) split);
`compress(..., scratch=True)` gives random factors instead (the repo's
`is_approximate=False`). `distill` is the intermediate stage as the repo's DeiT
engine computes it: cross-entropy on the upstream labels + feat_w * (mean over layers of
the feature MSE to the frozen teacher) + kd_w * MSE(logits) + wpr * mean over compressed
layers of (max |B A - W| - eps)^2 (the repo's `inf_norm` weight-perturbation
regulariser: torch.norm(., inf) of a matrix is its largest absolute entry). Pure
numerics, CPU torch, Adam.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def rank_for(n_in: int, n_out: int, ratio: float) -> int:
    return max(1, int(n_in * n_out / (ratio * (n_in + n_out))))


class LowRank(nn.Module):
    def __init__(self, A: torch.Tensor, B: torch.Tensor, bias: torch.Tensor) -> None:
        super().__init__()
        self.A, self.B, self.bias = nn.Parameter(A), nn.Parameter(B), nn.Parameter(bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x @ self.A.T) @ self.B.T + self.bias


def mlp(dims: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(len(dims) - 1):
        layers.append(nn.Linear(dims[i], dims[i + 1]))
        if i < len(dims) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def svd_factors(W: torch.Tensor, r: int) -> tuple[torch.Tensor, torch.Tensor]:
    """B A = the rank-r truncated SVD of W. The SVD runs on one thread: LAPACK's result
    depends on the thread count (MKL's strict reproducibility mode covers matrix products,
    not LAPACK), and every value downstream of these factors moved up to 0.5 % at 2
    threads; the matrices are small enough that one thread costs nothing measurable."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        U, S, Vh = torch.linalg.svd(W, full_matrices=False)
    finally:
        torch.set_num_threads(n)
    s = S[:r].sqrt()
    return (s[:, None] * Vh[:r]).contiguous(), (U[:, :r] * s).contiguous()


def compress(model: nn.Sequential, ratio: float, which: list[int], init: str = "svd",
             gen: torch.Generator | None = None) -> nn.Sequential:
    """A copy of `model` whose Linear layers at positions `which` (indices into the
    Sequential) are low-rank pairs. init "svd": the truncated-SVD factors (PELA, naive
    truncation); "random": random factors, the other layers kept (the repo's
    is_approximate=False); "scratch": a same-size model with every layer re-initialised."""
    import copy

    if init not in ("svd", "random", "scratch"):
        raise ValueError(f"unknown init {init!r}")
    out = copy.deepcopy(model)
    for i in which:
        lin = out[i]
        W, b = lin.weight.detach(), lin.bias.detach().clone()
        r = rank_for(W.shape[1], W.shape[0], ratio)
        if init == "svd":
            A, B = svd_factors(W, r)
        else:
            A = torch.randn(r, W.shape[1], generator=gen) / W.shape[1] ** 0.5
            B = torch.randn(W.shape[0], r, generator=gen) / r ** 0.5
            b = torch.zeros_like(b)
        out[i] = LowRank(A, B, b)
    if init == "scratch":
        for m in out:
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, m.weight.shape[1] ** -0.5, generator=gen)
                nn.init.zeros_(m.bias)
    for q in out.parameters():
        q.requires_grad_(True)
    return out


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def features(model: nn.Sequential, x: torch.Tensor) -> list[torch.Tensor]:
    """Output of every Linear / LowRank layer (pre-activation), logits last."""
    feats = []
    for m in model:
        x = m(x)
        if not isinstance(m, nn.ReLU):
            feats.append(x)
    return feats


def truncation_error(W: torch.Tensor, r: int) -> float:
    A, B = svd_factors(W, r)
    return float(torch.linalg.norm(W - B @ A))


def train(model: nn.Module, X: torch.Tensor, y: torch.Tensor, steps: int, lr: float,
          noise: float = 0.0, gen: torch.Generator | None = None, eval_fn=None,
          every: int = 10, batch: int = 0):
    """Adam on cross-entropy (full batch, or `batch` rows drawn with `gen` each step);
    yields (step, loss, eval) every `every` steps."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for t in range(1, steps + 1):
        if 0 < batch < len(y):
            idx = torch.randint(len(y), (batch,), generator=gen)
            xb, yb = X[idx], y[idx]
        else:
            xb, yb = X, y
        if noise > 0:
            xb = xb + noise * torch.randn(xb.shape, generator=gen)
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if t % every == 0 or t == steps:
            yield t, float(loss.detach()), (eval_fn() if eval_fn else None)


def wpr_penalty(student: nn.Sequential, teacher: nn.Sequential, which: list[int],
                eps: float = 1e-3) -> torch.Tensor:
    """The repo's weight-perturbation regulariser: mean over the compressed layers of
    (max |B A - W| - eps)^2."""
    terms = [(torch.abs(student[i].B @ student[i].A - teacher[i].weight).max() - eps) ** 2
             for i in which]
    return torch.stack(terms).mean()


def distill(student: nn.Sequential, teacher: nn.Sequential, X: torch.Tensor,
            y: torch.Tensor, steps: int, lr: float, which: list[int], ce_w: float = 1.0,
            feat_w: float = 1.0, kd_w: float = 0.0, wpr: float = 0.0, every: int = 10,
            batch: int = 0, gen: torch.Generator | None = None):
    """PELA's intermediate stage (the repo's loss, see the module docstring), full batch
    or `batch` rows drawn with `gen` each step; yields (step, loss) every `every` steps."""
    with torch.no_grad():
        tf_all = features(teacher, X)
    opt = torch.optim.Adam(student.parameters(), lr=lr)
    for t in range(1, steps + 1):
        if 0 < batch < len(y):
            idx = torch.randint(len(y), (batch,), generator=gen)
            xb, yb, tf = X[idx], y[idx], [f[idx] for f in tf_all]
        else:
            xb, yb, tf = X, y, tf_all
        sf = features(student, xb)
        feat = sum(F.mse_loss(s, q) for s, q in zip(sf[:-1], tf[:-1])) / (len(sf) - 1)
        loss = ce_w * F.cross_entropy(sf[-1], yb) + feat_w * feat
        if kd_w > 0:
            loss = loss + kd_w * F.mse_loss(sf[-1], tf[-1])
        if wpr > 0:
            loss = loss + wpr * wpr_penalty(student, teacher, which)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if t % every == 0 or t == steps:
            yield t, float(loss.detach())


@torch.no_grad()
def accuracy(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    return float((model(X).argmax(-1) == y).float().mean())
