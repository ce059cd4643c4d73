"""Particle filtering (PF) guided by a process reward model, and Entropic PF (ePF).

Everything is batched over independent problems: arrays are (P, N), P problems with N
particles each, and every step of the filter is one numpy program over the batch.

The resampling distribution of PF for inference-time scaling (Puri et al. 2025, its_hub's
ParticleFiltering) is the softmax of the PRM logits at the current step,

    p_i = exp(l_i / T) / sum_j exp(l_j / T),        T = 1 for plain PF,

followed by resampling N particles from p. Entropic Annealing (Giannone et al. 2025,
arXiv 2510.05825) watches the diversity of p and flattens it (T > 1) when it collapses.
Two schedules are implemented:

- `entropy_target_temperature`: if the normalised entropy H(p) / log N < h_min, the
  smallest T >= 1 with H(softmax(l / T)) / log N >= h_min (bisection on log T; the entropy
  of a Gibbs distribution grows monotonically with its temperature).
- `ess_schedule_temperature`: the schedule of its_hub's EntropicParticleFiltering (the
  authors' code): when ESS / N < ess_threshold and the progress t / T_max < early_phase,
  T = max(1, (1 - progress) / (ESS / N)); otherwise T = 1.

Look-ahead Modulation scores a state by a blend of its own PRM logit and the logit of one
sampled successor: l <- (1 - lambda) l_t + lambda l_{t+1}(successor).

`ReasoningTree` is the synthetic world of the scenario (no language model): an approach
picked at step 0 is sound with probability p_sound, else flawed; a sound path breaks with
probability error_rate per later step; the PRM's mean logit separates the three states only
late in the reasoning while its noise is loud early (over-confident early scores).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SOUND, FLAWED, BROKEN = 0, 1, 2


# --------------------------------------------------------------------- resampling weights


def log_softmax(logits: np.ndarray, temperature: np.ndarray | float = 1.0) -> np.ndarray:
    """Row-wise log softmax of logits / temperature (temperature broadcast per row)."""
    z = np.asarray(logits, dtype=np.float64) / np.asarray(temperature, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def softmax(logits: np.ndarray, temperature: np.ndarray | float = 1.0) -> np.ndarray:
    return np.exp(log_softmax(logits, temperature))


def normalized_entropy(logp: np.ndarray) -> np.ndarray:
    """H(p) / log N per row, from log-probabilities (zero-probability entries count 0)."""
    n = logp.shape[-1]
    p = np.exp(logp)
    h = -np.sum(p * np.where(p > 0, logp, 0.0), axis=-1)
    return h / np.log(n) if n > 1 else np.zeros_like(h)


def effective_sample_size(p: np.ndarray) -> np.ndarray:
    """Kish's ESS = 1 / sum p_i^2 per row (N for uniform weights, 1 for a point mass)."""
    return 1.0 / np.sum(np.asarray(p) ** 2, axis=-1)


def entropy_target_temperature(logits: np.ndarray, h_min: float, iters: int = 30,
                               t_max: float = 1e4) -> np.ndarray:
    """Per row: 1 where H(softmax(l)) / log N >= h_min already, else the smallest T >= 1
    with H(softmax(l / T)) / log N >= h_min, found by bisection on log T (the returned
    value is the upper end of the final bracket, so the target always holds)."""
    logits = np.asarray(logits, dtype=np.float64)
    rows = logits.shape[:-1]
    ok = normalized_entropy(log_softmax(logits)) >= h_min
    lo = np.zeros(rows)
    hi = np.full(rows, np.log(t_max))
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        reach = normalized_entropy(log_softmax(logits, np.exp(mid)[..., None])) >= h_min
        hi = np.where(reach, mid, hi)
        lo = np.where(reach, lo, mid)
    return np.where(ok, 1.0, np.exp(hi))


def ess_schedule_temperature(logits: np.ndarray, progress: float, ess_threshold: float = 0.5,
                             early_phase: float = 0.5) -> np.ndarray:
    """its_hub's ESS schedule: T = max(1, (1 - progress) N / ESS) when ESS / N is below
    ess_threshold during the early phase (progress < early_phase), else T = 1."""
    logits = np.asarray(logits, dtype=np.float64)
    n = logits.shape[-1]
    ratio = effective_sample_size(softmax(logits)) / n
    temp = np.maximum(1.0, (1.0 - progress) / ratio)
    return np.where((ratio < ess_threshold) & (progress < early_phase), temp, 1.0)


# ----------------------------------------------------------------------------- resampling


def resample(p: np.ndarray, rng: np.random.Generator, method: str = "multinomial") -> np.ndarray:
    """Ancestor indices (P, N) drawn from the rows of p (P, N) by inverting the CDF:
    multinomial (N independent uniforms per row) or systematic (one uniform per row,
    positions (k + u) / N, so particle i gets floor or ceil of N p_i copies)."""
    n_rows, n = p.shape
    if method == "multinomial":
        u = rng.random((n_rows, n))
    elif method == "systematic":
        u = (np.arange(n)[None, :] + rng.random((n_rows, 1))) / n
    else:
        raise ValueError(f"method: expected 'multinomial' or 'systematic', got {method!r}")
    cdf = np.cumsum(p, axis=1)
    cdf[:, -1] = np.inf  # guard against round-off: every u < 1 lands on some particle
    return (cdf[:, None, :] <= u[:, :, None]).sum(axis=2)


def unique_per_row(a: np.ndarray) -> np.ndarray:
    """Number of distinct values in each row of an integer array."""
    s = np.sort(a, axis=1)
    return 1 + (np.diff(s, axis=1) != 0).sum(axis=1)


# ------------------------------------------------------------------------ the toy world


@dataclass(frozen=True)
class ReasoningTree:
    """The synthetic reasoning tree (states SOUND, FLAWED, BROKEN) and its noisy PRM.

    PRM logit at step t, frac = t / (T - 1): mean 3 frac (sound), 0.5 - frac (flawed),
    -frac (broken), plus Gaussian noise of sd early_noise (1 - frac) + late_noise frac."""

    n_steps: int = 10
    p_sound: float = 0.3
    error_rate: float = 0.05
    early_noise: float = 3.0
    late_noise: float = 0.7

    def frac(self, t: int) -> float:
        return t / (self.n_steps - 1)

    def init_states(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        return np.where(rng.random(shape) < self.p_sound, SOUND, FLAWED).astype(np.int8)

    def step(self, states: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        broke = (states == SOUND) & (rng.random(states.shape) < self.error_rate)
        return np.where(broke, BROKEN, states).astype(np.int8)

    def prm_mean(self, states: np.ndarray, t: int) -> np.ndarray:
        f = self.frac(t)
        return np.choose(states, [3.0 * f, 0.5 - f, -f])

    def noise_sd(self, t: int) -> float:
        f = self.frac(t)
        return self.early_noise * (1.0 - f) + self.late_noise * f

    def prm(self, states: np.ndarray, t: int, rng: np.random.Generator) -> np.ndarray:
        return self.prm_mean(states, t) + self.noise_sd(t) * rng.standard_normal(states.shape)


# ------------------------------------------------------------------------------ filters


@dataclass(frozen=True)
class Method:
    """One filter: annealing 'none' (PF), 'entropy' (target h_min), 'ess' (its_hub's
    schedule) or 'fixed' (a constant temperature); lookahead > 0 adds LaM."""

    annealing: str = "none"
    h_min: float = 0.9
    fixed_temperature: float = 1.0
    ess_threshold: float = 0.5
    early_phase: float = 0.5
    lookahead: float = 0.0

    def temperature(self, logits: np.ndarray, progress: float) -> np.ndarray:
        rows = logits.shape[:-1]
        if self.annealing == "none":
            return np.ones(rows)
        if self.annealing == "entropy":
            return entropy_target_temperature(logits, self.h_min)
        if self.annealing == "ess":
            return ess_schedule_temperature(logits, progress, self.ess_threshold,
                                            self.early_phase)
        if self.annealing == "fixed":
            return np.full(rows, float(self.fixed_temperature))
        raise ValueError(f"annealing: unknown {self.annealing!r}")


@dataclass
class FilterResult:
    correct: np.ndarray            # (P,) 1.0 when the selected particle is sound
    entropy: np.ndarray            # (T-1, P) normalised entropy of the untempered weights
    entropy_used: np.ndarray       # (T-1, P) normalised entropy of the weights resampled from
    temperature: np.ndarray        # (T-1, P)
    sound_frac: np.ndarray         # (T, P) fraction of sound particles after step t's move
    ancestors: np.ndarray          # (T, P) distinct root ancestors among the particles
    ess: np.ndarray                # (T-1, P) ESS / N of the untempered weights
    prm_calls: int                 # PRM calls per problem


def run_filter(tree: ReasoningTree, method: Method, n_problems: int, n_particles: int,
               rng: np.random.Generator, resampling: str = "multinomial") -> FilterResult:
    """Run one filter on n_problems independent problems with n_particles each.

    Per step t = 0 .. T-1: extend every particle by one step (t = 0: pick the approach),
    score it with the PRM (LaM: blend in the logit of one sampled successor), and, before
    the last step, resample from softmax(logit / temperature). The answer is the particle
    with the largest final PRM logit (untempered), as in its_hub's ARGMAX selection."""
    P, N, T = n_problems, n_particles, tree.n_steps
    states = tree.init_states((P, N), rng)
    roots = np.broadcast_to(np.arange(N), (P, N)).copy()
    rows = np.arange(P)[:, None]
    out = {k: np.zeros((T - 1, P)) for k in ("entropy", "entropy_used", "temperature", "ess")}
    sound = np.zeros((T, P))
    anc = np.zeros((T, P))
    calls = 0
    for t in range(T):
        if t > 0:
            states = tree.step(states, rng)
        sound[t] = (states == SOUND).mean(axis=1)
        anc[t] = unique_per_row(roots)
        logits = tree.prm(states, t, rng)
        calls += N
        if t == T - 1:
            break
        if method.lookahead > 0:
            succ = tree.step(states, rng)  # scored only; the particle moves on independently
            logits = (1 - method.lookahead) * logits + method.lookahead * tree.prm(succ, t + 1,
                                                                                   rng)
            calls += N
        base = log_softmax(logits)
        temp = method.temperature(logits, t / (T - 1))
        logp = log_softmax(logits, temp[:, None])
        p = np.exp(logp)
        out["entropy"][t] = normalized_entropy(base)
        out["entropy_used"][t] = normalized_entropy(logp)
        out["temperature"][t] = temp
        out["ess"][t] = effective_sample_size(np.exp(base)) / N
        idx = resample(p, rng, resampling)
        states, roots = states[rows, idx], roots[rows, idx]
    pick = np.argmax(logits, axis=1)
    correct = (states[np.arange(P), pick] == SOUND).astype(np.float64)
    return FilterResult(correct, out["entropy"], out["entropy_used"], out["temperature"],
                        sound, anc, out["ess"], calls)
