"""The particle-filter engine against independent computations: scipy's softmax and
entropy, brute-force searches, a transcription of its_hub's temperature schedule, exact
resampling counts, and an exact Markov-chain (Wright-Fisher) computation of PF and ePF
accuracy on a noise-free reasoning tree."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, special, stats

from paramlab.engines.stats import particles as pt


def test_softmax_and_entropy_match_scipy():
    rng = np.random.default_rng(0)
    logits = 3 * rng.standard_normal((5, 16))
    temps = np.array([1.0, 0.5, 2.0, 7.0, 30.0])
    p = pt.softmax(logits, temps[:, None])
    ref = special.softmax(logits / temps[:, None], axis=1)
    assert np.allclose(p, ref, atol=1e-12)
    h = pt.normalized_entropy(pt.log_softmax(logits, temps[:, None]))
    assert np.allclose(h, stats.entropy(ref, axis=1) / math.log(16), atol=1e-12)


def test_entropy_and_ess_of_a_point_mass_and_of_uniform_weights():
    n = 8
    point = np.full((1, n), -np.inf)
    point[0, 3] = 0.0
    assert pt.normalized_entropy(point)[0] == 0.0
    assert pt.normalized_entropy(np.full((1, n), -math.log(n)))[0] == pytest.approx(1.0)
    assert pt.effective_sample_size(np.full((1, n), 1 / n))[0] == pytest.approx(n)
    assert pt.effective_sample_size(np.exp(point))[0] == pytest.approx(1.0)


def test_ess_equals_kish_formula_on_unnormalised_weights():
    rng = np.random.default_rng(1)
    w = rng.exponential(size=(4, 10)) ** 3
    kish = [sum(row) ** 2 / sum(x * x for x in row) for row in w.tolist()]
    assert np.allclose(pt.effective_sample_size(w / w.sum(axis=1, keepdims=True)), kish)


def _h(logits: np.ndarray, temp: float) -> float:
    return float(stats.entropy(special.softmax(logits / temp)) / math.log(len(logits)))


def test_entropy_target_temperature_is_the_smallest_that_reaches_h_min():
    rng = np.random.default_rng(2)
    logits = 3 * rng.standard_normal((12, 32))
    h_min = 0.9
    temps = pt.entropy_target_temperature(logits, h_min)
    grid = np.exp(np.linspace(0.0, math.log(200.0), 4001))  # brute force on a fine grid
    for row, t in zip(logits, temps):
        h_grid = stats.entropy(special.softmax(row[None, :] / grid[:, None], axis=1),
                               axis=1) / math.log(row.size)
        if h_grid[0] >= h_min:
            assert t == 1.0
            continue
        brute = grid[np.argmax(h_grid >= h_min)]
        assert _h(row, t) >= h_min - 1e-12
        assert t == pytest.approx(brute, rel=2e-3)
        # and a root finder agrees (entropy grows monotonically with temperature)
        root = optimize.brentq(lambda s, r=row: _h(r, math.exp(s)) - h_min, 0.0, 10.0,
                               xtol=1e-12)
        assert t == pytest.approx(math.exp(root), rel=1e-6)


def test_entropy_target_leaves_diverse_weights_alone_and_h_min_zero_never_anneals():
    flat = np.zeros((2, 16)) + np.array([[0.0], [0.01]]) * np.arange(16)
    assert np.all(pt.entropy_target_temperature(flat, 0.9) == 1.0)
    rng = np.random.default_rng(3)
    assert np.all(pt.entropy_target_temperature(10 * rng.standard_normal((5, 8)), 0.0) == 1.0)


def _its_hub_temperature(log_weights, step, max_steps, ess_threshold, early_phase):
    """its_hub's EntropicParticleFiltering._temperature_annealing (ESS method), written
    out per particle set with plain Python."""
    m = max(log_weights)
    e = [math.exp(x - m) for x in log_weights]
    p = [x / sum(e) for x in e]
    p = [min(max(x, 1e-7), 1 - 1e-7) for x in p]
    ratio = 1.0 / sum(x * x for x in p) / len(p)
    progress = step / max_steps
    if ratio < ess_threshold and progress < early_phase:
        return max(1.0, 1.0 / ratio * (1 - progress))
    return 1.0


def test_ess_schedule_matches_its_hub_transcription():
    rng = np.random.default_rng(4)
    logits = rng.standard_normal((20, 16)) * rng.uniform(0.1, 4.0, size=(20, 1))
    for step in range(0, 10):
        ours = pt.ess_schedule_temperature(logits, step / 10, 0.5, 0.5)
        ref = [_its_hub_temperature(row, step, 10, 0.5, 0.5) for row in logits.tolist()]
        assert np.allclose(ours, ref, rtol=1e-5)


def test_multinomial_resampling_frequencies_follow_the_weights():
    rng = np.random.default_rng(5)
    p = np.array([0.5, 0.25, 0.125, 0.0, 0.125])
    idx = pt.resample(np.tile(p, (4000, 1)), rng, "multinomial")
    counts = np.bincount(idx.ravel(), minlength=5)
    assert counts[3] == 0
    keep = p > 0
    res = stats.chisquare(counts[keep], counts.sum() * p[keep])
    assert res.pvalue > 1e-3


class _Fixed:
    """A stand-in Generator whose random() returns prescribed uniforms, one per row."""

    def __init__(self, u):
        self.u = u

    def random(self, shape):
        return self.u.reshape(shape)


def test_systematic_resampling_gives_floor_or_ceil_copies_and_unbiased_counts():
    p = np.array([0.37, 0.05, 0.28, 0.3])
    n = p.size
    us = (np.arange(20_000) + 0.5) / 20_000  # brute force over the single uniform
    idx = pt.resample(np.tile(p, (us.size, 1)), _Fixed(us), "systematic")
    counts = np.stack([np.bincount(row, minlength=n) for row in idx])
    assert np.all((counts == np.floor(n * p)) | (counts == np.ceil(n * p)))
    assert np.allclose(counts.mean(axis=0), n * p, atol=1e-3)


def test_unique_per_row_counts_distinct_values():
    rng = np.random.default_rng(6)
    a = rng.integers(0, 6, size=(50, 8))
    assert pt.unique_per_row(a).tolist() == [len(set(r)) for r in a.tolist()]


# ------------------------------------------------- exact accuracy on a noise-free tree


def _exact_accuracy(tree: pt.ReasoningTree, n: int, temperature_of_k,
                    lookahead: float = 0.0) -> float:
    """P(a sound particle survives to the end) on a tree without PRM noise and errors.

    With deterministic logits a_t (sound) and b_t (flawed), a particle set is summed up
    by its number k of sound particles, and multinomial resampling is a Wright-Fisher
    step: k' ~ Binomial(N, q_t(k)), q = k e^{a/T} / (k e^{a/T} + (N - k) e^{b/T}), the
    temperature T = temperature_of_k(k, t). The final argmax picks a sound particle iff
    k >= 1 (the sound logit is the largest at the end). Look-ahead blends in the next
    step's logit of the same state (no errors: a successor keeps its state)."""
    T = tree.n_steps
    dist = stats.binom.pmf(np.arange(n + 1), n, tree.p_sound)
    for t in range(T - 1):
        a, b = tree.prm_mean(np.array([pt.SOUND, pt.FLAWED]), t)
        a1, b1 = tree.prm_mean(np.array([pt.SOUND, pt.FLAWED]), t + 1)
        a, b = (1 - lookahead) * a + lookahead * a1, (1 - lookahead) * b + lookahead * b1
        new = np.zeros(n + 1)
        for k in range(n + 1):
            if dist[k] == 0:
                continue
            temp = temperature_of_k(k, t, a, b)
            wa, wb = k * math.exp(a / temp), (n - k) * math.exp(b / temp)
            q = wa / (wa + wb)
            new += dist[k] * stats.binom.pmf(np.arange(n + 1), n, q)
        dist = new
    return float(1.0 - dist[0])


@pytest.mark.parametrize("annealing,lookahead", [("none", 0.0), ("entropy", 0.0),
                                                 ("fixed", 0.0), ("entropy", 0.5)])
def test_filter_accuracy_matches_the_exact_wright_fisher_chain(annealing, lookahead):
    # a noise-free PRM on which the flawed approach looks better early (b_0 = 1.5 > a_0 = 0),
    # so resampling drives out the sound particles unless they survive 5 resamplings
    tree = _noise_free_tree()
    n, h_min, fixed = 6, 0.97, 2.5

    def temperature_of_k(k, t, a, b):
        if annealing == "none":
            return 1.0
        if annealing == "fixed":
            return fixed
        row = np.array([a] * k + [b] * (n - k), dtype=float)
        if k in (0, n) or _h(row, 1.0) >= h_min:
            return 1.0
        return math.exp(optimize.brentq(lambda s: _h(row, math.exp(s)) - h_min, 0, 12,
                                        xtol=1e-13))

    exact = _exact_accuracy(tree, n, temperature_of_k, lookahead)
    method = pt.Method(annealing, h_min=h_min, fixed_temperature=fixed, lookahead=lookahead)
    r = pt.run_filter(tree, method, 20_000, n, np.random.default_rng(7))
    se = math.sqrt(exact * (1 - exact) / 20_000)
    assert abs(r.correct.mean() - exact) < 4 * se, (r.correct.mean(), exact)


class _ShiftedFlawed(pt.ReasoningTree):
    """A tree whose flawed approach looks 1.5 logits better than a sound one at step 0."""

    def prm_mean(self, states, t):
        f = self.frac(t)
        return np.choose(states, [3.0 * f, 1.5 - 2.0 * f, -f])


def _noise_free_tree() -> pt.ReasoningTree:
    return _ShiftedFlawed(n_steps=6, p_sound=0.15, error_rate=0.0, early_noise=0.0,
                          late_noise=0.0)


def test_annealing_raises_the_exact_survival_of_the_sound_approach():
    tree = _noise_free_tree()
    pf = _exact_accuracy(tree, 6, lambda k, t, a, b: 1.0)
    hot = _exact_accuracy(tree, 6, lambda k, t, a, b: 2.5)
    assert hot > pf


def test_noisy_prm_collapses_pf_genealogy_and_entropic_annealing_keeps_ancestors():
    tree = pt.ReasoningTree()
    rng = np.random.default_rng(8)
    pf = pt.run_filter(tree, pt.Method("none"), 500, 32, rng)
    epf = pt.run_filter(tree, pt.Method("entropy", h_min=0.9), 500, 32, rng)
    assert pf.ancestors[0].mean() == 32
    assert pf.ancestors[-1].mean() < 1.5  # collapsed within T = 10 steps (log2 32 = 5)
    assert epf.ancestors[-1].mean() > 1.5 * pf.ancestors[-1].mean()
    # ePF resamples from weights whose entropy is at least h_min (up to bisection precision)
    assert np.all(epf.entropy_used >= 0.9 - 1e-9)
    assert np.all(pf.temperature == 1.0) and np.all(epf.temperature >= 1.0)


def test_filter_is_deterministic_given_the_generator():
    tree = pt.ReasoningTree()
    m = pt.Method("entropy", lookahead=0.5)
    a = pt.run_filter(tree, m, 50, 8, np.random.default_rng(9), "systematic")
    b = pt.run_filter(tree, m, 50, 8, np.random.default_rng(9), "systematic")
    assert np.array_equal(a.correct, b.correct) and np.array_equal(a.temperature,
                                                                   b.temperature)
    assert a.prm_calls == 8 * 10 + 8 * 9  # one extra PRM call per particle and resampling
