"""A random-MLP teacher language over all short contexts, and a grid of student runs of
different widths and token budgets trained as one stacked program (numpy + torch).

Teacher. Every context of `ctx` tokens over V tokens (V**ctx of them, 32,768 for V = 32,
ctx = 3) is enumerated. Contexts are drawn iid per position from Zipf(s) over a random
permutation of the tokens, so pi(c) is a product and exact. The next-token logits are a
ReLU MLP (embedding, one hidden layer) whose output rows are scaled by k^-power: hidden
feature k matters as k^-power, a power-law spectrum of features for the students to learn
one after another (the source of power-law learning curves). A temperature is bisected so
that the pi-weighted entropy of p(y|c) equals a target `floor`: the Bayes loss, the
irreducible term E of every scaling law on this language.

Loss of a student q: the exact population cross-entropy
    L(q) = sum_c pi(c) sum_y p(y|c) (-log q(y|c)),
no sampling noise. "Downstream" error: top-1 disagreement with the teacher's argmax,
pi-weighted, on the contexts whose teacher max-probability is >= `confident`.

Grid. Runs differ in hidden width h and in steps. A run of width h is embedded in the
widest width H with its extra units' in- and out-weights set to zero: GELU(0) = 0 and the
gradients of those weights are exactly 0, so under Adam (no weight decay) they stay 0 and
run k follows the trajectory of a width-h model trained alone. Each run has its own
learning-rate schedule (warm-up then cosine); after its last step its lr is 0 and its
weights stop moving (the loop skips nothing, it just stops changing that run).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from scipy.optimize import brentq

from .mlp_lm import MLPLM, StackedMLPLM, cross_entropy_per_model, init_
from .stacked_train import StackedAdamW

# ------------------------------------------------------------------------------ teacher


@dataclass(frozen=True)
class Teacher:
    probs: np.ndarray  # (S, V) next-token distribution of every context
    pi: np.ndarray  # (S,) context distribution
    tokens: np.ndarray  # (S, ctx) tokens of each context (base-V index, oldest first)
    temperature: float

    @property
    def n_contexts(self) -> int:
        return self.pi.shape[0]

    @property
    def entropy(self) -> float:
        """pi-weighted entropy of p(y|c): the Bayes (floor) loss in nats."""
        return float(self.pi @ _row_entropy(self.probs))

    def confident(self, threshold: float) -> np.ndarray:
        return self.probs.max(1) >= threshold

    def sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """n iid (context index, next token) pairs: c ~ pi, y ~ p(.|c). The next token is
        found by one searchsorted on the row-wise CDFs shifted by the row index (row c's
        CDF lives in (c, c + 1]), so no (n, V) table is built."""
        c = rng.choice(self.n_contexts, size=n, p=self.pi)
        cdf = np.cumsum(self.probs, 1)
        cdf[:, -1] = 1.0
        shifted = (cdf + np.arange(self.n_contexts)[:, None]).ravel()
        pos = np.searchsorted(shifted, c + rng.random(n) * (1 - 1e-12), side="right")
        y = pos - c * self.probs.shape[1]
        return c, np.minimum(y, self.probs.shape[1] - 1)


def _row_entropy(p: np.ndarray) -> np.ndarray:
    return -(p * np.log(np.maximum(p, 1e-300))).sum(1)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def all_contexts(V: int, ctx: int) -> np.ndarray:
    """(V**ctx, ctx) tokens of every context, context index = base-V number."""
    idx = np.arange(V ** ctx)
    return np.stack([(idx // V ** (ctx - 1 - j)) % V for j in range(ctx)], 1)


def random_teacher(rng: np.random.Generator, *, V: int = 32, ctx: int = 3, d_emb: int = 16,
                   hidden: int = 512, power: float = 0.5, zipf: float = 1.0,
                   floor: float = 1.0, bias: float = 0.5) -> Teacher:
    tokens = all_contexts(V, ctx)
    # contexts: iid Zipf(zipf) per position over a random order of the tokens
    rank = rng.permutation(V)
    p_tok = (1.0 + rank) ** -zipf
    p_tok /= p_tok.sum()
    pi = np.prod(p_tok[tokens], 1)
    pi /= pi.sum()
    emb = rng.standard_normal((V, d_emb))
    W1 = rng.standard_normal((ctx, d_emb, hidden)) / np.sqrt(ctx * d_emb)
    b1 = bias * rng.standard_normal(hidden)
    W2 = rng.standard_normal((hidden, V)) * (np.arange(1, hidden + 1) ** -power)[:, None]
    # [emb x_1, ..., emb x_ctx] @ W1 as a sum of per-position (V, hidden) tables
    pre = b1 + sum((emb @ W1[j])[tokens[:, j]] for j in range(ctx))
    logits = (np.maximum(pre, 0.0).astype(np.float32) @ W2.astype(np.float32)).astype(float)
    logits /= logits.std()

    def excess(log_beta: float) -> float:
        return float(pi @ _row_entropy(_softmax(np.exp(log_beta) * logits))) - floor

    # the entropy falls from log V (beta = 0) as the inverse temperature beta grows
    if not 0 < floor < np.log(V) or excess(np.log(1e4)) > 0:
        raise ValueError(f"floor: expected an entropy in (0, log V) the teacher can "
                         f"reach, got {floor}")
    beta = float(np.exp(brentq(excess, np.log(1e-4), np.log(1e4), xtol=1e-12)))
    return Teacher(_softmax(beta * logits), pi, tokens, 1.0 / beta)


# ----------------------------------------------------------------------- student metrics


@torch.no_grad()
def population_loss(model: torch.nn.Module, teacher_t: dict[str, torch.Tensor]
                    ) -> tuple[float, float]:
    """(exact cross-entropy, confident top-1 error) of one MLPLM against the teacher.
    teacher_t: tensors from `teacher_tensors`."""
    logq = torch.log_softmax(model(teacher_t["tokens"]).double(), -1)
    per_ctx = -(teacher_t["probs"] * logq).sum(1)
    loss = float(teacher_t["pi"] @ per_ctx)
    conf = teacher_t["conf_w"]
    wrong = (logq.argmax(1) != teacher_t["argmax"]).double()
    return loss, float((conf * wrong).sum() / conf.sum())


def teacher_tensors(teacher: Teacher, device: str | torch.device = "cpu",
                    confident: float = 0.5) -> dict[str, torch.Tensor]:
    conf = teacher.confident(confident).astype(float) * teacher.pi
    return {"tokens": torch.as_tensor(teacher.tokens, device=device),
            "probs": torch.as_tensor(teacher.probs, device=device),
            "pi": torch.as_tensor(teacher.pi, device=device),
            "argmax": torch.as_tensor(teacher.probs.argmax(1), device=device),
            "conf_w": torch.as_tensor(conf, device=device)}


# --------------------------------------------------------------------------- the grid


def student_params(V: int, ctx: int, d_emb: int, h: int) -> int:
    """Parameters of a one-hidden-layer MLPLM: embedding, hidden layer, output layer."""
    return V * d_emb + ctx * d_emb * h + h + h * V + V


def width_for(n_params: float, V: int, ctx: int, d_emb: int) -> int:
    """The hidden width whose parameter count is nearest n_params."""
    per = ctx * d_emb + 1 + V
    return max(1, int(round((n_params - V * d_emb - V) / per)))


def padded_stack(widths: Sequence[int], V: int, ctx: int, d_emb: int,
                 generator: torch.Generator) -> StackedMLPLM:
    """One width-h MLPLM per entry, each initialised as nn defaults (init_) and embedded
    in the widest width with zero weights on the extra units."""
    H = max(widths)
    models = []
    for h in widths:
        small = init_(MLPLM(V, ctx, d_emb, h, layers=1), generator)
        big = MLPLM(V, ctx, d_emb, H, layers=1)
        with torch.no_grad():
            for p in big.parameters():
                p.zero_()
            big.embed.weight.copy_(small.embed.weight)
            big.hidden[0].weight[:h].copy_(small.hidden[0].weight)
            big.hidden[0].bias[:h].copy_(small.hidden[0].bias)
            big.out.weight[:, :h].copy_(small.out.weight)
            big.out.bias.copy_(small.out.bias)
        models.append(big)
    return StackedMLPLM(models)


def lr_schedule(steps: int, peak: float, warmup: float = 0.05, final: float = 0.1
                ) -> np.ndarray:
    """lr at steps 1..steps: linear warm-up over `warmup` of the run, then cosine from
    peak down to final * peak."""
    t = np.arange(1, steps + 1, dtype=float)
    w = max(1, int(round(warmup * steps)))
    cos = final + (1 - final) * 0.5 * (1 + np.cos(np.pi * np.clip((t - w) / max(1, steps - w),
                                                                   0, 1)))
    return peak * np.where(t <= w, t / w, cos)


def train_grid(teacher: Teacher, widths: Sequence[int], steps: Sequence[int],
               peak_lr: Sequence[float], *, batch: int, d_emb: int,
               rng: np.random.Generator, generator: torch.Generator,
               device: str | torch.device = "cpu", betas: tuple[float, float] = (0.9, 0.98),
               curve_points: int = 8, chunk: int = 256, confident: float = 0.5,
               should_stop: Callable[[], bool] | None = None
               ) -> Iterator[dict[str, object]]:
    """Train K students (width widths[k], steps[k] Adam steps of `batch` fresh samples)
    side by side. Yields per global step t = 1..max(steps) {"step": t, "loss": (K,) batch
    losses}; when run k reaches one of its `curve_points` evenly spaced steps (its last
    step among them), adds {"eval": [(k, its step, exact loss, top-1 error), ...]}.
    Fresh data are drawn `chunk` steps at a time from `rng`."""
    K = len(widths)
    V, ctx = teacher.probs.shape[1], teacher.tokens.shape[1]
    model = padded_stack(widths, V, ctx, d_emb, generator).to(device)
    T = int(max(steps))
    lrs = np.zeros((T, K))
    for k, (s, lr) in enumerate(zip(steps, peak_lr)):
        lrs[:s, k] = lr_schedule(int(s), float(lr))
    lrs_t = torch.as_tensor(lrs, dtype=torch.float32, device=device)
    opt = StackedAdamW(model.parameters(), lr=lrs_t[0], betas=betas, weight_decay=0.0)
    tt = teacher_tensors(teacher, device, confident)
    tokens = tt["tokens"]
    marks: dict[int, list[int]] = {}
    for k, s in enumerate(steps):
        for m in sorted({int(round(s * (i + 1) / curve_points)) for i in range(curve_points)}):
            marks.setdefault(max(1, m), []).append(k)
    for start in range(0, T, chunk):
        n = min(chunk, T - start)
        c, y = teacher.sample(rng, n * K * batch)
        c = torch.as_tensor(c, device=device).reshape(n, K, batch)
        y = torch.as_tensor(y, device=device).reshape(n, K, batch)
        for i in range(n):
            t = start + i + 1
            opt.lr = lrs_t[t - 1]
            opt.zero_grad()
            losses = cross_entropy_per_model(model(tokens[c[i]]), y[i])
            losses.sum().backward()
            opt.step()
            out: dict[str, object] = {"step": t, "loss": losses.detach()}
            if t in marks:
                evals = []
                for k in marks[t]:
                    L, err = population_loss(model.model(k).to(device), tt)
                    evals.append((k, t, L, err))
                out["eval"] = evals
            yield out
            if should_stop is not None and should_stop():
                return


__all__ = ["Teacher", "all_contexts", "lr_schedule", "padded_stack", "population_loss",
           "random_teacher", "student_params", "teacher_tensors", "train_grid", "width_for"]
