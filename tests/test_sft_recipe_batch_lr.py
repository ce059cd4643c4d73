from functools import partial

import numpy as np
import pytest
import scenario_runs
import torch

from paramlab.engines.lm import markov
from paramlab.engines.lm import sft_grid as sg
from paramlab.engines.lm.mlp_lm import MLPLM, StackedMLPLM, init_
from paramlab.scenarios.sft_recipe_batch_lr import CORNER, RHO_GN, spearman

SID = "sft-recipe-batch-lr"
run_to_end = partial(scenario_runs.run_to_end, SID)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quick_gives_the_stable_partial_result(seed):
    # the corner comparison reproduces; the early grad norm does not rank the runs
    h = run_to_end(seed=seed)
    failed = scenario_runs.failed_paper(h)
    assert CORNER not in failed
    assert RHO_GN in failed
    assert not h.verdict.passed


def test_scoring_on_the_noisy_sft_windows_fails_the_corner():
    # control: score on the (memorised) training windows: small batch + top lr looks best
    h = run_to_end({"eval_on_train": True})
    assert CORNER in scenario_runs.failed_paper(h)


def test_grad_norms_equal_each_models_own_gradient_norm():
    g = torch.Generator().manual_seed(0)
    nets = [init_(MLPLM(8, 2, 4, 16), g) for _ in range(3)]
    stacked = StackedMLPLM(nets)
    idx = torch.randint(0, 8, (3, 5, 2), generator=g)
    y = torch.randint(0, 8, (3, 5), generator=g)
    from paramlab.engines.lm.mlp_lm import cross_entropy_per_model
    cross_entropy_per_model(stacked(idx), y).sum().backward()
    got = sg.grad_norms(stacked)
    for k, net in enumerate(nets):
        loss = torch.nn.functional.cross_entropy(net(idx[k]), y[k])
        grads = torch.autograd.grad(loss, list(net.parameters()))
        want = torch.sqrt(sum(gr.pow(2).sum() for gr in grads))
        assert float(got[k]) == pytest.approx(float(want), rel=1e-5)


def test_stacked_copies_of_the_base_reproduce_its_predictions():
    g = torch.Generator().manual_seed(1)
    net = init_(MLPLM(8, 2, 4, 16), g)
    single = StackedMLPLM([net])
    arrays = {"embed": single.embed.detach()[0].numpy()}
    for i, (W, b) in enumerate(zip(single.weights, single.biases)):
        arrays[f"W{i}"], arrays[f"b{i}"] = W.detach()[0].numpy(), b.detach()[0].numpy()
    copies = sg.stacked_from_base(arrays, 4)
    idx = torch.randint(0, 8, (10, 2), generator=g)
    with torch.no_grad():
        want = net(idx)
        got = copies(idx.expand(4, -1, -1))
    assert torch.allclose(got, want.expand(4, -1, -1), atol=1e-6)


def test_shifted_chain_redraws_exactly_the_asked_share_of_rows():
    rng = np.random.default_rng(0)
    a = markov.MarkovChain.dirichlet(rng, 6, 2, 0.1)
    b, changed = sg.shifted_chain(a, rng, 0.25, 0.1)
    assert changed.sum() == 9
    assert np.array_equal(a.P[~changed], b.P[~changed])
    assert not np.allclose(a.P[changed], b.P[changed])
    assert np.allclose(b.P.sum(1), 1.0)


def test_spearman_matches_scipy():
    from scipy.stats import spearmanr
    rng = np.random.default_rng(3)
    a = rng.normal(size=15).round(1).tolist()
    b = (np.array(a) * 0.5 + rng.normal(size=15)).round(1).tolist()
    assert spearman(a, b) == pytest.approx(spearmanr(a, b)[0], abs=1e-12)
