"""Seed stability: aggregation, the results file, and that the file matches a re-run."""

from __future__ import annotations

import json
import math

import pytest

from paramlab.console.core import stability
from paramlab.console.core.stability import SeedOutcome, aggregate
from paramlab.scenarios.base import Criterion, Verdict


def outcome(seed, measured, limit=1.0):
    crit = [Criterion.at_most("err", measured, limit),
            Criterion.at_least("gain", 2.0, 1.0, tier="mechanism")]
    return SeedOutcome.of(seed, "done", Verdict.of(crit, "ok"), elapsed=0.5)


def test_aggregate_counts_passes_and_spreads_each_criterion():
    outs = [outcome(s, m) for s, m in enumerate([0.1, 0.5, 2.0, math.nan])]
    outs.append(SeedOutcome.of(4, "failed", None))
    st = aggregate("x", "quick", outs)
    assert (st.n, st.n_passed, st.n_failed, st.n_no_verdict) == (5, 2, 2, 1)
    err = next(c for c in st.criteria if c.name == "err")
    assert (err.n, err.n_passed, err.n_nan) == (4, 2, 1)
    assert (err.lo, err.median, err.hi) == (0.1, 0.5, 2.0)
    assert err.threshold == "<= 1" and st.word == "UNSTABLE"


@pytest.mark.parametrize("n_pass, word", [(20, "PASS"), (19, "PASS"), (18, "UNSTABLE"),
                                          (1, "FAIL"), (0, "FAIL")])
def test_a_verdict_is_stable_when_it_holds_on_19_of_20_seeds(n_pass, word):
    outs = [outcome(s, 0.1 if s < n_pass else 5.0) for s in range(20)]
    assert aggregate("x", "quick", outs).word == word


def test_results_file_round_trips_nan_and_reads_missing_as_empty(tmp_path):
    st = aggregate("x", "quick", [outcome(0, math.nan), outcome(1, 0.2)])
    path = tmp_path / "results.json"
    stability.write_results({"x": {"quick": stability.entry(st, "abc", {"k": 1})}}, path)
    json.loads(path.read_text())  # strict JSON: no NaN literals
    back = stability.read_results(path)["x"]["quick"]
    assert back["criteria"][0]["n_nan"] == 1 and back["source"] == "abc"
    assert stability.PresetStats.from_dict(back).n_passed == 1
    assert stability.read_results(tmp_path / "none.json") == {}


def test_the_source_hash_follows_the_modules_a_scenario_imports(tmp_path):
    pkg = tmp_path / "scen"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "helper.py").write_text("X = 1\n")
    (pkg / "mod.py").write_text("from .helper import X\n")
    roots = {"paramlab.scenarios": pkg}
    before = stability.source_hash(pkg / "mod.py", roots)
    (pkg / "helper.py").write_text("X = 2\n")
    assert stability.source_hash(pkg / "mod.py", roots) != before


def test_the_shipped_results_file_matches_a_rerun_of_seed_0():
    """The file cannot rot silently: its entry for one fast scenario is for the current
    code, and seed 0 re-run now measures what the file says."""
    from scenario_runs import run_to_end

    sid = "one-connection-sem"
    entry = stability.read_results()[sid]["quick"]
    assert entry["source"] == stability.scenario_hash(sid), \
        "stale: re-run python bench/bench_results.py --ids " + sid
    seed0 = next(s for s in entry["per_seed"] if s["seed"] == 0)
    handle = run_to_end(sid, params=entry["params"], seed=0)
    measured = {c.name: c.measured for c in handle.verdict.criteria}
    assert handle.verdict.passed == seed0["passed"]
    assert measured == pytest.approx(seed0["measured"], rel=1e-9, abs=1e-300, nan_ok=True)


def test_documenting_a_scenario_does_not_change_its_hash_but_code_does():
    base = ('"""doc"""\nfrom x import Scenario\n\ndef run(p):\n    """run doc"""\n'
            '    return p + 1  # a comment\n\nS = Scenario(run=run, notes="a", status="x")\n')
    doc = base.replace('"""doc"""', '"""other doc"""').replace('notes="a"', 'notes="b", '
                                                                'paper_rows=(1, 2)')
    code = base.replace("p + 1", "p + 2")
    assert stability.code_of(doc) == stability.code_of(base)
    assert stability.code_of(code) != stability.code_of(base)
    assert stability.code_of(base.replace("run=run", "run=run, presets={}")) != \
        stability.code_of(base)
    # a declared thread count is a run-time hint: the results file is measured at 1 thread
    assert stability.code_of(base.replace("run=run", "run=run, threads=2")) == \
        stability.code_of(base)
