from __future__ import annotations

from functools import partial

import numpy as np
import pytest
import scenario_runs

from paramlab.engines.stats import moments as mo

SID = "moment-probing"
run_to_end = partial(scenario_runs.run_to_end, SID)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quick_claim_check_passes(seed):
    h = run_to_end(seed=seed)
    assert h.verdict.passed, h.verdict


def test_mp_without_second_order_term_is_lp_and_fails():
    h = run_to_end({"second_order": False, "epochs": 6})
    assert not h.verdict.passed
    assert abs(h.history.last("acc_mp") - h.history.last("acc_lp")) < 0.03


def test_same_seed_gives_identical_accuracies():
    a = run_to_end({"epochs": 5}, seed=4)
    b = run_to_end({"epochs": 5}, seed=4)
    assert a.history.series("acc_mp") == b.history.series("acc_mp")
    assert a.history.series("loss_lp") == b.history.series("loss_lp")


def test_sklearn_logistic_regression_confirms_mp_beats_lp_on_the_same_features():
    from sklearn.linear_model import LogisticRegression

    from paramlab.engines.data import digits

    rng = np.random.default_rng(0)
    X, y = digits.load_digits()
    idx = rng.permutation(y.size)
    tr, te = idx[:900], idx[900:]
    toks = mo.patch_tokens(X.reshape(-1, 8, 8).astype(np.float64), 2)
    H = mo.RandomBackbone.draw(rng, 4, toks.shape[1], 32)(toks)
    acc = {}
    for name, F in (("lp", mo.mean_token(H)), ("mp", mo.moment_features(H))):
        F_tr, F_te = mo.standardize(F[tr], F[te])
        acc[name] = LogisticRegression(max_iter=2000).fit(F_tr, y[tr]).score(F_te, y[te])
    assert acc["mp"] - acc["lp"] >= 0.05 and acc["mp"] >= 0.92


def test_moment_feature_sizes_match_the_head_parameter_counts():
    H = np.random.default_rng(1).standard_normal((3, 16, 32))
    assert mo.mean_token(H).shape == (3, 32)
    assert mo.moment_features(H).shape == (3, 32 + 32 * 33 // 2)  # 560 -> 5,610 params
    assert mo.head_moment_features(H, 4).shape == (3, 32 + 4 * 36)  # 176 -> 1,770 params


def test_covariance_features_equal_numpy_cov_upper_triangle():
    H = np.random.default_rng(2).standard_normal((2, 10, 4))
    got = mo.moment_features(H)[:, 4:]
    iu = np.triu_indices(4)
    want = np.stack([np.cov(h.T, bias=True)[iu] for h in H])
    assert np.allclose(got, want)


def test_patch_tokens_cut_non_overlapping_patches():
    img = np.arange(64.0).reshape(1, 8, 8)
    t = mo.patch_tokens(img, 2)
    assert t.shape == (1, 16, 4)
    assert t[0, 0].tolist() == [0, 1, 8, 9] and t[0, 1].tolist() == [2, 3, 10, 11]
