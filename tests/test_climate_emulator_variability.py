from __future__ import annotations

from functools import partial

import numpy as np
import pytest
import scenario_runs
from scenario_runs import failed_paper

from paramlab.engines.stats import climate as cl

SID = "climate-emulator-variability"
run_to_end = partial(scenario_runs.run_to_end, SID)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quick_claim_check_passes(seed):
    h = run_to_end(seed=seed)
    assert h.verdict.passed, h.verdict


def test_scoring_the_50_member_models_on_3_member_targets_hides_the_nn_gain():
    # the control: the same models scored against a 3-member test mean, whose noise floor
    # sigma_pr / sqrt(3) swamps the NN's gain; scored against the 50-member mean it wins
    assert "pr M=50: RMSE NN / LPS" not in failed_paper(run_to_end(seed=0))
    h = run_to_end({"eval_target": "3-member"})
    assert "pr M=50: RMSE NN / LPS" in failed_paper(h)


def test_without_the_nonlinear_aerosol_term_the_nn_does_not_win():
    h = run_to_end({"nl": 0.0, "nn_steps": 200})
    failed = {c.name for c in h.verdict.criteria if not c.passed}
    assert "pr M=50: RMSE NN / LPS" in failed


def test_pattern_scaling_equals_sklearn_two_stage_linear_regression():
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(0)
    train, _ = cl.pathways()
    X = np.concatenate([p.predictors() for p in train])
    Y = rng.standard_normal((X.shape[0], 6)) + X[:, :1]
    ours = cl.PatternScaling.fit(X, Y).predict(X)
    g = Y.mean(axis=1)
    g_hat = LinearRegression().fit(X[:, :2], g).predict(X[:, :2])
    stage2 = LinearRegression().fit(g[:, None], Y)
    assert np.allclose(ours, stage2.predict(g_hat[:, None]), atol=1e-8)


def test_pattern_scaling_is_exact_on_a_linear_single_pattern_world():
    train, test = cl.pathways()
    pat = cl.Patterns.draw(np.random.default_rng(1), 8)
    X = np.concatenate([p.predictors() for p in train])
    Y = np.concatenate([cl.forced(p, pat, 0.0)["tas"] for p in train])
    pred = cl.PatternScaling.fit(X, Y).predict(test.predictors())
    assert cl.rmse(pred, cl.forced(test, pat, 0.0)["tas"]) < 1e-10


def test_ar1_noise_has_the_stationary_std_and_lag_one_correlation():
    x = cl.ar1_noise(np.random.default_rng(2), 200, 86, 8, 0.8, 0.5)
    assert abs(x.std() - 0.5) < 0.02
    lag1 = np.mean(x[:, 1:] * x[:, :-1]) / np.mean(x**2)
    assert abs(lag1 - 0.8) < 0.03


def test_aerosol_pattern_is_orthogonal_to_the_warming_pattern():
    pat = cl.Patterns.draw(np.random.default_rng(3), 32)
    assert abs(pat.aer @ pat.pr) < 1e-9 and abs(pat.aer.sum()) < 1e-9


def test_same_seed_gives_identical_rmse():
    a = run_to_end({"nn_steps": 50}, seed=3)
    b = run_to_end({"nn_steps": 50}, seed=3)
    assert a.history.series("pr_nn") == b.history.series("pr_nn")


def test_stacked_mlp_trains_like_separate_networks():
    import torch

    from paramlab.engines.nn import models
    from paramlab.engines.nn import torch_train as tt

    def net(seed):
        return models.init_normal_(models.MLP(3, [8, 8], 5, activation="gelu"),
                                   [0.5, 0.3, 0.3], generator=tt.generator(seed),
                                   bias_std=0.1)

    X, Y = torch.randn(20, 3), torch.randn(20, 5)
    singles = [net(s) for s in range(3)]
    stacked = models.StackedMLP([net(s) for s in range(3)])
    opts = [torch.optim.Adam(m.parameters(), lr=1e-2, weight_decay=1e-3) for m in singles]
    opt = torch.optim.Adam(stacked.parameters(), lr=1e-2, weight_decay=1e-3)
    for _ in range(5):
        for m, o in zip(singles, opts):
            o.zero_grad()
            torch.nn.functional.mse_loss(m(X), Y).backward()
            o.step()
        opt.zero_grad()
        ((stacked(X) - Y) ** 2).mean(dim=(1, 2)).sum().backward()
        opt.step()
    with torch.no_grad():
        assert torch.allclose(stacked(X), torch.stack([m(X) for m in singles]), atol=1e-5)
