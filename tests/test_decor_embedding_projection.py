from __future__ import annotations

from functools import partial

import pytest
import scenario_runs

SID = "decor-embedding-projection"
run_to_end = partial(scenario_runs.run_to_end, SID)
LEAK = "leakage, DECOR"
ALIGN = "text alignment (cos), DECOR - naive"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quick_claim_check_passes(seed):
    h = run_to_end(seed=seed)
    assert h.verdict.passed, h.verdict.summary


def test_without_projection_the_leakage_stays_and_fails_its_bound():
    # control: alpha = 0 is the naive variant (DECOR switched off)
    h = run_to_end({"alpha": 0.0})
    assert LEAK in scenario_runs.failed_paper(h)
    assert h.history.last("leak_decor") == pytest.approx(h.history.last("leak_naive"))
    assert LEAK not in scenario_runs.failed_paper(run_to_end())


def test_anisotropic_embeddings_make_the_projection_over_correct_and_lose_alignment():
    # second control: a shared direction in every token (rho = 0.6) is projected out of the
    # prompted content and the style too: negative leakage, alignment below naive
    h = run_to_end({"rho": 0.6})
    assert ALIGN in scenario_runs.failed_paper(h)
    assert h.history.last("leak_decor") < -0.3
    assert ALIGN not in scenario_runs.failed_paper(run_to_end())


def test_subtraction_over_corrects_when_the_references_show_the_content_weakly():
    h = run_to_end()
    salience = h.history.last("mean_salience")
    assert h.history.last("leak_sub") == pytest.approx(salience - 1.0, abs=0.1)
    assert abs(h.history.last("leak_decor")) < abs(h.history.last("leak_sub"))


def test_pareto_sweep_runs_from_naive_to_full_projection():
    h = run_to_end()
    _, align = h.history.paired("pareto_style", "pareto_align_decor")
    _, leak = h.history.series("pareto_leak_decor")
    assert leak[0] == pytest.approx(h.history.last("leak_naive"))
    assert leak[-1] == pytest.approx(h.history.last("leak_decor"))
    assert align[-1] > align[0]
    _, scaled = h.history.series("pareto_align_scaled")
    assert scaled[0] > scaled[-1]  # scaling the customisation down also aligns better...
    pareto = "Pareto: style, DECOR - weaker customisation at equal alignment"
    assert pareto not in scenario_runs.failed_paper(h)  # ...but DECOR keeps more style


def test_same_seed_gives_the_same_record(tmp_path):
    a = run_to_end(seed=5, runs=tmp_path)
    b = run_to_end(seed=5, runs=tmp_path)
    assert scenario_runs.metric_lines(a) == scenario_runs.metric_lines(b)


def test_leakage_stored_in_lora_weights_is_not_removed_by_projecting_the_embedding():
    # a world that does not reproduce: with a LoRA on G under a fixed rare token, the
    # content sits in the weights (Delta G e_S), not along e_ref, so the projection keeps it
    h = run_to_end({"mode": "lora"})
    assert LEAK in scenario_runs.failed_paper(h)
    assert h.history.last("leak_decor") > 0.5 * h.history.last("leak_naive")
