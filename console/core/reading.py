"""Reading run records (the format is in records.py): the tolerant reader, which checks
every line against the record's schema and skips (and counts) what does not fit; the
footer read from a file's tail; listings of a runs folder; closing a dead run's record.
Only regular files are read, and no line longer than MAX_LINE is held."""

from __future__ import annotations

import io
import json
import os
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from paramlab.scenarios.base import Event, Metric, Note, Table, Verdict
from paramlab.scenarios.history import History, _compact

from .records import FORMAT_VERSION, RUNNING, RecordError, RunFooter, _line, writer_state


@dataclass
class Record:
    path: Path
    header: dict[str, Any]
    events: list[Event] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    footer: dict[str, Any] | None = None
    skipped: int = 0  # unreadable lines (corrupt or truncated)
    n_events: int = 0  # events read (also when streamed into a History, not kept here)
    last_t: float | None = None  # the last event's time stamp (seconds since the start)

    @property
    def run_id(self) -> str:
        return self.header.get("run_id", "?")

    @property
    def scenario(self) -> str:
        return self.header.get("scenario", "?")

    @property
    def status(self) -> str:
        return self.footer["status"] if self.footer else "incomplete"

    @property
    def verdict(self) -> Verdict | None:
        v = self.footer.get("verdict") if self.footer else None
        return Verdict.from_dict(v) if v else None


MAX_LINE = 1 << 20  # longer lines are not a paramlab record's: skipped, counted
STATUSES = ("done", "failed", "cancelled", "diverged")
_BAD = (ValueError, KeyError, TypeError, IndexError, RecursionError, AttributeError)


def _number(x: Any) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise TypeError(f"not a number: {type(x).__name__}")
    return float(x)


def _text(x: Any) -> str:
    if not isinstance(x, str):
        raise TypeError(f"not a string: {type(x).__name__}")
    return x


def parse_event(obj: Any) -> Event:
    """An event line's object as an Event, every field checked (ValueError/TypeError)."""
    kind = obj["type"]
    if kind == "metric":
        values = obj["values"]
        if not isinstance(values, dict):
            raise TypeError("values: not an object")
        return Metric(_number(obj["step"]), {_text(k): _number(v) for k, v in values.items()})
    if kind == "table":
        rows, cols = [_text(r) for r in obj["rows"]], [_text(c) for c in obj["columns"]]
        cells = [[_number(v) for v in row] for row in obj["cells"]]
        if len(cells) != len(rows) or any(len(r) != len(cols) for r in cells):
            raise ValueError("table: cells do not match rows x columns")
        return Table(_text(obj["name"]), rows, cols, cells)
    if kind == "note":
        return Note(_text(obj["text"]))
    raise ValueError(f"unknown event type {kind!r}")


def _check_header(header: Any) -> str | None:
    """What is wrong with a header object (None: nothing)."""
    if not isinstance(header, dict) or header.get("kind") != "header":
        return "no header line"
    fmt = header.get("format", 1)
    if isinstance(fmt, bool) or not isinstance(fmt, int):
        return "header field 'format' is not an integer"
    for name, kinds in (("run_id", str), ("scenario", str), ("preset", str), ("device", str),
                        ("params", dict), ("seed", int), ("started", str)):
        if name in header and (not isinstance(header[name], kinds)
                               or isinstance(header[name], bool)):
            return f"header field {name!r} has the wrong type"
    return None


def _check_footer(obj: dict[str, Any]) -> dict[str, Any]:
    """A footer object, checked: status known, verdict readable, numbers numbers."""
    if obj.get("status") not in STATUSES:
        raise ValueError("footer: unknown status")
    if obj.get("verdict") is not None:
        Verdict.from_dict(obj["verdict"])
        if not isinstance(obj["verdict"].get("passed"), bool):
            raise TypeError("footer: verdict without 'passed'")
    for name in ("elapsed",):
        if obj.get(name) is not None:
            _number(obj[name])
    for name in ("reason", "error", "ended"):
        if obj.get(name) is not None:
            _text(obj[name])
    return obj


def loads(line: str | bytes) -> Any:
    """One JSON value: orjson, or Python's json for the NaN / Infinity it writes."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return json.loads(line)  # NaN / Infinity written by Python's json


def _open(path: Path, binary: bool = False):
    """A record opened for reading: regular files only (a FIFO would block, a device
    never ends), as RecordError otherwise. `binary`: lines come as bytes (the JSON parser
    takes them as they are: no decoding pass)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise RecordError(f"{path}: no such record") from None
    except OSError as exc:
        raise RecordError(f"{path}: cannot read ({exc.strerror})") from None
    import stat as stat_

    if stat_.S_ISDIR(st.st_mode):
        raise RecordError(f"{path}: is a directory, not a record")
    if not stat_.S_ISREG(st.st_mode):
        raise RecordError(f"{path}: not a regular file, not a record")
    try:
        return open(path, "rb") if binary else open(path, encoding="utf-8", errors="replace")
    except OSError as exc:
        raise RecordError(f"{path}: cannot read ({exc.strerror})") from None


def _lines(fh) -> Iterator[Any]:
    """The file's lines (str, or bytes from a binary file), each at most MAX_LINE long;
    None for a longer one (the rest of it is read past, never held)."""
    nl = "\n" if isinstance(fh, io.TextIOBase) else b"\n"
    while True:
        line = fh.readline(MAX_LINE)
        if not line:
            return
        if len(line) >= MAX_LINE and not line.endswith(nl):
            while (more := fh.readline(MAX_LINE)) and not more.endswith(nl):
                pass
            yield None
            continue
        yield line


class ColumnHistory(History):
    """A History that a record's reader fills column by column (here, not in
    scenarios/history.py, whose source is part of every scenario's results hash)."""

    def add_values(self, step: float, values: dict[str, float]) -> None:
        """`add(Metric(step, values))` for values already known to be numbers (a record's
        reader streams into a history this way)."""
        with self._lock:
            self.last_step = step
            steps, vals, cap = self._steps, self._values, self.cap
            for name, value in values.items():
                xs = steps.get(name)
                if xs is None:
                    xs = steps[name] = array("d")
                    vals[name] = array("d")
                xs.append(step)
                vals[name].append(value)
                if cap is not None and len(xs) >= cap:
                    steps[name], vals[name] = _compact(xs, vals[name])
                    self.decimated = True
            self.version += 1

    def capped(self, cap: int) -> History:
        """A copy of this history holding at most `cap` points per series (decimated as a
        capped history decimates), for display."""
        h = History(cap=cap)
        with self._lock:
            cols = {n: (self._steps[n], self._values[n]) for n in self._steps}
            h.merge(cols, self.tables.values(), list(self.notes), n_events=self.version,
                    last_step=self.last_step)
        return h


_NUMBER_TYPES = (int, float)


def _metric_into(obj: dict[str, Any], history: ColumnHistory) -> None:
    """A metric line's object straight into a history's columns (no Metric object):
    the replay of a long record streams at the speed of the JSON parser."""
    values = obj["values"]
    if type(values) is not dict:
        raise TypeError("values: not an object")
    step = obj["step"]
    if type(step) not in _NUMBER_TYPES:
        raise TypeError("step: not a number")
    for v in values.values():  # JSON object keys are strings already
        if type(v) not in _NUMBER_TYPES:
            raise TypeError("value: not a number")
    history.add_values(float(step), values)


def read_record(path: str | os.PathLike, *, header_only: bool = False,
                into: ColumnHistory | None = None) -> Record:
    """The record at `path`. RecordError when it has no readable header; lines that are
    corrupt, truncated, too long or of the wrong shape are skipped and counted. With
    `into`, events go into that History as they are read and are not kept in the Record
    (a long record then costs its columns, not a list of event objects)."""
    path = Path(path)
    with _open(path, binary=True) as fh:
        first = next(_lines(fh), None) or b""
        rec = Record(path, check_header(path, first))
        if header_only:
            return rec
        for line in _lines(fh):
            take_line(rec, line, into)
    return rec


def take_line(rec: Record, line: Any, into: ColumnHistory | None = None) -> None:
    """One line after the header into `rec` (and `into`): an event, the footer, or a
    skipped line (None: too long; corrupt; of the wrong shape)."""
    if line is None:
        rec.skipped += 1
        return
    if not line.strip():
        return
    try:
        obj = loads(line)
        kind = obj["kind"]
        if kind == "event":
            t = obj.get("t", 0.0)
            if type(t) not in _NUMBER_TYPES:
                raise TypeError("t: not a number")
            if into is None:
                rec.events.append(parse_event(obj))
                rec.times.append(t)
            elif obj["type"] == "metric":
                _metric_into(obj, into)
            else:
                into.add(parse_event(obj))
            rec.n_events += 1
            rec.last_t = t
        elif kind == "footer":
            rec.footer = _check_footer(obj)
        else:
            raise ValueError(kind)
    except _BAD:
        rec.skipped += 1


def check_header(path: Path, first: Any) -> dict[str, Any]:
    """The header object of a record's first line, or RecordError (one line)."""
    try:
        header = loads(first)
    except _BAD:
        header = None
    problem = _check_header(header)
    if problem:
        raise RecordError(f"{path}: not a paramlab run record ({problem})")
    if header.get("format", 1) > FORMAT_VERSION:
        raise RecordError(f"{path}: record format {header.get('format')} is newer than "
                          f"this paramlab reads ({FORMAT_VERSION}); upgrade paramlab")
    return header


def iter_events(path: str | os.PathLike) -> Iterator[Event]:
    """The events of a record, one at a time (for records too long to hold as a list);
    unreadable lines are skipped, as `read_record` does."""
    with _open(Path(path)) as fh:
        fh.readline(MAX_LINE)  # the header
        for line in _lines(fh):
            if line is None or '"kind":"event"' not in line:
                continue
            try:
                yield parse_event(loads(line))
            except _BAD:
                continue


def read_footer(path: Path) -> dict[str, Any] | None:
    """The footer of a record without parsing its events (reads the file's tail); None
    when it has none or it is unreadable."""
    with _open(Path(path)) as fh:
        fh.buffer.seek(0, os.SEEK_END)
        size = fh.buffer.tell()
        fh.buffer.seek(max(0, size - 65536))
        tail = fh.buffer.read().decode("utf-8", errors="replace").splitlines()
    for line in reversed(tail):
        if '"kind":"footer"' in line:
            try:
                return _check_footer(loads(line))
            except _BAD:
                return None
    return None


def list_records(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.glob("*.jsonl") if p.is_file())


def record_rows(directory: Path) -> list[dict[str, Any]]:
    """One row per record in `directory` (header and footer only): id, scenario, status,
    verdict label, start, elapsed, path; an unreadable file is a row saying so."""
    rows = []
    for path in list_records(directory):
        try:
            rec = read_record(path, header_only=True)
            footer = read_footer(path)
        except (RecordError, OSError, *_BAD):
            rows.append({"id": path.stem, "scenario": "?", "status": "unreadable",
                         "verdict": "", "started": "", "elapsed": None, "path": str(path)})
            continue
        verdict = (footer or {}).get("verdict")
        rows.append({
            "id": rec.run_id, "scenario": rec.scenario,
            "status": footer["status"] if footer else (
                "running" if writer_state(rec.header) == RUNNING else "incomplete"),
            "verdict": ("" if not verdict else Verdict.from_dict(verdict).label),
            "started": rec.header.get("started", ""),
            "elapsed": footer.get("elapsed") if footer else None, "path": str(path)})
    return rows


def append_footer(path: Path, footer: RunFooter) -> None:
    """Close the record of a run whose process died: keep every line it wrote (a torn last
    line is left for the tolerant reader to skip) and add the footer, unless it has one."""
    try:
        if read_footer(path) is not None:
            return
        with open(path, "ab") as fh:
            fh.write(b"\n" + _line(footer.to_dict()) + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
    except OSError:
        pass
