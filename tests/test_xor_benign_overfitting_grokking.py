from __future__ import annotations

from functools import partial

import pytest
import scenario_runs
import torch
from scenario_runs import failed_paper

from paramlab.engines.nn import torch_train as tt
from paramlab.engines.nn import xor_data as xd

SID = "xor-benign-overfitting-grokking"
run_to_end = partial(scenario_runs.run_to_end, SID)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quick_claim_check_passes(seed):
    h = run_to_end(seed=seed)
    assert h.verdict.passed, h.verdict


def test_check_fails_when_d_is_too_small_to_interpolate_at_step_one():
    # the control: with d << n ||mu||^2 the one-step linear classifier no longer
    # memorises the flipped labels; the normal run passes that criterion
    assert "step 1 train accuracy" not in failed_paper(run_to_end(seed=0))
    h = run_to_end({"d": 1000})
    assert not h.verdict.passed
    assert "step 1 train accuracy" in failed_paper(h)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_one_step_net_agrees_with_closed_form_linear_classifier(seed):
    # after one GD step from a tiny init, sign f(x) = sign <sum_i y_i x_i, x> on test
    # points, up to fluctuations over neurons that vanish as m grows (hence a wide net)
    g = tt.generator(seed)
    data = xd.xor_clusters(60, 8000, 700.0, 0.15, 400, generator=g)
    net = xd.two_layer_relu(8000, 2000, 1e-6, generator=g)
    opt = torch.optim.SGD([q for q in net.parameters() if q.requires_grad], lr=3e-3)
    list(tt.train(net, xd.logistic_loss, data.X, data.y, opt, 1))
    with torch.no_grad():
        f = net(data.X_test).reshape(-1)
    lin = xd.one_step_linear_scores(data.X, data.y, data.X_test)
    assert ((f > 0) == (lin > 0)).float().mean() >= 0.95


def test_xor_clusters_have_xor_labels_and_clean_test_set():
    data = xd.xor_clusters(400, 500, 400.0, 0.2, 400, generator=tt.generator(0))
    mu = data.mu
    assert torch.allclose(mu.norm(dim=1), torch.tensor([20.0, 20.0]), rtol=1e-4)
    assert abs(float(mu[0] @ mu[1])) < 1e-2
    # the label is +1 on the mu1 axis and -1 on the mu2 axis (test labels are clean)
    on_mu1 = (data.X_test @ mu[0]).abs() > (data.X_test @ mu[1]).abs()
    assert ((data.y_test > 0) == on_mu1).float().mean() > 0.98
    assert 0.12 < data.flipped.float().mean() < 0.28


def test_second_layer_is_frozen_and_balanced():
    net = xd.two_layer_relu(10, 6, 1e-6, generator=tt.generator(0))
    a = net.layers[1].weight
    assert not a.requires_grad
    assert torch.allclose(a.sum(), torch.tensor(0.0))
    assert torch.allclose(a.abs(), torch.full_like(a, 6 ** -0.5))


def test_same_seed_gives_identical_metrics():
    small = {"n": 40, "d": 2000, "steps": 5, "linear_baseline": False}

    def values(seed):
        h = run_to_end(small, seed=seed)
        return {name: h.history.series(name) for name in h.history.names()}

    assert values(4) == values(4)
    assert values(4) != values(5)
