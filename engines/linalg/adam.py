"""Adam on numpy arrays: torch.optim.Adam's update (Kingma & Ba 2015; no weight decay, no
amsgrad), for the numpy engines (tests/test_embedding_projection.py checks it against
torch.optim.Adam)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Adam:
    """torch.optim.Adam's update (no weight decay, no amsgrad) on a numpy array, in place."""

    lr: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    t: int = 0
    m: np.ndarray | None = None
    v: np.ndarray | None = None

    def step(self, x: np.ndarray, grad: np.ndarray) -> None:
        if self.m is None:
            self.m, self.v = np.zeros_like(x), np.zeros_like(x)
        self.t += 1
        self.m = self.beta1 * self.m + (1 - self.beta1) * grad
        self.v = self.beta2 * self.v + (1 - self.beta2) * grad * grad
        denom = np.sqrt(self.v) / np.sqrt(1 - self.beta2 ** self.t) + self.eps
        x -= (self.lr / (1 - self.beta1 ** self.t)) * self.m / denom
