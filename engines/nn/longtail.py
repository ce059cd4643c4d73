"""Long-tailed learning pieces: class counts, logit adjustment, backdoor averaging, and a
stack of small MLP "foundation models" trained side by side (Chen et al. 2025).

- `longtail_counts`: exponential profile n_i = head * ratio^(-i/(K-1)) (Cui et al. 2019),
  so class 0 has `head` samples and class K-1 has head / ratio.
- `logit_adjusted_ce`: the logit-adjustment loss (Menon et al. 2021, eq. 10),
  CE(f(x) + tau * log pi, y); at test time the raw f(x) is used, which is Fisher
  consistent for the balanced error when tau = 1.
- `backdoor_average`: P(y | do(x)) = sum_z P(y | x, z) P(z) (Chen et al. 2025, eq. 6):
  the P(z)-weighted mean of each model's softmax.
- `StackedMLP`: M encoders x -> relu(x W1 + b1) W2 + b2 -> relu -> features, and a
  linear head per model, held as stacked weights and applied with one batched matmul,
  so that M independently initialised models train in one tensor program. Adam is
  elementwise, so training the stack on the sum of the per-model losses is the same as
  training each model alone.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def longtail_counts(n_classes: int, head: int, ratio: float) -> list[int]:
    """Samples per class, largest first: round(head * ratio^(-i/(K-1))), at least 1."""
    if n_classes == 1:
        return [head]
    return [max(1, round(head * ratio ** (-i / (n_classes - 1)))) for i in range(n_classes)]


def log_prior(counts: torch.Tensor) -> torch.Tensor:
    """log pi_y of the empirical label distribution (counts along the last axis)."""
    if not counts.is_floating_point():
        counts = counts.float()
    return torch.log(counts / counts.sum(-1, keepdim=True))


def logit_adjusted_ce(logits: torch.Tensor, y: torch.Tensor, log_pi: torch.Tensor,
                      tau: float = 1.0) -> torch.Tensor:
    """Mean logit-adjusted cross-entropy, CE(logits + tau * log_pi, y) (Menon et al. eq. 10).

    logits: (..., n, K); y: (..., n); log_pi: (K,). Returns the mean over every axis but
    the leading ones of y's batch axis, i.e. shape (...).
    """
    adjusted = logits + tau * log_pi
    logp = torch.log_softmax(adjusted, dim=-1)
    return -logp.gather(-1, y.unsqueeze(-1)).squeeze(-1).mean(-1)


def backdoor_average(logits: torch.Tensor, p_z: torch.Tensor | None = None) -> torch.Tensor:
    """sum_z P(z) softmax(logits_z): logits (Z, n, K) -> probabilities (n, K).

    p_z: weights over the Z confounder values (uniform when None; normalised here).
    """
    probs = torch.softmax(logits, dim=-1)
    if p_z is None:
        return probs.mean(0)
    p_z = p_z.to(probs) / p_z.sum()
    return torch.einsum("z,znk->nk", p_z, probs)


class StackedMLP(nn.Module):
    """M two-layer ReLU encoders d_in -> hidden -> d_feat (ReLU) and M linear heads to K
    classes, as stacked weights. Inputs (M, n, d_in) -> logits (M, n, K)."""

    def __init__(self, n_models: int, d_in: int, hidden: int, d_feat: int, n_classes: int,
                 gen: torch.Generator | None = None):
        super().__init__()

        def init(fan_in: int, *shape: int) -> nn.Parameter:
            # PyTorch's nn.Linear default: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
            bound = 1.0 / math.sqrt(fan_in)
            return nn.Parameter((torch.rand(n_models, *shape, generator=gen) * 2 - 1) * bound)

        self.W1, self.b1 = init(d_in, d_in, hidden), init(d_in, 1, hidden)
        self.W2, self.b2 = init(hidden, hidden, d_feat), init(hidden, 1, d_feat)
        self.W3, self.b3 = init(d_feat, d_feat, n_classes), init(d_feat, 1, n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(torch.baddbmm(self.b1, x, self.W1))
        return torch.relu(torch.baddbmm(self.b2, h, self.W2))

    def head(self, feats: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(self.b3, feats, self.W3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def train_linear_heads(feats: torch.Tensor, y: torch.Tensor, W: torch.Tensor, b: torch.Tensor,
                       log_pi: torch.Tensor, taus: torch.Tensor, steps: int, lr: float
                       ) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
    """Full-batch Adam on H stacked linear heads over frozen features.

    feats (H, n, d), y (n,) or (H, n), W (H, d, K) and b (H, 1, K) the starting heads
    (copied), log_pi (K,) or (H, K): the train prior of each head's data, taus (H,): the
    logit-adjustment strength of each head's loss (0 = plain CE).
    Returns the trained (W, b) and the per-step loss of every head, (H,) per step.
    """
    W = W.detach().clone().requires_grad_(True)
    b = b.detach().clone().requires_grad_(True)
    opt = torch.optim.Adam([W, b], lr=lr)
    ys = y.expand(feats.shape[0], -1)
    offset = taus.view(-1, 1, 1) * log_pi.reshape(-1, 1, log_pi.shape[-1])
    losses = []
    for _ in range(steps):
        logits = torch.baddbmm(b, feats, W) + offset
        logp = torch.log_softmax(logits, dim=-1)
        per_head = -logp.gather(-1, ys.unsqueeze(-1)).squeeze(-1).mean(-1)
        opt.zero_grad(set_to_none=True)
        per_head.sum().backward()
        opt.step()
        losses.append(per_head.detach())
    return W.detach(), b.detach(), losses
