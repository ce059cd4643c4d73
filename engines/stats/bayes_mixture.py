"""Bayes mixtures over a finite hypothesis class of conditional Bernoulli models, their
log-loss regret, and the weight bound of universal learning (Feder, Urbanke & Fogel 2025,
"The Universality Lens").

The world: inputs x from a finite set of size X (with probabilities `px`), labels
y in {0, 1}; hypothesis i says p_i(y=1 | x) = P1[i, x]. A prior w over the M hypotheses
gives the Bayes mixture Q(y^n | x^n) = sum_i w_i prod_t p_i(y_t | x_t); its posterior
predictive after n samples is q_n(y | x) = sum_i post_i(z^n) p_i(y | x).

Because x takes only X values, a training set enters every likelihood through its counts
c1[x], c0[x] (labels 1 and 0 seen at x): log p_i(y^n | x^n) = c1 . log P1[i] + c0 . log P0[i].
A batch of K training sets is therefore one (K, X) @ (X, M) product, which is what makes a
20,000-hypothesis class cheap: no per-sample, per-hypothesis loop.

Regret (excess log-loss) of a predictor q against the truth p0, for a fresh pair
(x ~ px, y ~ p0(. | x)):  R(q) = E_x KL(p0(. | x) || q(. | x)).

The weight bound (the paper's key result): with w_eps(theta0) = w{ i : E_x KL(p0 || p_i)
<= eps }, the mixture's expected cumulative regret satisfies
    E[log p0(y^n | x^n) - log Q(y^n | x^n)] <= -log w_eps(theta0) + n eps,
so its per-sample average over the first n predictions is <= -log w_eps / n + eps, whatever
the size M of the class (Jensen on Q >= sum over the eps-ball).

numpy only; no I/O.
"""

from __future__ import annotations

import numpy as np

# --- a Monte-Carlo hypothesis class: random one-hidden-layer tanh networks ----------------


def hypercube(d: int) -> np.ndarray:
    """All 2^d points of {-1, 1}^d, shape (2^d, d), in binary order."""
    bits = (np.arange(2**d)[:, None] >> np.arange(d)[None, :]) & 1
    return (2.0 * bits - 1.0)


def tanh_network_outputs(rng: np.random.Generator, M: int, h: int, d: int,
                         readout: str = "uniform", scale_max: float = 2.0,
                         chunk_elems: int = 1 << 19) -> np.ndarray:
    """Outputs f_i(x) of M random networks f(x) = s / sqrt(h) * sum_j a_j tanh(w_j . x /
    sqrt(d) + b_j) on every point of {-1, 1}^d (in `hypercube(d)` order): shape (M, 2^d).

    w, b, a ~ N(0, 1); the readout scale s ~ U(0, scale_max) (`readout="uniform"`) or
    s = scale_max / 2 (`"fixed"`, the same mean). The 1/sqrt(h) and 1/sqrt(d) factors keep
    the function's scale independent of the width and the input dimension (the standard
    parametrisation), so widths differ in parameter count, not in the law of the function.
    A uniform s spreads the class over many scales, so near-constant functions (s small)
    fill a large share of it: "simple" functions get large prior volume.

    The M * h * 2^d hidden activations are the cost; they are formed in float32, in chunks
    that stay in cache, each pre-activation as a sum of a low-coordinates and a
    high-coordinates part (w . x = w_lo . x_lo + w_hi . x_hi), one addition per entry.
    """
    if readout not in ("uniform", "fixed"):
        raise ValueError(f"readout: expected 'uniform' or 'fixed', got {readout!r}")
    W = rng.standard_normal((M, h, d), dtype=np.float32) / np.float32(np.sqrt(d))
    b = rng.standard_normal((M, h), dtype=np.float32)
    a = rng.standard_normal((M, h), dtype=np.float32)
    s = rng.uniform(0.0, scale_max, M) if readout == "uniform" else np.full(M, scale_max / 2)
    d_lo = d // 2
    x_lo = hypercube(d_lo).T.astype(np.float32)        # (d_lo, 2^d_lo)
    x_hi = hypercube(d - d_lo).T.astype(np.float32)    # (d - d_lo, 2^(d - d_lo))
    out = np.empty((M, 2**d))
    step = max(1, chunk_elems // (h * 2**d))
    for lo in range(0, M, step):
        hi = min(M, lo + step)
        pre_lo = W[lo:hi, :, :d_lo] @ x_lo + b[lo:hi, :, None]     # (m, h, 2^d_lo)
        pre_hi = W[lo:hi, :, d_lo:] @ x_hi                          # (m, h, 2^d_hi)
        # point index = lo_index + 2^d_lo * hi_index, as in hypercube(d)
        act = np.tanh(pre_hi[:, :, :, None] + pre_lo[:, :, None, :]).reshape(hi - lo, h, -1)
        out[lo:hi] = (a[lo:hi, None, :] @ act)[:, 0]
    return out * (s / np.sqrt(h))[:, None]


def bernoulli_logits_to_logprobs(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(log sigmoid(z), log sigmoid(-z)), computed without overflow."""
    return -np.logaddexp(0.0, -z), -np.logaddexp(0.0, z)


# --- data: nested training sets, as counts ----------------------------------------------


def draw_sequences(rng: np.random.Generator, n_x: int, n_max: int, shape: tuple[int, ...],
                   px: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Input indices x_t ~ px and uniforms u_t of `shape + (n_max,)` sequences; the labels
    of a target p0 are y_t = [u_t < p0(x_t)]. Drawing them apart from the target lets
    several targets share one noise stream (common random numbers)."""
    xs = rng.choice(n_x, size=(*shape, n_max), p=px)
    return xs, rng.random((*shape, n_max))


def prefix_counts(xs: np.ndarray, ys: np.ndarray, n_grid: list[int],
                  n_x: int) -> tuple[np.ndarray, np.ndarray]:
    """Label counts of the prefixes of length n in n_grid of sequences (..., n_max):
    c1, c0 of shape (..., len(n_grid), n_x), c1[..., g, x] = #{t < n_g : x_t = x, y_t = 1}.
    One bincount over (sequence, grid segment, label, x), then a cumulative sum over the
    few segments."""
    lead, n_max = xs.shape[:-1], xs.shape[-1]
    n_seq = int(np.prod(lead, dtype=int))
    edges = np.asarray(n_grid)
    segment = np.searchsorted(edges, np.arange(n_max), side="right")  # t < n_g <=> seg <= g
    n_seg = len(edges) + 1
    key = ((np.arange(n_seq)[:, None] * n_seg + segment[None, :]) * 2
           + ys.reshape(n_seq, n_max)) * n_x + xs.reshape(n_seq, n_max)
    counts = np.bincount(key.ravel(), minlength=n_seq * n_seg * 2 * n_x)
    counts = np.cumsum(counts.reshape(n_seq, n_seg, 2, n_x)[:, :-1], axis=1).astype(float)
    counts = counts.reshape(*lead, len(edges), 2, n_x)
    return counts[..., 1, :], counts[..., 0, :]


def nested_counts(rng: np.random.Generator, p0: np.ndarray, n_grid: list[int], reps: int,
                  px: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Draw `reps` iid sequences (x_t ~ px, y_t ~ Bernoulli(p0[x_t])) of length max(n_grid)
    and return the label counts of their prefixes of each length n in n_grid:
    c1, c0 of shape (reps, len(n_grid), X)."""
    xs, u = draw_sequences(rng, len(p0), max(n_grid), (reps,), px)
    return prefix_counts(xs, u < p0[xs], n_grid, len(p0))


# --- the mixture ------------------------------------------------------------------------


def log_likelihoods(c1: np.ndarray, c0: np.ndarray, log_p1: np.ndarray,
                    log_p0: np.ndarray) -> np.ndarray:
    """log p_i(y^n | x^n) of every hypothesis for training sets given by counts (..., X):
    shape (..., M), as one matrix product [c1 c0] @ [log P1 log P0]^T."""
    lead = c1.shape[:-1]
    c = np.concatenate([c1.reshape(-1, c1.shape[-1]), c0.reshape(-1, c0.shape[-1])], axis=1)
    log_p = np.concatenate([log_p1, log_p0], axis=1)
    return (c @ log_p.T).reshape(*lead, log_p.shape[0])


def log_marginal(log_w: np.ndarray, ll: np.ndarray) -> np.ndarray:
    """log Q(y^n | x^n) = log sum_i w_i p_i(y^n | x^n) (log-sum-exp over the last axis)."""
    a = log_w + ll
    top = np.max(a, axis=-1, keepdims=True)
    return top[..., 0] + np.log(np.sum(np.exp(a - top), axis=-1))


def posterior(log_w: np.ndarray, ll: np.ndarray) -> np.ndarray:
    """Posterior weights over the class, (..., M), each row summing to 1."""
    a = log_w + ll
    a = a - np.max(a, axis=-1, keepdims=True)
    e = np.exp(a)
    return e / np.sum(e, axis=-1, keepdims=True)


def predictive(post: np.ndarray, P1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Posterior predictive (q(y=1 | x), q(y=0 | x)), each (..., X). q0 is summed from
    1 - P1 rather than taken as 1 - q1, so a confident predictive keeps its small side."""
    lead, n_x = post.shape[:-1], P1.shape[-1]
    q = post.reshape(-1, post.shape[-1]) @ np.concatenate([P1, 1.0 - P1], axis=1)
    return q[:, :n_x].reshape(*lead, n_x), q[:, n_x:].reshape(*lead, n_x)


def bernoulli_kl(p1: np.ndarray, q1: np.ndarray, q0: np.ndarray | None = None) -> np.ndarray:
    """KL(Bernoulli(p1) || Bernoulli(q1)) elementwise, in nats (0 log 0 = 0)."""
    q0 = 1.0 - q1 if q0 is None else q0
    tiny = np.finfo(float).tiny
    p0 = 1.0 - p1
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = np.where(p1 > 0, p1 * (np.log(np.maximum(p1, tiny)) - np.log(np.maximum(q1, tiny))),
                      0.0)
        t0 = np.where(p0 > 0, p0 * (np.log(np.maximum(p0, tiny)) - np.log(np.maximum(q0, tiny))),
                      0.0)
    return np.maximum(t1 + t0, 0.0)  # >= 0; rounding can leave -1e-18 where p1 == q1


def regret(p0: np.ndarray, q1: np.ndarray, q0: np.ndarray | None = None,
           px: np.ndarray | None = None) -> np.ndarray:
    """Excess log-loss of the predictor q over the truth p0 on a fresh pair:
    E_{x ~ px} KL(p0(. | x) || q(. | x)), over the last axis."""
    kl = bernoulli_kl(p0, q1, q0)
    return np.mean(kl, axis=-1) if px is None else kl @ px


def kl_to_class(p0: np.ndarray, log_p1: np.ndarray, log_p0: np.ndarray,
                px: np.ndarray | None = None) -> np.ndarray:
    """E_x KL(p0 || p_i) for every target row of p0 (C, X) against every hypothesis:
    shape (C, M), as two matrix products (the cross-entropy) minus the target's entropy."""
    n_x = p0.shape[-1]
    px = np.full(n_x, 1.0 / n_x) if px is None else px
    q = 1.0 - p0
    with np.errstate(divide="ignore", invalid="ignore"):
        neg_h = np.where(p0 > 0, p0 * np.log(p0), 0.0) + np.where(q > 0, q * np.log(q), 0.0)
    cross = (p0 * px) @ log_p1.T + (q * px) @ log_p0.T
    return np.maximum((neg_h @ px)[..., None] - cross, 0.0)


def eps_weight(kl: np.ndarray, w: np.ndarray, eps: float) -> np.ndarray:
    """w_eps: prior mass of the hypotheses within KL eps of the target, per row of kl."""
    return (kl <= eps) @ w


def weight_bound(w_eps: np.ndarray | float, n: np.ndarray | float, eps: float) -> np.ndarray:
    """The per-sample regret bound -log(w_eps) / n + eps."""
    return -np.log(w_eps) / np.asarray(n, dtype=float) + eps


def erm_index(ll: np.ndarray) -> np.ndarray:
    """The maximum-likelihood hypothesis of each training set (first of ties)."""
    return np.argmax(ll, axis=-1)


def cumulative_regret(ll_true: np.ndarray, log_w: np.ndarray, ll: np.ndarray) -> np.ndarray:
    """Log-loss regret of the mixture on the whole sequence, log p0(y^n | x^n) -
    log Q(y^n | x^n) (the sum of its sequential predictions' excess log-losses)."""
    return ll_true - log_marginal(log_w, ll)
