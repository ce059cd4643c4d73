"""pass@k estimator (engines/stats/pass_at_k.py) and the DCO loss (engines/nn/coverage.py),
each against an independent computation: brute-force enumeration of k-subsets, exact
binomial sums, Monte Carlo, the naive formula in float64 and torch's cross-entropy."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from paramlab.engines.nn import coverage as cov
from paramlab.engines.stats import pass_at_k as pak


@pytest.mark.parametrize("n,k", [(5, 1), (6, 2), (7, 3), (8, 8), (9, 4)])
def test_unbiased_estimator_equals_the_fraction_of_k_subsets_holding_a_correct_sample(n, k):
    for c in range(n + 1):
        samples = [True] * c + [False] * (n - c)
        subsets = list(itertools.combinations(range(n), k))
        brute = sum(any(samples[i] for i in s) for s in subsets) / len(subsets)
        assert pak.pass_at_k_unbiased(n, c, k) == pytest.approx(brute, abs=1e-12)


def test_unbiased_estimator_matches_the_binomial_coefficient_formula_for_large_n():
    n, k = 200, 16
    cs = np.arange(n + 1)
    ref = [1 - math.comb(n - c, k) / math.comb(n, k) for c in cs]
    np.testing.assert_allclose(pak.pass_at_k_unbiased(n, cs, k), ref, atol=1e-12)


@pytest.mark.parametrize("p", [0.0, 0.01, 0.1, 0.37, 0.9, 1.0])
def test_unbiased_estimator_has_expectation_one_minus_one_minus_p_to_the_k(p):
    # E over c ~ Binomial(n, p), summed exactly
    n, k = 64, 16
    cs = np.arange(n + 1)
    weights = np.array([math.comb(n, c) * p**c * (1 - p) ** (n - c) for c in cs])
    expectation = float(np.sum(weights * pak.pass_at_k_unbiased(n, cs, k)))
    assert expectation == pytest.approx(1 - (1 - p) ** k, abs=1e-12)
    assert pak.pass_at_k_exact(p, k) == pytest.approx(1 - (1 - p) ** k, abs=1e-15)


def test_exact_pass_at_k_is_stable_for_tiny_p():
    p = 1e-12
    assert pak.pass_at_k_exact(p, 16) == pytest.approx(16e-12, rel=1e-9)


def test_unbiased_estimator_rejects_k_above_n():
    with pytest.raises(ValueError, match="k"):
        pak.pass_at_k_unbiased(8, 3, 9)


def test_sampled_answers_give_the_exact_pass_at_k_within_monte_carlo_error():
    rng = np.random.default_rng(0)
    K, problems = 10, 4000
    logits = 2.0 * rng.standard_normal((problems, K))
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    y = rng.integers(0, K, problems)
    counts = pak.sample_correct_counts(probs, y, 64, rng)
    p_y = probs[np.arange(problems), y]
    assert np.mean(counts) / 64 == pytest.approx(np.mean(p_y), abs=0.005)
    est = np.mean(pak.pass_at_k_unbiased(64, counts, 16))
    assert est == pytest.approx(np.mean(pak.pass_at_k_exact(p_y, 16)), abs=0.01)


def _logits(seed=0, n=50, K=8, scale=3.0):
    g = torch.Generator().manual_seed(seed)
    return (scale * torch.randn(n, K, generator=g, dtype=torch.float64),
            torch.randint(0, K, (n,), generator=g))


def test_dco_with_n_one_is_cross_entropy():
    z, y = _logits()
    torch.testing.assert_close(cov.dco_loss(z, y, 1), torch.nn.functional.cross_entropy(z, y))


@pytest.mark.parametrize("N", [2, 16, 64])
def test_dco_loss_equals_the_naive_formula(N):
    z, y = _logits(1)
    p = torch.softmax(z, -1)[torch.arange(len(y)), y]
    naive = -torch.log(1 - (1 - p) ** N).mean()
    torch.testing.assert_close(cov.dco_loss(z, y, N), naive)


def test_dco_loss_is_accurate_in_float32_when_p_rounds_to_zero_or_one():
    # problem 0: p = 1 - 2e-26 (certain and right), problem 1: p = 2e-18 (certain and wrong)
    z = torch.tensor([[60.0, 0.0, 0.0], [0.0, -40.0, 0.0]], requires_grad=True)
    y = torch.tensor([0, 1])
    per_problem = [cov.dco_loss(z[i:i + 1], y[i:i + 1], 16) for i in range(2)]
    assert per_problem[0].item() < 1e-20
    # 1 - (1 - p)^16 = 16 p (1 + O(p)): loss = -log 16 - log p
    assert per_problem[1].item() == pytest.approx(40 + math.log(2 + math.exp(-40)) - math.log(16),
                                                  rel=1e-6)
    (per_problem[0] + per_problem[1]).backward()
    assert torch.all(torch.isfinite(z.grad))
    assert abs(float(z.grad[0, 0])) < 1e-20  # the learned problem no longer pulls
    assert float(z.grad[1, 1]) == pytest.approx(-1.0, abs=1e-6)  # like CE far from p = 1


@pytest.mark.parametrize("N", [1, 4, 16])
def test_dco_gradient_is_cross_entropy_gradient_times_the_confidence_factor(N):
    # d L / d z_y = -(1 - p) F(N, p) for one problem (CE: -(1 - p)), checked by autograd
    z, y = _logits(2, n=1, K=6, scale=1.0)
    z.requires_grad_(True)
    cov.dco_loss(z, y, N).backward()
    p = torch.softmax(z.detach(), -1)[0, y[0]]
    expected = -(1 - p) * cov.confidence_factor(p, N)
    assert float(z.grad[0, y[0]]) == pytest.approx(float(expected), rel=1e-9)


def test_confidence_factor_is_one_for_ce_and_vanishes_as_p_goes_to_one():
    p = torch.tensor([0.1, 0.5, 0.99], dtype=torch.float64)
    torch.testing.assert_close(cov.confidence_factor(p, 1), torch.ones(3, dtype=torch.float64))
    f = cov.confidence_factor(p, 16)
    assert float(f[2]) < 1e-20 and bool(torch.all(f[1:] < f[:-1]))


def test_exact_pass_at_n_of_logits_matches_the_numpy_formula_and_keeps_stacked_models_apart():
    z, y = _logits(3)
    stacked = torch.stack([z, 0.5 * z])
    got = cov.pass_at_n(stacked, y, (1, 16)).numpy()
    for i, zi in enumerate((z, 0.5 * z)):
        p = torch.softmax(zi, -1)[torch.arange(len(y)), y].numpy()
        for j, n in enumerate((1, 16)):
            assert got[i, j] == pytest.approx(float(np.mean(pak.pass_at_k_exact(p, n))))
    losses = cov.dco_loss(stacked, y, 16)
    assert losses.shape == (2,)
    torch.testing.assert_close(losses[1], cov.dco_loss(0.5 * z, y, 16))
