from __future__ import annotations

from functools import partial

import pytest
import scenario_runs
from scenario_runs import failed_paper

from paramlab.console.render.plotting import render_panel
from paramlab.scenarios import load

SID = "rf-ridge-more-is-better"
run_to_end = partial(scenario_runs.run_to_end, SID)


_QUICK: dict[int, object] = {}


def quick_run(seed):
    """The quick run of one seed, shared by the tests that only read it."""
    if seed not in _QUICK:
        _QUICK[seed] = run_to_end(seed=seed)
    return _QUICK[seed]


failed = failed_paper


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quick_check_shows_the_phenomenon_but_fails_the_ridge_threshold(seed):
    # every paper criterion holds except the spec's "optimal ridge <= 1e-3", which is
    # measured in the paper's delta units and not met (see the module's "Ridge units")
    h = quick_run(seed)
    assert failed(h) == {"power-law task: optimal ridge delta = n*lambda, N=512"}
    assert not h.verdict.passed


def test_untuned_tiny_ridge_shows_double_descent_and_fails():
    h = run_to_end({"ridge_max": 1e-6})
    assert {"power-law task: max rise of tuned risk between N steps",
            "contrast task: max rise of tuned risk between N steps",
            "contrast task: fitting ratio at optimum, N=512"} <= failed(h)


def test_noisy_fast_decaying_task_does_not_need_overfitting():
    h = run_to_end({"alpha": 2.0, "beta": 3.0, "sigma": 0.5})
    assert "power-law task: fitting ratio at optimum, N=512" in failed(h)


def test_kernel_limit_is_never_beaten_by_finite_width():
    h = quick_run(0)
    kernel = h.history.last("risk_kernel")
    assert min(h.history.series("risk_opt")[1]) >= 0.99 * kernel


def test_ridge_bounds_are_validated():
    with pytest.raises(ValueError, match="ridge_min"):
        load(SID).make_params("quick", {"ridge_min": 1.0, "ridge_max": 0.1})


def test_every_panel_draws_from_a_quick_run():
    h = quick_run(0)
    for panel in load(SID).panels:
        text = render_panel(panel, h.history, width=70, height=15)
        assert "no data yet" not in text, panel.title
