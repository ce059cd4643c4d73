from __future__ import annotations

from functools import partial

import pytest
import scenario_runs
from scenario_runs import failed_paper

from paramlab.console.render.plotting import render_panel
from paramlab.scenarios import load

SID = "overtraining-peak-linear-student"
run_to_end = partial(scenario_runs.run_to_end, SID)


_QUICK: dict[int, object] = {}


def quick_run(seed):
    """The quick run of one seed, shared by the tests that only read it."""
    if seed not in _QUICK:
        _QUICK[seed] = run_to_end(seed=seed)
    return _QUICK[seed]


failed = failed_paper


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quick_claim_check_passes(seed):
    h = quick_run(seed)
    assert h.verdict.passed, h.verdict


def test_default_claim_check_passes_on_seed_0():
    h = run_to_end(preset="default")
    assert h.verdict.passed, h.verdict


def test_noise_free_teacher_has_no_overtraining_peak_and_fails():
    h = run_to_end({"noise_var": 0.0})
    assert not h.verdict.passed
    assert "relative overtraining at P/N=1 (E_g(T)-min)/min" in failed(h)
    qs, ot = h.history.paired("q", "overtraining")
    assert max(ot) < 1e-8  # every mode relaxes monotonically to w*


def test_zero_large_init_cannot_show_the_frozen_subspace_cost():
    h = run_to_end({"sigma0_large": 0.0})
    assert failed(h) == {"P/N=2: E_g(sigma0=0) / E_g(sigma0=0)"}


def test_short_training_does_not_overtrain():
    h = run_to_end({"t_max": 1.0})
    assert not h.verdict.passed


def test_relu_random_features_student_also_peaks_at_p_equals_n():
    h = run_to_end({"model": "relu-rf"})
    peak = {c.name: c.passed for c in h.verdict.criteria[:4]}
    assert all(peak.values()), peak


def test_same_seed_gives_identical_curves():
    a, b, c = run_to_end(seed=3), run_to_end(seed=3), run_to_end(seed=4)
    assert a.history.series("Eg_q1") == b.history.series("Eg_q1")
    assert a.history.series("Eg_q1") != c.history.series("Eg_q1")


def test_every_panel_draws_from_a_quick_run():
    h = quick_run(0)
    for panel in load(SID).panels:
        text = render_panel(panel, h.history, width=70, height=15)
        assert "no data yet" not in text, panel.title
