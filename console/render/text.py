"""Headless rendering: progress lines, panels as text, verdict tables."""

from __future__ import annotations

import math
import shutil
import sys

from paramlab.console.render.plotting import no_color, render_panel
from paramlab.scenarios.base import Scenario, Verdict
from paramlab.scenarios.history import History


def terminal_width(default: int = 100) -> int:
    return max(60, min(140, shutil.get_terminal_size((default, 30)).columns))


def fmt_value(x: float | None) -> str:
    if x is None:
        return "-"
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    ax = abs(x)
    if ax != 0 and (ax < 1e-3 or ax >= 1e5):
        return f"{x:.3e}"
    return f"{x:.4g}"


def fmt_param(value: object, digits: int = 4) -> str:
    """A param value in a legend, a table cell or an edit field: floats to `digits`
    significant digits, booleans as true/false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def fmt_seconds(s: float) -> str:
    return f"{s:.1f} s" if s < 120 else f"{int(s // 60)}m{int(s % 60):02d}s"


def render_panels(scenario: Scenario, history: History, *, width: int | None = None,
                  height: int = 18, color: bool | None = None) -> str:
    width = width or terminal_width()
    if color is None:
        color = sys.stdout.isatty() and not no_color()
    out = []
    for panel in scenario.panels:
        out.append(render_panel(panel, history, width=width, height=height, color=color))
    for name, table in history.tables.items():
        out.append(format_table(name, table.rows, table.columns, table.cells))
    return "\n\n".join(out)


def format_table(name: str, rows: list[str], columns: list[str],
                 cells: list[list[float]]) -> str:
    w0 = max([len(name), *(len(r) for r in rows)])
    widths = [max(9, len(c)) for c in columns]
    lines = [name.ljust(w0) + "  " + "  ".join(c.rjust(w) for c, w in zip(columns, widths))]
    for r, row in zip(rows, cells):
        lines.append(r.ljust(w0) + "  " + "  ".join(fmt_value(v).rjust(w)
                                                     for v, w in zip(row, widths)))
    return "\n".join(lines)


def format_verdict(verdict: Verdict | None, scenario: Scenario | None = None,
                   status: str = "done", reason: str = "") -> str:
    lines = []
    if verdict is None:
        lines.append(f"verdict: none (run {status}{': ' + reason if reason else ''})")
        return "\n".join(lines)
    lines.append(f"verdict: {verdict.label}  ({verdict.score})  {verdict.summary}")
    nw = max(len(c.name) for c in verdict.criteria)
    for tier in ("paper", "mechanism"):
        for c in (c for c in verdict.criteria if c.tier == tier):
            mark = "pass" if c.passed else "FAIL"
            lines.append(f"  {tier:<9} {mark}  {c.name.ljust(nw)}  "
                         f"{fmt_value(c.measured):>11}  {c.threshold}")
    if scenario is not None and scenario.meta is not None:
        lines.append(f"paper reports: {scenario.paper_reports}")
    return "\n".join(lines)


def format_sweep_progress(pr) -> str:
    """One line of a sweep's progress (a core.sweeps SweepProgress)."""
    text = f"sweep {pr.finished}/{pr.total} points"
    if pr.failed:
        text += f", {pr.failed} failed"
    if pr.cancelled:
        text += f", {pr.cancelled} cancelled"
    text += f", {pr.running} running  {fmt_seconds(pr.elapsed)}"
    if pr.eta is not None and pr.finished < pr.total:
        text += f"  ETA {fmt_seconds(pr.eta)}"
    return text


def format_stability_cells(results: dict, fresh: bool) -> list[str]:
    """One line per preset of a results-file entry: verdict over its seeds."""
    lines = []
    for preset in ("quick", "default"):
        e = results.get(preset)
        if not e:
            lines.append(f"  {preset:<8} not measured (python bench/bench_results.py --ids ID)")
            continue
        seeds = e.get("seeds", [])
        span = f"seeds {min(seeds)}-{max(seeds)}" if seeds else "no seeds"
        lines.append(f"  {preset:<8} {e['word']:<8} {e['n_passed']}/{len(seeds)} PASS over "
                     f"{span}{'' if fresh else '  (stale: the code changed since)'}")
    return lines


def format_paper_table(rows, entry: dict | None) -> str:
    """Paper vs paramlab: each PaperRow beside the mean +- sd of its criterion's measured
    value over the seeds of a results-file entry (the default preset)."""
    crit = {c["name"]: c for c in (entry or {}).get("criteria", [])}
    n = len((entry or {}).get("seeds", []))
    body = []
    for r in rows:
        c = crit.get(r.criterion) if r.criterion else None
        if c is None:
            ours = "no criterion" if not r.criterion else "not measured"
        else:
            ours = f"{fmt_value(c['mean'])} +- {fmt_value(c['sd'])} (n={n})"
        unit = f" {r.unit}" if r.unit else ""
        paper = r.paper if r.paper == "not reported" else f"{r.paper}{unit}"
        body.append([r.quantity, paper + (f" [{r.source}]" if r.source else ""), ours,
                     r.criterion or "-"])
    cols = ["quantity", "paper", "paramlab", "criterion"]
    widths = [max([len(c), *(len(b[i]) for b in body)]) for i, c in enumerate(cols)]
    return "\n".join("  " + "  ".join(x.ljust(w) for x, w in zip(row, widths)).rstrip()
                     for row in [cols, *body])
