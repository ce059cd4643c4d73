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


def test_adam_step_matches_torch_adam():
    p1 = torch.randn(2, 5, requires_grad=True)
    p2 = p1.detach().clone().requires_grad_()
    opt = torch.optim.Adam([p2], lr=1e-2)
    state = [(torch.zeros_like(p1), torch.zeros_like(p1))]
    for t in range(1, 6):
        for p in (p1, p2):
            p.grad = None
            (p ** 3).sum().backward()
        IL.adam_step([p1], state, t, torch.full((2,), 1e-2))
        opt.step()
    assert torch.allclose(p1, p2, atol=1e-6)


def test_spearman_ties_and_constant_allocation():
    from paramlab.scenarios.increlora_rank_allocation import spearman
    a, b = [7, 1, 1, 2, 0, 1], [8, 0, 1, 4, 0, 1]
    assert spearman(a, b) == pytest.approx(spearmanr(a, b)[0])
    assert np.isnan(spearman([2, 2, 2], [1, 2, 3]))  # a uniform allocation has no ranking
