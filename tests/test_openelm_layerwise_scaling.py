from functools import partial

import pytest
import scenario_runs

from paramlab.engines.lm import layerwise as LW

SID = "openelm-layerwise-scaling"
run_to_end = partial(scenario_runs.run_to_end, SID)
CRIT_Q = "sizes whose query-head list equals the published one (of 4)"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quick_claim_check_passes(seed):
    h = run_to_end(seed=seed)
    assert h.verdict.passed, h.verdict.summary


@pytest.mark.parametrize("variant", ["head_dim_divisor", "floor"])
def test_broken_arithmetic_fails_the_list_match(variant):
    h = run_to_end({"variant": variant, "steps": 20, "eval_every": 10})
    assert CRIT_Q in scenario_runs.failed_paper(h)


def test_make_divisible_matches_corenet_definition():
    # corenet: max(min_value, int(v + d / 2) // d * d), plus d when below 0.9 v
    assert LW.make_divisible(640, 256) == 768     # 2.5 -> rounds up to 3 x 256
    assert LW.make_divisible(100, 256) == 256     # the minimum
    assert LW.make_divisible(4608.0, 256) == 4608
    assert LW.make_divisible(1100, 1000) == 1000  # 1000 >= 0.9 * 1100: no bump
    assert LW.make_divisible(1150, 1000) == 2000  # 1000 < 0.9 * 1150: bumped one up


def test_openelm_1_1b_lists_and_count():
    s = next(x for x in LW.PUBLISHED if x.name == "1.1B")
    cfg = LW.layerwise_config(s.layers, s.d_model, s.head_dim)
    assert cfg.q_heads == s.q_heads and cfg.kv_heads == s.kv_heads and cfg.ffn == s.ffn
    # independent count: per layer q/k/v/o projections, norms and GLU, plus tied embedding
    n = 32000 * 2048 + 2048
    for q, kv, f in zip(s.q_heads, s.kv_heads, s.ffn):
        n += 2048 * 64 * (2 * q + 2 * kv) + 2 * 64 + 2 * 2048 + 2048 * 2 * f + f * 2048
    assert LW.openelm_params(cfg, s.d_model, s.head_dim) == n


def test_toy_allocations_are_exactly_matched():
    h, f = LW.toy_allocation(4, 64, 16, (0.5, 1.0), (0.5, 4.0))
    assert (h, f) == ([2, 3, 3, 4], [32, 112, 176, 256])
    hu, fu = LW.matched_uniform(h, f, 64, 16)
    assert LW.block_params(h, f, 64, 16) == LW.block_params(hu, fu, 64, 16) == 160_256


def test_masked_stacked_model_counts_only_its_own_heads():
    import torch

    g = torch.Generator().manual_seed(0)
    m = LW.StackedLayerwiseLM([[2, 4], [4, 4]], [[32, 64], [64, 64]], vocab=8, d_model=32,
                              head_dim=8, max_len=6, generator=g)
    idx = torch.randint(0, 8, (2, 3, 6), generator=g)
    m(idx).sum().backward()
    # model 0's padded heads (2, 3) of layer 0 and FFN units 32.. get no gradient
    gq = m.wqkv[0].grad[0].reshape(32, 3, 4, 8)
    assert gq[:, :, 2:].abs().max() == 0 and gq[:, :, :2].abs().max() > 0
    assert m.w2[0].grad[0, 32:].abs().max() == 0 and m.w2[0].grad[1, 32:].abs().max() > 0
