"""Following a record as it grows (`paramlab watch`, e.g. over SSH on a GPU box while the
run goes on elsewhere): only complete lines are read, each as the reader reads a record;
a record without a footer is "running" while its writer is alive, else "abandoned"."""

from __future__ import annotations

import os
from pathlib import Path

from .reading import (
    MAX_LINE,
    ColumnHistory,
    Record,
    _open,
    check_header,
    list_records,
    take_line,
)
from .records import ABANDONED, RUNNING, UNKNOWN, RecordError, writer_state


class Follow:
    """A record read incrementally: `poll()` takes what was appended since the last call
    (complete lines only) into `history`; `record` holds header, footer and counts."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._fh = _open(self.path, binary=True)
        self._buf = b""
        self.history = ColumnHistory()
        self.record: Record | None = None  # once the header line is complete

    def close(self) -> None:
        self._fh.close()

    def poll(self) -> int:
        """Read the lines appended since the last poll; returns how many were taken.
        RecordError when the first line is not a paramlab record's header."""
        data = self._fh.read()
        if not data:
            return 0
        self._buf += data
        *lines, self._buf = self._buf.split(b"\n")
        if len(self._buf) > MAX_LINE:  # a line that never ends: not a record's
            self._buf = b""
            if self.record is not None:
                self.record.skipped += 1
        n = 0
        for line in lines:
            if self.record is None:
                self.record = Record(self.path, check_header(self.path, line))
                continue
            take_line(self.record, line if len(line) < MAX_LINE else None, self.history)
            n += 1
        return n

    @property
    def finished(self) -> bool:
        return self.record is not None and self.record.footer is not None

    def writer_state(self) -> str:
        return writer_state(self.record.header if self.record else {})


def newest_record(folder: Path) -> Path:
    """The most recently modified record in a runs folder (RecordError when none)."""
    recs = list_records(folder)
    if not recs:
        raise RecordError(f"{folder}: no run records here")
    return max(recs, key=lambda p: p.stat().st_mtime)


__all__ = ["ABANDONED", "RUNNING", "UNKNOWN", "Follow", "newest_record", "writer_state"]
