"""Headless rendering: progress lines, panels as text, verdict tables."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterable, Sequence

from paramlab.console.render.fmt import fmt_value  # noqa: F401  (re-exported)
from paramlab.console.render.plotting import no_color, render_panel
from paramlab.scenarios.base import Scenario, Verdict
from paramlab.scenarios.history import History


def terminal_width(default: int = 100) -> int:
    return max(60, min(140, shutil.get_terminal_size((default, 30)).columns))


def table_width() -> int:
    """Columns for a CLI table: $COLUMNS, else the terminal's, else 80 (piped)."""
    import os

    env = os.environ.get("COLUMNS", "")
    if env.isdigit() and int(env) >= 40:
        return int(env)
    if sys.stdout.isatty():
        return max(40, shutil.get_terminal_size((80, 24)).columns)
    return 80


def grid(header: Sequence[str], rows: Iterable[Sequence[object]], *,
         width: int | None = None, right: Sequence[int] = (), wrap: Sequence[int] = (),
         cut: Sequence[int] = (), indent: int = 0,
         min_widths: dict[int, int] | None = None) -> str:
    """Aligned columns that fit `width` (default `table_width()`). Only the columns in
    `wrap` (folded onto more lines) and `cut` (shortened, the cut marked with an ellipsis,
    '~' on ASCII terminals) give way when a row is too wide, the widest first and none
    below `min_widths` (default 4) or its header; `right` columns are right-aligned."""
    import textwrap

    from paramlab.console.render.plotting import ascii_only

    body = [[str(c) for c in row] for row in rows]
    n = len(header)
    w = [max([len(header[i]), *(len(r[i]) for r in body)]) for i in range(n)]
    flex = [i for i in range(n) if i in wrap or i in cut]
    lows = {i: min(w[i], max(len(header[i]), (min_widths or {}).get(i, 4))) for i in flex}
    excess = sum(w) + 2 * (n - 1) + indent - (width or table_width())
    while excess > 0:
        cands = [i for i in flex if w[i] > lows[i]]
        if not cands:
            break
        i = max(cands, key=lambda j: w[j])
        second = max((w[j] for j in cands if j != i), default=lows[i])
        new = max(lows[i], min(second, w[i] - 1), w[i] - excess)
        excess -= w[i] - new
        w[i] = new
    mark = "~" if ascii_only() else "\u2026"

    def cells(row: list[str]) -> list[list[str]]:
        out = []
        for i, c in enumerate(row):
            if i in wrap and len(c) > w[i]:
                out.append(textwrap.wrap(c, w[i]) or [""])
            elif i in cut and len(c) > w[i]:
                out.append([c[:w[i] - 1] + mark])
            else:
                out.append([c])
        return out

    lines = []
    for row in [list(header), *body]:
        parts = cells(row)
        for k in range(max(len(p) for p in parts)):
            line = "  ".join((p[k] if k < len(p) else "").rjust(w[i]) if i in right else
                             (p[k] if k < len(p) else "").ljust(w[i])
                             for i, p in enumerate(parts))
            lines.append(" " * indent + line.rstrip())
    return "\n".join(lines)


def wrapped(label: str, text: str, width: int | None = None) -> str:
    """`label text` with the text folded to the table width, continuation lines
    indented under its start."""
    import textwrap

    return textwrap.fill(text, width or table_width(), initial_indent=label,
                         subsequent_indent=" " * len(label), break_on_hyphens=False)


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
    rows = [(c.tier, "pass" if c.passed else "FAIL", c.name, fmt_value(c.measured),
             c.threshold) for tier in ("paper", "mechanism")
            for c in verdict.criteria if c.tier == tier]
    lines.append(grid(["tier", "", "criterion", "measured", "threshold"], rows,
                      right=(3,), wrap=(2,), indent=2))
    if scenario is not None and scenario.meta is not None:
        lines.append(wrapped("paper reports: ", scenario.paper_reports))
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
    return grid(["quantity", "paper", "paramlab", "criterion"], body, wrap=(0, 1, 2, 3),
                indent=2)
