"""IncreLoRA-style incremental rank allocation (Zhang et al. 2023, arXiv 2308.12043) on a
stack of frozen MLPs: several allocation methods trained side by side in one tensor program.

Every method m and module (layer) l carries an SVD-form update ΔW_{m,l} = P diag(λ ⊙ mask) Q
with P (d x R_max), λ (R_max), Q (R_max x d); `mask` switches rank components on. Uniform LoRA
fixes the mask; IncreLoRA starts with a few components per module and switches on more in the
modules with the largest importance score, AdaLoRA's sensitivity EMA

    I = |θ ⊙ ∇θ L|,  Ī <- β Ī + (1 - β) I,  Ū <- β Ū + (1 - β) |I - Ī|,  s = Ī ⊙ Ū,

averaged per module over its active entries of P, λ and Q (IncreLoRA §3.2). A new component
starts with λ = 0 (the function is unchanged) and random unit-scale P, Q columns.

Numerics only: `make_world` (frozen backbone and a target with heterogeneous-rank changes),
`forward` (stacked serial MLPs), `forward_parallel` / `split_branches` / `branches`
(modules on parallel branches, one batched product), `delta`, `SensitivityEMA`,
`module_scores`. The optimizer is the shared `engines.lm.stacked_train.StackedAdamW` (Adam
with a learning rate per stacked model, weight decay 0).
"""

from __future__ import annotations

import numpy as np
import torch


def make_world(seed: int | list[int], width: int, true_ranks: list[int], delta_scale: float,
               gain: float) -> dict[str, np.ndarray]:
    """Frozen weights W (L, d, d) ~ N(0, gain²/d) and changes Δ (L, d, d), Δ_l = c U_l V_l^T
    with orthonormal U_l, V_l (d x r_l): every true rank component has singular value
    c = delta_scale (equal weight), so a module's share of the target is proportional to r_l.
    `seed` is an int or a list of ints (numpy's SeedSequence entropy)."""
    rng = np.random.default_rng(seed)
    L, d = len(true_ranks), width
    W = rng.standard_normal((L, d, d)) * gain / np.sqrt(d)
    D = np.zeros((L, d, d))
    for i, r in enumerate(true_ranks):
        if r > 0:
            U = np.linalg.qr(rng.standard_normal((d, r)))[0]
            V = np.linalg.qr(rng.standard_normal((d, r)))[0]
            D[i] = delta_scale * U @ V.T
    V = rng.standard_normal((L, d, d)) / np.sqrt(d)
    return {"W": W.astype(np.float32), "D": D.astype(np.float32), "V": V.astype(np.float32)}


def forward(W: torch.Tensor, dW: torch.Tensor | None, x: torch.Tensor) -> torch.Tensor:
    """Stacked serial MLPs: W (L, d, d) or (M, L, d, d) frozen, dW (M, L, d, d) or None,
    x (M, n, d) or (n, d). h <- tanh(h (W_l + ΔW_l)^T) for l < L; the last layer is linear."""
    h = x
    L = W.shape[-3]
    for i in range(L):
        w = W[..., i, :, :]
        if dW is not None:
            w = w + dW[:, i]
        h = h @ w.transpose(-1, -2)
        if i < L - 1:
            h = torch.tanh(h)
    return h


def split_branches(x: torch.Tensor, L: int) -> torch.Tensor:
    """x (..., n, L*d) -> its L input slices stacked, (..., L, n, d) (contiguous)."""
    return x.unflatten(-1, (L, x.shape[-1] // L)).transpose(-2, -3).contiguous()


def branches(w: torch.Tensor, V: torch.Tensor, xs: torch.Tensor) -> torch.Tensor:
    """y = sum_l tanh(x_l w_l^T) V_l^T with w, V (..., L, d, d) and the slices
    xs (..., L, n, d) of `split_branches`; leading axes broadcast. Returns (..., n, d)."""
    h = torch.tanh(xs @ w.transpose(-1, -2))
    return torch.einsum("...lnk,...lok->...no", h, V)


def forward_parallel(W: torch.Tensor, V: torch.Tensor, dW: torch.Tensor | None,
                     x: torch.Tensor) -> torch.Tensor:
    """Parallel branches over disjoint input slices: x (M, n, L*d) or (n, L*d) is split into
    L slices x_l and y = sum_l tanh(x_l (W_l + ΔW_l)^T) V_l^T with W, V (L, d, d) or
    (M, L, d, d) frozen. No branch can absorb another's change, so every module's needed
    rank is identifiable."""
    w = W if dW is None else W + dW
    return branches(w, V, split_branches(x, W.shape[-3]))


def delta(P: torch.Tensor, lam: torch.Tensor, Q: torch.Tensor,
          mask: torch.Tensor) -> torch.Tensor:
    """ΔW (M, L, d, d) = P diag(λ ⊙ mask) Q with P (M, L, d, R), λ, mask (M, L, R),
    Q (M, L, R, d)."""
    return (P * (lam * mask).unsqueeze(-2)) @ Q


class SensitivityEMA:
    """AdaLoRA/IncreLoRA smoothed sensitivity s = Ī ⊙ Ū of each tensor entry."""

    def __init__(self, shapes: list[tuple[int, ...]], beta: float,
                 device: torch.device | str | None = None) -> None:
        self.beta = beta
        self.I = [torch.zeros(s, device=device) for s in shapes]
        self.U = [torch.zeros(s, device=device) for s in shapes]

    def update(self, params: list[torch.Tensor]) -> None:
        b = self.beta
        for i, p in enumerate(params):
            cur = (p.detach() * p.grad.detach()).abs()
            self.I[i].mul_(b).add_((1 - b) * cur)
            self.U[i].mul_(b).add_((1 - b) * (cur - self.I[i]).abs())

    def scores(self) -> list[torch.Tensor]:
        return [i * u for i, u in zip(self.I, self.U)]


def module_scores(sP: torch.Tensor, slam: torch.Tensor, sQ: torch.Tensor,
                  mask: torch.Tensor) -> torch.Tensor:
    """Per-(method, module) mean score over the active entries of P (M, L, d, R),
    λ (M, L, R) and Q (M, L, R, d); mask (M, L, R). Returns (M, L)."""
    d = sP.shape[-2]
    tot = ((sP * mask.unsqueeze(-2)).sum((-1, -2)) + (slam * mask).sum(-1)
           + (sQ * mask.unsqueeze(-1)).sum((-1, -2)))
    n = mask.sum(-1) * (2 * d + 1)
    return tot / n.clamp(min=1)
