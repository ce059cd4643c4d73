from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from paramlab.console.cli import main
from paramlab.console.core.executors import PoolExecutor
from paramlab.console.core.reading import read_record
from paramlab.console.core.sweeps import (
    RandomDim,
    Sweep,
    SweepError,
    SweepSpec,
    build_spec,
    point_id,
    read_manifest,
    settings,
    write_csv,
)
from paramlab.console.render.plotting import render_panel
from paramlab.scenarios import registry

MS = "matrix-sensing-overparam"
MS_SMALL = {"T": "100", "m": "200", "n": "10"}  # ~0.1 s a point


@pytest.fixture
def toy(registered_sweep_toy):
    return registered_sweep_toy


@pytest.fixture(scope="module")
def pool():
    with PoolExecutor(2) as ex:
        yield ex


def make(scenario, tmp_path, name="sw", **kw):
    return Sweep.create(build_spec(scenario, **kw), tmp_path / name)


def test_pool_and_dask_local_cluster_give_identical_per_point_metrics(tmp_path, pool):
    from paramlab.console.core.executors import DaskExecutor

    sc = registry.load(MS)
    kw = dict(sets=MS_SMALL, grid=["alpha_sym=0.1,1"], seeds=[0, 1])
    a = make(sc, tmp_path, "pool", **kw)
    assert a.run(pool) == "finished"
    with DaskExecutor(workers=2) as dask:  # a real LocalCluster of worker processes
        b = make(sc, tmp_path, "dask", **kw)
        assert b.run(dask) == "finished"
    pa, pb = a.snapshot(), b.snapshot()
    assert len(pa) == 4 and [p.status for p in pa + pb] == ["done"] * 8
    assert [p.id for p in pa] == [p.id for p in pb]
    assert [p.final for p in pa] == [p.final for p in pb]
    assert [p.verdict for p in pa] == [p.verdict for p in pb]
    # each point is an ordinary record, tagged with its sweep and identity
    rec = read_record(b.directory / pb[0].record)
    assert rec.status == "done" and rec.header["sweep"] == b.sweep_id
    assert rec.header["point"] == pb[0].id == point_id(MS, pb[0].params, 0)
    assert rec.events[-1].values["err_asym_imb"] == pb[0].final["err_asym_imb"]


def test_resume_runs_only_the_points_that_did_not_finish(tmp_path, toy, pool):
    sw = make(toy, tmp_path, grid=["scale=0.1,1"], seeds=[0, 1])
    sw.run(pool)
    first = {p.id: p.run_id for p in sw.snapshot()}
    manifest = read_manifest(sw.directory)  # as if interrupted with two points open:
    lost, late = manifest["points"][1], manifest["points"][3]
    (sw.directory / lost["record"]).unlink()  # one never finished,
    lost["status"] = "running"
    late["status"] = "pending"  # one finished after the manifest's last write
    (sw.directory / "sweep.json").write_text(json.dumps(manifest))
    ran = []
    again = Sweep.open(sw.directory)
    assert again.run(pool, on_point=ran.append) == "finished"
    assert [p.index for p in ran] == [1]
    after = {p.id: p for p in again.snapshot()}
    assert [after[k].run_id == v for k, v in first.items()] == [True, False, True, True]
    assert after[late["id"]].status == "done" and after[late["id"]].final
    assert len(list((sw.directory / "runs").glob("*.jsonl"))) == 4


def test_cancel_marks_running_points_and_leaves_a_valid_manifest(tmp_path, toy, pool):
    sw = make(toy, tmp_path, sets={"steps": "100000", "sleep": "0.01"}, seeds=[0, 1, 2, 3])
    sw.start(pool)
    deadline = time.monotonic() + 30
    while sw.progress().running < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(3.0)  # "running" means handed to a worker; let the workers begin them
    sw.cancel()
    assert sw.wait(30)
    m = read_manifest(sw.directory)
    assert m["state"] == "interrupted"
    statuses = sorted(p["status"] for p in m["points"])
    # a point handed to a worker that had not begun it yet (a loaded machine) stays pending
    assert statuses in (["cancelled"] * 2 + ["pending"] * 2, ["cancelled"] + ["pending"] * 3)
    for p in m["points"]:
        if p["status"] == "cancelled":
            rec = read_record(sw.directory / p["record"])
            assert rec.status == "cancelled" and 0 < len(rec.events) < 100000
            assert p["reason"].startswith("cancelled at step")


def test_a_sweep_folder_is_run_by_one_process_at_a_time(tmp_path, toy, pool):
    from paramlab.console.core.sweeps import lock_folder

    sw = make(toy, tmp_path, seeds=[0])
    held = lock_folder(sw.directory)  # as another driver would
    try:
        with pytest.raises(SweepError, match="another paramlab process"):
            Sweep.open(sw.directory).run(pool)
    finally:
        held.close()
    assert read_manifest(sw.directory)["points"][0]["status"] == "pending"
    assert Sweep.open(sw.directory).run(pool) == "finished"


def test_a_failing_point_is_marked_failed_and_the_sweep_goes_on(tmp_path, toy, pool):
    sw = make(toy, tmp_path, grid=["fail_at=-1,3", "nan_at=-1,5"])
    assert sw.run(pool) == "finished"
    by = {(p.overrides["fail_at"], p.overrides["nan_at"]): p for p in sw.snapshot()}
    assert by[(-1, -1)].status == "done" and by[(-1, -1)].verdict == "PASS"
    assert by[(3, -1)].status == by[(3, 5)].status == "failed"
    assert by[(3, -1)].reason == "RuntimeError: boom at step 3"
    assert by[(-1, 5)].status == "diverged"
    footer = read_record(sw.directory / by[(3, -1)].record).footer
    assert "Traceback" in footer["error"]


@pytest.mark.parametrize("args, message", [
    (["--grid", "alpha_sym"], "--grid 'alpha_sym': expected NAME=V1,V2,..."),
    (["--grid", "alpha_sym=0.1,,1"], "empty value"),
    (["--grid", "alpha_sym=0.1,abc"], "alpha_sym: expected a number in [0.001, 1], got 'abc'"),
    (["--grid", "alpa_sym=0.1"], "unknown parameter 'alpa_sym'; did you mean alpha_sym"),
    (["--random", "lr=0.1"], "expected NAME=LO:HI or NAME=LO:HI:log"),
    (["--random", "lr=0.1:0.3"], "--random needs --samples N"),
    (["--grid", "k=1,4"], "point k=1: k: expected an integer in [r, n]"),
])
def test_bad_sweep_input_gives_a_one_line_error(capsys, tmp_path, args, message):
    code = main(["sweep", MS, *args, "--sweep-dir", str(tmp_path / "sw")])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and err.startswith("paramlab: ")
    assert message in err
    assert not (tmp_path / "sw").exists()


def test_random_search_is_reproducible_from_the_sweep_seed(toy):
    def draws(seed):
        spec = SweepSpec("sweep-toy", random={"scale": RandomDim(0.01, 10, log=True),
                                              "steps": RandomDim(5, 50)},
                         samples=6, sweep_seed=seed)
        return settings(spec, toy)

    assert draws(0) == draws(0) != draws(1)
    assert all(0.01 <= d["scale"] <= 10 and 5 <= d["steps"] <= 50 for d in draws(0))
    assert all(isinstance(d["steps"], int) for d in draws(0))


def test_summary_panels_draw_metric_vs_param_and_pass_rate(tmp_path, toy, pool):
    sw = make(toy, tmp_path, grid=["scale=0.01,1,100", "kind=a,b"], seeds=[0, 1])
    sw.run(pool)
    panels = sw.summary_panels()
    titles = [p.title for p, _ in panels]
    assert titles[0] == "final loss vs scale (mean over 2 seeds)"
    assert panels[0][0].logx and panels[0][0].logy  # log-declared param over 4 decades
    assert panels[1][0].kind == "bars"  # categorical param
    assert titles[-1] == "verdict pass rate over seeds (scale, kind)"
    rates = panels[-1][1].tables[titles[-1]]
    assert rates.columns == ["0.01,a", "0.01,b", "1,a", "1,b", "100,a", "100,b"]
    assert rates.cells == [[1.0, 1.0, 1.0, 1.0, 0.0, 0.0]]
    for panel, hist in panels:
        assert "no data" not in render_panel(panel, hist, width=60, height=12)
    write_csv(tmp_path / "s.csv", sw.snapshot(), sw.spec)
    lines = (tmp_path / "s.csv").read_text().splitlines()
    assert lines[0].startswith("index,point,scale,kind,seed,status,verdict")
    assert lines[0].endswith("final:loss") and len(lines) == 13


def test_ctrl_c_cancels_running_points_and_keeps_the_manifest_valid(tmp_path):
    d = tmp_path / "sw"
    # points of ~15 s each (T=10000 at m=2000, n=20): still running when Ctrl-C comes
    cmd = [sys.executable, "-m", "paramlab.console.cli", "sweep", MS, "--set", "T=10000",
           "--set", "m=2000", "--set", "n=20", "--seeds", "0-3", "--workers", "2",
           "--sweep-dir", str(d), "--no-plots"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # its own group, as a terminal's job
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            time.sleep(0.2)
            try:
                if sum(p["status"] == "running" for p in read_manifest(d)["points"]) == 2:
                    break
            except SweepError:
                pass
        time.sleep(1.0)
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the driver and its workers
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    m = read_manifest(d)
    assert m["state"] == "interrupted"
    assert [p["status"] for p in m["points"]] == ["cancelled"] * 2 + ["pending"] * 2
    assert f"paramlab sweep --resume {d}" in err


def test_the_sweep_command_prints_table_panels_csv_and_resumes(tmp_path, toy, capsys):
    d = tmp_path / "sw"
    code = main(["sweep", "sweep-toy", "--grid", "scale=0.1,1", "--seeds", "0-1",
                 "--workers", "2", "--sweep-dir", str(d), "--csv", str(tmp_path / "s.csv"),
                 "--width", "60"])
    out = capsys.readouterr().out
    assert code == 0  # every point ran and passed
    assert "final loss vs scale (mean, min-max over seeds)" in out
    assert out.count(" done    PASS") == 4 and "4 done (4 PASS)" in out
    assert len((tmp_path / "s.csv").read_text().splitlines()) == 5
    assert main(["sweep", "--resume", str(d), "--no-plots"]) == 0
    captured = capsys.readouterr()
    assert "4 points (4 already complete)" in captured.err
    assert len(list((d / "runs").glob("*.jsonl"))) == 4  # nothing ran again
    assert main(["sweep", "--resume", str(d), "--grid", "scale=1"]) == 2
    assert "drop --grid" in capsys.readouterr().err
