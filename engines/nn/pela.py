"""PELA-style low-rank compression of an MLP (Guo, Wang, Kankanhalli, CVPR 2024).

Every compressed Linear W (out x in) becomes B @ A with rank
r = in * out / (ratio * (in + out)) (the repo's rank rule), initialised from the SVD
W = U S V^T as B = U_r sqrt(S_r), A = sqrt(S_r) V_r^T (the repo's sqrt(S) split).
`distill` is the intermediate stage: layer-wise feature MSE to the frozen teacher +
KL on the logits + wpr * ||theta - theta_init||^2 (a stand-in for the paper's weight-
perturbation regulariser). Pure numerics, CPU torch, full-batch Adam.
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
    U, S, Vh = torch.linalg.svd(W, full_matrices=False)
    s = S[:r].sqrt()
    return (s[:, None] * Vh[:r]).contiguous(), (U[:, :r] * s).contiguous()


def compress(model: nn.Sequential, ratio: float, which: list[int], scratch: bool = False,
             gen: torch.Generator | None = None) -> nn.Sequential:
    """A copy of `model` whose Linear layers at positions `which` (indices into the
    Sequential) are low-rank: SVD-initialised, or random (`scratch`, the contrast)."""
    import copy

    out = copy.deepcopy(model)
    for i in which:
        lin = out[i]
        W, b = lin.weight.detach(), lin.bias.detach().clone()
        r = rank_for(W.shape[1], W.shape[0], ratio)
        if scratch:
            A = torch.randn(r, W.shape[1], generator=gen) / W.shape[1] ** 0.5
            B = torch.randn(W.shape[0], r, generator=gen) / r ** 0.5
            b = torch.zeros_like(b)
        else:
            A, B = svd_factors(W, r)
        out[i] = LowRank(A, B, b)
    if scratch:  # a same-size model from scratch: re-init the dense layers too
        for m in out:
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, m.weight.shape[1] ** -0.5, generator=gen)
                nn.init.zeros_(m.bias)
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
          every: int = 10):
    """Full-batch Adam on cross-entropy; yields (step, loss, eval) every `every` steps."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for t in range(1, steps + 1):
        xb = X + noise * torch.randn(X.shape, generator=gen) if noise > 0 else X
        loss = F.cross_entropy(model(xb), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if t % every == 0 or t == steps:
            yield t, float(loss), (eval_fn() if eval_fn else None)


def distill(student: nn.Sequential, teacher: nn.Sequential, X: torch.Tensor, steps: int,
            lr: float, feat_w: float, kd_w: float, wpr: float, every: int = 10):
    """PELA's intermediate stage; yields (step, loss) every `every` steps."""
    init = [p.detach().clone() for p in student.parameters()]
    with torch.no_grad():
        tf = features(teacher, X)
    opt = torch.optim.Adam(student.parameters(), lr=lr)
    for t in range(1, steps + 1):
        sf = features(student, X)
        feat = sum(F.mse_loss(s, q) for s, q in zip(sf[:-1], tf[:-1]))
        kd = F.kl_div(F.log_softmax(sf[-1], -1), F.log_softmax(tf[-1], -1),
                      log_target=True, reduction="batchmean")
        reg = sum(((p - p0) ** 2).sum() for p, p0 in zip(student.parameters(), init))
        loss = feat_w * feat + kd_w * kd + wpr * reg
        opt.zero_grad()
        loss.backward()
        opt.step()
        if t % every == 0 or t == steps:
            yield t, float(loss)


@torch.no_grad()
def accuracy(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    return float((model(X).argmax(-1) == y).float().mean())
