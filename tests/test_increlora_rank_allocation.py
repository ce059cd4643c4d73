from functools import partial

import numpy as np
import pytest
import scenario_runs
import torch
from scipy.stats import spearmanr

from paramlab.engines.peft import increlora as IL
from paramlab.scenarios.increlora_rank_allocation import CRIT_UNI

SID = "increlora-rank-allocation"
run_to_end = partial(scenario_runs.run_to_end, SID)


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quick_claim_check_passes(seed):
    h = run_to_end(seed=seed)
    assert h.verdict.passed, h.verdict.summary


def test_random_allocation_control_fails_the_claim():
    h = run_to_end({"allocation": "random"}, seed=0)
    assert CRIT_UNI in scenario_runs.failed_paper(h)
    assert CRIT_UNI not in scenario_runs.failed_paper(run_to_end(seed=0))


def test_world_has_the_true_ranks():
    w = IL.make_world(3, 32, [8, 0, 1, 4, 0, 1], 0.5, 1.0)
    ranks = [np.linalg.matrix_rank(d, tol=1e-4) for d in w["D"]]
    assert ranks == [8, 0, 1, 4, 0, 1]
    s = np.linalg.svd(w["D"][0], compute_uv=False)[:8]
    assert np.allclose(s, 0.5, atol=1e-5)


def test_parallel_forward_matches_a_loop():
    w = IL.make_world(0, 32, [2, 0, 1], 0.5, 1.0)
    W, V = torch.tensor(w["W"]), torch.tensor(w["V"])
    x = torch.randn(2, 10, 96, dtype=torch.float64)
    dW = torch.randn(2, 3, 32, 32, dtype=torch.float64) * 0.1
    W, V = W.double(), V.double()
    ref = sum(torch.tanh(x[..., 32 * i:32 * (i + 1)] @ (W[i] + dW[:, i]).transpose(-1, -2))
              @ V[i].T for i in range(3))
    assert torch.allclose(IL.forward_parallel(W, V, dW, x), ref)


def test_delta_and_module_scores_follow_the_mask():
    P, Q = torch.randn(1, 2, 4, 3), torch.randn(1, 2, 3, 4)
    lam = torch.randn(1, 2, 3)
    mask = torch.tensor([[[1.0, 0, 0], [1, 1, 0]]])
    ref = torch.stack([P[0, i, :, :k] @ torch.diag(lam[0, i, :k]) @ Q[0, i, :k]
                       for i, k in enumerate((1, 2))])
    assert torch.allclose(IL.delta(P, lam, Q, mask)[0], ref, atol=1e-6)
    sc = IL.module_scores(P.abs(), lam.abs(), Q.abs(), mask)
    want = [(P[0, i, :, :k].abs().sum() + lam[0, i, :k].abs().sum()
             + Q[0, i, :k].abs().sum()) / (k * 9) for i, k in enumerate((1, 2))]
    assert torch.allclose(sc[0], torch.stack(want), atol=1e-6)


def test_stacked_adam_without_decay_is_torch_adam_per_model():
    """The run's optimizer (engines.lm.stacked_train.StackedAdamW, weight decay 0, one
    learning rate per stacked model) follows torch.optim.Adam run on each model alone."""
    from paramlab.engines.lm.stacked_train import StackedAdamW

    p1 = torch.randn(2, 5, requires_grad=True)
    lrs = torch.tensor([1e-2, 3e-3])
    ref = [p1[k].detach().clone().requires_grad_() for k in range(2)]
    opts = [torch.optim.Adam([r], lr=float(lr)) for r, lr in zip(ref, lrs)]
    opt = StackedAdamW([p1], lr=lrs, weight_decay=0.0)
    for _ in range(5):
        opt.zero_grad()
        (p1 ** 3).sum().backward()
        opt.step()
        for r, o in zip(ref, opts):
            o.zero_grad()
            (r ** 3).sum().backward()
            o.step()
    assert torch.allclose(p1, torch.stack(ref), atol=1e-6)


def test_batched_worlds_match_one_world_at_a_time():
    """Tasks stacked on the leading axis (W, V per model) give each task's own output."""
    ws = [IL.make_world([7, r], 32, [2, 0, 1], 0.5, 1.0) for r in range(2)]
    W = torch.tensor(np.stack([w["W"] for w in ws])).double()
    V = torch.tensor(np.stack([w["V"] for w in ws])).double()
    x = torch.randn(2, 10, 96, dtype=torch.float64)
    dW = torch.randn(2, 3, 32, 32, dtype=torch.float64) * 0.1
    y = IL.forward_parallel(W, V, dW, x)
    for k in range(2):
        assert torch.allclose(y[k], IL.forward_parallel(W[k], V[k], dW[k:k + 1], x[k])[0])
    xs = torch.randn(2, 10, 32, dtype=torch.float64)
    ys = IL.forward(W, dW, xs)
    for k in range(2):
        assert torch.allclose(ys[k], IL.forward(W[k], dW[k:k + 1], xs[k])[0])


def test_spearman_ties_and_constant_allocation():
    from paramlab.scenarios.increlora_rank_allocation import spearman
    a, b = [7, 1, 1, 2, 0, 1], [8, 0, 1, 4, 0, 1]
    assert spearman(a, b) == pytest.approx(spearmanr(a, b)[0])
    assert np.isnan(spearman([2, 2, 2], [1, 2, 3]))  # a uniform allocation has no ranking
