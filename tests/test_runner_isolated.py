"""Runs in child processes (`Runner.start(isolate=True)`, what the console does): same
record and verdict as a thread, bounded display history, cancel, and a process that dies."""

from __future__ import annotations

import dataclasses

import pytest
import sweep_toy

from paramlab.console.core.reading import read_record
from paramlab.console.core.runner import Runner
from paramlab.scenarios.base import Metric
from paramlab.scenarios.history import History


@pytest.fixture
def toy(registered_sweep_toy):
    return registered_sweep_toy


def finish(h, timeout=60):
    assert h.wait(timeout), "run did not finish"
    return h


def events(path):
    return [e.to_dict() for e in read_record(path).events]


def test_an_isolated_run_records_what_a_thread_run_records(toy, tmp_path):
    runner = Runner(tmp_path)
    iso = finish(runner.start(toy, {"steps": 3000}, seed=4, isolate=True, display_cap=64))
    thr = finish(runner.start(toy, {"steps": 3000}, seed=4))
    assert iso.isolated and not thr.isolated
    assert iso.status == thr.status == "done"
    assert iso.verdict.to_dict() == thr.verdict.to_dict()
    assert events(iso.path) == events(thr.path)
    assert read_record(iso.path).footer["status"] == "done"
    # the parent's display history got every event, capped to 64 points per series,
    # with the newest point exact
    assert iso.history.version == thr.history.version == 3000
    xs, ys = iso.history.series("loss")
    assert iso.history.decimated and len(xs) < 64
    assert (xs[-1], ys[-1]) == (2999.0, thr.history.last("loss"))


def test_a_history_merges_columns_like_single_events():
    from array import array

    one = History(cap=32)
    for t in range(500):
        one.add(Metric(t, {"a": float(t % 7), "b": -t}))
    merged = History(cap=32)
    for start in range(0, 500, 100):
        ts = array("d", range(start, start + 100))
        merged.merge({"a": (ts, array("d", [t % 7 for t in range(start, start + 100)])),
                      "b": (ts, array("d", [-t for t in range(start, start + 100)]))},
                     n_events=100, last_step=float(start + 99))
    assert merged.version == one.version == 500 and merged.last_step == one.last_step
    for name in ("a", "b"):
        xs, ys = merged.series(name)
        assert len(xs) < 32 and xs[-1] == 499.0
        assert min(ys) == min(one.series(name)[1])  # extremes survive compaction
        assert max(ys) == max(one.series(name)[1])


def test_cancelling_an_isolated_run_stops_its_process_and_keeps_its_record(toy, tmp_path):
    h = Runner(tmp_path).start(toy, {"steps": 100000, "sleep": 0.005}, isolate=True)
    for _ in range(400):
        if (h.history.last_step or 0) >= 5:
            break
        h.wait(0.05)
    assert (h.history.last_step or 0) >= 5, "the run never got going"
    h.cancel()
    finish(h, timeout=10)
    assert h.status == "cancelled" and h.verdict is None
    rec = read_record(h.path)
    assert rec.footer["status"] == "cancelled" and len(rec.events) >= 5


def test_a_process_that_dies_is_a_failed_run_whose_record_gets_a_footer(toy, tmp_path):
    h = finish(Runner(tmp_path).start(toy, {"steps": 50, "exit_at": 20}, isolate=True))
    assert h.status == "failed"
    assert "ended without a result (exit code 3)" in h.reason
    rec = read_record(h.path)  # still a valid record: header, what was flushed, footer
    assert rec.status == "failed" and rec.footer["reason"] == h.reason


def test_a_process_that_dies_before_its_record_exists_still_ends_the_run(toy, tmp_path,
                                                                         monkeypatch):
    import paramlab.console.core.runner as runner_module
    from paramlab.console.core.records import RecordError

    def no_record(path, footer):
        raise RecordError(f"{path}: no such record")

    monkeypatch.setattr(runner_module, "append_footer", no_record)
    h = finish(Runner(tmp_path).start(toy, {"steps": 50, "exit_at": 20}, isolate=True))
    assert h.status == "failed"  # not "running" forever
    assert "exit code 3" in h.reason and "no such record" in h.reason


def test_a_scenario_the_child_cannot_import_fails_with_a_one_line_reason(toy, tmp_path):
    meta = dataclasses.replace(sweep_toy.META, id="not-importable",
                               entry_point="no_such_module_here:SCENARIO")
    sc = dataclasses.replace(toy, meta=meta)
    h = finish(Runner(tmp_path).start(sc, isolate=True))
    assert h.status == "failed"
    assert "ModuleNotFoundError" in h.reason and "\n" not in h.reason


def test_console_runs_are_niced_and_the_environment_can_change_it(monkeypatch):
    from paramlab.console.tui.app import RUN_NICE, default_run_nice

    monkeypatch.delenv("PARAMLAB_RUN_NICE", raising=False)
    assert default_run_nice() == RUN_NICE == 19
    monkeypatch.setenv("PARAMLAB_RUN_NICE", "0")
    assert default_run_nice() == 0
    monkeypatch.setenv("PARAMLAB_RUN_NICE", "99")
    assert default_run_nice() == 19


def test_an_isolated_run_process_gets_the_niceness_asked_for(toy, tmp_path):
    import os

    h = Runner(tmp_path).start(toy, {"steps": 100000, "sleep": 0.005}, isolate=True, nice=7)
    try:
        for _ in range(400):
            if (h.history.last_step or 0) >= 2:
                break
            h.wait(0.05)
        assert h.pid is not None and h.pid != os.getpid()
        assert os.getpriority(os.PRIO_PROCESS, h.pid) == os.getpriority(
            os.PRIO_PROCESS, 0) + 7
    finally:
        h.cancel()
        finish(h, timeout=10)
