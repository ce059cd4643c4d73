from __future__ import annotations

from functools import partial

import numpy as np
import pytest
import scenario_runs

from paramlab.engines.stats import subpop_curve as sc

SID = "accuracy-on-the-curve"
run_to_end = partial(scenario_runs.run_to_end, SID)
RATIO = "range(minority acc) / range(majority acc) at rho 0.9 (disproportion)"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quick_claim_check_passes(seed):
    h = run_to_end(seed=seed)
    assert h.verdict.passed, h.verdict.summary
    assert all(c.passed for c in h.verdict.criteria), h.verdict


def test_group_balanced_reweighting_flattens_the_moon():
    # control: equal loss weight per (y, a) cell removes the pull of the spurious feature,
    # so the minority no longer lags far behind the majority and the disproportion fails
    h = run_to_end({"group_reweight": True})
    assert RATIO in scenario_runs.failed_paper(h)


def test_same_seed_gives_identical_metrics():
    def values(seed):
        h = run_to_end({"n_repeats": 1, "n_test": 2000}, seed=seed)
        return {name: h.history.series(name) for name in h.history.names()}

    assert values(3) == values(3)
    assert values(3) != values(4)


def test_rho_list_must_hold_the_control_and_the_judged_rho():
    from paramlab.scenarios.registry import load

    with pytest.raises(ValueError, match="rho_list"):
        load(SID).make_params("quick", {"rho_list": "0.7,0.9"})


def test_stratified_sample_has_exactly_rho_majority_per_label():
    g = sc.sample(np.random.default_rng(0), 1000, 0.9, 0.4, 0.25, 1.5, 3)
    assert g.X.shape == (1000, 5)
    for label in (-1.0, 1.0):
        assert np.sum((g.y == label) & (g.a == label)) == 450
        assert np.sum((g.y == label) & (g.a != label)) == 50


def test_balanced_weights_give_each_cell_the_same_total_weight():
    g = sc.sample(np.random.default_rng(1), 1000, 0.9, 0.4, 0.25, 1.5, 3)
    w = sc.balanced_weights(g)
    totals = [w[(g.y == yy) & (g.a == aa)].sum() for yy in (-1, 1) for aa in (-1, 1)]
    assert np.allclose(totals, 250.0) and np.isclose(w.mean(), 1.0)


def test_converged_zoo_matches_sklearn_logistic_regression():
    # the spec's cross-check: GD on mean logistic loss + lambda/2 ||w||^2 reaches the
    # same classifier as sklearn's LogisticRegression(C = 1 / (lambda n)) (bias unpenalised)
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(2)
    train = sc.sample(rng, 1000, 0.9, 0.4, 0.25, 1.5, 20)
    test = sc.sample(rng, 20000, 0.5, 0.4, 0.25, 1.5, 20)
    lambdas = np.array([0.1, 1.0])
    *_, (_, W, b) = sc.train_zoo(train, lambdas, [2000], lr=0.5)
    maj, mino = sc.group_accuracy(W, b, test)
    for k, lam in enumerate(lambdas):
        clf = LogisticRegression(C=1 / (lam * 1000), tol=1e-10, max_iter=10_000)
        clf.fit(train.X, train.y)
        m2, n2 = sc.group_accuracy(clf.coef_, clf.intercept_, test)
        assert abs(maj[k] - m2[0]) <= 0.02 and abs(mino[k] - n2[0]) <= 0.02
        assert np.allclose(W[k], clf.coef_[0], atol=1e-3)


def test_fit_curve_separates_a_parabola_from_a_line():
    x = np.linspace(0.9, 1.0, 50)
    line = sc.fit_curve(x, 2 * x - 1.2)
    moon = sc.fit_curve(x, 0.1 + 50 * (x - 0.9) ** 2)
    assert line.r2_lin == pytest.approx(1.0) and abs(line.c2) < 1e-9
    assert line.range_ratio == pytest.approx(2.0)
    assert moon.c2 > 0 and moon.r2_quad == pytest.approx(1.0)
    assert moon.r2_quad - moon.r2_lin > 0.05


def test_checkpoints_are_log_spaced_and_end_at_max_epoch():
    eps = sc.checkpoints(150, 10)
    assert eps[0] == 1 and eps[-1] == 150 and eps == sorted(set(eps))


def test_mlp_zoo_learns_the_spurious_feature_first():
    # the "across architectures" family: trained MLPs separate the data, and early in
    # training at rho 0.9 the minority lags far behind the majority
    rng = np.random.default_rng(0)
    train = sc.sample(rng, 1000, 0.9, 0.4, 0.25, 1.5, 20)
    test = sc.sample(rng, 4000, 0.5, 0.4, 0.25, 1.5, 20)
    accs = {e: sc.scores_accuracy(sc.mlp_scores(P, test.X), test)
            for e, P in sc.train_mlp_zoo(rng, train, np.array([1e-4]), [16, 150], 0.5, 16)}
    assert accs[16][0][0] > 0.9 and accs[16][1][0] < 0.3
    assert accs[150][1][0] > accs[16][1][0] + 0.2


def test_mlp_family_runs_through_the_scenario():
    h = run_to_end({"model_family": "mlp16", "n_repeats": 1, "n_lambdas": 2, "max_epoch": 20,
                    "n_checkpoints": 4, "n_test": 2000})
    assert "minority_r9" in h.history.names()
