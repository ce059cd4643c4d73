from __future__ import annotations

from functools import partial

import pytest
import scenario_runs

SID = "data-diet-el2n"
run_to_end = partial(scenario_runs.run_to_end, SID)
VS_RANDOM = "acc(keep-hard, 50% pruned) - acc(random, 50% pruned)"
AUROC = "AUROC of the score for the flipped labels"
TINY = {"n_train": 600, "n_test": 500, "score_epoch": 1, "score_inits": 1,
        "retrain_epochs": 1, "reps": 1, "prune_fracs": "0.5", "hidden": 16}


@pytest.fixture(scope="module")
def quick():
    return run_to_end(seed=0)


def test_quick_claim_check_passes(quick):
    assert quick.verdict.passed, quick.verdict.summary
    assert all(c.passed for c in quick.verdict.criteria), quick.verdict


def test_untrained_network_scores_fail_the_claim(quick):
    # control: scores of untrained nets (epoch 0) rank examples no better than chance, so
    # keeping their "hardest" half loses to random pruning and misses the flipped labels
    h = run_to_end({"score_epoch": 0})
    failed = scenario_runs.failed_paper(h)
    assert VS_RANDOM in failed and AUROC in failed
    assert not {VS_RANDOM, AUROC} & scenario_runs.failed_paper(quick)


def test_the_fig1_curve_and_the_accuracy_table_cover_every_fraction(quick):
    fr, hard = quick.history.series("curve_hard")
    assert fr and quick.history.paired("frac_pruned", "curve_random")[0] == [0.0, 0.5, 0.8]
    table = quick.history.tables["test accuracy by fraction pruned"]
    assert table.rows == ["50% pruned", "80% pruned"]


def test_same_seed_gives_identical_metrics():
    def values(seed):
        h = run_to_end(TINY, seed=seed)
        return {name: h.history.series(name) for name in h.history.names()}

    assert values(3) == values(3)
    assert values(3) != values(4)


def test_prune_fracs_must_include_the_checked_half():
    from paramlab.scenarios.registry import load

    with pytest.raises(ValueError, match="prune_fracs"):
        load(SID).make_params("quick", {"prune_fracs": "0.3,0.8"})
