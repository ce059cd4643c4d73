from functools import partial

import pytest
import scenario_runs

from paramlab.scenarios.longtail_foundation_bias import C1, C3B

SID = "longtail-foundation-bias"
run_to_end = partial(scenario_runs.run_to_end, SID)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quick_claim_check_passes(seed):
    h = run_to_end(seed=seed)
    assert h.verdict.passed, h.verdict.summary
    assert C1 not in scenario_runs.failed_paper(h) and C3B not in scenario_runs.failed_paper(h)


def test_fine_tuning_with_plain_ce_does_not_fix_the_data_tail():
    # the "re-balanced" fine-tuning is plain CE: LA - CE on the data tail is zero
    h = run_to_end({"finetune_loss": "CE"})
    assert C1 in scenario_runs.failed_paper(h)


def test_backdoor_over_one_pretraining_prior_is_no_better_than_plain_ensembling():
    # every confounder value z equal (all on A's prior): BA is a same-prior ensemble
    h = run_to_end({"confounders": "same"})
    assert C3B in scenario_runs.failed_paper(h)
