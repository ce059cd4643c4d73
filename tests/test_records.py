from __future__ import annotations

import pytest

from paramlab.console.core.reading import ColumnHistory, read_record
from paramlab.console.core.records import RecordError
from paramlab.console.core.runner import Runner
from paramlab.scenarios.history import History


@pytest.fixture
def record(toy, runs):
    h = Runner(runs).start(toy, {"steps": 50}, seed=3)
    assert h.wait(30)
    return h


def test_record_round_trip_rebuilds_the_same_history(record):
    rec = read_record(record.path)
    assert rec.skipped == 0
    replayed = History(rec.events)
    for name in ("loss", "acc"):
        assert replayed.series(name) == record.history.series(name)
    assert replayed.tables["outcome"].cells == [[1.0, 2.0], [3.0, 4.0]]
    assert replayed.notes == ["seed 3"]


def test_streaming_a_record_into_a_history_keeps_no_event_list(record):
    streamed = ColumnHistory()
    rec = read_record(record.path, into=streamed)
    assert rec.events == [] and rec.n_events == len(read_record(record.path).events)
    for name in ("loss", "acc"):
        assert streamed.series(name) == record.history.series(name)
    assert streamed.tables["outcome"].cells == [[1.0, 2.0], [3.0, 4.0]]
    assert streamed.notes == ["seed 3"] and rec.last_t is not None


def test_a_wrong_typed_metric_line_is_skipped_when_streamed(record):
    lines = record.path.read_text().splitlines()
    i = next(k for k, x in enumerate(lines) if '"type":"metric"' in x)
    lines[i] = lines[i].replace('"values":{', '"values":{"bad":"x",', 1)
    record.path.write_text("\n".join(lines) + "\n")
    streamed = ColumnHistory()
    rec = read_record(record.path, into=streamed)
    assert rec.skipped == 1 and "bad" not in streamed


def test_a_capped_copy_keeps_at_most_cap_points_and_the_ends():
    h = ColumnHistory()
    for t in range(1000):
        h.add_values(float(t), {"loss": 1.0 / (t + 1)})
    c = h.capped(64)
    xs, ys = c.series("loss")
    assert len(xs) < 64 and xs[0] == 0.0 and c.decimated
    assert len(h) == 1000  # the original is untouched


def test_truncated_record_replays_up_to_last_full_line(record):
    text = record.path.read_text()
    lines = text.splitlines()
    # drop the footer and cut the last event line in half: a run killed mid-write
    cut = "\n".join(lines[:-2]) + "\n" + lines[-2][: len(lines[-2]) // 2]
    record.path.write_text(cut)
    rec = read_record(record.path)
    assert rec.footer is None and rec.status == "incomplete"
    assert rec.skipped == 1
    assert len(rec.events) == len(lines) - 3  # header, footer and the cut line gone


def test_corrupt_line_is_skipped_and_counted(record):
    lines = record.path.read_text().splitlines()
    lines[10] = '{"kind": "event", "type": "metric", "step": 9, "val'  # garbage
    lines[11] = "\x00\x01 not json"
    record.path.write_text("\n".join(lines) + "\n")
    rec = read_record(record.path)
    assert rec.skipped == 2
    assert rec.footer is not None and rec.status == "done"
    assert len(rec.events) == len(lines) - 4


def test_missing_record_is_a_record_error(tmp_path):
    with pytest.raises(RecordError, match="no such record"):
        read_record(tmp_path / "nope.jsonl")


def test_a_file_that_is_not_a_record_is_rejected(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text("hello\n")
    with pytest.raises(RecordError, match="not a paramlab run record"):
        read_record(p)


def test_records_are_never_overwritten(toy, runs, monkeypatch):
    from paramlab.console.core import runner as runner_mod

    monkeypatch.setattr(runner_mod, "new_run_id", lambda: "fixed-id")
    r = Runner(runs)
    h1 = r.start(toy, {"steps": 2})
    assert h1.wait(10) and h1.status == "done"
    before = h1.path.read_bytes()
    h2 = r.start(toy, {"steps": 2})
    assert h2.wait(10)
    assert h2.status == "failed" and "FileExistsError" in h2.error
    assert h1.path.read_bytes() == before


def test_non_finite_values_survive_the_round_trip(toy, runs):
    import math

    h = Runner(runs).start(toy, {"nan_at": 2})
    assert h.wait(10) and h.status == "diverged"
    rec = read_record(h.path)
    assert rec.skipped == 0
    assert math.isnan(History(rec.events).last("loss"))
