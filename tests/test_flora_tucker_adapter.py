from functools import partial

import pytest
import scenario_runs
import torch

from paramlab.scenarios.flora_tucker_adapter import CRIT_MATRIX, CRIT_R4, CRIT_R8

SID = "flora-tucker-adapter"
run_to_end = partial(scenario_runs.run_to_end, SID)


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def quick():
    return run_to_end(seed=0)


def test_quick_claim_check_passes(quick):
    assert quick.verdict.passed, quick.verdict.summary
    assert all(c.passed for c in quick.verdict.criteria)


def test_budgets_are_printed_and_matched(quick):
    note = next(n for n in quick.history.notes if n.startswith("trainable parameters"))
    assert "r=4: FLoRA 418 vs LoRA rank 2 640" in note
    assert "r=8: FLoRA 1106 vs LoRA rank 4 1280" in note


def test_the_matrix_truth_control_fails_the_claim(quick):
    h = run_to_end({"truth": "matrix"})
    failed = scenario_runs.failed_paper(h)
    assert CRIT_R8 in failed and CRIT_R4 in failed
    assert CRIT_R8 not in scenario_runs.failed_paper(quick)
    crit = {c.name: c for c in h.verdict.criteria}
    assert crit[CRIT_R8].measured > 10  # LoRA wins on its own family
    assert crit[CRIT_MATRIX].passed
