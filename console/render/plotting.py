"""Drawing a scenario panel: one function for the headless renderer and the TUI.

`draw_panel(plt, panel, sources, ...)` takes a plotext-like object: the `plotext` module
(headless, `render_panel` below) or textual-plotext's `PlotextPlot.plt` (the TUI), so both
show the same picture. Series are downsampled for display with MinMaxLTTB to about twice
the plot width; the history (and the record) keep every point.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass

from paramlab.console.core.export import series_names
from paramlab.scenarios.base import Panel, Table
from paramlab.scenarios.history import History

# (label prefix, history): one source for a run, several for an overlay of runs
Source = tuple[str, History]


@dataclass
class SeriesData:
    label: str
    xs: list[float]
    ys: list[float]
    last: float = math.nan  # readout of the drawn (finite) values, before downsampling
    lo: float = math.nan
    hi: float = math.nan
    at: float = math.nan  # value at the cursor (the point nearest the cursor's x)


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
                 logy: bool | None = None, smoothing: float = 0.0,
                 cursor: float | None = None) -> tuple[list[SeriesData], list[str]]:
    """The series a panel draws, cleaned for its axes, plus notices for the user;
    with a `cursor` x, each series' value at its point nearest that x (full resolution,
    before downsampling)."""
    import numpy as np

    logy = panel.logy if logy is None else logy
    notices: list[str] = []
    out: list[SeriesData] = []
    masked = gaps = 0
    for prefix, hist in sources:
        for name in series_names(panel, hist):
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
            gaps += int(np.count_nonzero(~keep))
            if logy:
                keep &= y > 0
                masked += int(np.count_nonzero(finite & (y <= 0)))
            if panel.logx:
                keep &= x > 0
            if not keep.any():
                continue
            if not keep.all():
                x, y = x[keep], y[keep]
            last, lo, hi = float(y[-1]), float(y.min()), float(y.max())
            at = math.nan if cursor is None else float(y[np.argmin(np.abs(x - cursor))])
            if n_out:
                x, y = downsample(x, y, n_out)
            xs, ys = x.tolist(), y.tolist()
            label = panel.labels.get(name, name)
            out.append(SeriesData(f"{prefix}{label}" if prefix else label, xs, ys,
                                  last, lo, hi, at))
    if masked:
        notices.append(f"{masked} values <= 0 hidden on log y")
    if gaps:
        notices.append(f"{gaps} NaN/inf points not drawn")
    return out, notices


# Each series gets a colour AND a marker of its own, so that nothing depends on colour
# alone (NO_COLOR, TERM=dumb, a colour-blind reader). The pairs repeat only after 64.
MARKERS = ("*", "+", "o", "x", "#", "@", "%", "=")
COLORS = ("blue+", "orange+", "green+", "red+", "magenta+", "cyan+", "yellow", "gray+")
BAR_MARKERS = ("#", "=", ".", "%", "+", "o", "x", "@")
MIN_PLOT_ROWS = 8  # below this the legend packs into fewer lines


def series_style(i: int) -> tuple[str, str]:
    """(marker, colour) of the i-th series of a panel."""
    return MARKERS[i % len(MARKERS)], COLORS[(i + i // len(MARKERS)) % len(COLORS)]


@dataclass
class PanelData:
    """What a panel draws, read from the histories: plain, picklable data (the console
    reads it in its process and draws it in a drawing process)."""

    series: list[SeriesData]
    notices: list[str]
    bars: tuple[str, Table] | None = None  # (legend prefix, table) of a bars panel
    cursor: float | None = None  # x of the cursor (values: each series' `at`)


def panel_xs(panel: Panel, sources: Sequence[Source], *, logy: bool | None = None
             ) -> list[float]:
    """The sorted distinct x values of a line panel's drawable points: the stops of
    its cursor."""
    series, _ = panel_series(panel, sources, logy=logy)
    return sorted({x for s in series for x in s.xs})


def panel_data(panel: Panel, sources: Sequence[Source], *, width: int = 80,
               logy: bool | None = None, smoothing: float = 0.0,
               cursor: float | None = None) -> PanelData:
    if panel.kind == "bars":
        tables = [(p, h.tables.get(panel.table)) for p, h in sources]
        tables = [(p, t) for p, t in tables if t is not None]
        return PanelData([], [] if tables else ["no data yet"],
                         tables[-1] if tables else None)
    series, notices = panel_series(panel, sources, n_out=2 * width, logy=logy,
                                   smoothing=smoothing, cursor=cursor)
    if not series:
        notices.append("no data yet")
    return PanelData(series, notices, cursor=cursor if series else None)


def draw_panel(plt, panel: Panel, sources: Sequence[Source], *, width: int = 80,
               height: int = 20, logy: bool | None = None, smoothing: float = 0.0,
               color: bool = True, cursor: float | None = None) -> tuple[int, list[str]]:
    """Read `panel`'s data from `sources` and draw it on a plotext-like `plt` (see
    `draw_data`)."""
    data = panel_data(panel, sources, width=width, logy=logy, smoothing=smoothing,
                      cursor=cursor)
    return draw_data(plt, panel, data, width=width, height=height, logy=logy,
                     smoothing=smoothing, color=color)


def draw_data(plt, panel: Panel, data: PanelData, *, width: int = 80, height: int = 20,
              logy: bool | None = None, smoothing: float = 0.0,
              color: bool = True) -> tuple[int, list[str]]:
    """Draw what `panel_data` read on `plt` (data already cleared by the caller), in a
    `width` x `height` box. The legend (with each series' last / min / max), a bar
    panel's value table and the notices go *below* the plot, never over the data: returns
    the plot's height (the caller sizes the figure to it) and those lines."""
    logy = panel.logy if logy is None else logy
    tags = []
    if panel.kind == "bars":
        below = _bar_lines(data.bars, width, height, color) if data.bars else []
        if data.bars is not None:
            _draw_bars(plt, *data.bars)
    else:
        series = data.series
        below = _legend_lines(series, width, height, color)
        if data.cursor is not None:
            below = _cursor_lines(data.cursor, panel, series, width, color) + below
        for i, s in enumerate(series):
            marker, colour = series_style(i)
            plt.plot(s.xs, s.ys, marker=marker, color=colour if color else None)
        if data.cursor is not None:
            plt.vline(data.cursor, "gray" if color else None)
        if series:  # (plotext fails on a log axis with no data: scales only with data)
            # rows inside the frame: less title, frame, x ticks, x label and what goes below;
            # one tick per two rows at most, so that plotext never has to drop one
            rows = height - len(below) - (1 if data.notices else 0) - 4 - bool(panel.xlabel)
            _axis(plt, "x", [x for s in series for x in s.xs], panel.logx,
                  most=min(8, max(3, width // 8)))
            _axis(plt, "y", [y for s in series for y in s.ys], logy,
                  most=min(6, max(2, (rows + 1) // 2)))
        if logy:
            tags.append("log y")
        if panel.logx:
            tags.append("log x")
        if smoothing > 0:
            tags.append(f"ema {smoothing:g}")
    if data.notices:
        below += _wrap("! " + "; ".join(data.notices), width, 2)
    plt.title(fit_title(_ascii(panel.title), tags, width))
    if panel.xlabel:
        plt.xlabel(_ascii(panel.xlabel)[:max(width - 8, 4)])
    if panel.ylabel:
        plt.ylabel(_ascii(panel.ylabel)[:max(height - 4, 4)])
    return max(height - len(below), 4), below


def fit_title(title: str, tags: Sequence[str], width: int) -> str:
    """The title with its tags (log y, ema) in width - 4 columns (plotext drops a
    longer title): the title is cut (its end marked '~'), never dropped; tags stay."""
    tag = f" [{', '.join(tags)}]" if tags else ""
    room = max(width - 4, 4)
    if len(title) + len(tag) <= room:
        return title + tag
    if len(tag) > room // 2:
        tag = f" [{','.join(t.replace(' ', '') for t in tags)}]"[:room // 2]
    keep = max(room - len(tag) - 1, 3)
    return title[:keep] + "~" + tag


def _wrap(text: str, width: int, most: int) -> list[str]:
    import textwrap

    lines = textwrap.wrap(_ascii(text), max(width, 10)) or [""]
    if len(lines) > most:
        lines = lines[:most]
        lines[-1] = lines[-1][:max(width - 1, 1)] + "~"
    return lines


def _legend_lines(series: Sequence[SeriesData], width: int, height: int,
                  color: bool) -> list[str]:
    """One line per series (marker, label, last / min / max) when the plot keeps at
    least MIN_PLOT_ROWS rows; else the entries packed into as few lines as fit."""
    from paramlab.console.render.fmt import fmt_value

    if not series:
        return []
    entries = []
    for i, s in enumerate(series):
        marker, colour = series_style(i)
        entries.append((marker, colour, _ascii(s.label),
                        f"last {fmt_value(s.last)}  min {fmt_value(s.lo)}  "
                        f"max {fmt_value(s.hi)}"))
    if height - len(entries) - 1 >= MIN_PLOT_ROWS:
        w = min(max(len(e[2]) for e in entries), max(width // 2 - 4, 8))
        out = []
        for marker, colour, label, values in entries:
            label = label if len(label) <= w else label[:w - 1] + "~"
            out.append(_paint(f"{marker}{marker} {label.ljust(w)}", colour, color)
                       + _clip(f"  {values}", width - w - 3))
        return out
    lines, line, used = [], "", 0
    for marker, colour, label, _ in entries:
        label = label if len(label) <= width - 4 else label[:width - 5] + "~"
        piece = f"{marker}{marker} {label}"
        if used and used + 2 + len(piece) > width:
            lines.append(line)
            line, used = "", 0
        line += ("  " if used else "") + _paint(piece, colour, color)
        used += (2 if used else 0) + len(piece)
    lines.append(line)
    if len(lines) > max(height - MIN_PLOT_ROWS, 1):  # still too many: say how many
        lines = [f"{len(series)} series (enlarge the panel for the legend)"]
    return lines


def _cursor_lines(x: float, panel: Panel, series: Sequence[SeriesData], width: int,
                  color: bool) -> list[str]:
    """The cursor's readout: its x, then every series' value there, in two lines at most
    (then "+N more")."""
    from paramlab.console.render.fmt import fmt_value

    xname = "step" if panel.x == "step" else _ascii(panel.labels.get(panel.x, panel.x))
    head = f"> {xname} {fmt_value(x)}:"
    lines, line, used = [], _paint(head, "gray", color), len(head)
    for i, s in enumerate(series):
        marker, colour = series_style(i)
        label = _ascii(s.label)
        label = label if len(label) <= 24 else label[:23] + "~"
        piece = f"{marker} {label} {fmt_value(s.at)}"
        # on the second line keep room for "+N more" unless this is the last series
        more = f"  +{len(series) - i} more" if lines and i < len(series) - 1 else ""
        if used + 2 + len(piece) + len(more) > width:
            if lines:  # the second line is full: say how many are left out
                return [*lines, line + f"  +{len(series) - i} more"]
            lines.append(line)
            line, used = " ", 1
        line += "  " + _paint(piece, colour, color)
        used += 2 + len(piece)
    return [*lines, line]


def _bar_lines(bars: tuple[str, Table], width: int, height: int, color: bool) -> list[str]:
    """A bar panel's legend as a value table: one line per row (marker, name, values)."""
    from paramlab.console.render.fmt import fmt_value

    prefix, table = bars
    names = [_ascii(f"{prefix}{r}") for r in table.rows]
    w = min(max(len(n) for n in names), 24)
    cols = [_ascii(c) for c in table.columns]
    cw = [max(len(c), 6) for c in cols]
    head = " " * (w + 3) + "  ".join(c.rjust(k) for c, k in zip(cols, cw, strict=True))
    rows = []
    for i, (name, cells) in enumerate(zip(names, table.cells, strict=True)):
        m = BAR_MARKERS[i % len(BAR_MARKERS)]
        name = name if len(name) <= w else name[:w - 1] + "~"
        vals = "  ".join(fmt_value(v).rjust(k) for v, k in zip(cells, cw, strict=True))
        rows.append(_paint(f"{m}{m} {name.ljust(w)}", COLORS[i % len(COLORS)], color)
                    + " " + vals)
    lines = [head, *rows]
    if len(lines) > max(height - MIN_PLOT_ROWS, 2):  # too tall: the markers only
        lines = _wrap("  ".join(f"{BAR_MARKERS[i % 8] * 2} {n}"
                                for i, n in enumerate(names)), width, 2)
    return [_clip(line, width) if "\x1b" not in line else line for line in lines]


def _paint(text: str, colour: str, color: bool) -> str:
    if not color:
        return text
    import plotext

    return plotext.colorize(text, colour)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[:max(width - 1, 0)] + "~"


def _draw_bars(plt, prefix: str, table: Table) -> None:
    # one group per column (e.g. task), one bar per row (e.g. merging method), each row
    # with its own fill character so that the bars read without colour
    values = [[v if math.isfinite(v) else 0.0 for v in row] for row in table.cells]
    plt.multiple_bar([_ascii(c) for c in table.columns], values,
                     marker=[BAR_MARKERS[i % len(BAR_MARKERS)] for i in range(len(values))],
                     color=[COLORS[i % len(COLORS)] for i in range(len(values))])
    flat = [v for row in values for v in row]
    if flat:
        _axis(plt, "y", [min(0.0, *flat), max(0.0, *flat)], False)


# ------------------------------------------------------------------------------ axes


def _axis(plt, which: str, values: list[float], log: bool, most: int = 6) -> None:
    """Scale, limits and round ticks (inside the data range, at least 3) of one axis."""
    lo, hi = min(values), max(values)
    if log:
        getattr(plt, f"{which}scale")("log")
        if hi <= lo * (1 + 1e-9):
            lo, hi = lo / 2, hi * 2
            getattr(plt, f"{which}lim")(math.log10(lo), math.log10(hi))
        ticks = log_ticks(lo, hi, most=most)
        labels = [tick_label_log(t) for t in ticks]
    else:
        if hi - lo <= 1e-12 * max(abs(lo), abs(hi), 1e-300):
            pad = abs(lo) * 0.1 or 1.0
            lo, hi = lo - pad, hi + pad
            getattr(plt, f"{which}lim")(lo, hi)
        ticks = nice_ticks(lo, hi, most=most)
        step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
        labels = [tick_label(t, step) for t in ticks]
    getattr(plt, f"{which}ticks")(ticks, labels)


def nice_ticks(lo: float, hi: float, most: int = 6, target: int = 5) -> list[float]:
    """Round values (1, 2 or 5 x 10^k apart) inside [lo, hi]: of the spacings giving 3
    (or `most`, when smaller) to `most` ticks, the one whose count is nearest `target`
    (fewer on a tie)."""
    span = hi - lo
    if not span > 0 or not math.isfinite(span):
        return [lo]
    top = math.floor(math.log10(span)) + 1
    cands = []  # (count, first, step) of every round spacing, coarse to fine
    for k in range(top, top - 5, -1):
        for m in (5, 2, 1):
            step = m * 10.0**k
            first, last = math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
            if last >= first:
                cands.append((last - first + 1, first, step))
    good = [c for c in cands if min(3, most) <= c[0] <= most]
    if good:
        n, first, step = min(good, key=lambda c: (abs(c[0] - target), c[0]))
    else:  # no round spacing gives 3 to `most` ticks: the most that fit, else the fewest
        fits = [c for c in cands if c[0] <= most]
        n, first, step = max(fits, key=lambda c: c[0]) if fits else \
            min(cands, key=lambda c: c[0])
    return [_clean(i * step, step) for i in range(first, first + n)]


def log_ticks(lo: float, hi: float, most: int = 7) -> list[float]:
    """Powers of ten inside [lo, hi] (thinned to `most`); with fewer than 3, the 2s and
    5s, then every digit, then round linear ticks."""
    e0, e1 = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    inside = lambda v: lo * (1 - 1e-9) <= v <= hi * (1 + 1e-9)  # noqa: E731
    for mantissas in ((1,), (1, 2, 5), (1, 2, 3, 5), tuple(range(1, 10))):
        ticks = [_clean(m * 10.0**e, 10.0**e) for e in range(e0, e1 + 1) for m in mantissas
                 if inside(m * 10.0**e)]
        if len(ticks) >= 3:
            if len(ticks) > most and mantissas == (1,):
                step = math.ceil(len(ticks) / most)
                ticks = ticks[::step]
            return ticks if len(ticks) <= most or mantissas != (1, 2, 5) else \
                [t for t in ticks if _mantissa(t) == 1] or ticks
    return nice_ticks(lo, hi)


def _mantissa(v: float) -> int:
    return round(v / 10.0 ** math.floor(math.log10(v) + 1e-9))


def _clean(v: float, step: float) -> float:
    """v rounded to the tick spacing's digits (no 0.30000000000000004)."""
    digits = max(0, -math.floor(math.log10(step)) + 1)
    return round(v, digits) if digits < 15 else v


def tick_label(v: float, step: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1e5 or (abs(v) < 1e-3 and step < 1e-3):
        return _compact_e(v)
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    return f"{v:.{decimals}f}"


def tick_label_log(v: float) -> str:
    """A log tick as a power: 1e-3, 2e-3, ...; 1 to 5000 written out."""
    if 1 <= v < 1e4 and float(v).is_integer():
        return str(int(v))
    return _compact_e(v)


def _compact_e(v: float) -> str:
    mant, _, exp = f"{v:.2e}".partition("e")
    mant = mant.rstrip("0").rstrip(".")
    return f"{mant}e{int(exp)}"


# ------------------------------------------------------------------------ plain text

_BOX = str.maketrans({"┌": "+", "┐": "+", "└": "+", "┘": "+", "─": "-", "│": "|",
                      "┤": "+", "├": "+", "┬": "+", "┴": "+", "┼": "+", "█": "#",
                      "▄": "#", "▀": "#", "▌": "#", "▐": "#", "·": ".", "…": "~",
                      "•": "*", "▞": "%", "–": "-", "✓": "v", "✗": "x"})


def to_ascii(text: str) -> str:
    """Box drawing, blocks and braille as plain ASCII (TERM=dumb, non-UTF-8 output)."""
    text = text.translate(_BOX)
    if any(ord(c) > 127 for c in text):
        text = "".join(c if ord(c) < 128 else ("." if 0x2800 <= ord(c) <= 0x28FF else "?")
                       for c in text)
    return text


def ascii_only(stream=None) -> bool:
    """True when the terminal cannot show more than ASCII: TERM=dumb, or an output
    encoding that is not UTF."""
    import sys

    if os.environ.get("TERM") == "dumb":
        return True
    enc = (getattr(stream or sys.stdout, "encoding", None) or "").lower()
    return bool(enc) and "utf" not in enc


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
    return bool(os.environ.get("NO_COLOR")) or os.environ.get("TERM") == "dumb"


def render_panel(panel: Panel, sources: Sequence[Source] | History, *, width: int = 80,
                 height: int = 20, color: bool = False, logy: bool | None = None,
                 smoothing: float = 0.0, ascii: bool | None = None,
                 cursor: float | None = None) -> str:
    """The panel as text (headless), `width` x `height` including its legend and
    notices; `ascii` (default: when the terminal is ASCII-only) draws the frame in
    plain characters; `cursor` (an x) draws a vertical line there with every series'
    value at it. Same drawing code as the TUI."""
    import plotext as plt

    if isinstance(sources, History):
        sources = [("", sources)]
    plt.clf()
    plt.limitsize(False, False)  # the size asked for, also when stdout is not a terminal
    plt.theme("default" if color else "clear")
    plot_h, below = draw_panel(plt, panel, sources, width=width, height=height,
                               logy=logy, smoothing=smoothing, color=color, cursor=cursor)
    plt.plotsize(width, plot_h)
    text = plt.build()
    if not color:
        text = strip_ansi(text)
    text = "\n".join([text.rstrip("\n"), *below])
    return to_ascii(text) if (ascii_only() if ascii is None else ascii) else text
