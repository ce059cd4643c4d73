"""Data pruning by early-training scores (Paul, Ganguli, Dziugaite 2021, "Deep Learning on a
Data Diet"), with the pieces a toy reproduction needs.

- `ClusterMixture`: K classes in R^d, each a mixture of one big Gaussian sub-cluster (most
  of the class: redundant, "easy" data) and a few rare ones (the informative tail).
- `el2n`: the Error L2-Norm score, ||softmax(f(x)) - onehot(y)||_2 (paper, eq. 2).
- `grand`: the GraNd score, ||d loss(x, y) / d theta||_2 over every weight and bias
  (paper, eq. 1). For an MLP the per-example gradient of layer l is the outer product
  a_{l-1} delta_l^T (Goodfellow 2015), so its squared norm is
  (||a_{l-1}||^2 + 1) ||delta_l||^2 with the bias: exact, no per-example backward pass
  (tests check it against torch.func's per-example gradients).
- `select`: which examples a pruned data set keeps (the top, bottom or a random subset of
  the scores, with the paper's offset: skip the `offset` highest scores first, Sec. 5);
  `select_per_class` does it within each class.
- `subset_schedule` + `train_stacked`: K MLPs of one shape (`models.StackedMLP`) train side
  by side, model k on its own subset of the training set, all for the same number of
  SGD steps (the official code fixes the step count whatever the subset size: 200 epochs
  of the full set's steps). SGD with momentum and weight decay is element-wise and the
  models share no parameter, so the stack trains each model as a lone run would.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from .models import StackedMLP


@dataclass(frozen=True)
class ClusterMixture:
    """centres (K, S, d): class k's sub-cluster s centre; weights (S,): the within-class
    share of each sub-cluster (weights[0] the big one); noise: within-cluster std."""

    centres: np.ndarray
    weights: np.ndarray
    noise: float

    @property
    def n_classes(self) -> int:
        return self.centres.shape[0]

    def sample(self, rng: np.random.Generator, n: int
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """n points with balanced classes (class i % K): X (n, d), y (n,), sub (n,) the
        sub-cluster index (0 = big, >= 1 = rare), in random order."""
        K, _, d = self.centres.shape
        y = rng.permutation(np.arange(n) % K)
        sub = rng.choice(len(self.weights), size=n, p=self.weights)
        X = self.centres[y, sub] + self.noise * rng.standard_normal((n, d))
        return X.astype(np.float32), y.astype(np.int64), sub.astype(np.int64)


def cluster_mixture(rng: np.random.Generator, n_classes: int, dim: int, rare_clusters: int,
                    rare_weight: float, noise: float) -> ClusterMixture:
    """Centres N(0, I_d); the big sub-cluster holds 1 - rare_clusters * rare_weight of each
    class, every rare one rare_weight."""
    big = 1.0 - rare_clusters * rare_weight
    if big <= 0:
        raise ValueError(f"rare_clusters * rare_weight must be < 1, got "
                         f"{rare_clusters} * {rare_weight}")
    weights = np.array([big] + [rare_weight] * rare_clusters)
    centres = rng.standard_normal((n_classes, 1 + rare_clusters, dim))
    return ClusterMixture(centres, weights, noise)


def flip_labels(rng: np.random.Generator, y: np.ndarray, frac: float, n_classes: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """Flip round(frac * n) labels, chosen at random, each to a uniformly drawn other
    class. Returns (noisy labels, flipped mask)."""
    n = len(y)
    flipped = np.zeros(n, dtype=bool)
    flipped[rng.choice(n, size=round(frac * n), replace=False)] = True
    shift = rng.integers(1, n_classes, size=n)
    return np.where(flipped, (y + shift) % n_classes, y), flipped


def el2n(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """||softmax(logits) - onehot(y)||_2 per example: logits (..., n, K), y (n,) -> (..., n)."""
    p = torch.softmax(logits, dim=-1)
    onehot = F.one_hot(y, logits.shape[-1]).to(p)
    return torch.linalg.vector_norm(p - onehot, dim=-1)


def forward(model: StackedMLP, x: torch.Tensor, keep: list[torch.Tensor] | None = None
            ) -> torch.Tensor:
    """Logits (k, n, K) of the stacked MLPs for x (n, d) shared or (k, n, d) per model.
    keep: a list to which each layer's input activation and output pre-activation are
    appended (for the per-example gradients of `grand`)."""
    k = len(model.weights[0])
    h = x.expand(k, *x.shape) if x.ndim == 2 else x
    last = len(model.weights) - 1
    for i, (W, b) in enumerate(zip(model.weights, model.biases)):
        z = torch.baddbmm(b, h, W)
        if keep is not None:
            keep += [h, z]
        h = model.act(z) if i < last else z
    return h


def per_model_ce(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-example cross-entropy: logits (k, n, K), y (n,) or (k, n) -> (k, n)."""
    k, n, K = logits.shape
    return F.cross_entropy(logits.reshape(k * n, K), y.expand(k, n).reshape(k * n),
                           reduction="none").reshape(k, n)


def grand(model: StackedMLP, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """GraNd: the norm of each example's loss gradient w.r.t. all of a model's weights and
    biases, for every stacked model: (k, n)."""
    keep: list[torch.Tensor] = []
    with torch.enable_grad():
        logits = forward(model, X, keep)
        zs = keep[1::2]
        # example i's loss depends only on its own row of every pre-activation, so the
        # gradient of the summed loss w.r.t. row i of z_l is example i's delta_l
        deltas = torch.autograd.grad(per_model_ce(logits, y).sum(), zs)
    sq = torch.zeros(logits.shape[:2], dtype=logits.dtype, device=logits.device)
    for a, delta in zip(keep[0::2], deltas):
        sq = sq + (a.detach().square().sum(-1) + 1.0) * delta.square().sum(-1)
    return sq.sqrt()


def select(scores: np.ndarray, n_keep: int, keep: str, rng: np.random.Generator | None = None,
           offset: int = 0) -> np.ndarray:
    """Indices of the n_keep examples a pruned set keeps: 'hard' the highest scores after
    skipping the `offset` highest (paper Sec. 5), 'easy' the lowest, 'random' a uniform
    draw (rng required). Sorted ascending."""
    n = len(scores)
    if not 0 <= n_keep <= n:
        raise ValueError(f"n_keep must be in [0, {n}], got {n_keep}")
    if keep == "random":
        if rng is None:
            raise ValueError("keep='random' needs an rng")
        return np.sort(rng.choice(n, size=n_keep, replace=False))
    order = np.argsort(scores, kind="stable")  # ascending
    if keep == "easy":
        return np.sort(order[:n_keep])
    if keep == "hard":
        offset = min(offset, n - n_keep)
        return np.sort(order[::-1][offset:offset + n_keep])
    raise ValueError(f"keep must be 'hard', 'easy' or 'random', got {keep!r}")


def select_per_class(scores: np.ndarray, y: np.ndarray, keep_frac: float, keep: str,
                     rng: np.random.Generator | None = None, offset_frac: float = 0.0
                     ) -> np.ndarray:
    """`select` within each class: class c keeps round(keep_frac * n_c) of its examples,
    after skipping round(offset_frac * n_c) of its highest scores (DeepCore's `balance`
    option; the paper's own code ranks the whole training set at once). Sorted."""
    out = []
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        n_c = len(members)
        out.append(members[select(scores[members], round(keep_frac * n_c), keep, rng,
                                  offset=round(offset_frac * n_c))])
    return np.sort(np.concatenate(out))


def subset_schedule(subsets: Sequence[torch.Tensor], steps: int, batch: int,
                    generator: torch.Generator) -> torch.Tensor:
    """(steps, k, batch) training-set indices: model j cycles epochs over subsets[j], a fresh
    permutation per epoch (a batch never straddles two epochs' duplicates unless the
    subset is smaller than the batch)."""
    if steps == 0:
        return torch.zeros(0, len(subsets), batch, dtype=torch.long)
    out = []
    for sub in subsets:
        m = len(sub)
        epochs = -(-steps * batch // m)
        perm = torch.cat([torch.randperm(m, generator=generator) for _ in range(epochs)])
        out.append(sub[perm[:steps * batch]].reshape(steps, batch))
    return torch.stack(out, 1)


def train_stacked(model: StackedMLP, X: torch.Tensor, y: torch.Tensor, schedule: torch.Tensor,
                  *, lr: float, momentum: float = 0.9, weight_decay: float = 0.0,
                  cosine: bool = True,
                  evaluate: Callable[[int], dict[str, object]] | None = None,
                  eval_every: int = 1) -> Iterator[dict[str, object]]:
    """SGD (momentum, weight decay; cosine-annealed lr when `cosine`) on the stacked models,
    model j reading X[schedule[t, j]] at step t. y: (n,) labels shared by all models or
    (k, n) per model (e.g. noisy labels for some). Yields {"step": t, "loss": (k,)} after
    each step t = 1..steps, plus evaluate(t) (under no_grad) every eval_every steps, on
    the last step, and as step 0 before training."""
    steps, k, _ = schedule.shape
    Y = y.expand(k, -1) if y.ndim == 1 else y
    rows = torch.arange(k, device=X.device)[:, None]
    params = list(model.parameters())
    bufs = [torch.zeros_like(q) for q in params]
    if evaluate is not None:
        with torch.no_grad():
            first = evaluate(0)
        yield {"step": 0, **first}
    for t in range(1, steps + 1):
        lr_t = lr * 0.5 * (1 + math.cos(math.pi * (t - 1) / steps)) if cosine else lr
        idx = schedule[t - 1]
        losses = per_model_ce(forward(model, X[idx]), Y[rows, idx]).mean(1)
        for q in params:
            q.grad = None
        losses.sum().backward()
        with torch.no_grad():  # torch.optim.SGD's update (dampening 0, no Nesterov)
            for q, buf in zip(params, bufs):
                grad = q.grad if weight_decay == 0 else q.grad.add(q, alpha=weight_decay)
                if t == 1:
                    buf.copy_(grad)
                else:
                    buf.mul_(momentum).add_(grad)
                q.sub_(buf, alpha=lr_t)
        out: dict[str, object] = {"step": t, "loss": losses.detach()}
        if evaluate is not None and (t % eval_every == 0 or t == steps):
            with torch.no_grad():
                out.update(evaluate(t))
        yield out


@torch.no_grad()
def accuracy(model: StackedMLP, X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Test accuracy of every stacked model: (k,)."""
    return (forward(model, X).argmax(-1) == y).float().mean(-1)


def stacked_mlp(k: int, d_in: int, widths: Sequence[int], d_out: int,
                generator: torch.Generator) -> StackedMLP:
    """k ReLU MLPs of one shape, each drawn with nn.Linear's default init (weights and
    biases U(-1/sqrt(fan_in), 1/sqrt(fan_in))) from `generator`, never torch's global RNG."""
    dims = [d_in, *widths, d_out]
    model = StackedMLP.__new__(StackedMLP)
    torch.nn.Module.__init__(model)
    model.act = torch.nn.ReLU()
    model.multipliers = [1.0] * (len(dims) - 1)

    def uniform(fan_in: int, *shape: int) -> torch.nn.Parameter:
        bound = 1.0 / math.sqrt(fan_in)
        return torch.nn.Parameter((torch.rand(k, *shape, generator=generator) * 2 - 1) * bound)

    model.weights = torch.nn.ParameterList(uniform(a, a, b) for a, b in zip(dims, dims[1:]))
    model.biases = torch.nn.ParameterList(uniform(a, 1, b) for a, b in zip(dims, dims[1:]))
    return model
