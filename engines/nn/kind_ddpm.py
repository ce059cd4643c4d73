"""KIND (Xie et al. 2024, arXiv 2408.07337) on a tiny class-conditional DDPM over 8x8 digits.

Many MLP denoisers are trained side by side as one batched program: every weight carries a
leading model axis, every model reads the same minibatch (x0, t, eps), and the loss is the
sum of the models' own losses, so each model follows the trajectory it would follow alone
(Adam is element-wise; parameters of different models never mix).

Denoiser (every model): input [x_t (64), sinusoidal time features (16), class one-hot
(5 slots)] -> width -> width -> width -> 64, SiLU, predicting eps (Ho et al. 2020). Four
linear layers; layer l of model m computes, for a sample of class c,

    h = x W_m^T + b_m + (x A_{m,c}^T) B_{m,c}^T

W_m is the model's dense weight in one of three forms (a plain trained matrix; a frozen W0
plus a LoRA product B A; or a frozen SVD basis U diag(s) V^T with trainable s), and
(A_{m,c}, B_{m,c}) is a rank-k per-class term ("tailor" in KIND, per-class LoRA on the plain
model; zero for models without class routing). KIND's class gate is this routing: class c
switches on its own k tailor components and no others (disjoint tailors, spec's V1).

Pre-training (source classes 0-4): the plain model (dense W) and the KIND model (a dense
full-rank learngene W_g plus per-class rank-k tailors) side by side. Transfer (target
classes 5-9 on the same one-hot slots, a few images per class): methods in `TRANSFER`.
KIND's transfer (spec V3): the learngene's exact SVD W_g = U diag(s) V^T is frozen except
s; each new class gets a tailor warm-started from the top-k SVD of the mean source tailor
mean_c B_c A_c (split as U_k sqrt(S_k), sqrt(S_k) V_k^T); biases stay frozen.
Metric: eps-MSE on held-out target images at fixed noise levels with fixed noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from ..lm.stacked_train import StackedAdamW

N_SLOTS = 5  # class one-hot slots: source classes 0-4, target classes 5-9 reuse them
SOURCE, TARGET = (0, 1, 2, 3, 4), (5, 6, 7, 8, 9)
N_TIME = 16
D_X = 64
D_IN = D_X + N_TIME + N_SLOTS

# transfer methods: name -> (backbone, dense form, per-class tailors, learning-rate key)
TRANSFER = {
    "lora": ("plain", "lora", None, "lr_adapter"),
    "pc_lora": ("plain", "frozen", "zero", "lr_adapter"),
    "full_ft": ("plain", "dense", None, "lr_full"),
    "scratch": ("random", "dense", None, "lr_scratch"),
    "kind": ("kind", "svd", "warm", "lr_adapter"),
}


@dataclass(frozen=True)
class Config:
    width: int = 128
    T: int = 50
    tailor_rank: int = 2  # k: tailor components per class per layer
    lora_rank: int = 10  # matches N_SLOTS * tailor_rank: equal trainable counts
    batch: int = 128
    pre_steps: int = 1500
    pre_lr: float = 2e-3
    steps: int = 600
    lr_adapter: float = 1e-2
    lr_full: float = 1e-3
    lr_scratch: float = 3e-3
    n_per_class: int = 50
    n_levels: int = 10
    n_test: int = 650

    def dims(self) -> list[tuple[int, int]]:
        w = self.width
        return [(D_IN, w), (w, w), (w, w), (w, D_X)]


# --------------------------------------------------------------------------- diffusion


def cosine_alpha_bar(T: int, s: float = 0.008) -> torch.Tensor:
    """Nichol & Dhariwal (2021) cosine schedule: alpha_bar_t for t = 1..T (index 0..T-1),
    clipped so that beta_t <= 0.999."""
    f = torch.cos((torch.arange(T + 1, dtype=torch.float64) / T + s) / (1 + s) * math.pi / 2) ** 2
    ab = f / f[0]
    beta = (1 - ab[1:] / ab[:-1]).clamp(max=0.999)
    return torch.cumprod(1 - beta, 0).float()


def time_features(t: torch.Tensor, T: int) -> torch.Tensor:
    """(n,) integer steps -> (n, N_TIME) sinusoidal features of t / T."""
    freqs = torch.exp(torch.linspace(0, math.log(200.0), N_TIME // 2))
    ang = (t.float()[:, None] + 1) / T * freqs[None, :]
    return torch.cat([ang.sin(), ang.cos()], dim=1)


def model_input(xt: torch.Tensor, t: torch.Tensor, slot: torch.Tensor, T: int) -> torch.Tensor:
    return torch.cat([xt, time_features(t, T), F.one_hot(slot, N_SLOTS).float()], dim=1)


# --------------------------------------------------------------------------- data


def digits_world(seed: int, n_per_class: int, n_test: int) -> dict[str, np.ndarray]:
    """sklearn digits in [-1, 1]. Source: every image of classes 0-4. Target: n_per_class
    training images per class 5-9 (a seeded draw), up to n_test held-out images of the
    rest. Slots: class mod 5."""
    from ..data.digits import load_digits

    X, y = load_digits()
    X = X * 2.0 - 1.0
    rng = np.random.default_rng(seed)
    src = np.isin(y, SOURCE)
    tr, te = [], []
    for c in TARGET:
        idx = rng.permutation(np.flatnonzero(y == c))
        tr.append(idx[:n_per_class])
        te.append(idx[n_per_class:])
    tr_i = np.concatenate(tr)
    te_i = rng.permutation(np.concatenate(te))[:n_test]
    return {"X_src": X[src], "s_src": y[src] % N_SLOTS,
            "X_tr": X[tr_i], "s_tr": y[tr_i] % N_SLOTS,
            "X_te": X[te_i], "s_te": y[te_i] % N_SLOTS}


# --------------------------------------------------------------------------- stacked net


def _init_dense(g: torch.Generator, d_in: int, d_out: int) -> tuple[torch.Tensor, torch.Tensor]:
    """torch.nn.Linear's default init (uniform +-1/sqrt(d_in)) for W and b."""
    bound = 1 / math.sqrt(d_in)
    W = (torch.rand(d_out, d_in, generator=g) * 2 - 1) * bound
    b = (torch.rand(d_out, generator=g) * 2 - 1) * bound
    return W, b


PARTS = ("W", "b", "s", "lA", "lB", "tA", "tB")


@dataclass
class Member:
    """One model of the stack, as per-layer tensors of every part (zeros where unused) and
    a learning rate per part (0: frozen). Its weight in layer l is

        W + (U * s) V^T + lB lA,    plus the routed tailor term (tA, tB) of the class,

    form "dense": W, b trainable; "frozen": W fixed; "lora": W fixed + lB lA (lB = 0 at
    init); "svd": U, V fixed (the exact SVD of the given W), s trainable, W = 0."""

    name: str
    form: str
    layers: list[dict[str, torch.Tensor]]
    lrs: dict[str, float]

    def n_trainable(self) -> int:
        return sum(L[k].numel() for L in self.layers for k in PARTS if self.lrs.get(k, 0) > 0)


def make_member(name: str, form: str, base: list[dict[str, torch.Tensor]],
                tailors: list[tuple[torch.Tensor, torch.Tensor]] | None, lr: float,
                cfg: Config, g: torch.Generator) -> Member:
    """A member from a base (per layer W, b) in the given form, with optional tailors
    (per layer (A (C, k, d_in), B (C, d_out, k)), trained at `lr`)."""
    k, R = cfg.tailor_rank, cfg.lora_rank
    layers = []
    for li, (d_in, d_out) in enumerate(cfg.dims()):
        r = min(d_in, d_out)
        W, b = base[li]["W"].clone(), base[li]["b"].clone()
        L = {"W": W, "b": b, "U": torch.zeros(d_out, r), "V": torch.zeros(d_in, r),
             "s": torch.zeros(r), "lA": torch.zeros(R, d_in), "lB": torch.zeros(d_out, R),
             "tA": torch.zeros(N_SLOTS, k, d_in), "tB": torch.zeros(N_SLOTS, d_out, k)}
        if form == "lora":
            # peft's default: A kaiming-uniform(a = sqrt 5) = U(+-1/sqrt(d_in)), B = 0
            L["lA"] = (torch.rand(R, d_in, generator=g) * 2 - 1) / math.sqrt(d_in)
        elif form == "svd":
            U, S, Vh = torch.linalg.svd(W.double(), full_matrices=False)
            L["U"], L["V"], L["s"] = U.float(), Vh.T.float(), S.float()
            L["W"] = torch.zeros_like(W)
        elif form not in ("dense", "frozen"):
            raise ValueError(f"form: {form!r}")
        if tailors is not None:
            L["tA"], L["tB"] = tailors[li][0].clone(), tailors[li][1].clone()
        layers.append(L)
    lrs = {"W": lr, "b": lr} if form == "dense" else \
        {"s": lr} if form == "svd" else {"lA": lr, "lB": lr} if form == "lora" else {}
    if tailors is not None:
        lrs |= {"tA": lr, "tB": lr}
    return Member(name, form, layers, lrs)


def zero_tailors(cfg: Config, g: torch.Generator) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Per-class LoRA-style tailors: A uniform(+-1/sqrt(d_in)), B = 0."""
    k = cfg.tailor_rank
    return [((torch.rand(N_SLOTS, k, d_in, generator=g) * 2 - 1) / math.sqrt(d_in),
             torch.zeros(N_SLOTS, d_out, k)) for d_in, d_out in cfg.dims()]


def warm_tailors(source: list[tuple[torch.Tensor, torch.Tensor]], cfg: Config
                 ) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Every new class's tailor starts at the best rank-k approximation of the mean source
    tailor mean_c B_c A_c (spec V3), split symmetrically: B = U_k sqrt(S_k),
    A = sqrt(S_k) V_k^T."""
    k = cfg.tailor_rank
    out = []
    for A, B in source:
        mean = torch.einsum("cok,cki->oi", B, A) / A.shape[0]
        U, S, Vh = torch.linalg.svd(mean.double(), full_matrices=False)
        r = S[:k].sqrt()
        Bk, Ak = (U[:, :k] * r).float(), (r[:, None] * Vh[:k]).float()
        out.append((Ak.expand(N_SLOTS, -1, -1).clone(), Bk.expand(N_SLOTS, -1, -1).clone()))
    return out


class Stack:
    """Members as one batched program: every part of every layer is one tensor with a
    leading member axis; a member's frozen parts have learning rate 0 (Adam is
    element-wise, so a zero learning rate is exactly a frozen tensor)."""

    def __init__(self, members: list[Member], cfg: Config) -> None:
        self.members, self.cfg = members, cfg
        self.layers = []
        for li in range(len(cfg.dims())):
            L = {}
            for key in ("W", "b", "U", "V", "s", "lA", "lB", "tA", "tB"):
                t = torch.stack([m.layers[li][key] for m in members]).contiguous()
                L[key] = t.requires_grad_(key in PARTS)
            # (M, C k, d_in) and (M, d_out, C k): the tailors of all classes side by side
            self.layers.append(L)
        self.lr = {key: torch.tensor([m.lrs.get(key, 0.0) for m in members])
                   for key in PARTS}

    def parameters(self) -> list[tuple[str, torch.Tensor]]:
        return [(key, L[key]) for L in self.layers for key in PARTS]

    def weights(self, li: int) -> torch.Tensor:
        L = self.layers[li]
        return (L["W"] + torch.bmm(L["U"] * L["s"][:, None, :], L["V"].transpose(1, 2))
                + torch.bmm(L["lB"], L["lA"]))

    def forward(self, x: torch.Tensor, slot: torch.Tensor) -> torch.Tensor:
        """x (B, D_IN) shared by all members, or (M, B, D_IN) one per member -> (M, B, 64)."""
        k = self.cfg.tailor_rank
        mask = F.one_hot(slot, N_SLOTS).float().repeat_interleave(k, dim=1)  # (B, C k)
        M = len(self.members)
        h = x.expand(M, -1, -1) if x.dim() == 2 else x
        n = len(self.layers)
        for li, L in enumerate(self.layers):
            tA = L["tA"].reshape(M, -1, L["tA"].shape[-1])  # (M, C k, d_in)
            tB = L["tB"].permute(0, 2, 1, 3).reshape(M, L["tB"].shape[2], -1)  # (M, d_out, C k)
            out = torch.baddbmm(L["b"][:, None, :], h, self.weights(li).transpose(1, 2))
            out = out + torch.bmm(torch.bmm(h, tA.transpose(1, 2)) * mask, tB.transpose(1, 2))
            h = F.silu(out) if li < n - 1 else out
        return h


def optimizers(stack: Stack) -> list[StackedAdamW]:
    """Adam (torch.optim.Adam's update, no weight decay) with a learning rate per member and
    part: one StackedAdamW per part, whose lr is that part's (M,) tensor."""
    params = stack.parameters()
    return [StackedAdamW([p for k, p in params if k == key], lr=lr, weight_decay=0.0)
            for key, lr in stack.lr.items()]


def train(stack: Stack, X: torch.Tensor, slot: torch.Tensor, steps: int,
          g: torch.Generator, every: int = 0, evaluate: Any = None):
    """Adam with a cosine decay to 0 over `steps`, batches shared by the stack. Yields
    (step, evaluate(stack)) every `every` steps (and at 0 and `steps`) when evaluate is
    given."""
    cfg = stack.cfg
    ab = cosine_alpha_bar(cfg.T)
    opts = optimizers(stack)
    n = X.shape[0]
    for step in range(steps + 1):
        if evaluate is not None and (step % every == 0 or step == steps):
            yield step, evaluate(stack)
        if step == steps:
            return
        idx = torch.randint(n, (cfg.batch,), generator=g)
        t = torch.randint(cfg.T, (cfg.batch,), generator=g)
        eps = torch.randn(cfg.batch, D_X, generator=g)
        a = ab[t][:, None]
        xt = a.sqrt() * X[idx] + (1 - a).sqrt() * eps
        pred = stack.forward(model_input(xt, t, slot[idx], cfg.T), slot[idx])
        loss = ((pred - eps) ** 2).mean(dim=(1, 2)).sum()
        loss.backward()
        for opt in opts:
            opt.step(0.5 * (1 + math.cos(math.pi * step / steps)))
            opt.zero_grad()


def eval_set(X: torch.Tensor, slot: torch.Tensor, cfg: Config, g: torch.Generator
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Every held-out image at n_levels evenly spaced noise levels with fixed noise:
    (input rows, slots, target eps)."""
    ab = cosine_alpha_bar(cfg.T)
    levels = torch.linspace(0, cfg.T - 1, cfg.n_levels).round().long()
    t = levels.repeat_interleave(X.shape[0])
    x0 = X.repeat(cfg.n_levels, 1)
    s = slot.repeat(cfg.n_levels)
    eps = torch.randn(x0.shape, generator=g)
    a = ab[t][:, None]
    xt = a.sqrt() * x0 + (1 - a).sqrt() * eps
    return model_input(xt, t, s, cfg.T), s, eps


@torch.no_grad()
def eps_mse(stack: Stack, rows: torch.Tensor, slot: torch.Tensor, eps: torch.Tensor
            ) -> list[float]:
    pred = stack.forward(rows, slot)
    return ((pred - eps) ** 2).mean(dim=(1, 2)).tolist()


@torch.no_grad()
def sample(stack: Stack, n_per_slot: int, cfg: Config, g: torch.Generator
           ) -> tuple[torch.Tensor, torch.Tensor]:
    """DDPM ancestral sampling (Ho et al. 2020, Alg. 2) from every member, with the
    predicted x0 clipped to [-1, 1] before the posterior mean (as in Ho et al.'s code:
    with T = 50 the first cosine step has alpha_t ~ 1e-3, and 1 / sqrt(alpha_t) would
    amplify any eps error 30x) and the posterior variance beta~_t. Returns (M, N, 64)
    samples and their (N,) slots."""
    ab = cosine_alpha_bar(cfg.T)
    ab_prev = torch.cat([torch.ones(1), ab[:-1]])
    alpha = ab / ab_prev
    beta = 1 - alpha
    var = beta * (1 - ab_prev) / (1 - ab)
    c_x0 = ab_prev.sqrt() * beta / (1 - ab)
    c_xt = alpha.sqrt() * (1 - ab_prev) / (1 - ab)
    slot = torch.arange(N_SLOTS).repeat_interleave(n_per_slot)
    M, N = len(stack.members), len(slot)
    x = torch.randn(M, N, D_X, generator=g)
    for t in range(cfg.T - 1, -1, -1):
        tt = torch.full((N,), t, dtype=torch.long)
        feats = torch.cat([time_features(tt, cfg.T), F.one_hot(slot, N_SLOTS).float()], dim=1)
        eps = stack.forward(torch.cat([x, feats.expand(M, -1, -1)], dim=2), slot)
        x0 = ((x - (1 - ab[t]).sqrt() * eps) / ab[t].sqrt()).clamp(-1, 1)
        x = c_x0[t] * x0 + c_xt[t] * x
        if t > 0:
            x = x + var[t].sqrt() * torch.randn(x.shape, generator=g)
    return x.clamp(-1, 1), slot


def centroid_accuracy(x: np.ndarray, slot: np.ndarray, X_ref: np.ndarray,
                      s_ref: np.ndarray) -> float:
    """Share of samples whose nearest class mean (of real reference images) is their
    own class: a sample-quality proxy for class-conditioning."""
    means = np.stack([X_ref[s_ref == c].mean(0) for c in range(N_SLOTS)])
    d = ((np.asarray(x)[:, None, :] - means[None]) ** 2).sum(-1)
    return float((d.argmin(1) == np.asarray(slot)).mean())


def frechet(a: np.ndarray, b: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted to two sample sets (rows), the FID formula
    on raw pixels: |mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a^1/2 S_b S_a^1/2)^1/2)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    Sa, Sb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    w, V = np.linalg.eigh(Sa)
    root = (V * np.sqrt(np.clip(w, 0, None))) @ V.T
    cross = np.linalg.eigvalsh(root @ Sb @ root)
    return float(((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(Sa) + np.trace(Sb)
                 - 2 * np.sqrt(np.clip(cross, 0, None)).sum())


# --------------------------------------------------------------------------- pre-training


def pretrain(recipe: dict[str, Any]) -> dict[str, np.ndarray]:
    """The plain and the KIND model trained side by side on the source classes; returns
    numpy arrays (plain W/b, KIND learngene W/b and tailors per layer) plus the final
    source eps-MSE of each, for RunContext.cached. Seeds itself from recipe["seed"]."""
    cfg = Config(**recipe["cfg"])
    g = torch.Generator().manual_seed(int(recipe["seed"]))
    w = digits_world(int(recipe["seed"]), cfg.n_per_class, cfg.n_test)
    X, s = torch.from_numpy(w["X_src"]), torch.from_numpy(w["s_src"])
    plain = [dict(zip(("W", "b"), _init_dense(g, *d))) for d in cfg.dims()]
    kind = [dict(zip(("W", "b"), _init_dense(g, *d))) for d in cfg.dims()]
    members = [make_member("plain", "dense", plain, None, cfg.pre_lr, cfg, g),
               make_member("kind", "dense", kind, zero_tailors(cfg, g), cfg.pre_lr, cfg, g)]
    stack = Stack(members, cfg)
    for _ in train(stack, X, s, cfg.pre_steps, g):
        pass
    rows, slot, eps = eval_set(X[:400], s[:400], cfg, g)
    mse = eps_mse(stack, rows, slot, eps)
    out = {"mse": np.array(mse, dtype=np.float64)}
    for li, L in enumerate(stack.layers):
        for i, name in enumerate(("plain", "kind")):
            out[f"{name}_W{li}"] = L["W"][i].detach().numpy().copy()
            out[f"{name}_b{li}"] = L["b"][i].detach().numpy().copy()
        out[f"kind_tA{li}"] = L["tA"][1].detach().numpy().copy()
        out[f"kind_tB{li}"] = L["tB"][1].detach().numpy().copy()
    return out


def transfer_members(arrays: dict[str, np.ndarray], methods: list[str], cfg: Config,
                     g: torch.Generator, learngene: str = "transferred",
                     tailor_init: str = "warm") -> list[Member]:
    """The transfer stack, one member per method (see TRANSFER). learngene "random"
    replaces KIND's transferred learngene (weights and biases) by a fresh random network
    of the same shape (the control); tailor_init "zero" starts KIND's new tailors like
    LoRA (A random, B = 0) instead of from the mean source tailor (spec V1 vs V3)."""
    n = len(cfg.dims())
    t = {k: torch.from_numpy(np.asarray(v)) for k, v in arrays.items()}
    bases = {name: [{"W": t[f"{name}_W{li}"], "b": t[f"{name}_b{li}"]} for li in range(n)]
             for name in ("plain", "kind")}
    source = [(t[f"kind_tA{li}"], t[f"kind_tB{li}"]) for li in range(n)]
    members = []
    for name in methods:
        backbone, form, tail, lr_key = TRANSFER[name]
        if name == "kind":
            backbone = "kind" if learngene == "transferred" else "random"
            tail = tailor_init
        base = bases.get(backbone)
        if base is None:  # a fresh random network (scratch; the random-learngene control)
            base = [dict(zip(("W", "b"), _init_dense(g, *d))) for d in cfg.dims()]
        tailors = None if tail is None else (
            warm_tailors(source, cfg) if tail == "warm" else zero_tailors(cfg, g))
        members.append(make_member(name, form, base, tailors, getattr(cfg, lr_key), cfg, g))
    return members
