"""Hostile input and faults (issue 12): records of the wrong shape, special files, unusable
runs folders, unbounded numbers, SIGTERM, and flushing without new events. Each case: one
line on stderr, the documented exit code, no traceback, nothing recorded lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from paramlab.console.cli import main
from paramlab.console.core.reading import read_record, record_rows
from paramlab.console.core.records import RecordError, RecordWriter, RunFooter, RunHeader
from paramlab.scenarios.base import Metric

SID = "one-connection-sem"
HEADER = {"kind": "header", "format": 1, "run_id": "r1", "scenario": SID, "preset": "quick",
          "params": {}, "seed": 0, "device": "cpu", "started": "2026-01-01"}


def write(path: Path, *objs, raw: str = "") -> Path:
    path.write_text("\n".join(json.dumps(o) for o in objs) + "\n" + raw)
    return path


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("line", [
    {"kind": "event", "type": "metric", "step": 0, "values": {"x": "1"}},
    {"kind": "event", "type": "metric", "step": 0, "values": {"x": None}},
    {"kind": "event", "type": "metric", "step": 0, "values": {"x": list(range(1000))}},
    {"kind": "event", "type": "metric", "step": "0", "values": {"x": 1}},
    {"kind": "event", "type": "metric", "step": 0, "values": [1, 2]},
    {"kind": "event", "type": "table", "name": "t", "rows": ["a"], "columns": ["c"],
     "cells": [[1, 2]]},
    {"kind": "event", "type": "note", "text": 5},
    {"kind": "footer", "status": "done", "verdict": "yes"},
    {"kind": "footer", "status": "done", "verdict": {"passed": True, "summary": "s"}},
    {"kind": "footer", "status": "maybe"},
    [1, 2, 3],
])
def test_a_line_of_the_wrong_shape_is_skipped_and_counted(tmp_path, line):
    ok = {"kind": "event", "type": "metric", "step": 1, "values": {"x": 2.0}}
    rec = read_record(write(tmp_path / "r.jsonl", HEADER, line, ok))
    assert rec.skipped == 1 and len(rec.events) == 1 and rec.events[0].values == {"x": 2.0}
    assert rec.footer is None or rec.footer["status"] in ("done",)


def test_deep_nesting_and_overlong_lines_are_skipped(tmp_path):
    deep = "[" * 10_000 + "]" * 10_000
    long = json.dumps({"kind": "event", "type": "note", "text": "x" * (2 << 20)})
    rec = read_record(write(tmp_path / "r.jsonl", HEADER, raw=deep + "\n" + long + "\n"))
    assert rec.skipped == 2 and rec.events == []


@pytest.mark.parametrize("field, value", [("format", "1"), ("format", None),
                                          ("scenario", ["a"]), ("params", [1]),
                                          ("seed", "0"), ("run_id", 3)])
def test_a_header_field_of_the_wrong_type_is_a_one_line_error(tmp_path, capsys, field, value):
    path = write(tmp_path / "r.jsonl", {**HEADER, field: value})
    with pytest.raises(RecordError, match="not a paramlab run record"):
        read_record(path)
    assert main(["replay", str(path)]) == 2
    assert "not a paramlab run record" in one_line_error(capsys)


def test_runs_lists_every_file_even_malformed_ones(tmp_path, capsys):
    write(tmp_path / "a.jsonl", {**HEADER, "scenario": ["x"]})
    write(tmp_path / "b.jsonl", HEADER, {"kind": "footer", "status": "done", "verdict": 3,
                                         "elapsed": "1"})
    write(tmp_path / "c.jsonl", HEADER)
    rows = {Path(r["path"]).name: r for r in record_rows(tmp_path)}
    assert rows["a.jsonl"]["status"] == "unreadable"
    assert rows["b.jsonl"]["status"] == "incomplete" and rows["c.jsonl"]["status"] == \
        "incomplete"
    assert main(["runs", "--runs-dir", str(tmp_path)]) == 0
    assert "3 records" in capsys.readouterr().out


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_or_a_device_named_jsonl_never_hangs_or_grows(tmp_path, capsys):
    os.mkfifo(tmp_path / "fifo.jsonl")
    (tmp_path / "zero.jsonl").symlink_to("/dev/zero")
    write(tmp_path / "ok.jsonl", HEADER)
    assert [Path(r["path"]).name for r in record_rows(tmp_path)] == ["ok.jsonl"]
    for name in ("fifo.jsonl", "zero.jsonl"):
        assert main(["replay", str(tmp_path / name)]) == 2
        assert "not a regular file" in one_line_error(capsys)


def test_open_skips_bad_records_and_names_them(tmp_path, capsys, monkeypatch):
    from paramlab.console.cli import commands

    opened = []
    monkeypatch.setattr(commands, "_run_console", lambda d, paths: opened.extend(paths) or 0)
    write(tmp_path / "good.jsonl", HEADER)
    write(tmp_path / "bad.jsonl", {"kind": "nope"})
    assert main(["open", str(tmp_path)]) == 0
    assert opened == [str(tmp_path / "good.jsonl")]
    assert "skipped" in capsys.readouterr().err


@pytest.mark.parametrize("make", ["file", "under-file"])
def test_an_unusable_runs_folder_is_exit_2_in_one_line(tmp_path, capsys, make):
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    runs = blocker if make == "file" else blocker / "runs"
    assert main(["run", SID, "--preset", "quick", "--runs-dir", str(runs)]) == 2
    assert "runs folder" in one_line_error(capsys)


def test_a_read_only_runs_folder_is_exit_2(tmp_path, capsys):
    if os.geteuid() == 0:
        pytest.skip("root writes anywhere")
    ro = tmp_path / "ro"
    ro.mkdir(mode=0o500)
    assert main(["run", SID, "--preset", "quick", "--runs-dir", str(ro)]) == 2
    assert "not writable" in one_line_error(capsys)


def test_tilde_in_the_runs_folder_is_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert main(["run", SID, "--preset", "quick", "--runs-dir", "~/myruns"]) == 0
    assert list((tmp_path / "myruns").glob("*.jsonl")) and not (tmp_path / "~").exists()


@pytest.mark.parametrize("argv, needle", [
    (["run", SID, "--seed", "1e29"], "seed"),
    (["run", SID, "--seed", "100000000000000000000000000000"], "seed"),
    (["check", SID, "--seeds", "0-100000000"], "more than 100,000 seeds"),
    (["run", SID, "--set", "n_graphs=1/0"], "n_graphs"),
    (["sweep", SID, "--grid", "n_graphs=1/0,2"], "n_graphs"),
])
def test_unbounded_or_impossible_numbers_are_exit_2(argv, needle, capsys, runs):
    assert main(argv) == 2
    assert needle in one_line_error(capsys)
    assert not runs.exists() or not any(runs.rglob("*.jsonl"))


def test_the_csv_path_is_checked_before_the_sweep_runs(tmp_path, capsys, runs):
    argv = ["sweep", SID, "--preset", "quick", "--grid", "n_graphs=1,2",
            "--csv", str(tmp_path / "missing" / "s.csv")]
    assert main(argv) == 2
    assert "--csv" in one_line_error(capsys) and not runs.exists()


def test_check_exits_3_when_a_run_failed(registered_sweep_toy, capsys, runs):
    assert main(["check", "sweep-toy", "--preset", "default", "--set", "fail_at=2"]) == 3


def test_events_reach_the_file_on_a_timer_without_new_events(tmp_path):
    path = tmp_path / "r.jsonl"
    w = RecordWriter(path, RunHeader("r", SID, "quick", {}, 0, "cpu"), flush_secs=0.1)
    w.event(Metric(0, {"x": 1.0}), 0.0)
    deadline = time.monotonic() + 5
    while len(path.read_text().splitlines()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(path.read_text().splitlines()) == 2  # header + the event, before close
    w.close(RunFooter("done"))
    assert read_record(path).footer["events"] == 1


def test_sigterm_cancels_a_run_and_its_record_gets_a_footer(tmp_path):
    code = ("import sys; sys.path.insert(0, 'tests'); import sweep_toy; "
            "from paramlab.scenarios import registry; registry.register(sweep_toy.META); "
            "from paramlab.console.cli import main; "
            "sys.exit(main(['run', 'sweep-toy', '--set', 'steps=1000000', "
            "'--set', 'sleep=0.001']))")
    env = {**os.environ, "PARAMLAB_RUNS": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=Path(__file__).parents[1],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob("*.jsonl")) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    (path,) = tmp_path.glob("*.jsonl")
    rec = read_record(path)
    assert rec.status == "cancelled" and rec.footer["events"] == len(rec.events) > 0
    assert "Traceback" not in err
