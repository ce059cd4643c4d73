"""The sweep folder's state: the manifest (`sweep.json`, written atomically: temp file +
os.replace, so it is valid at every moment) and its journal (`journal.jsonl`, one JSON line
per change since the manifest was written: a point's new state, or the sweep's), so that a
running sweep's cost per point is one appended line, whatever its size. `read_manifest`
returns the manifest with its journal applied; the driver folds the journal into the
manifest (compaction) when a sweep starts and ends. Also the folder lock (one driver per
sweep folder)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from paramlab.console.core.reading import loads

from .spec import SweepError

MANIFEST = "sweep.json"
JOURNAL = "journal.jsonl"
MANIFEST_FORMAT = 1


def dumps(obj: Any, indent: bool = False) -> bytes:
    """JSON bytes by orjson (a 100k-point manifest in a fraction of a second); NaN is
    written as null, which the readers take back as NaN."""
    import orjson

    return orjson.dumps(obj, option=orjson.OPT_INDENT_2 if indent else 0)


def write_json_atomic(path: Path, obj: dict[str, Any],
                      items: tuple[str, Iterable[Any]] | None = None) -> None:
    """`obj` as JSON into `path` (temp file, fsync, rename). `items` = (key, iterable)
    adds a list under `key` streamed one element per line, never held whole in memory."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        _write(tmp, obj, items)
    except BaseException:
        try:
            os.remove(tmp)  # a full disk leaves no half-written temp file behind
        except OSError:
            pass
        raise
    os.replace(tmp, path)


def _write(tmp: Path, obj: dict[str, Any], items: tuple[str, Iterable[Any]] | None) -> None:
    with open(tmp, "wb") as fh:
        if items is None:
            fh.write(dumps(obj, indent=True) + b"\n")
        else:
            key, values = items
            head = dumps({k: v for k, v in obj.items() if k != key}, indent=True)
            comma = b"," if head != b"{}" else b""
            fh.write(head[:-1].rstrip() + comma + b"\n  " + dumps(key) + b": [")
            sep = b"\n"
            for v in values:
                fh.write(sep + dumps(v))
                sep = b",\n"
            fh.write(b"\n]}\n")
        fh.flush()
        os.fsync(fh.fileno())


def read_manifest(directory: str | os.PathLike) -> dict[str, Any]:
    path = Path(directory) / MANIFEST
    try:
        with open(path, "rb") as fh:
            data = loads(fh.read())
    except FileNotFoundError:
        raise SweepError(f"{directory}: no sweep here (no {MANIFEST})") from None
    except (OSError, ValueError) as exc:
        raise SweepError(f"{path}: unreadable sweep manifest ({exc})") from None
    if not isinstance(data, dict) or data.get("kind") != "paramlab-sweep":
        raise SweepError(f"{path}: not a paramlab sweep manifest")
    if data.get("format", 0) > MANIFEST_FORMAT:
        raise SweepError(f"{path}: manifest format {data.get('format')} is newer than this "
                         f"paramlab reads ({MANIFEST_FORMAT}); upgrade paramlab")
    apply_journal(data, Path(directory) / JOURNAL)
    return data


def apply_journal(manifest: dict[str, Any], path: Path) -> int:
    """Apply the journal's lines to `manifest` in order: {"point": i, ...fields} replaces
    point i's fields, {"sweep": {...}} the sweep's. A line that is not whole JSON of that
    shape (the last one, cut by a crash) is skipped. Returns the lines applied."""
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        return 0
    except OSError as exc:
        raise SweepError(f"{path}: unreadable sweep journal ({exc.strerror})") from None
    points = manifest.get("points")
    n = 0
    with fh:
        for line in fh:
            try:
                obj = loads(line)
            except ValueError:  # orjson's error is one too: not whole JSON (a cut line)
                continue
            if not isinstance(obj, dict):
                continue
            i = obj.pop("point", None)
            if isinstance(i, int) and not isinstance(i, bool) and isinstance(points, list) \
                    and 0 <= i < len(points) and isinstance(points[i], dict):
                points[i].update(obj)
                n += 1
            elif isinstance(obj.get("sweep"), dict):
                manifest.update({k: v for k, v in obj["sweep"].items() if k != "points"})
                n += 1
    return n


class Journal:
    """The driver's side of the journal: lines appended in batches (`append`), each batch
    written with one write() and flushed to the OS."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: Any = None

    def append(self, lines: list[bytes]) -> None:
        if not lines:
            return
        if self._fh is None:
            self._fh = open(self.path, "ab")
        self._fh.write(b"".join(lines))
        self._fh.flush()

    def reset(self) -> None:
        """After the manifest was rewritten with everything: start an empty journal."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        try:
            os.remove(self.path)
        except FileNotFoundError:
            pass

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None




class FolderLock:
    def __init__(self, fh: Any) -> None:
        self.fh = fh

    def close(self) -> None:
        self.fh.close()  # closing releases the flock


def lock_folder(directory: Path) -> FolderLock:
    """One driver per sweep folder (the lock goes with the process, even on kill -9)."""
    fh = open(directory / ".lock", "a+")
    try:
        import fcntl
    except ImportError:  # Windows: no lock
        return FolderLock(fh)
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        raise SweepError(f"{directory}: another paramlab process is running this "
                         f"sweep") from None
    return FolderLock(fh)


