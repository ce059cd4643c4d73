from __future__ import annotations

from functools import partial

import pytest
import scenario_runs

SID = "universality-lens-bayes-mixture"
run_to_end = partial(scenario_runs.run_to_end, SID)
SIMPLE_VS_COMPLEX = "(3) simple / complex mixture regret, worst of n = 8, 32 and widths"
SMALL = {"M": 1000, "candidates": 100, "reps": 10, "h_wide": 32, "n_max": 128}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quick_claim_check_passes(seed):
    h = run_to_end(seed=seed)
    assert h.verdict.passed, h.verdict.summary


def test_fixed_readout_removes_the_weight_gap_and_fails_simple_vs_complex():
    # control: every network has the same readout scale, so no function fills a large
    # share of the prior; the "simple" targets are barely heavier than the complex ones
    # and learn almost as slowly
    h = run_to_end({"readout": "fixed"})
    assert SIMPLE_VS_COMPLEX in scenario_runs.failed_paper(h)
    gap = [c for c in h.verdict.criteria if c.name.startswith("-log w_eps simple")]
    assert len(gap) == 1 and not gap[0].passed
    normal = run_to_end()
    assert SIMPLE_VS_COMPLEX not in scenario_runs.failed_paper(normal)


def test_erm_overfits_the_simple_target_where_the_mixture_does_not():
    h = run_to_end(SMALL)
    ns, mix = h.history.paired("n", "narrow_mix_simple")
    _, erm = h.history.paired("n", "narrow_erm_simple")
    assert ns[0] == 8 and erm[0] > 5 * mix[0]


def test_regret_falls_with_n_and_stays_under_the_bound():
    h = run_to_end(SMALL)
    for width in ("narrow", "wide"):
        for kind in ("simple", "complex"):
            _, mix = h.history.paired("n", f"{width}_mix_{kind}")
            _, bound = h.history.paired("n", f"{width}_bound_{kind}")
            assert mix[-1] < mix[0]
            assert all(m <= b for m, b in zip(mix, bound))


def test_runs_repeat_bit_for_bit_per_seed(tmp_path):
    a = run_to_end(SMALL, seed=5, runs=tmp_path)
    b = run_to_end(SMALL, seed=5, runs=tmp_path)
    assert scenario_runs.metric_lines(a) == scenario_runs.metric_lines(b)


def test_inconsistent_params_are_rejected():
    from paramlab.engines.params import ParamError
    from paramlab.scenarios.registry import load

    scenario = load(SID)
    with pytest.raises(ParamError, match="n_min"):
        scenario.make_params("quick", {"n_min": 64, "n_max": 32})
    with pytest.raises(ParamError, match="targets"):
        scenario.make_params("quick", {"candidates": 10, "targets": 6})
