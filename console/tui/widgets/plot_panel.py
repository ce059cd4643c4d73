"""One scenario panel drawn with textual-plotext, through the same drawing code as the
headless renderer. It redraws only when its data (the sources' `version` counters), its
size, its axes or the theme changed, and no more often than its own drawing cost allows
(at most ~10 times a second; with two panels that take 30 ms each to draw, each waits
>= 180 ms).

A frame is made in three steps, none on the UI thread: the app's plot thread reads the
histories (`panel_data`: filtered, downsampled, plain data), a drawing process runs
plotext on it (`render_ansi`; the app keeps a small pool of them, so that the pure-Python
plotext neither holds the UI's GIL nor waits behind the other panels), and the plot
thread turns plotext's ANSI text into strips with a small SGR parser and a style cache
(several times faster than `Text.from_ansi`). The UI thread only swaps the strips in.
Without a pool (it failed, or the app has none) the plot thread draws as well.

Cursor mode: on a focused line panel the arrow keys move a cursor along x, stopping at
every x the panel's series have (shift: a twentieth of them at a time; home/end: the
ends); a vertical line marks it and a readout under the plot gives every series' value
at the point nearest it. `esc` hides the cursor.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from functools import partial

from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from textual.actions import SkipAction
from textual.binding import Binding
from textual.strip import Strip
from textual_plotext import PlotextPlot

from paramlab.console.render.plotting import Source, draw_data, panel_data, panel_xs
from paramlab.scenarios.base import Panel

MIN_INTERVAL = 0.1  # seconds between two redraws of one panel (10 Hz)
COST_FACTOR = 6  # and at least this many times the drawing time of all visible panels

_PAD = Style.null()  # never None: Textual's NO_COLOR filter reads every segment's style
_SGR = re.compile(r"\x1b\[([0-9;]*)m")


def _sgr_style(params: str, cache: dict[str, Style]) -> Style:
    style = cache.get(params)
    if style is not None:
        return style
    codes = [int(c) if c else 0 for c in params.split(";")]
    kw: dict = {}
    i = 0
    while i < len(codes):
        c = codes[i]
        if c in (38, 48) and i + 1 < len(codes):
            key = "color" if c == 38 else "bgcolor"
            if codes[i + 1] == 5 and i + 2 < len(codes):
                kw[key] = Color.from_ansi(codes[i + 2])
                i += 3
                continue
            if codes[i + 1] == 2 and i + 4 < len(codes):
                kw[key] = Color.from_rgb(*codes[i + 2:i + 5])
                i += 5
                continue
        elif c == 1:
            kw["bold"] = True
        elif 30 <= c <= 37 or 90 <= c <= 97:
            kw["color"] = Color.from_ansi(c - 30 if c < 90 else c - 82)
        elif 40 <= c <= 47 or 100 <= c <= 107:
            kw["bgcolor"] = Color.from_ansi(c - 40 if c < 100 else c - 92)
        i += 1
    style = cache[params] = Style(**kw)
    return style


def ansi_to_strips(text: str, width: int, cache: dict[str, Style]) -> list[Strip]:
    """plotext's output (SGR colour codes only) as one Strip per line."""
    strips = []
    for line in text.split("\n"):
        segments = []
        style = Style.null()
        pos = 0
        for m in _SGR.finditer(line):
            if m.start() > pos:
                segments.append(Segment(line[pos:m.start()], style))
            params = m.group(1)
            style = Style.null() if params in ("", "0") else style + _sgr_style(params, cache)
            pos = m.end()
        if pos < len(line):
            segments.append(Segment(line[pos:], style))
        strips.append(Strip(segments).crop_extend(0, width, _PAD))
    return strips


class PlotPanel(PlotextPlot):
    can_focus = True
    ALLOW_MAXIMIZE = True
    BINDINGS = [
        Binding("left", "cursor(-1)", "Cursor left", show=False),
        Binding("right", "cursor(1)", "Cursor right", show=False),
        Binding("shift+left", "cursor(-1, True)", "Cursor left (fast)", show=False),
        Binding("shift+right", "cursor(1, True)", "Cursor right (fast)", show=False),
        Binding("home", "cursor_end(0)", "Cursor to the start", show=False),
        Binding("end", "cursor_end(-1)", "Cursor to the end", show=False),
        Binding("escape", "cursor_off", "Hide the cursor", show=False),
    ]

    def __init__(self, panel: Panel, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.panel = panel
        self.sources: list[Source] = []
        self.logy: bool = panel.logy
        self.smoothing: float = 0.0
        self.markers = False  # no colour (NO_COLOR): series told apart by marker only
        self.notices: list[str] = []
        self.cursor: float | None = None  # x of the cursor; None: no cursor
        self._stops: tuple[tuple, list[float]] = ((), [])  # (data key, cursor stops)
        self._drawn: tuple | None = None
        self._strips: list[Strip] = []
        self._styles: dict[str, Style] = {}
        self._last_draw = 0.0
        self._cost = 0.0
        self._building = False
        self._building_key: tuple | None = None
        self._pending = False

    def on_mount(self) -> None:
        if self.app.no_color:  # no colours to tell series apart: give each a marker
            self.markers = True
            self.theme = "clear"

    def set_sources(self, sources: Sequence[Source]) -> None:
        self.sources = list(sources)
        self.redraw()

    def data_key(self) -> tuple:
        if self.panel.kind == "bars":  # a table event replaces the whole table
            data = tuple(id(h.tables.get(self.panel.table)) for _, h in self.sources)
        else:
            data = tuple((id(h), h.version) for _, h in self.sources)
        return (data, tuple(p for p, _ in self.sources), self.logy, self.smoothing,
                self.cursor)

    # ------------------------------------------------------------------ cursor

    def cursor_stops(self) -> list[float]:
        """The x values the cursor stops at (every x of the drawn points), cached per
        data version."""
        key = self.data_key()[:3]
        if self._stops[0] != key:
            self._stops = (key, panel_xs(self.panel, self.sources, logy=self.logy))
        return self._stops[1]

    def move_cursor(self, delta: int, fast: bool = False) -> bool:
        """Move the cursor `delta` stops (a twentieth of them when `fast`); the first
        move puts it on the last point. False when the panel has no points to stop at."""
        import bisect

        stops = self.cursor_stops() if self.panel.kind == "line" else []
        if not stops:
            return False
        if self.cursor is None:
            i = len(stops) - 1
        else:
            i = bisect.bisect_left(stops, self.cursor)
            if i < len(stops) and stops[i] != self.cursor and delta < 0:
                delta += 1  # between two stops (the data moved): left goes to the lower
            step = max(1, len(stops) // 20) if fast else 1
            i = min(max(i + delta * step, 0), len(stops) - 1)
        self.cursor = stops[i]
        self.redraw()
        return True

    def action_cursor(self, delta: int, fast: bool = False) -> None:
        if not self.move_cursor(delta, fast):
            raise SkipAction()

    def action_cursor_end(self, end: int) -> None:
        stops = self.cursor_stops() if self.panel.kind == "line" else []
        if not stops:
            raise SkipAction()
        self.cursor = stops[end]
        self.redraw()

    def action_cursor_off(self) -> None:
        if self.cursor is None:
            raise SkipAction()  # esc goes on to the screen (e.g. leave the maximised view)
        self.cursor = None
        self.redraw()

    def _wanted(self) -> tuple:
        width, height = self.size
        return self.data_key(), width, height, self.app.theme

    @property
    def up_to_date(self) -> bool:
        return not self._building and self._drawn == self._wanted()

    def poll(self, visible: int = 1) -> None:
        """Redraw when the data changed since the last frame, at a rate the drawing cost
        allows (`visible`: how many panels share the budget)."""
        if self._building or self._drawn == self._wanted():
            return
        wait = max(MIN_INTERVAL, COST_FACTOR * self._cost * visible)
        if time.monotonic() - self._last_draw >= wait:
            self.redraw()

    def needs_predraw(self, width: int, height: int) -> bool:
        return not self._building and (self._drawn is None
                                       or self._drawn[1:3] != (width, height))

    def predraw(self, width: int, height: int) -> None:
        """Draw the picture at a size the panel will have (it is hidden on another
        page now); shown at once when the panel appears at that size."""
        if self.needs_predraw(width, height) and self.is_mounted:
            self._start_build((self.data_key(), width, height, self.app.theme))

    def redraw(self) -> None:
        """Build the picture now (off the UI thread); shown when ready."""
        if self._building and self._building_key == self._wanted():
            return  # the picture being built is the one wanted
        if self._building or not self.is_mounted or not self.size.area:
            self._pending = True
            return
        self._pending = False
        self._start_build(self._wanted())

    def _start_build(self, key: tuple) -> None:
        self._building = True
        self._building_key = key
        self.run_worker(partial(self._build, key), group="plot", exit_on_error=False)

    async def _build(self, key: tuple) -> None:
        try:
            strips, notices, cost = await self._draw_async(key)
        finally:
            self._building = False
        self._strips, self.notices, self._cost = strips, notices, cost
        self._drawn = key
        self._last_draw = time.monotonic()
        frame_times = getattr(self.app, "frame_times", None)
        if frame_times is not None:  # a bounded deque on the app (benchmark)
            frame_times.append(cost)
        self.refresh()
        if self._pending and self._drawn != self._wanted():  # wanted changed meanwhile
            self.redraw()

    def on_resize(self) -> None:
        # a panel hidden on another page has no size; shown again at the size it was
        # drawn at, its picture is still good (new data is drawn by `poll`)
        if self._drawn is None or self._drawn[1:] != self._wanted()[1:]:
            self.redraw()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        # a new size or theme redraws at once; new data waits for `poll` (rate-limited)
        if not self._building and (self._drawn is None
                                   or self._drawn[1:] != self._wanted()[1:]):
            self.call_later(self.redraw)
        if y < len(self._strips):
            return self._strips[y].crop_extend(0, width, _PAD)
        return Strip.blank(width, _PAD)

    def _job(self, key: tuple) -> tuple:
        """Runs in the app's plot thread: what to draw, as plain picklable data."""
        from plotext._dict import themes

        _, width, height, theme = key
        name = self._get_plotext_theme_name(theme)
        data = panel_data(self.panel, self.sources, width=max(width, 10), logy=self.logy,
                          smoothing=self.smoothing, cursor=self.cursor)
        return (self.panel, data, width, height, name, themes.get(name), self.logy,
                self.smoothing, self.markers)

    async def _draw_async(self, key: tuple) -> tuple[list[Strip], list[str], float]:
        import asyncio

        loop = asyncio.get_running_loop()
        t0 = time.perf_counter()
        job = await loop.run_in_executor(self.app.plot_executor, self._job, key)
        text = None
        pool = getattr(self.app, "draw_pool", None)
        if pool is not None and getattr(self.app, "draw_ready", False):
            try:
                text, _ = await asyncio.wrap_future(pool.submit(render_ansi, job))
            except Exception:  # a broken pool (a drawing process died): draw here
                self.app.draw_pool = None
                pool.shutdown(wait=False, cancel_futures=True)
        if text is None:
            text, _ = await loop.run_in_executor(self.app.plot_executor, render_ansi, job)
        strips = await loop.run_in_executor(self.app.plot_executor, ansi_to_strips, text,
                                            key[1], self._styles)
        return strips, job[1].notices, time.perf_counter() - t0


_FIGURE = None


def render_ansi(job: tuple) -> tuple[str, float]:
    """Draw one panel with plotext; returns its ANSI text and the seconds it took. Runs
    in a drawing process (or, as a fallback, the plot thread): one figure per process."""
    global _FIGURE
    from plotext._dict import themes
    from textual_plotext.plot import Plot

    panel, data, width, height, theme_name, theme_def, logy, smoothing, markers = job
    t0 = time.perf_counter()
    if _FIGURE is None:
        _FIGURE = Plot()
    plt = _FIGURE
    plt.clear_figure()
    plot_h, below = draw_data(plt, panel, data, width=width, height=height, logy=logy,
                              smoothing=smoothing, color=not markers)
    plt.plotsize(width, plot_h)
    plt._set_size(width, plot_h)  # as PlotextPlot.render does (textual-plotext #5)
    if theme_def is not None and theme_name not in themes:
        themes[theme_name] = theme_def  # e.g. textual-auto-<app theme>, made in the app
    plt.theme(theme_name)
    text = plt.build().rstrip("\n")
    return "\n".join([text, *below]), time.perf_counter() - t0


def warm_drawing_process() -> int:
    """Submitted once per drawing process at start: imports plotext there."""
    import os

    from textual_plotext.plot import Plot  # noqa: F401

    return os.getpid()
