"""Run records: one JSON-lines file per run.

    line 1      {"kind": "header", "format": 1, "run_id", "scenario", "params", "seed",
                 "device", "preset", "versions", "started"}
    lines 2..   {"kind": "event", "t": seconds since start, **event}
    last line   {"kind": "footer", "status", "verdict", "ended", "elapsed", "events", "error"}

Written append-only and flushed in batches (every `flush_every` events or `flush_secs`
seconds, and at the end), never one sync per event. The reader tolerates a truncated last
line (a run killed mid-write) and corrupt lines: it skips them, counts them, and replays
the rest. A record with no readable header is an error.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from paramlab.scenarios.base import Event, Verdict, event_from_dict

FORMAT_VERSION = 1
DEFAULT_RUNS_DIR = "runs"
RUNS_ENV = "PARAMLAB_RUNS"


class RecordError(Exception):
    """A record that cannot be read (missing, not a paramlab record, no header)."""


def runs_dir(override: str | os.PathLike | None = None) -> Path:
    return Path(override or os.environ.get(RUNS_ENV) or DEFAULT_RUNS_DIR)


def new_run_id() -> str:
    """Generated, sortable by start time, never built from user text."""
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def package_versions(extra: tuple[str, ...] = ()) -> dict[str, str]:
    """Versions from package metadata (no imports of the packages themselves)."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in ("paramlab", "numpy", *extra):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out


@dataclass
class RunHeader:
    """The record's first line: what ran. `sweep`, `point` and `host` are set for sweep
    points, `threads` once the thread policy has been applied."""

    run_id: str
    scenario: str
    preset: str
    params: dict[str, Any]
    seed: int
    device: str
    versions: dict[str, str] = field(default_factory=dict)
    started: str = field(default_factory=lambda: now_iso())
    sweep: str | None = None
    point: str | None = None
    host: str | None = None
    threads: dict[str, Any] | None = None  # what the thread policy set (core/threads)

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in dataclasses.asdict(self).items() if v is not None}
        return {"kind": "header", "format": FORMAT_VERSION, **d}


@dataclass
class RunFooter:
    """The record's last line: how the run ended."""

    status: str
    verdict: dict[str, Any] | None = None
    ended: str = field(default_factory=lambda: now_iso())
    elapsed: float | None = None
    reason: str = ""
    error: str | None = None
    events: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "footer", **dataclasses.asdict(self)}


def _line(obj: dict[str, Any]) -> bytes:
    line = orjson.dumps(obj)
    if b"null" in line:  # orjson writes NaN/inf as null: keep them (as Python's json does)
        return json.dumps(obj, separators=(",", ":")).encode()
    return line


class RecordBuffer:
    """A record kept in memory as its lines (a sweep point's worker, which may have no
    shared filesystem, returns them; the driver writes them with `write_lines`)."""

    def __init__(self, header: RunHeader) -> None:
        self.header = header
        self.lines: list[bytes] = [_line(header.to_dict())]
        self.events = 0

    def event(self, event: Event, t: float) -> None:
        self.lines.append(_line({"kind": "event", "t": round(t, 4), **event.to_dict()}))
        self.events += 1

    def flush(self) -> None:
        pass

    def close(self, footer: RunFooter) -> None:
        footer.events = self.events
        self.lines.append(_line(footer.to_dict()))


class RecordWriter(RecordBuffer):
    """A record written to `path` as the run goes: the header at once, events in batches,
    the footer (with an fsync) at the end. Never overwrites an existing file."""

    path: Path

    def __init__(self, path: Path, header: RunHeader, *, flush_every: int = 512,
                 flush_secs: float = 1.0) -> None:
        super().__init__(header)
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(path, "xb", buffering=1 << 16)  # "x": never overwrite
        self._flush_every = flush_every
        self._flush_secs = flush_secs
        self._last_flush = time.monotonic()
        self.flush()

    def event(self, event: Event, t: float) -> None:
        super().event(event, t)
        if len(self.lines) >= self._flush_every or (
                time.monotonic() - self._last_flush) >= self._flush_secs:
            self.flush()

    def flush(self) -> None:
        if self.lines:
            self._file.write(b"\n".join(self.lines) + b"\n")
            self.lines.clear()
        self._file.flush()
        self._last_flush = time.monotonic()

    def close(self, footer: RunFooter) -> None:
        super().close(footer)
        self.flush()
        os.fsync(self._file.fileno())
        self._file.close()


def write_lines(path: Path, lines: list[bytes]) -> None:
    """Write a whole record (a RecordBuffer's lines) to a new file, synced."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "xb") as fh:
        fh.write(b"\n".join(lines) + b"\n")
        fh.flush()
        os.fsync(fh.fileno())


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


@dataclass
class Record:
    path: Path
    header: dict[str, Any]
    events: list[Event] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    footer: dict[str, Any] | None = None
    skipped: int = 0  # unreadable lines (corrupt or truncated)

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


def read_record(path: str | os.PathLike, *, header_only: bool = False) -> Record:
    path = Path(path)
    try:
        fh = open(path, encoding="utf-8", errors="replace")
    except FileNotFoundError:
        raise RecordError(f"{path}: no such record") from None
    except IsADirectoryError:
        raise RecordError(f"{path}: is a directory, not a record") from None
    except OSError as exc:
        raise RecordError(f"{path}: cannot read ({exc.strerror})") from None
    with fh:
        first = fh.readline()
        try:
            header = json.loads(first)
            if not isinstance(header, dict) or header.get("kind") != "header":
                raise ValueError
        except ValueError:
            raise RecordError(f"{path}: not a paramlab run record (no header line)") from None
        if header.get("format", 0) > FORMAT_VERSION:
            raise RecordError(f"{path}: record format {header.get('format')} is newer than "
                              f"this paramlab reads ({FORMAT_VERSION}); upgrade paramlab")
        rec = Record(path, header)
        if header_only:
            return rec
        for line in fh:
            if not line.strip():
                continue
            try:
                try:
                    obj = orjson.loads(line)
                except orjson.JSONDecodeError:
                    obj = json.loads(line)  # NaN / Infinity written by Python's json
                kind = obj["kind"]
                if kind == "event":
                    rec.events.append(event_from_dict(obj))
                    rec.times.append(float(obj.get("t", 0.0)))
                elif kind == "footer":
                    rec.footer = obj
                else:
                    raise ValueError(kind)
            except (ValueError, KeyError, TypeError):
                rec.skipped += 1
    return rec


def iter_events(path: str | os.PathLike) -> Iterator[Event]:
    """The events of a record, one at a time (for records too long to hold as a list);
    unreadable lines are skipped, as `read_record` does."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        fh.readline()  # the header
        for line in fh:
            if '"kind":"event"' not in line:
                continue
            try:
                try:
                    obj = orjson.loads(line)
                except orjson.JSONDecodeError:
                    obj = json.loads(line)
                yield event_from_dict(obj)
            except (ValueError, KeyError, TypeError):
                continue


def read_footer(path: Path) -> dict[str, Any] | None:
    """The footer of a record without parsing its events (reads the file's tail)."""
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - 65536))
        tail = fh.read().decode("utf-8", errors="replace").splitlines()
    for line in reversed(tail):
        if '"kind":"footer"' in line:
            try:
                return json.loads(line)
            except ValueError:
                return None
    return None


def list_records(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(directory.glob("*.jsonl"))


def record_rows(directory: Path) -> list[dict[str, Any]]:
    """One row per record in `directory` (header and footer only): id, scenario, status,
    verdict label, start, elapsed, path; an unreadable file is a row saying so."""
    rows = []
    for path in list_records(directory):
        try:
            rec = read_record(path, header_only=True)
            footer = read_footer(path)
        except (RecordError, OSError):
            rows.append({"id": path.stem, "scenario": "?", "status": "unreadable",
                         "verdict": "", "started": "", "elapsed": None, "path": str(path)})
            continue
        verdict = (footer or {}).get("verdict")
        rows.append({
            "id": rec.run_id, "scenario": rec.scenario,
            "status": footer["status"] if footer else "incomplete",
            "verdict": ("" if not verdict else Verdict.from_dict(verdict).label),
            "started": rec.header.get("started", ""),
            "elapsed": footer.get("elapsed") if footer else None, "path": str(path)})
    return rows
