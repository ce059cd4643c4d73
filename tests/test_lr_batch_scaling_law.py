from __future__ import annotations

from functools import partial

import numpy as np
import pytest
import scenario_runs
import torch

from paramlab.engines.nn import hparam_grid as hg

SID = "lr-batch-scaling-law"
run_to_end = partial(scenario_runs.run_to_end, SID)
B_EXP = "fitted exponent b of eta* ~ N^b (paper -0.713)"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quick_claim_check_passes(seed):
    h = run_to_end(seed=seed)
    assert h.verdict.passed, h.verdict.summary


def test_mup_control_stops_the_optimum_moving_with_width():
    # control: muP for Adam (hidden/output lr x 16/w, output init x sqrt(16/w)) is the
    # transfer rule under which eta* no longer falls with N: the N exponent fails
    h = run_to_end({"lr_scaling": "mup"})
    assert B_EXP in scenario_runs.failed_paper(h)


def test_a_bad_grid_gets_one_clear_message():
    from paramlab.scenarios.registry import load

    with pytest.raises(ValueError, match="data"):
        load(SID).make_params("quick", {"data": "1000,4096"})


def test_hand_backward_matches_autograd():
    g = torch.Generator().manual_seed(0)
    model = hg.StackedMLP(6, 5, 7, g, inits=3)
    with torch.no_grad():
        model.theta.add_(0.1 * torch.randn(model.theta.shape, generator=g))
    x, y = torch.randn(6, 9, 5, generator=g), torch.randn(6, 9, generator=g)
    ((model(x) - y) ** 2).mean(1).sum().backward()
    out = torch.zeros_like(model.theta)
    model.mse_grad(x, y, out)
    assert torch.allclose(out, model.theta.grad, atol=1e-6)
    assert model.theta.shape[1] == hg.n_params(5, 7)


@pytest.mark.parametrize("lr_scaling", ["sp", "mup"])
def test_train_cell_is_adamw_run_by_run(lr_scaling):
    # each stacked run follows torch.optim.AdamW on a lone nn.Sequential copy of its init
    # (muP: hidden and output matrices in a group with lr x 16 / w, output init x sqrt(16/w))
    rng = np.random.default_rng(0)
    teacher = hg.TanhTeacher.draw(rng, d=4, width=8, noise=0.1)
    X_test = rng.standard_normal((64, 4))
    Xt = torch.tensor(X_test, dtype=torch.float32)
    ft = torch.tensor(teacher(X_test), dtype=torch.float32)
    lrs = [1e-3, 1e-2]
    mult = 16 / 6 if lr_scaling == "mup" else 1.0
    got = hg.train_cell(teacher, 6, 64, 8, lrs, rng=np.random.default_rng(1),
                        generator=torch.Generator().manual_seed(2), X_test=Xt, f_test=ft,
                        lr_scaling=lr_scaling)
    ref = hg.StackedMLP(1, 4, 6, torch.Generator().manual_seed(2), out_scale=mult ** 0.5)
    X, y = teacher.sample(np.random.default_rng(1), 64)
    X, y = torch.tensor(X, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)
    for j, lr in enumerate(lrs):
        net = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(),
                                  torch.nn.Linear(6, 6), torch.nn.ReLU(), torch.nn.Linear(6, 1))
        with torch.no_grad():
            for lin, (W, c) in zip(net[::2], ref.views(ref.theta.detach())):
                lin.weight.copy_(W[0].T)
                lin.bias.copy_(c[0, 0])
        groups = [{"params": [net[0].weight, net[0].bias, net[2].bias, net[4].bias],
                   "scale": 1.0},
                  {"params": [net[2].weight, net[4].weight], "scale": mult}]
        opt = torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.95), weight_decay=0.1)
        sched = hg.lr_factor(8)
        for t in range(8):
            for group in opt.param_groups:
                group["lr"] = lr * group["scale"] * sched[t]
            opt.zero_grad()
            ((net(X[8 * t:8 * t + 8])[:, 0] - y[8 * t:8 * t + 8]) ** 2).mean().backward()
            opt.step()
        with torch.no_grad():
            want = float(((net(Xt)[:, 0] - ft) ** 2).mean()) + 0.01
        assert got[0, j] == pytest.approx(want, rel=1e-4)


def test_log_optimum_finds_a_parabola_vertex_and_flags_edges():
    x = np.arange(-10, -1, dtype=float)
    y = np.exp(0.3 * (x + 5.3) ** 2)
    lr2, interior = hg.log_optimum(x, y)
    assert interior and lr2 == pytest.approx(-5.3, abs=1e-9)
    assert hg.log_optimum(x, np.exp(-x)) == (-2.0, False)


def test_an_appended_lr_is_trained_with_the_cells_inits_and_data():
    # the laws' points at the held-out corner are extra lrs of that cell's stacked program:
    # an lr repeated there must give the grid run's loss, replicate by replicate
    rng = np.random.default_rng(0)
    teacher = hg.TanhTeacher.draw(rng, d=4, width=8, noise=0.1)
    Xt = torch.tensor(rng.standard_normal((64, 4)), dtype=torch.float32)
    ft = torch.tensor(teacher(Xt.numpy().astype(float)), dtype=torch.float32)
    got = hg.train_cell(teacher, 6, 64, 8, [1e-3, 1e-2, 1e-3], rng=np.random.default_rng(1),
                        generator=torch.Generator().manual_seed(2), X_test=Xt, f_test=ft,
                        replicates=2)
    assert got.shape == (2, 3)
    assert np.allclose(got[:, 0], got[:, 2], rtol=1e-6)
    assert not np.allclose(got[0], got[1])
