from __future__ import annotations

import json
import threading
import time

from paramlab.console.core.reading import read_record
from paramlab.console.core.runner import Runner


def finish(h, timeout=30):
    assert h.wait(timeout), "run did not finish"
    return h


def test_a_good_run_is_done_with_a_verdict_and_a_footer(toy, runs):
    h = finish(Runner(runs).start(toy, seed=1))
    assert h.status == "done"
    assert h.verdict is not None and h.verdict.passed
    rec = read_record(h.path)
    assert rec.footer["status"] == "done"
    assert rec.footer["events"] == len(rec.events) == 22  # note + 20 metrics + table
    assert rec.verdict.to_dict() == h.verdict.to_dict()


def test_an_exception_in_the_scenario_becomes_a_failed_run_with_traceback(toy, runs):
    h = finish(Runner(runs).start(toy, {"fail_at": 5}))
    assert h.status == "failed"
    assert "boom at step 5" in h.error and "Traceback" in h.error
    rec = read_record(h.path)
    assert rec.footer["status"] == "failed"
    assert "RuntimeError: boom at step 5" in rec.footer["error"]
    assert len([e for e in rec.events if e.type == "metric"]) == 5  # kept what it had


def test_nan_in_a_watched_series_ends_the_run_as_diverged(toy, runs):
    h = finish(Runner(runs).start(toy, {"nan_at": 3}))
    assert h.status == "diverged"
    assert "loss became nan at step 3" in h.reason
    assert h.verdict is None
    assert read_record(h.path).footer["status"] == "diverged"


def test_cancel_stops_between_steps_and_still_writes_the_footer(toy, runs):
    h = Runner(runs).start(toy, {"steps": 10000, "sleep": 0.01})
    while h.step is None or h.step < 3:
        time.sleep(0.01)
    h.cancel()
    finish(h, 5)
    assert h.status == "cancelled"
    assert h.step < 10000
    assert read_record(h.path).footer["status"] == "cancelled"


def test_several_runs_go_at_once_in_their_own_threads(toy, runs):
    runner = Runner(runs)
    hs = [runner.start(toy, {"steps": 30, "sleep": 0.01}, seed=s) for s in range(4)]
    time.sleep(0.05)
    assert len(runner.active()) >= 2
    alive = {h.thread.name for h in hs if h.thread.is_alive()}
    assert len(alive) >= 2
    for h in hs:
        finish(h)
    assert [h.status for h in hs] == ["done"] * 4
    assert len({h.run_id for h in hs}) == 4


def test_a_slow_consumer_does_not_block_the_run(toy, runs):
    # a consumer that holds nothing and polls rarely: the run finishes regardless
    done = threading.Event()
    h = Runner(runs).start(toy, {"steps": 2000}, on_finish=lambda _: done.set())
    assert done.wait(20)
    assert h.history.version == 2002


def test_on_finish_is_called_once_even_when_the_run_fails(toy, runs):
    calls = []
    h = finish(Runner(runs).start(toy, {"fail_at": 0}, on_finish=calls.append))
    time.sleep(0.05)
    assert calls == [h]


def test_without_record_nothing_is_written(toy, runs):
    h = finish(Runner(runs, record=False).start(toy))
    assert h.path is None and not runs.exists()


def test_record_header_holds_params_seed_device_and_versions(toy, runs):
    h = finish(Runner(runs).start(toy, {"steps": 3}, seed=7))
    header = json.loads(h.path.read_text().splitlines()[0])
    assert header["kind"] == "header" and header["format"] == 1
    assert header["scenario"] == "toy" and header["seed"] == 7 and header["device"] == "cpu"
    assert header["params"]["steps"] == 3
    assert "python" in header["versions"] and "numpy" in header["versions"]
    assert h.run_id in h.path.name
