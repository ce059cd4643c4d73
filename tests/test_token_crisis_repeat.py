from __future__ import annotations

from functools import partial

import pytest
import scenario_runs

SID = "token-crisis-repeat"
run_to_end = partial(scenario_runs.run_to_end, SID)
GAP8 = "gap(8) = val(R=8) - val(R=1), no dropout (nats)"
GAP32 = "gap(32) = val(R=32) - val(R=1), no dropout (nats)"
DROPOUT = "dropout gap(8) / no-dropout gap(8)"
SMALL = {"size_sweep": "", "evals": 4, "n_val": 1000}  # the quick world, fewer extras


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quick_claim_check_passes(seed):
    h = run_to_end(seed=seed)
    assert h.verdict.passed, h.verdict.summary
    assert all(c.passed for c in h.verdict.criteria), h.verdict


def test_fresh_data_every_epoch_removes_the_degradation():
    # control: as many epochs, but each epoch draws new windows (no repetition): gap ~ 0
    normal = run_to_end(SMALL)
    control = run_to_end({**SMALL, "resample": True})
    failed = scenario_runs.failed_paper(control)
    assert GAP8 in failed and GAP32 in failed
    assert not {GAP8, GAP32} & scenario_runs.failed_paper(normal)
    gaps = {c.name: c.measured for c in control.verdict.criteria}
    assert abs(gaps[GAP8]) < 0.1 and abs(gaps[GAP32]) < 0.1


def test_a_dropout_arm_without_dropout_does_not_mitigate():
    h = run_to_end({**SMALL, "dropout": 0.0})
    assert DROPOUT in scenario_runs.failed_paper(h)
    ratio = next(c.measured for c in h.verdict.criteria if c.name == DROPOUT)
    assert ratio == pytest.approx(1.0)  # the two arms are the same model, bit for bit


def test_no_run_beats_the_entropy_rate_and_the_note_reports_it():
    h = run_to_end(SMALL)
    H = h.history.last("bayes")
    assert 1.5 < H < 2.0
    assert any("entropy rate" in n for n in h.history.notes)
    assert min(h.history.series("val_R1")[1]) > H


def test_same_seed_gives_identical_metrics():
    tiny = {**SMALL, "budget_tokens": 4096, "repeats": "1,8"}

    def values(seed):
        h = run_to_end(tiny, seed=seed)
        return {name: h.history.series(name) for name in h.history.names()}

    assert values(3) == values(3)
    assert values(3) != values(4)


def test_repeats_must_start_at_one():
    from paramlab.scenarios.registry import load

    with pytest.raises(ValueError, match="repeats"):
        load(SID).make_params("quick", {"repeats": "8,32"})
