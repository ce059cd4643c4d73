"""`paramlab watch`: follow a record as it grows, tell a running writer from a dead one
(issue 13, "follow a run anywhere")."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

from paramlab.console.cli import main
from paramlab.console.core.follow import ABANDONED, RUNNING, Follow

MS = "matrix-sensing-overparam"


def header(pid: int | None = None) -> dict:
    return {"kind": "header", "format": 1, "run_id": "r1", "scenario": MS, "preset": "quick",
            "params": {}, "seed": 0, "device": "cpu", "started": "2026-01-01T00:00:00+00:00",
            "host": socket.gethostname(), "pid": pid if pid is not None else os.getpid()}


def metric(step: int, loss: float) -> dict:
    return {"kind": "event", "t": step * 0.01, "type": "metric", "step": step,
            "values": {"loss_sym": loss}}


def line(obj: dict) -> bytes:
    return json.dumps(obj).encode() + b"\n"


def test_follow_takes_complete_lines_only_as_the_record_grows(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_bytes(line(header()) + line(metric(0, 1.0)))
    f = Follow(path)
    assert f.poll() == 1 and f.history.series("loss_sym") == ([0.0], [1.0])
    half = line(metric(1, 0.5))
    with open(path, "ab") as fh:
        fh.write(half[:10])  # the writer is mid-line
    assert f.poll() == 0 and f.history.last_step == 0.0
    with open(path, "ab") as fh:
        fh.write(half[10:] + b'{"kind": "event", broken\n')
    assert f.poll() == 2 and f.history.last_step == 1.0 and f.record.skipped == 1
    assert not f.finished and f.writer_state() == RUNNING  # this process wrote it
    f.close()


def test_watching_a_record_whose_writer_died_without_a_footer_exits_3(tmp_path, capsys):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    path = tmp_path / "r.jsonl"
    path.write_bytes(line(header(dead.pid)) + line(metric(0, 1.0)))
    f = Follow(path)
    f.poll()
    assert f.writer_state() == ABANDONED
    f.close()
    assert main(["watch", str(path), "--interval", "0.05"]) == 3
    assert "the run's process is gone" in capsys.readouterr().err


def test_watching_a_live_run_follows_it_to_its_end_and_rechecks_it(tmp_path, capsys):
    runs = tmp_path / "runs"
    proc = subprocess.Popen([sys.executable, "-m", "paramlab.console.cli", "run", MS,
                             "--preset", "quick", "--runs-dir", str(runs)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not list(runs.glob("*.jsonl")):
            time.sleep(0.02)
        code = main(["watch", str(runs), "--interval", "0.1", "--width", "60"])
    finally:
        proc.wait(60)
    out = capsys.readouterr()
    assert code == 0 and "re-checked: same verdict as recorded" in out.out
    assert f"watching {next(runs.glob('*.jsonl'))}" in out.err


def test_watch_rejects_a_bad_interval_and_a_folder_without_records(tmp_path, capsys):
    assert main(["watch", str(tmp_path), "--interval", "0"]) == 2
    assert main(["watch", str(tmp_path)]) == 2
    assert "no run records here" in capsys.readouterr().err


def test_a_record_whose_writer_is_alive_is_running_and_gets_no_verdict(tmp_path, capsys):
    from paramlab.console.core.reading import record_rows
    from paramlab.console.core.replay import STILL_RUNNING, replay

    path = tmp_path / "r.jsonl"  # written "by" this live process, no footer yet
    path.write_bytes(line(header()) + b"".join(line(metric(t, 1.0 / (t + 1)))
                                               for t in range(5)))
    r = replay(path)
    assert r.comparison == STILL_RUNNING and r.verdict is None
    assert record_rows(tmp_path)[0]["status"] == "running"
    assert main(["replay", str(path)]) == 0
    assert "still running" in capsys.readouterr().out
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    path.write_bytes(line(header(dead.pid)) + line(metric(0, 1.0)))
    assert replay(path).comparison == "incomplete"  # its writer is gone: interrupted
    assert record_rows(tmp_path)[0]["status"] == "incomplete"


def test_replay_takes_a_run_id_from_the_runs_folder(tmp_path, capsys):
    runs = tmp_path / "runs"
    assert main(["run", MS, "--preset", "quick", "--runs-dir", str(runs)]) in (0, 1)
    run_id = next(runs.glob("*.jsonl")).stem
    capsys.readouterr()
    assert main(["replay", run_id, "--runs-dir", str(runs)]) in (0, 1)
    assert f"run {run_id}" in capsys.readouterr().out
    assert main(["replay", "no-such-run", "--runs-dir", str(runs)]) == 2
    assert "no-such-run: no such record" in capsys.readouterr().err


def test_device_cuda_on_a_numpy_only_scenario_says_it_is_ignored(tmp_path, capsys):
    sid = "outcome-invariant-augmentation-iv"
    assert main(["run", sid, "--preset", "quick", "--device", "cuda", "--no-record"]) == 0
    assert "--device cuda is ignored" in capsys.readouterr().err
    main(["run", sid, "--preset", "quick", "--device", "cpu", "--no-record"])
    assert "ignored" not in capsys.readouterr().err


def test_the_progress_line_shows_a_dash_until_the_key_metric_has_a_value():
    import io
    from types import SimpleNamespace

    from paramlab.console.cli.progress import ProgressLine
    from paramlab.scenarios import registry
    from paramlab.scenarios.history import History

    sc = registry.load(MS)
    h = History()
    line_ = ProgressLine(io.StringIO())
    handle = SimpleNamespace(step=0, total=10, scenario=sc, scenario_id=MS, history=h,
                             status="running", elapsed=0.1)
    line_.update(handle, final=True)
    assert f"{sc.key_metric}=-" in line_.stream.getvalue()
    from paramlab.scenarios.base import Metric

    h.add(Metric(1, {sc.key_metric: 0.25}))
    line_.update(SimpleNamespace(**{**vars(handle), "step": 1}), final=True)
    assert f"{sc.key_metric}=0.25" in line_.stream.getvalue()
