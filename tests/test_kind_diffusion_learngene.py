from functools import partial

import pytest
import scenario_runs

SID = "kind-diffusion-learngene"
run_to_end = partial(scenario_runs.run_to_end, SID)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quick_claim_check_passes(seed):
    h = run_to_end(seed=seed)
    assert h.verdict.passed, h.verdict.summary


def test_the_control_fails_the_claim():
    h = run_to_end({"rate": 0.0})
    assert "final loss (mean of the last 10 steps)" in scenario_runs.failed_paper(h)
