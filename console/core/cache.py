"""The artifact cache behind `RunContext.cached`: arrays a scenario builds before it
measures anything (a pre-trained backbone), kept on disk so that the next run skips
building them.

Files live in `<runs folder>/.cache/<name>-<key>.safetensors` (safetensors: no pickle).
The key hashes the recipe (sorted JSON) and the source of the building function's module
with every paramlab module it imports (`stability.source_hash`), so changing either
rebuilds. A file that cannot be read is rebuilt and replaced; a folder that cannot be
written only costs the rebuild next time. Writes go to a temporary file renamed into
place, so two processes building the same artifact at once both end with a whole file.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

CACHE_DIR = ".cache"


def recipe_key(name: str, recipe: Mapping[str, Any], code: str = "") -> str:
    """16 hex digits over the artifact's name, its recipe and the code's hash."""
    blob = json.dumps({"name": name, "recipe": recipe, "code": code}, sort_keys=True,
                      default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def code_hash(build: Callable[..., Any]) -> str:
    """The source hash of the module that defines `build`, with what it imports."""
    from paramlab.console.core.stability import source_hash

    try:
        return source_hash(inspect.getfile(build))
    except (TypeError, OSError):  # a builtin or a function without a file
        return getattr(build, "__qualname__", "")


class FileCache:
    """Arrays kept as safetensors files under `root`."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self.hits = 0
        self.builds = 0

    def path(self, name: str, recipe: Mapping[str, Any], build: Callable[..., Any]) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:60]
        return self.root / f"{safe}-{recipe_key(name, recipe, code_hash(build))}.safetensors"

    def get(self, name: str, recipe: Mapping[str, Any],
            build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        from safetensors.numpy import load_file

        path = self.path(name, recipe, build)
        if path.is_file():
            try:
                arrays = load_file(str(path))
                self.hits += 1
                return arrays
            except Exception:  # truncated or corrupt: rebuild it below
                pass
        arrays = build()
        self.builds += 1
        self._save(path, arrays)
        return arrays

    def _save(self, path: Path, arrays: dict[str, Any]) -> None:
        import numpy as np
        from safetensors.numpy import save_file

        tmp = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")
            os.close(fd)
            save_file({k: np.ascontiguousarray(v) for k, v in arrays.items()}, tmp)
            os.replace(tmp, path)
            tmp = None
        except OSError:  # read-only or full: the artifact is rebuilt next time
            pass
        finally:
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)


def cache_for(runs_folder: str | os.PathLike | None) -> FileCache | None:
    """The cache under a runs folder (None: no cache, every run builds)."""
    return None if runs_folder is None else FileCache(Path(runs_folder) / CACHE_DIR)


__all__ = ["CACHE_DIR", "FileCache", "cache_for", "code_hash", "recipe_key"]
