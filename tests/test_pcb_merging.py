from __future__ import annotations

from functools import partial

import numpy as np
import pytest
import scenario_runs
import torch

from paramlab.engines.data import digits
from paramlab.scenarios.pcb_merging import DENSITY_GRID, ROWS, SCENARIO, TASK_ORDER

SID = "pcb-merging"
run_to_end = partial(scenario_runs.run_to_end, SID)
BALANCING = "balancing beats random scores: PCB - random at equal density (pt)"
TINY = {"n_tasks": 2, "pretrain_steps": 20, "ft_steps": 15, "lam_step": 0.5}


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """Small full-batch matmuls: on a shared 2-core box, torch's default intra-op threads
    spin against each other and triple the CPU time. The checks do not depend on it."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def quick_runs():
    return {seed: run_to_end(seed=seed) for seed in (0, 1, 2)}


SPEC_MECHANISM = ("merging works: TA - base (pt)", "merging works: PCB tuned - base (pt)",
                  "PCB tuned - TIES tuned (pt)")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quick_merging_works_and_pcb_keeps_up_with_ties(quick_runs, seed):
    crit = {c.name: c for c in quick_runs[seed].verdict.criteria}
    assert [n for n, c in crit.items() if c.tier == "mechanism"] == [*SPEC_MECHANISM, BALANCING]
    assert all(crit[n].passed for n in SPEC_MECHANISM), quick_runs[seed].verdict


def test_pcb_scores_beat_random_scores_on_average(quick_runs):
    # per seed the gap is noisy (see the module notes for its rate on seeds 0-19): read
    # it over seeds 0-2 against the criterion's threshold
    gaps = [h.history.last("pcb_minus_random_equal_density") for h in quick_runs.values()]
    assert sum(gaps) / len(gaps) >= 2.0, gaps


def test_verdict_reports_the_paper_tier_as_measured(quick_runs):
    for h in quick_runs.values():
        v = h.verdict
        paper = [c for c in v.criteria if c.tier == "paper"]
        assert [c.name for c in paper] == ["paper: PCB tuned - TA (pt)",
                                           "paper: PCB tuned - TIES tuned (pt)",
                                           "paper: PCB tuned - DARE tuned (pt)"]
        assert v.passed == all(c.passed for c in paper)
        # the verdict is computed from the emitted averages, whichever way it goes
        pcb, ta = h.history.last("avg_PCB_tuned"), h.history.last("avg_TA")
        assert paper[0].measured == pytest.approx(pcb - ta)
        assert paper[0].passed == (pcb - ta >= 2.0)
        assert v.summary.startswith("claim not shown") == (not v.passed)
        if v.passed:
            assert f"TA {ta:.1f}" in v.summary
        else:  # every failed paper criterion is named
            assert all(c.name in v.summary for c in paper if not c.passed)


def test_run_emits_method_by_task_table_and_lambda_curves(quick_runs):
    hist = quick_runs[0].history
    table = hist.tables["per_task"]
    assert table.columns == list(TASK_ORDER)
    assert len(table.rows) == len(ROWS) and all(len(r) == 8 for r in table.cells)
    quick = SCENARIO.make_params("quick")
    n_lam = round(quick.lam_max / quick.lam_step) + 1
    lams, ta = hist.paired("lambda", "sweep_TA")
    assert lams[0] == 0.0 and len(lams) == n_lam and len(ta) == n_lam
    # lambda = 0 is the base model for every method
    _, pcb = hist.paired("lambda", "sweep_PCB")
    assert ta[0] == pcb[0] == pytest.approx(hist.last("avg_base"))
    steps, loss = hist.series("ft_loss_rot90")
    assert steps[0] == quick.pretrain_steps + 1 and len(steps) == quick.ft_steps
    assert sum(loss[-50:]) < sum(loss[:50])
    # one step axis that never goes back: progress reads step/total to the end
    assert hist.last_step == SCENARIO.total_steps(quick)
    pre, _ = hist.series("pretrain_loss")
    lam_steps, _ = hist.series("sweep_TA")
    assert pre[-1] < steps[0] and steps[-1] < lam_steps[0]


def test_dare_p_is_tuned_on_the_same_density_grid_as_pcb(quick_runs):
    hist = quick_runs[0].history
    for name in ("DARE_tuned", "PCB_tuned", "TIES_tuned", "RAND_tuned"):
        assert hist.last(f"density_{name}") in DENSITY_GRID


def test_random_scores_control_fails_the_balancing_criterion():
    h = run_to_end({"pcb_scores": "random"})
    crit = {c.name: c for c in h.verdict.criteria}
    c = crit[BALANCING]
    assert not c.passed and c.measured < 2.0
    # what the reviewer saw: the other mechanism checks cannot tell random scores from PCB's
    assert crit["merging works: PCB tuned - base (pt)"].passed


def test_flipped_inter_balancing_fails_the_merging_works_check():
    h = run_to_end({"pcb_inter_sign": -1})
    crit = {c.name: c for c in h.verdict.criteria}
    c = crit["merging works: PCB tuned - base (pt)"]
    assert not c.passed and c.measured < 10
    assert h.history.last("lam_PCB_tuned") == 0.0  # validation keeps the base model
    assert crit["merging works: TA - base (pt)"].passed


def test_same_seed_gives_identical_results_on_cpu():
    def outcome(seed):
        h = run_to_end(TINY, preset="default", seed=seed)
        return {n: h.history.series(n) for n in h.history.names()}

    a, b = outcome(3), outcome(3)
    assert a == b
    assert a != outcome(4)


# --------------------------------------------------------------------------- data engine


def test_digits_load_scaled_and_split_disjointly():
    X, y = digits.load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32 and 0 <= X.min() < X.max() == 1
    parts = digits.split(len(y), (0.4, 0.6), np.random.default_rng(0))
    assert [len(p) for p in parts] == [719, 1078]
    assert len(np.unique(np.concatenate(parts))) == 1797


def test_task_transforms_are_the_stated_geometric_maps():
    rng = np.random.default_rng(0)
    X = rng.random((3, 64)).astype(np.float32)
    img = X.reshape(-1, 8, 8)
    rot = digits.make_transform("rot90", rng)
    assert np.array_equal(rot(rot(rot(rot(X)))), X)
    assert np.array_equal(rot(X).reshape(-1, 8, 8)[:, 0, :], img[:, :, 7])
    assert np.array_equal(digits.make_transform("flip_lr", rng)(X).reshape(-1, 8, 8),
                          img[:, :, ::-1])
    assert np.allclose(digits.make_transform("invert", rng)(X), 1 - X)
    shifted = digits.make_transform("shift", rng)(X).reshape(-1, 8, 8)
    assert np.array_equal(shifted[:, :, 2:], img[:, :, :6]) and not shifted[:, :, :2].any()
    perm = digits.make_transform("block_perm", rng)
    out = perm(X)
    assert np.array_equal(np.sort(out, axis=1), np.sort(X, axis=1))  # pixels moved only
    assert np.array_equal(perm(X), out)  # one fixed permutation
    noisy = digits.make_transform("noise", rng)(X)
    assert 0.3 < np.std(noisy - X) < 0.4


def test_unknown_task_is_named():
    with pytest.raises(ValueError, match="unknown task 'blur'"):
        digits.make_transform("blur", np.random.default_rng(0))
