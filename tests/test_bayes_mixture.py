"""Bayes mixtures over a finite class (engines/stats/bayes_mixture.py), each against an
independent computation: sequential Bayes updates one sample at a time, direct products of
per-sample likelihoods with scipy's logsumexp, scipy's rel_entr, exact enumeration of every
training sequence (the regret identity and the weight bound), and a per-network loop."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.special import logsumexp, rel_entr

from paramlab.engines.stats import bayes_mixture as bm


def _small_class(rng, M=7, n_x=3):
    P1 = rng.uniform(0.05, 0.95, (M, n_x))
    w = rng.dirichlet(np.ones(M))
    return P1, w


def _sequence(rng, p0, n, px=None):
    xs = rng.choice(len(p0), size=n, p=px)
    ys = (rng.random(n) < p0[xs]).astype(int)
    return xs, ys


def _counts(xs, ys, n_x):
    c1 = np.bincount(xs[ys == 1], minlength=n_x).astype(float)
    c0 = np.bincount(xs[ys == 0], minlength=n_x).astype(float)
    return c1, c0


def test_hypercube_lists_every_sign_vector_once():
    X = bm.hypercube(4)
    assert X.shape == (16, 4) and set(np.unique(X)) == {-1.0, 1.0}
    assert len({tuple(r) for r in X}) == 16


def test_tanh_network_outputs_equal_a_per_network_loop():
    M, h, d = 40, 5, 5
    F = bm.tanh_network_outputs(np.random.default_rng(3), M, h, d, chunk_elems=200)
    rng = np.random.default_rng(3)  # the same draws, in the engine's order
    W = rng.standard_normal((M, h, d), dtype=np.float32) / np.float32(np.sqrt(d))
    b = rng.standard_normal((M, h), dtype=np.float32)
    a = rng.standard_normal((M, h), dtype=np.float32)
    s = rng.uniform(0.0, 2.0, M)
    X = bm.hypercube(d)
    for i in range(M):
        f = s[i] / np.sqrt(h) * np.array(
            [sum(a[i, j] * np.tanh(W[i, j] @ x + b[i, j]) for j in range(h)) for x in X])
        np.testing.assert_allclose(F[i], f, atol=1e-5)


def test_fixed_readout_has_one_scale_and_width_does_not_change_the_function_scale():
    rng = np.random.default_rng(0)
    narrow = bm.tanh_network_outputs(rng, 4000, 4, 6, readout="fixed")
    wide = bm.tanh_network_outputs(rng, 4000, 64, 6, readout="fixed")
    assert np.std(wide) == pytest.approx(np.std(narrow), rel=0.1)
    with pytest.raises(ValueError, match="readout"):
        bm.tanh_network_outputs(rng, 10, 4, 3, readout="other")


def test_logprobs_are_those_of_the_sigmoid_and_do_not_overflow():
    z = np.array([-800.0, -3.0, 0.0, 2.5, 800.0])
    lp1, lp0 = bm.bernoulli_logits_to_logprobs(z)
    with np.errstate(over="ignore"):
        np.testing.assert_allclose(np.exp(lp1[1:4]), 1 / (1 + np.exp(-z[1:4])))
    np.testing.assert_allclose(np.exp(lp1) + np.exp(lp0), 1.0)
    assert np.all(np.isfinite(lp1)) and np.all(np.isfinite(lp0))


def test_log_likelihoods_from_counts_equal_the_product_over_samples():
    rng = np.random.default_rng(1)
    P1, _ = _small_class(rng)
    xs, ys = _sequence(rng, P1[0], 30)
    c1, c0 = _counts(xs, ys, P1.shape[1])
    ll = bm.log_likelihoods(c1, c0, np.log(P1), np.log1p(-P1))
    direct = np.sum(np.log(np.where(ys == 1, P1[:, xs], 1 - P1[:, xs])), axis=1)
    np.testing.assert_allclose(ll, direct)


def test_mixture_cumulative_log_loss_equals_minus_log_marginal_likelihood():
    # sequential Bayes: predict each label with the current posterior, then update it
    rng = np.random.default_rng(2)
    P1, w = _small_class(rng)
    xs, ys = _sequence(rng, P1[3], 40)
    post, loss = w.copy(), 0.0
    for x, y in zip(xs, ys):
        lik = P1[:, x] if y == 1 else 1 - P1[:, x]
        loss -= np.log(post @ lik)
        post = post * lik / (post @ lik)
    c1, c0 = _counts(xs, ys, P1.shape[1])
    ll = bm.log_likelihoods(c1, c0, np.log(P1), np.log1p(-P1))
    assert -bm.log_marginal(np.log(w), ll) == pytest.approx(loss, rel=1e-12)
    assert bm.log_marginal(np.log(w), ll) == pytest.approx(logsumexp(np.log(w) + ll))
    # and the engine's posterior and predictive are the sequential ones
    np.testing.assert_allclose(bm.posterior(np.log(w), ll), post, rtol=1e-10)
    q1, q0 = bm.predictive(bm.posterior(np.log(w), ll), P1)
    np.testing.assert_allclose(q1, post @ P1)
    np.testing.assert_allclose(q0, 1 - post @ P1)


def test_posterior_is_stable_for_very_long_sequences():
    rng = np.random.default_rng(3)
    P1, w = _small_class(rng)
    ll = -1e5 + rng.normal(0, 50, (2, len(w)))  # likelihoods far below float range
    post = bm.posterior(np.log(w), ll)
    np.testing.assert_allclose(post.sum(axis=-1), 1.0)
    assert np.isfinite(bm.log_marginal(np.log(w), ll)).all()


def test_bernoulli_kl_and_regret_match_scipy_rel_entr():
    rng = np.random.default_rng(4)
    p, q = rng.uniform(0, 1, 50), rng.uniform(0.01, 0.99, 50)
    p[:3] = [0.0, 1.0, 0.5]
    ref = rel_entr(p, q) + rel_entr(1 - p, 1 - q)
    np.testing.assert_allclose(bm.bernoulli_kl(p, q), ref, atol=1e-14)
    px = rng.dirichlet(np.ones(50))
    assert bm.regret(p, q, px=px) == pytest.approx(ref @ px)
    assert bm.regret(p, q) == pytest.approx(ref.mean())


def test_kl_to_class_equals_the_elementwise_mean_kl():
    rng = np.random.default_rng(5)
    P1, _ = _small_class(rng, M=9, n_x=6)
    targets = np.vstack([P1[:2], [0.0, 1.0, 0.3, 0.5, 0.9, 0.1]])
    px = rng.dirichlet(np.ones(6))
    kl = bm.kl_to_class(targets, np.log(P1), np.log1p(-P1), px)
    ref = np.array([[bm.bernoulli_kl(t, q) @ px for q in P1] for t in targets])
    np.testing.assert_allclose(kl, ref, atol=1e-12)
    assert kl[0, 0] == pytest.approx(0.0, abs=1e-12) and kl[1, 1] == pytest.approx(0.0, abs=1e-12)


def test_eps_weight_sums_the_prior_inside_the_ball():
    kl = np.array([[0.0, 0.04, 0.06, 0.2], [0.3, 0.3, 0.01, 0.05]])
    w = np.array([0.1, 0.2, 0.3, 0.4])
    np.testing.assert_allclose(bm.eps_weight(kl, w, 0.05), [0.3, 0.7])
    assert bm.weight_bound(0.25, 4, 0.1) == pytest.approx(np.log(4) / 4 + 0.1)


def test_nested_counts_are_the_prefix_counts_of_one_sequence():
    p0 = np.array([0.1, 0.5, 0.9, 0.7])
    px = np.array([0.4, 0.3, 0.2, 0.1])
    grid = [3, 10, 40]
    c1, c0 = bm.nested_counts(np.random.default_rng(6), p0, grid, 5, px)
    rng = np.random.default_rng(6)  # the same draws, counted by bincount
    xs = rng.choice(4, size=(5, 40), p=px)
    ys = rng.random((5, 40)) < p0[xs]
    for r in range(5):
        for g, n in enumerate(grid):
            ref1, ref0 = _counts(xs[r, :n], ys[r, :n].astype(int), 4)
            np.testing.assert_array_equal(c1[r, g], ref1)
            np.testing.assert_array_equal(c0[r, g], ref0)


def test_erm_and_cumulative_regret_against_direct_computation():
    rng = np.random.default_rng(7)
    P1, w = _small_class(rng)
    xs, ys = _sequence(rng, P1[2], 25)
    c1, c0 = _counts(xs, ys, P1.shape[1])
    ll = bm.log_likelihoods(c1, c0, np.log(P1), np.log1p(-P1))
    assert bm.erm_index(ll) == int(np.argmax(ll))
    ll_true = c1 @ np.log(P1[2]) + c0 @ np.log1p(-P1[2])
    ref = ll_true - logsumexp(np.log(w) + ll)
    assert bm.cumulative_regret(ll_true, np.log(w), ll) == pytest.approx(ref)


def _exact_expected_regrets(P1, w, p0, px, n):
    """Enumerate every sequence of n (x, y) pairs: the expected cumulative regret
    E log p0(y^n|x^n)/Q(y^n|x^n), and the sum over t < n of E KL(p0 || q_t)."""
    n_x = len(p0)
    log_p1, log_p0 = np.log(P1), np.log1p(-P1)
    cumulative, kl_sum = 0.0, 0.0
    for seq in itertools.product(range(n_x), (0, 1), repeat=n):
        xs, ys = np.array(seq[0::2]), np.array(seq[1::2])
        prob = np.prod(px[xs] * np.where(ys == 1, p0[xs], 1 - p0[xs]))
        c1, c0 = _counts(xs, ys, n_x)
        ll = bm.log_likelihoods(c1, c0, log_p1, log_p0)
        ll_true = c1 @ np.log(p0) + c0 @ np.log1p(-p0)
        cumulative += prob * bm.cumulative_regret(ll_true, np.log(w), ll)
    for t in range(n):  # E KL(p0 || q_t) over training sets of size t
        for seq in itertools.product(range(n_x), (0, 1), repeat=t):
            xs, ys = np.array(seq[0::2], dtype=int), np.array(seq[1::2], dtype=int)
            prob = np.prod(px[xs] * np.where(ys == 1, p0[xs], 1 - p0[xs]))
            c1, c0 = _counts(xs, ys, n_x)
            post = bm.posterior(np.log(w), bm.log_likelihoods(c1, c0, log_p1, log_p0))
            q1, q0 = bm.predictive(post, P1)
            kl_sum += prob * bm.regret(p0, q1, q0, px)
    return cumulative, kl_sum


def test_expected_cumulative_regret_is_the_sum_of_instantaneous_regrets_and_obeys_the_bound():
    rng = np.random.default_rng(8)
    P1, w = _small_class(rng, M=6, n_x=2)
    P1[1] = np.clip(P1[0] + 0.02, 0, 1)  # a near-duplicate of the target: weight in its ball
    p0, px = P1[0], np.array([0.6, 0.4])
    n = 5
    cumulative, kl_sum = _exact_expected_regrets(P1, w, p0, px, n)
    assert cumulative == pytest.approx(kl_sum, rel=1e-10)
    kl = bm.kl_to_class(p0[None], np.log(P1), np.log1p(-P1), px)[0]
    for eps in (0.0, 1e-3, 0.01, 0.05, 0.2, 1.0):
        w_eps = bm.eps_weight(kl, w, eps)
        assert cumulative / n <= bm.weight_bound(w_eps, n, eps) + 1e-12
    # eps = 0 with the target in the class: regret <= -log w(theta0), whatever M
    assert cumulative <= -np.log(w[0]) + 1e-12


def test_a_heavier_target_has_lower_exact_regret():
    # the same class with the prior mass moved onto the target: smaller regret
    rng = np.random.default_rng(9)
    P1, w = _small_class(rng, M=6, n_x=2)
    px = np.array([0.5, 0.5])
    light = np.full(6, 0.9 / 5)
    light[0] = 0.1
    heavy = np.full(6, 0.1 / 5)
    heavy[0] = 0.9
    r_light, _ = _exact_expected_regrets(P1, light, P1[0], px, 4)
    r_heavy, _ = _exact_expected_regrets(P1, heavy, P1[0], px, 4)
    assert r_heavy < r_light <= -np.log(0.1)
    assert r_heavy <= -np.log(0.9)
