"""Helpers shared by the scenario tests: run a registered scenario to its end, read what
failed, and read a record's metric lines (without their run-relative times)."""

from __future__ import annotations

import json

from paramlab.console.core.runner import Runner


def run_to_end(sid, params=None, preset="quick", seed=0, runs=None, status="done",
               device="cpu", timeout=300):
    """Run scenario `sid` through the Runner (recorded when `runs` is a folder), wait for
    its end and check its status. Every scenario test runs through this helper; a test
    file binds its id with `run_to_end = functools.partial(scenario_runs.run_to_end, SID)`."""
    h = Runner(runs, record=runs is not None).start(sid, params, preset=preset, seed=seed,
                                                    device=device)
    assert h.wait(timeout), "run did not finish"
    assert h.status == status, h.error or h.reason
    return h


def failed_paper(h) -> set[str]:
    """Names of the paper-tier criteria that failed."""
    return {c.name for c in h.verdict.criteria if c.tier == "paper" and not c.passed}


def metric_lines(h) -> list[dict]:
    """The record's event lines without `t` (what must repeat bit for bit per seed)."""
    out = []
    for line in h.path.read_text().splitlines():
        d = json.loads(line)
        if d["kind"] == "event":
            d.pop("t")
            out.append(d)
    return out
