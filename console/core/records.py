"""Run records: one JSON-lines file per run.

    line 1      {"kind": "header", "format": 1, "run_id", "scenario", "params", "seed",
                 "device", "preset", "versions", "started"}
    lines 2..   {"kind": "event", "t": seconds since start, **event}
    last line   {"kind": "footer", "status", "verdict", "ended", "elapsed", "events", "error"}

Written append-only and flushed in batches (every `flush_every` events, on a timer every
`flush_secs` seconds, and at the end), never one sync per event. Reading is in
reading.py: a truncated last line (a run killed mid-write) and corrupt or wrong-shape lines
are skipped and counted; a record with no readable header is an error.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import socket
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from paramlab.scenarios.base import Event

FORMAT_VERSION = 1
DEFAULT_RUNS_DIR = "runs"
RUNS_ENV = "PARAMLAB_RUNS"


class RecordError(Exception):
    """A record that cannot be read (missing, not a paramlab record, no header)."""


def runs_dir(override: str | os.PathLike | None = None) -> Path:
    """Where records go: `override`, else $PARAMLAB_RUNS, else ./runs (`~` expanded)."""
    return Path(override or os.environ.get(RUNS_ENV) or DEFAULT_RUNS_DIR).expanduser()


def usable_folder(directory: Path) -> Path:
    """Make `directory` (and its parents) if needed and check that records can be
    written there; ValueError with one line otherwise (a file in the way, read-only)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ValueError(f"runs folder {directory}: a file is in the way") from None
    except OSError as exc:
        raise ValueError(f"runs folder {directory}: cannot create it "
                         f"({exc.strerror or exc})") from None
    if not directory.is_dir():
        raise ValueError(f"runs folder {directory}: not a folder")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise ValueError(f"runs folder {directory}: not writable")
    return directory


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
    pid: int | None = None  # the writing process: `watch` tells running from abandoned

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


def _event_line(event: Event, t: float) -> bytes:
    return _line({"kind": "event", "t": round(t, 4), **event.to_dict()})


class RecordBuffer:
    """A record kept in memory as its lines (a sweep point's worker, which may have no
    shared filesystem, returns them; the driver writes them with `write_lines`)."""

    def __init__(self, header: RunHeader) -> None:
        self.header = header
        self.lines: list[bytes] = [_line(header.to_dict())]
        self.events = 0

    def event(self, event: Event, t: float) -> None:
        self.lines.append(_event_line(event, t))
        self.events += 1

    def flush(self) -> None:
        pass

    def close(self, footer: RunFooter) -> None:
        footer.events = self.events
        self.lines.append(_line(footer.to_dict()))


class RecordWriter(RecordBuffer):
    """A record written to `path` as the run goes: the header at once, events in batches
    (every `flush_every` events, and at least every `flush_secs` seconds by a timer even
    when no event comes, so a killed run loses at most that much), the footer (with an
    fsync) at the end. Never overwrites an existing file."""

    path: Path

    def __init__(self, path: Path, header: RunHeader, *, flush_every: int = 512,
                 flush_secs: float = 0.5) -> None:
        super().__init__(header)
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(path, "xb", buffering=1 << 16)  # "x": never overwrite
        self._flush_every = flush_every
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self.flush()
        self._timer = threading.Thread(target=self._flush_on_timer, args=(flush_secs,),
                                       name="paramlab-record-flush", daemon=True)
        self._timer.start()

    def _flush_on_timer(self, every: float) -> None:
        while not self._closed.wait(every):
            try:
                self.flush()
            except (OSError, ValueError):  # disk full, or closed meanwhile
                return

    def event(self, event: Event, t: float) -> None:
        line = _event_line(event, t)
        with self._lock:  # the timer thread swaps the list
            self.lines.append(line)
            self.events += 1
            full = len(self.lines) >= self._flush_every
        if full:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            if self._file.closed:
                return
            if self.lines:
                lines, self.lines = self.lines, []
                self._file.write(b"\n".join(lines) + b"\n")
            self._file.flush()

    def close(self, footer: RunFooter) -> None:
        self._closed.set()
        super().close(footer)
        self.flush()
        with self._lock:
            os.fsync(self._file.fileno())
            self._file.close()


def write_lines(path: Path, lines: list[bytes]) -> None:
    """Write a whole record (a RecordBuffer's lines) to a new file, synced."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "xb") as fh:
        try:
            fh.write(b"\n".join(lines) + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        except BaseException:  # e.g. a full disk: leave no half record behind
            fh.close()
            os.remove(path)
            raise


# the writer of a record without a footer
RUNNING, ABANDONED, UNKNOWN = "running", "abandoned", "unknown"


def writer_state(header: dict[str, Any]) -> str:
    """Of a record without a footer: RUNNING while its writing process is alive (same
    host only), ABANDONED when it is gone, UNKNOWN when it cannot be told (another host,
    an older record without a pid)."""
    pid, host = header.get("pid"), header.get("host")
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0 \
            or host != socket.gethostname():
        return UNKNOWN
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return ABANDONED
    except PermissionError:  # alive, another user's
        return RUNNING
    except OSError:
        return UNKNOWN
    return _zombie_or_running(pid)


def _zombie_or_running(pid: int) -> str:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return RUNNING
    return ABANDONED if stat[stat.rindex(")") + 2:].startswith("Z") else RUNNING
