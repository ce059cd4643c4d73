"""Arbitrary parameter-efficient tuning (APET, Su et al. 2023) at toy scale: k randomly
placed trainable weights in a pretrained MLP, many masks and learning rates trained side
by side.

Backbone: an MLP 64-w-C (depth 1: h = relu(W1 x + b1)) or 64-w-w-C (depth 2: h =
relu(W2 relu(W1 x + b1) + b2)) on scikit-learn's digits, logits = Wh h + bh.
`pretrain(recipe)` trains it (full-batch Adam) and returns its arrays; the head (Wh, bh)
stays frozen afterwards, as PET keeps a language model's head.
The "fine" pre-training task adds a second head on k-means sub-classes of every digit
(`n_sub` per class) trained jointly with the 10-class head: a harder task that narrow nets
underfit.

APET: k entries of the last hidden layer's weight W (W1 at depth 1: the whole backbone;
W2 at depth 2), chosen uniformly at random without replacement, are the only trainable
parameters: W' = W + sum_e delta_e e_{i_e} e_{j_e}^T. With the layer's input u fixed (x,
or h1 of the frozen first layer), its pre-activation is the cached W u + b plus the
sparse term delta_e u_{j_e} added to unit i_e, so one step of M models costs N (E + M w C)
with E the total number of chosen entries: all masks, k values and learning rates of a
width train as one flat tensor program (`SparseLastLayer`), each entry with its own Adam
learning rate.

Full fine-tuning: every backbone weight and bias, head frozen, Adam.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from paramlab.engines.lm.stacked_train import StackedAdamW

N_IN = 64
N_CLASSES = 10
SPLIT = (0.6, 0.2, 0.2)  # train / validation (lr selection) / test


def split_indices(seed: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """train / val / test index sets of the digits, a permutation drawn from `seed`."""
    perm = np.random.default_rng(seed).permutation(n)
    a, b = round(SPLIT[0] * n), round((SPLIT[0] + SPLIT[1]) * n)
    return perm[:a], perm[a:b], perm[b:]


def fine_labels(X: np.ndarray, y: np.ndarray, n_sub: int, seed: int,
                iters: int = 20) -> np.ndarray:
    """Sub-class labels y * n_sub + cluster: Lloyd's k-means (k = n_sub) within each digit,
    centres started at random points of the class."""
    rng = np.random.default_rng(seed)
    out = np.zeros_like(y)
    for c in range(int(y.max()) + 1):
        idx = np.flatnonzero(y == c)
        Xc = X[idx].astype(np.float64)
        cent = Xc[rng.choice(len(idx), n_sub, replace=False)]
        for _ in range(iters):
            d = ((Xc[:, None, :] - cent[None]) ** 2).sum(-1)
            lab = d.argmin(1)
            for s in range(n_sub):
                if (lab == s).any():
                    cent[s] = Xc[lab == s].mean(0)
        out[idx] = c * n_sub + lab
    return out


def _linear(fan_in: int, fan_out: int, g: torch.Generator) -> tuple[torch.Tensor, ...]:
    # nn.Linear's default init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias
    bound = 1.0 / fan_in ** 0.5
    W = (torch.rand(fan_out, fan_in, generator=g) * 2 - 1) * bound
    b = (torch.rand(fan_out, generator=g) * 2 - 1) * bound
    return W, b


BACKBONE = ("W1", "b1", "W2", "b2")


def hidden(P: Mapping[str, torch.Tensor], X: torch.Tensor) -> torch.Tensor:
    """The last hidden layer (N, w) of the depth-1 or depth-2 backbone."""
    h = torch.relu(X @ P["W1"].T + P["b1"])
    if "W2" in P:
        h = torch.relu(h @ P["W2"].T + P["b2"])
    return h


def forward(P: Mapping[str, torch.Tensor], X: torch.Tensor) -> torch.Tensor:
    return hidden(P, X) @ P["Wh"].T + P["bh"]


def pretrain(recipe: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """The pretrained MLP of one width. recipe: width, depth (1 or 2), seed (init and
    split), steps, lr, task ("digits" | "fine"), n_sub (sub-classes per digit for "fine").
    Full-batch Adam on the training split; returns W1, b1, (W2, b2,) Wh, bh (the 10-class
    head) and the pre-training accuracy on the test split ("test_acc", shape (1,))."""
    from paramlab.engines.data.digits import load_digits

    X_np, y_np = load_digits()
    tr, _, te = split_indices(int(recipe["seed"]), len(y_np))
    w = int(recipe["width"])
    g = torch.Generator().manual_seed(int(recipe["seed"]) * 1000 + w)
    P: dict[str, torch.Tensor] = {}
    P["W1"], P["b1"] = _linear(N_IN, w, g)
    if int(recipe.get("depth", 2)) == 2:
        P["W2"], P["b2"] = _linear(w, w, g)
    P["Wh"], P["bh"] = _linear(w, N_CLASSES, g)
    X, y = torch.from_numpy(X_np[tr]), torch.from_numpy(y_np[tr])
    fine = recipe.get("task", "digits") == "fine"
    if fine:
        n_sub = int(recipe["n_sub"])
        yf = torch.from_numpy(fine_labels(X_np[tr], y_np[tr], n_sub, int(recipe["seed"])))
        P["W4"], P["b4"] = _linear(w, N_CLASSES * n_sub, g)
    for t in P.values():
        t.requires_grad_(True)
    opt = torch.optim.Adam(list(P.values()), lr=float(recipe["lr"]))
    for _ in range(int(recipe["steps"])):
        h = hidden(P, X)
        loss = F.cross_entropy(h @ P["Wh"].T + P["bh"], y)
        if fine:
            loss = loss + F.cross_entropy(h @ P["W4"].T + P["b4"], yf)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    with torch.no_grad():
        acc = (forward(P, torch.from_numpy(X_np[te])).argmax(1)
               == torch.from_numpy(y_np[te])).float().mean()
    out = {k: v.detach().numpy().copy() for k, v in P.items() if k not in ("W4", "b4")}
    out["test_acc"] = np.array([float(acc)], dtype=np.float32)
    return out


def random_entries(rng: np.random.Generator, shape: tuple[int, int], k: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """k distinct (row, col) positions of a matrix of `shape`, uniformly at random."""
    flat = rng.choice(shape[0] * shape[1], size=k, replace=False)
    return flat // shape[1], flat % shape[1]


@dataclass
class SparseLastLayer:
    """M models over one frozen backbone, model m training the entries (rows_m, cols_m)
    of the last hidden layer's weight W (W2, or W1 at depth 1) with Adam at lr_m. The
    entries of all models form one sparse (w M) x d matrix in CSR order (row i * M + m,
    column j: unit-major, so that a dense (w, M N) block holds every model's hidden layer
    and the frozen head is one matrix product), whose values are the flat vector `delta`:
    the forward pass is one sparse-dense product and the gradient one sampled dense-dense
    product (SDDMM), both costing E N for E entries and N examples."""

    P: Mapping[str, torch.Tensor]
    crow: torch.Tensor  # (M w + 1,) CSR row pointers
    col: torch.Tensor  # (E,) column j of each entry, CSR order
    model: torch.Tensor  # (E,) model index of each entry
    lr: torch.Tensor  # (E,) Adam learning rate of each entry
    n_models: int

    @classmethod
    def build(cls, P: Mapping[str, torch.Tensor],
              masks: Sequence[tuple[np.ndarray, np.ndarray]], lrs: Sequence[float]
              ) -> SparseLastLayer:
        W = P["W2"] if "W2" in P else P["W1"]
        dev, w = W.device, W.shape[0]
        model = np.concatenate([np.full(len(r), m) for m, (r, _) in enumerate(masks)])
        lr = np.concatenate([np.full(len(r), lrs[m]) for m, (r, _) in enumerate(masks)])
        row = np.concatenate([r for r, _ in masks]) * len(masks) + model
        col = np.concatenate([c for _, c in masks])
        order = np.lexsort((col, row))
        counts = np.bincount(row, minlength=len(masks) * w)
        crow = np.concatenate([[0], np.cumsum(counts)])

        def t(a: np.ndarray, dt: torch.dtype) -> torch.Tensor:
            return torch.as_tensor(np.ascontiguousarray(a), dtype=dt, device=dev)

        return cls(P, t(crow, torch.long), t(col[order], torch.long),
                   t(model[order], torch.long), t(lr[order], torch.float32), len(masks))

    def _sparse(self, values: torch.Tensor) -> torch.Tensor:
        w, d = self._layer[0].shape
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "CSR support is in beta"
            return torch.sparse_csr_tensor(self.crow, self.col, values,
                                           size=(w * self.n_models, d),
                                           check_invariants=False)

    @property
    def _layer(self) -> tuple[torch.Tensor, torch.Tensor]:
        return (self.P["W2"], self.P["b2"]) if "W2" in self.P else (self.P["W1"],
                                                                     self.P["b1"])

    def features(self, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """What the frozen backbone gives once per data set, units x examples: the sparse
        layer's input u (d, N) (x at depth 1, h1 at depth 2) and W u + b (w, N)."""
        u = X if "W2" not in self.P else torch.relu(X @ self.P["W1"].T + self.P["b1"])
        u = u.T.contiguous()
        W, b = self._layer
        return u, (W @ u + b[:, None]).contiguous()

    def _hidden(self, feats: tuple[torch.Tensor, torch.Tensor], delta: torch.Tensor
                ) -> torch.Tensor:
        """(w, M N) pre-activations of layer 2: the cached W2 h1 + b2 plus, for entry e,
        delta_e h1_{j_e} added to unit i_e of model m_e (column block m)."""
        h1, pre2 = feats
        w, n = pre2.shape
        shift = self._sparse(delta) @ h1
        return shift.view(w, self.n_models, n).add_(pre2[:, None, :]).view(w, -1)

    def logits(self, feats: tuple[torch.Tensor, torch.Tensor], delta: torch.Tensor
               ) -> torch.Tensor:
        """(C, M, N) logits of every model."""
        h2 = torch.relu(self._hidden(feats, delta))
        lg = torch.addmm(self.P["bh"][:, None], self.P["Wh"], h2)
        return lg.view(lg.shape[0], self.n_models, -1)

    def accuracy(self, feats: tuple[torch.Tensor, torch.Tensor], delta: torch.Tensor,
                 y: torch.Tensor) -> torch.Tensor:
        """(M,) accuracy of every model."""
        with torch.no_grad():
            pred = self.logits(feats, delta).argmax(0)
        return (pred == y[None, :]).float().mean(1)

    def grad(self, feats: tuple[torch.Tensor, torch.Tensor], delta: torch.Tensor,
             y: torch.Tensor, h1_t: torch.Tensor | None = None
             ) -> tuple[torch.Tensor, torch.Tensor]:
        """(per-model mean cross-entropy (M,), its gradient in delta (E,)), by hand:
        dL/dlogits = (softmax - onehot) / N, back through the frozen head and the ReLU,
        then dL/ddelta_e = sum_n dL/dpre_{m_e, i_e, n} h1_{j_e, n} (an SDDMM)."""
        Wh = self.P["Wh"]
        pre = self._hidden(feats, delta)
        lg = torch.addmm(self.P["bh"][:, None], Wh, torch.relu(pre))  # (C, M N)
        M, n = self.n_models, y.shape[0]
        logp = torch.log_softmax(lg, dim=0)
        target = y.repeat(M)  # column m * N + n holds example n
        cols = torch.arange(M * n, device=y.device)
        loss = -logp[target, cols].view(M, n).mean(1)
        g = logp.exp_()
        g[target, cols] -= 1.0
        g_pre = (Wh.T @ g.div_(n)).mul_(pre > 0)  # (w, M N) = rows i * M + m of (., N)
        if h1_t is None:
            h1_t = feats[0].T.contiguous()
        pattern = self._sparse(torch.zeros_like(delta))
        gd = torch.sparse.sampled_addmm(pattern, g_pre.view(-1, n), h1_t, beta=0.0)
        return loss, gd.values()

    def train(self, X: torch.Tensor, y: torch.Tensor, steps: int, *,
              betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8
              ) -> Iterator[tuple[int, torch.Tensor, torch.Tensor]]:
        """Full-batch Adam on each model's cross-entropy (models are independent: the
        summed loss's gradient in a model's entries is that model's gradient); yields
        (step, per-model loss before the step, delta after it) for steps 1..steps."""
        feats = self.features(X)
        h1_t = feats[0].T.contiguous()
        delta = torch.zeros(len(self.col), device=X.device)
        # one learning rate per entry, no weight decay: Adam entry by entry
        opt = StackedAdamW([delta], lr=self.lr, betas=betas, eps=eps, weight_decay=0.0)
        with torch.no_grad():
            for t in range(1, steps + 1):
                loss, delta.grad = self.grad(feats, delta, y, h1_t)
                opt.step()
                yield t, loss, delta


def full_finetune(P: Mapping[str, torch.Tensor], X: torch.Tensor, y: torch.Tensor,
                  lr: float, steps: int) -> dict[str, torch.Tensor]:
    """Every backbone weight trained (full-batch Adam), head frozen; the tuned arrays."""
    Q = {k: v.clone() for k, v in P.items()}
    train = [Q[k].requires_grad_(True) for k in BACKBONE if k in Q]
    opt = torch.optim.Adam(train, lr=lr)
    for _ in range(steps):
        loss = F.cross_entropy(forward(Q, X), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return {k: v.detach() for k, v in Q.items()}


def accuracy(P: Mapping[str, torch.Tensor], X: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return float((forward(P, X).argmax(1) == y).float().mean())


def interp_log_k(ks: Sequence[float], accs: Sequence[float], level: float) -> float:
    """The k at which the accuracy curve (ks ascending) first reaches `level`, linear in
    log k between grid points; NaN when it never does, ks[0] when the first point does."""
    for i, (k, a) in enumerate(zip(ks, accs)):
        if a >= level:
            if i == 0:
                return float(k)
            k0, a0 = ks[i - 1], accs[i - 1]
            f = (level - a0) / (a - a0)
            return float(np.exp(np.log(k0) + f * (np.log(k) - np.log(k0))))
    return float("nan")


def argmax_log(xs: Sequence[float], ys: Sequence[float]) -> float:
    """The x (> 0, ascending grid) maximising y, refined by a parabola in log x through the
    best grid point and its two neighbours (the grid point itself at an edge or when the
    parabola is not concave)."""
    i = int(np.argmax(ys))
    if i == 0 or i == len(xs) - 1:
        return float(xs[i])
    lx = np.log(np.asarray(xs[i - 1:i + 2], dtype=float))
    a, b, _ = np.polyfit(lx, np.asarray(ys[i - 1:i + 2], dtype=float), 2)
    if a >= 0:
        return float(xs[i])
    return float(np.exp(np.clip(-b / (2 * a), lx[0], lx[2])))
