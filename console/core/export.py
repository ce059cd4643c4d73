"""Exporting what a run shows: a panel's series as CSV and the verdict as JSON, written
next to the run's record (`<record>.<panel>.csv`, `<record>.verdict.json`)."""

from __future__ import annotations

import csv
import fnmatch
import json
import math
import re
from pathlib import Path

from paramlab.scenarios.base import Panel, Verdict
from paramlab.scenarios.history import History


def slug(text: str, most: int = 40) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:most] or "panel"


def series_names(panel: Panel, history: History) -> list[str]:
    """The history's series a line panel shows, in the panel's order (a pattern ending
    in '*' matches a prefix), each once."""
    names = history.names()
    wanted: list[str] = []
    for pat in panel.series:
        wanted += [n for n in names if fnmatch.fnmatchcase(n, pat)] if "*" in pat else \
            [pat] if pat in names else []
    return list(dict.fromkeys(wanted))


def panel_rows(panel: Panel, history: History) -> list[tuple[str, float, float]]:
    """(series, x, y) for every point of the panel's series, none dropped or smoothed
    (NaN written as 'nan'). A bar panel gives (row, column index, value) of its table."""
    if panel.kind == "bars":
        table = history.tables.get(panel.table)
        if table is None:
            return []
        return [(f"{r}/{c}", float(j), float(v)) for r, cells in zip(table.rows, table.cells)
                for j, (c, v) in enumerate(zip(table.columns, cells))]
    rows = []
    for name in series_names(panel, history):
        xs, ys = history.series(name) if panel.x == "step" else history.paired(panel.x, name)
        rows += [(name, float(x), float(y)) for x, y in zip(xs, ys)]
    return rows


def export_panel(record: Path, panel: Panel, history: History) -> Path:
    """Write the panel's points as CSV beside `record`; returns the file written."""
    out = record.with_name(f"{record.stem}.{slug(panel.title)}.csv")
    xname = "column" if panel.kind == "bars" else panel.x
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["series", xname, "value"])
        for name, x, y in panel_rows(panel, history):
            w.writerow([name, repr(x) if math.isfinite(x) else str(x),
                        repr(y) if math.isfinite(y) else str(y)])
    return out


def export_verdict(record: Path, verdict: Verdict | None, status: str) -> Path:
    from paramlab.console.core.stability import _jsonable

    out = record.with_name(f"{record.stem}.verdict.json")
    out.write_text(json.dumps({"status": status,
                               "verdict": _jsonable(verdict.to_dict()) if verdict else None},
                              indent=2) + "\n", encoding="utf-8")
    return out


__all__ = ["export_panel", "export_verdict", "panel_rows", "series_names", "slug"]
