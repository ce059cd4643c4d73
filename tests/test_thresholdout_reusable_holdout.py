from __future__ import annotations

from functools import partial

import numpy as np
import pytest
import scenario_runs

from paramlab.engines.stats import adaptive_holdout as ah

SID = "thresholdout-reusable-holdout"
run_to_end = partial(scenario_runs.run_to_end, SID)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quick_claim_check_passes(seed):
    h = run_to_end(seed=seed)
    assert h.verdict.passed, h.verdict


GAP = "|Thresholdout - fresh| at k_max, mean over trials"


def test_thresholdout_without_threshold_or_noise_is_the_standard_holdout_and_fails():
    normal = run_to_end({"trials": 2})
    assert GAP not in scenario_runs.failed_paper(normal)
    h = run_to_end({"threshold_mult": 0, "noise_mult": 0, "trials": 2})
    assert not h.verdict.passed
    assert GAP in scenario_runs.failed_paper(h)
    assert h.history.last("thr_holdout") == h.history.last("std_holdout")


def test_thresholdout_lets_a_strong_signal_through():
    # 0.1 is above the largest noise correlation sqrt(2 ln d / n) ~ 0.073 at n = d = 3000
    h = run_to_end({"signal_strength": 0.1, "trials": 2})
    assert h.verdict.passed, h.verdict


def test_zero_threshold_zero_noise_answers_the_holdout_value():
    thr = ah.Thresholdout(0.0, 0.0, np.random.default_rng(0))
    a = thr.answer(np.array([0.1, 0.2, 0.3]), np.array([0.5, 0.2, 0.0]))
    assert np.allclose(a, [0.5, 0.2, 0.0])


def test_thresholdout_answers_train_value_when_samples_agree():
    thr = ah.Thresholdout(0.1, 0.001, np.random.default_rng(0))
    a = thr.answer(np.array([0.30, 0.70]), np.array([0.31, 0.69]))
    assert np.allclose(a, [0.30, 0.70]) and thr.over_threshold == 0


def test_budget_exhausted_gives_no_answer():
    thr = ah.Thresholdout(0.0, 0.0, np.random.default_rng(0), budget=1)
    a = thr.answer(np.array([0.0, 0.0]), np.array([1.0, 1.0]))
    assert a[0] == 1.0 and np.isnan(a[1])


def test_fresh_accuracy_of_a_fixed_classifier_is_binomial_half():
    rng = np.random.default_rng(1)
    X, y = ah.noise_dataset(rng, 4000, 50)
    acc = ah.sign_vote_accuracy(X, y, np.arange(10), np.ones(10))
    assert abs(acc - 0.5) < 3 * 0.5 / np.sqrt(4000)
