"""XOR cluster data and the two-layer ReLU net of Xu, Wang, Frei, Vardi & Hu (2023).

Data model (their Section 2): two orthogonal means mu1, mu2 with ||mu1|| = ||mu2||; a point
is x = s * mu_k + xi with s = +-1 and xi ~ N(0, I_d); clusters +-mu1 carry label +1 and
clusters +-mu2 label -1, so the label is an XOR of the two directions and no linear
classifier does better than chance. Each training label is flipped independently with
probability eta; test labels are clean.

Network: f(x) = sum_j a_j ReLU(<w_j, x>) with the second layer a_j = +-1/sqrt(m) fixed (half
of each sign) and the first layer at a tiny Gaussian init, trained by full-batch GD on the
logistic loss (built on `models.MLP`, trained with `torch_train.train`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch.nn import functional as F

from . import models


@dataclass(frozen=True)
class XORClusters:
    X: torch.Tensor  # (n, d) training inputs
    y: torch.Tensor  # (n,) observed labels in {-1, +1}, a fraction eta flipped
    flipped: torch.Tensor  # (n,) bool, which training labels were flipped
    X_test: torch.Tensor  # (n_test, d)
    y_test: torch.Tensor  # (n_test,) clean labels
    mu: torch.Tensor  # (2, d) the means mu1, mu2

    def to(self, device: str) -> XORClusters:
        return XORClusters(*(t.to(device) for t in (self.X, self.y, self.flipped, self.X_test,
                                                       self.y_test, self.mu)))


def xor_clusters(n: int, d: int, mu_norm2: float, eta: float, n_test: int, *,
                 generator: torch.Generator) -> XORClusters:
    """Draw a training set (labels flipped with prob. eta) and a clean test set (float32)."""
    g = generator
    # two random orthogonal directions scaled to ||mu||^2 = mu_norm2
    Q, _ = torch.linalg.qr(torch.randn(d, 2, generator=g))
    mu = Q.T * math.sqrt(mu_norm2)

    def sample(k: int) -> tuple[torch.Tensor, torch.Tensor]:
        cluster = torch.randint(0, 2, (k,), generator=g)  # 0: +-mu1, 1: +-mu2
        sign = torch.randint(0, 2, (k,), generator=g).float() * 2 - 1
        x = sign[:, None] * mu[cluster] + torch.randn(k, d, generator=g)
        y = 1.0 - 2.0 * cluster.float()  # +1 on +-mu1, -1 on +-mu2
        return x, y

    X, y_clean = sample(n)
    flipped = torch.rand(n, generator=g) < eta
    y = torch.where(flipped, -y_clean, y_clean)
    X_test, y_test = sample(n_test)
    return XORClusters(X, y, flipped, X_test, y_test, mu)


def two_layer_relu(d: int, m: int, init_scale: float, *,
                   generator: torch.Generator) -> models.MLP:
    """f(x) = sum_j a_j ReLU(<w_j, x>), w_j ~ N(0, init_scale^2 I), a_j = +-1/sqrt(m) frozen."""
    net = models.MLP(d, [m], 1, activation="relu", bias=False)
    models.init_normal_(net, [init_scale, 0.0], generator=generator)
    second = net.layers[1]
    with torch.no_grad():
        a = torch.ones(m)
        a[m // 2:] = -1.0
        second.weight.copy_(a[None, :] / math.sqrt(m))
    second.weight.requires_grad_(False)
    return net


def logistic_loss(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(1/n) sum_i log(1 + exp(-y_i f(x_i)))."""
    return F.softplus(-y * out.reshape(-1)).mean()


def one_step_linear_scores(X: torch.Tensor, y: torch.Tensor, X_eval: torch.Tensor) -> torch.Tensor:
    """<sum_i y_i x_i, x>: the linear classifier that the net is close to after one GD step
    from a tiny init (each neuron moves by ~ a_j sum_i y_i x_i over its active points)."""
    return X_eval @ (X.T @ y)


def mean_abs_cosine(W: torch.Tensor, mu: torch.Tensor) -> torch.Tensor:
    """mean_j |cos(w_j, mu_k)| for each mean mu_k: how far the neurons align to features."""
    cos = (W @ mu.T) / (W.norm(dim=1, keepdim=True) * mu.norm(dim=1)[None, :]).clamp_min(1e-30)
    return cos.abs().mean(dim=0)
