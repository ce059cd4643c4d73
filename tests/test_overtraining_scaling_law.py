from __future__ import annotations

from functools import partial

import pytest
import scenario_runs

SID = "overtraining-scaling-law"
run_to_end = partial(scenario_runs.run_to_end, SID)
OVER = "over-trained held-out run: |prediction - L| / L of the law in `law` (L(C,M))"
NAIVE_ABS = "naive L(N) (M=base runs, tokens ignored): relative error on that run"


def test_quick_claim_check_passes():
    h = run_to_end(seed=0)
    assert h.verdict.passed, h.verdict.summary
    assert any("entropy floor E* = 1.0000" in n for n in h.history.notes)


def test_the_naive_size_only_law_fails_the_over_trained_prediction():
    # control: predict the over-trained run with L(N) fitted on the base-M runs (token
    # count ignored); it misses by more than the 5% bound that L(C, M) meets
    h = run_to_end({"law": "naive"})
    assert OVER in scenario_runs.failed_paper(h)
    measured = {c.name: c.measured for c in h.verdict.criteria}
    assert measured[OVER] == pytest.approx(measured[NAIVE_ABS])
    assert measured[OVER] > 0.05


def test_fit_runs_need_two_values_of_m():
    from paramlab.scenarios.registry import load

    with pytest.raises(ValueError, match="fit_runs"):
        load(SID).make_params("quick", {"fit_runs": "1000:20,2000:20,4000:20,8000:20"})


def test_a_held_out_run_cannot_be_a_fit_run():
    from paramlab.scenarios.registry import load

    with pytest.raises(ValueError, match="held_out"):
        load(SID).make_params("quick", {"held_out": "2000:20"})
