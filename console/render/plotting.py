"""Drawing a scenario panel: one function for the headless renderer and the TUI.

`draw_panel(plt, panel, sources, ...)` takes a plotext-like object: the `plotext` module
(headless, `render_panel` below) or textual-plotext's `PlotextPlot.plt` (the TUI), so both
show the same picture. Series are downsampled for display with MinMaxLTTB to about twice
the plot width; the history (and the record) keep every point.
"""

from __future__ import annotations

import fnmatch
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass

from paramlab.scenarios.base import Panel, Table
from paramlab.scenarios.history import History

# (label prefix, history): one source for a run, several for an overlay of runs
Source = tuple[str, History]


@dataclass
class SeriesData:
    label: str
    xs: list[float]
    ys: list[float]


def ema_debiased(ys: Sequence[float], weight: float) -> list[float]:
    """TensorBoard's smoothing: an EMA started at 0 and divided by (1 - weight^n);
    non-finite points pass through unsmoothed and do not enter the average."""
    if weight <= 0:
        return list(ys)
    out, last, n = [], 0.0, 0
    for y in ys:
        if not math.isfinite(y):
            out.append(y)
            continue
        n += 1
        last = last * weight + (1 - weight) * y
        out.append(last / (1 - weight**n))
    return out


def downsample(x, y, n_out: int):
    """MinMaxLTTB (tsdownsample) to about n_out points of two float arrays; x must be
    increasing (a series whose x is not, e.g. a metric against another, is kept whole)."""
    import numpy as np

    if len(x) <= n_out or n_out < 4 or bool(np.any(np.diff(x) < 0)):
        return x, y
    from tsdownsample import MinMaxLTTBDownsampler

    idx = MinMaxLTTBDownsampler().downsample(x, y, n_out=n_out - n_out % 2)
    return x[idx], y[idx]


def panel_series(panel: Panel, sources: Sequence[Source], *, n_out: int | None = None,
                 logy: bool | None = None, smoothing: float = 0.0
                 ) -> tuple[list[SeriesData], list[str]]:
    """The series a panel draws, cleaned for its axes, plus notices for the user."""
    import numpy as np

    logy = panel.logy if logy is None else logy
    notices: list[str] = []
    out: list[SeriesData] = []
    masked = 0
    for prefix, hist in sources:
        names = hist.names()
        wanted: list[str] = []
        for pat in panel.series:
            wanted += [n for n in names if fnmatch.fnmatchcase(n, pat)] if "*" in pat else \
                [pat] if pat in names else []
        for name in dict.fromkeys(wanted):
            if panel.x == "step":
                xs, ys = hist.series(name)
            else:
                xs, ys = hist.paired(panel.x, name)
            if smoothing > 0:
                ys = ema_debiased(ys, smoothing)
            x = np.asarray(xs, dtype=np.float64)
            y = np.asarray(ys, dtype=np.float64)
            finite = np.isfinite(y)
            keep = np.isfinite(x) & finite
            if logy:
                keep &= y > 0
                masked += int(np.count_nonzero(finite & (y <= 0)))
            if panel.logx:
                keep &= x > 0
            if not keep.any():
                continue
            if not keep.all():
                x, y = x[keep], y[keep]
            if n_out:
                x, y = downsample(x, y, n_out)
            xs, ys = x.tolist(), y.tolist()
            label = panel.labels.get(name, name)
            out.append(SeriesData(f"{prefix}{label}" if prefix else label, xs, ys))
    if masked:
        notices.append(f"{masked} values <= 0 hidden on log y")
    return out, notices


MARKERS = ("*", "+", "o", "x", "#", "@", "%", "=")


@dataclass
class PanelData:
    """What a panel draws, read from the histories: plain, picklable data (the console
    reads it in its process and draws it in a drawing process)."""

    series: list[SeriesData]
    notices: list[str]
    bars: tuple[str, Table] | None = None  # (legend prefix, table) of a bars panel


def panel_data(panel: Panel, sources: Sequence[Source], *, width: int = 80,
               logy: bool | None = None, smoothing: float = 0.0) -> PanelData:
    if panel.kind == "bars":
        tables = [(p, h.tables.get(panel.table)) for p, h in sources]
        tables = [(p, t) for p, t in tables if t is not None]
        return PanelData([], [] if tables else ["no data yet"],
                         tables[-1] if tables else None)
    series, notices = panel_series(panel, sources, n_out=2 * width, logy=logy,
                                   smoothing=smoothing)
    if not series:
        notices.append("no data yet")
    return PanelData(series, notices)


def draw_panel(plt, panel: Panel, sources: Sequence[Source], *, width: int = 80,
               logy: bool | None = None, smoothing: float = 0.0,
               markers: bool = False) -> list[str]:
    """Draw `panel` on a plotext-like `plt` (data already cleared by the caller).
    `markers=True` gives each series its own ASCII marker (for output without colour).
    Returns the notices shown (e.g. masked values)."""
    data = panel_data(panel, sources, width=width, logy=logy, smoothing=smoothing)
    draw_data(plt, panel, data, logy=logy, smoothing=smoothing, markers=markers)
    return data.notices


def draw_data(plt, panel: Panel, data: PanelData, *, logy: bool | None = None,
              smoothing: float = 0.0, markers: bool = False) -> None:
    """Draw what `panel_data` read (the second half of `draw_panel`)."""
    logy = panel.logy if logy is None else logy
    title = panel.title
    if panel.kind == "bars":
        if data.bars is not None:
            _draw_bars(plt, *data.bars)
    else:
        series = data.series
        for i, s in enumerate(series):
            style = {"marker": MARKERS[i % len(MARKERS)]} if markers else {}
            plt.plot(s.xs, s.ys, label=_ascii(s.label), **style)
        # (plotext fails on a log axis with no data, so scales are set only with data)
        if panel.logx and series:
            plt.xscale("log")
            plt.xticks(*_decade_ticks([x for s in series for x in s.xs]))
        if logy:
            title += " (log y)"
            if series:
                plt.yscale("log")
                plt.yticks(*_decade_ticks([y for s in series for y in s.ys]))
        if smoothing > 0:
            title += f" (ema {smoothing:g})"
    if data.notices:
        title += " - " + "; ".join(data.notices)
    plt.title(_ascii(title))
    if panel.xlabel:
        plt.xlabel(_ascii(panel.xlabel))
    if panel.ylabel:
        plt.ylabel(_ascii(panel.ylabel))


def _draw_bars(plt, prefix: str, table: Table) -> None:
    # one group per column (e.g. task), one bar colour per row (e.g. merging method)
    values = [[v if math.isfinite(v) else 0.0 for v in row] for row in table.cells]
    plt.multiple_bar([_ascii(c) for c in table.columns], values,
                     labels=[_ascii(f"{prefix}{r}") for r in table.rows])


def _decade_ticks(values: list[float], most: int = 7) -> tuple[list[float], list[str]]:
    """Ticks at powers of ten for a log axis (plotext's own are long decimals)."""
    lo = math.floor(math.log10(min(values)))
    hi = math.ceil(math.log10(max(values)))
    step = max(1, math.ceil((hi - lo + 1) / most))
    exps = list(range(lo, hi + 1, step))
    return [10.0**e for e in exps], [f"1e{e}" if not 0 <= e <= 3 else str(10**e)
                                     for e in exps]


_ANSI = None


def strip_ansi(text: str) -> str:
    global _ANSI
    if _ANSI is None:
        import re

        _ANSI = re.compile(r"\x1b\[[0-9;]*m")
    return _ANSI.sub("", text)


def _ascii(text: str) -> str:
    """plotext aligns by character count: keep labels to ASCII."""
    return text.encode("ascii", "replace").decode("ascii")


def no_color() -> bool:
    return bool(os.environ.get("NO_COLOR"))


def render_panel(panel: Panel, sources: Sequence[Source] | History, *, width: int = 80,
                 height: int = 20, color: bool = False, logy: bool | None = None,
                 smoothing: float = 0.0) -> str:
    """The panel as text (headless). Same drawing code as the TUI."""
    import plotext as plt

    if isinstance(sources, History):
        sources = [("", sources)]
    plt.clf()
    plt.plotsize(width, height)
    if not color:
        plt.theme("clear")
    else:
        plt.theme("default")
    draw_panel(plt, panel, sources, width=width, logy=logy, smoothing=smoothing,
               markers=not color)
    text = plt.build()
    return text if color else strip_ansi(text)
