"""The sweep folder's manifest (`sweep.json`, rewritten atomically: temp file + os.replace,
so it is valid at every moment) and the folder lock (one driver per sweep folder)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .spec import SweepError

MANIFEST = "sweep.json"
MANIFEST_FORMAT = 1


def write_json_atomic(path: Path, obj: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(obj, fh, indent=1)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read_manifest(directory: str | os.PathLike) -> dict[str, Any]:
    path = Path(directory) / MANIFEST
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise SweepError(f"{directory}: no sweep here (no {MANIFEST})") from None
    except (OSError, ValueError) as exc:
        raise SweepError(f"{path}: unreadable sweep manifest ({exc})") from None
    if not isinstance(data, dict) or data.get("kind") != "paramlab-sweep":
        raise SweepError(f"{path}: not a paramlab sweep manifest")
    if data.get("format", 0) > MANIFEST_FORMAT:
        raise SweepError(f"{path}: manifest format {data.get('format')} is newer than this "
                         f"paramlab reads ({MANIFEST_FORMAT}); upgrade paramlab")
    return data




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


