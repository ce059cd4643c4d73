"""A hand-edited sweep manifest (issue 12): resuming it is a one-line error, exit 2, no
traceback, and the folder is left as it was."""

from __future__ import annotations

import copy
import json

import pytest

from paramlab.console.cli import main

MS = "matrix-sensing-overparam"


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    d = tmp_path_factory.mktemp("hs") / "sw"
    code = main(["sweep", MS, "--set", "T=100", "--set", "m=200", "--set", "n=10",
                 "--seeds", "0-3", "--workers", "1", "--sweep-dir", str(d), "--no-plots"])
    assert code in (0, 1)
    return d, json.loads((d / "sweep.json").read_text())


def _point(i, key, value):
    def edit(m):
        m["points"][i][key] = value
    return edit


EDITS = {
    "points not a list": lambda m: m.__setitem__("points", "x"),
    "a point not an object": lambda m: m["points"].__setitem__(0, 5),
    "unknown status": _point(0, "status", "weird"),
    "seed a string": _point(0, "seed", "x"),
    "params a list": _point(0, "params", [1]),
    "spec missing": lambda m: m.pop("spec"),
    "spec a string": lambda m: m.__setitem__("spec", "x"),
    "spec seeds a string": lambda m: m["spec"].__setitem__("seeds", "x"),
    "spec grid value out of range": lambda m: m["spec"].__setitem__("grid", {"T": ["x"]}),
    "spec random dim not an object": lambda m: m["spec"].__setitem__("random", {"T": 5}),
    "unknown scenario": lambda m: m["spec"].__setitem__("scenario", "nope"),
    "index duplicated": _point(1, "index", 0),
    "record outside the folder": _point(0, "record", "/etc/passwd"),
    "record climbing out": _point(0, "record", "../../x.jsonl"),
    "final a string": _point(0, "final", "x"),
    "final value a string": _point(0, "final", {"loss": "x"}),
    "elapsed a string": _point(0, "elapsed", "x"),
    "overrides a list": _point(0, "overrides", [1]),
    "id missing": lambda m: m["points"][0].pop("id"),
    "state a number": lambda m: m.__setitem__("state", 3),
    "param value changed": lambda m: m["points"][0]["params"].__setitem__("T", -5),
    "a point dropped": lambda m: m["points"].pop(),
}


@pytest.mark.parametrize("case", list(EDITS))
def test_a_hand_edited_manifest_is_a_one_line_error(made, tmp_path, capsys, case):
    src, manifest = made
    d = tmp_path / "sw"
    d.mkdir()
    edited = copy.deepcopy(manifest)
    EDITS[case](edited)
    text = json.dumps(edited)
    (d / "sweep.json").write_text(text)
    assert main(["sweep", "--resume", str(d), "--no-plots"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("paramlab: "), err
    assert "Traceback" not in err[0]
    assert (d / "sweep.json").read_text() == text  # left as it was


def test_the_unedited_manifest_resumes(made, capsys):
    src, _ = made
    assert main(["sweep", "--resume", str(src), "--no-plots"]) in (0, 1)
    assert "4 points (4 already complete)" in capsys.readouterr().err


@pytest.mark.parametrize("address,ok", [
    ("tcp://127.0.0.1:8786", True), ("127.0.0.1:8786", True), ("tls://host.example:1", True),
    ("tcp://[::1]:8786", True), ("tcp://127.0.0.1", False), ("127.0.0.1", False),
    ("tcp://host:0", False), ("tcp://host:99999", False), ("tcp://:8786", False), ("", False),
    ("http://host:8786", False)])
def test_scheduler_addresses_need_a_host_and_a_port(address, ok):
    from paramlab.console.core.executors import BackendError, check_scheduler_address

    if ok:
        check_scheduler_address(address)
    else:
        with pytest.raises(BackendError, match="expected an address"):
            check_scheduler_address(address)


def test_a_server_that_does_not_speak_dask_is_given_up_on_in_bounded_time():
    import socket
    import threading
    import time

    pytest.importorskip("distributed")
    from paramlab.console.core.executors import BackendError, DaskExecutor

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    held = []
    stop = threading.Event()

    def accept():  # accept and say nothing, as a stuck or foreign server would
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(srv.accept()[0])
            except OSError:
                pass

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    port = srv.getsockname()[1]
    t0 = time.monotonic()
    try:
        with pytest.raises(BackendError, match="cannot reach the Dask scheduler"):
            DaskExecutor(scheduler=f"tcp://127.0.0.1:{port}", connect_timeout=1.0)
    finally:
        stop.set()
        t.join(2)
        for c in held:
            c.close()
        srv.close()
    assert time.monotonic() - t0 < 15


def test_point_ids_for_many_seeds_equal_point_id_one_by_one():
    from paramlab.console.core.sweeps.spec import point_id, point_ids

    params = {"lr": 0.1, "name": "é", "n": 3, "flag": True, "x": None}
    seeds = [0, 1, 7, 123456, 99999]
    assert point_ids(MS, params, seeds) == [point_id(MS, params, s) for s in seeds]


@pytest.mark.parametrize("head", [{}, {"kind": "k", "n": float("nan")}])
def test_a_manifest_streamed_point_by_point_is_the_json_of_the_whole(tmp_path, head):
    from paramlab.console.core.sweeps.manifest import write_json_atomic

    pts = [{"i": i, "final": {"loss": 1.0 / (i + 1)}} for i in range(5)]
    write_json_atomic(tmp_path / "m.json", head, items=("points", iter(pts)))
    got = json.loads((tmp_path / "m.json").read_text())
    assert got["points"] == pts and set(got) == set(head) | {"points"}


def test_a_running_sweep_journals_changes_and_compacts_them_at_its_end(made, tmp_path):
    from paramlab.console.core.sweeps import read_manifest
    from paramlab.console.core.sweeps.manifest import JOURNAL

    src, manifest = made
    assert not (src / JOURNAL).exists()  # folded into the manifest when the sweep ended
    d = tmp_path / "sw"
    d.mkdir()
    m = copy.deepcopy(manifest)
    done = m["points"][0]
    for p in m["points"]:
        p.update(status="pending", record=None, run_id=None, verdict=None, final={})
    (d / "sweep.json").write_text(json.dumps(m))
    lines = [json.dumps({"point": 0, **done}), json.dumps({"point": 1, "status": "running"}),
             json.dumps({"sweep": {"state": "running"}}), '{"point": 2, "status": "do']
    (d / JOURNAL).write_text("\n".join(lines))  # the last line cut by a crash
    got = read_manifest(d)
    assert got["points"][0] == done and got["points"][1]["status"] == "running"
    assert got["points"][2]["status"] == "pending" and got["state"] == "running"


def test_a_full_disk_mid_sweep_stops_it_in_one_line_and_it_resumes(tmp_path, capsys,
                                                                   monkeypatch):
    import errno

    from paramlab.console.core.sweeps import manifest as mf

    d = tmp_path / "sw"
    real_write = mf._write
    calls = {"n": 0}

    def full_after_create(tmp, obj, items):
        calls["n"] += 1
        if calls["n"] > 1:  # the sweep's folder fills up after it was created
            with open(tmp, "wb") as fh:
                fh.write(b"{")  # a partial temp file, as a write cut short leaves
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(tmp, obj, items)

    def journal_full(self, lines):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(mf, "_write", full_after_create)
    monkeypatch.setattr(mf.Journal, "append", journal_full)
    code = main(["sweep", MS, "--set", "T=100", "--set", "m=200", "--set", "n=10",
                 "--seeds", "0-5", "--workers", "1", "--sweep-dir", str(d), "--no-plots"])
    err = capsys.readouterr().err
    assert code == 3 and "Traceback" not in err
    assert "sweep stopped: cannot write to" in err and f"--resume {d}" in err
    assert not list(d.glob(".*.tmp"))  # no temp file left
    monkeypatch.undo()  # room made
    assert main(["sweep", "--resume", str(d), "--no-plots"]) in (0, 1)
    m = json.loads((d / "sweep.json").read_text())
    assert all(p["status"] == "done" for p in m["points"])
