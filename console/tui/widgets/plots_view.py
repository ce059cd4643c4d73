"""The plots of the selected run, or of several marked runs overlaid in the same panels.

A header line says what is shown (for a comparison: which params differ between the runs,
as the legend letters A, B, ...), a grid holds one `PlotPanel` per scenario panel, and a
footer line gives the verdict. `y` flips log-y (the focused panel, or all), `s` cycles
the smoothing.

Every panel gets at least MIN_PANEL_WIDTH x MIN_PANEL_HEIGHT cells: when the panels do not
all fit, the view pages through them (`[` and `]` flip; the header says "panels 3-4 of
6"), down to one panel per page at 80x24. `m` maximises the focused panel.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.widgets import Static

from paramlab.console.render.text import fmt_param, fmt_seconds, fmt_value, grid
from paramlab.console.tui.widgets.info_line import InfoLine
from paramlab.console.tui.widgets.plot_panel import PlotPanel

if TYPE_CHECKING:
    from paramlab.console.tui.model import RunView

SMOOTHING = (0.0, 0.6, 0.9, 0.99)  # TensorBoard-style debiased EMA weights; 0 = off
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
MIN_PANEL_WIDTH = 44
MIN_PANEL_HEIGHT = 14  # title, frame, x ticks, >= 6 data rows, a legend line or two


def differing_params(items: Sequence[RunView]) -> list[str]:
    """One short label per run naming the params (and seed) in which the runs differ."""
    dicts = [dict(i.params.to_dict(), seed=i.seed) for i in items]
    keys = [k for k in dicts[0] if len({fmt_param(d.get(k)) for d in dicts}) > 1]
    if not keys:
        return [i.short_id for i in items]
    return [" ".join(f"{k}={fmt_param(d.get(k))}" for k in keys) for d in dicts]


def verdict_line(item: RunView) -> str:
    v = item.verdict
    if v is not None:
        mark = f"[green]{v.label}[/]" if v.passed else f"[red]{v.label}[/]"
        return f"{mark} ({v.score}) {_escape(v.summary)}"
    if item.status == "running":
        return "[dim]verdict when the run is done[/]"
    reason = f": {_escape(item.reason)}" if item.reason else ""
    return f"[red]no verdict[/] (run {item.status}{reason})"


def verdict_rows(item: RunView, width: int) -> str:
    """criterion | measured | threshold | paper, one row per criterion (paper first)."""
    v = item.verdict
    if v is None:
        return ""
    paper = {r.criterion: r.paper for r in item.scenario.paper_rows if r.criterion}
    rows = [(("" if c.passed else "x ") + c.name, fmt_value(c.measured), c.threshold,
             paper.get(c.name, "-"), c.tier)
            for tier in ("paper", "mechanism") for c in v.criteria if c.tier == tier]
    return grid(["criterion", "measured", "threshold", "paper", "tier"], rows, right=(1,),
                cut=(0, 3), min_widths={0: 24, 3: 10}, width=max(width, 40))


def _escape(text: str) -> str:
    return text.replace("[", r"\[")


class PlotsView(Vertical):
    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.items: list[RunView] = []
        self.smoothing = 0.0
        self._scenario_key: str | None = None
        self._head_text = ""
        self.page = 0
        self.per_page = 1
        self.verdict_table: bool | None = None  # None: shown when the screen is tall
        self._verdict_text = ""

    def compose(self) -> ComposeResult:
        yield InfoLine("no run selected: pick a scenario, press r to run it "
                       "(or R to open a recorded run)", id="plots-head")
        yield Grid(id="panels")
        yield InfoLine("", id="plots-verdict")
        yield Static("", id="verdict-table", markup=False)

    @property
    def panels(self) -> list[PlotPanel]:
        return list(self.query(PlotPanel))

    async def show(self, items: Sequence[RunView]) -> None:
        """Draw one run, or overlay several runs of one scenario."""
        self.items = list(items)
        if not self.items:
            return
        sc = self.items[0].scenario
        key = sc.meta.id if sc.meta else str(id(sc))
        grid = self.query_one("#panels", Grid)
        if key != self._scenario_key:
            self._scenario_key = key
            await grid.remove_children()
            await grid.mount_all([PlotPanel(p) for p in sc.panels])
            self.page = 0
            self._layout_grid()
        if len(self.items) == 1:
            sources = [("", self.items[0].history)]
        else:
            sources = [(f"{LETTERS[i % 26]} ", it.history) for i, it in enumerate(self.items)]
        for p in self.panels:
            p.smoothing = self.smoothing
            p.set_sources(sources)
        self.update_text()

    def on_resize(self) -> None:
        self._layout_grid()

    def _layout_grid(self) -> None:
        grid = self.query_one("#panels", Grid)
        panels = list(grid.children)
        n = len(panels)
        if not n:
            return
        cols = max(1, min(n, self.size.width // MIN_PANEL_WIDTH))
        avail = max(MIN_PANEL_HEIGHT // 2, grid.size.height or self.size.height - 2)
        self.per_page = cols * max(1, avail // MIN_PANEL_HEIGHT)
        pages = math.ceil(n / self.per_page)
        self.page = min(self.page, pages - 1)
        first = self.page * self.per_page
        shown = panels[first:first + self.per_page]
        for i, panel in enumerate(panels):
            panel.display = first <= i < first + self.per_page
        cols = max(1, min(len(shown), cols))
        grid.styles.grid_size_columns = cols
        rows = math.ceil(len(shown) / cols)
        grid.styles.grid_rows = str(max(MIN_PANEL_HEIGHT // 2, avail // rows))
        self._head_text = ""  # the page shows in the header: rewrite it now
        self.update_text()

    @property
    def pages(self) -> int:
        return max(1, math.ceil(len(self.panels) / max(self.per_page, 1)))

    def flip(self, delta: int) -> bool:
        """Next (+1) or previous (-1) page of panels; False when there is one page."""
        if self.pages == 1:
            return False
        self.page = (self.page + delta) % self.pages
        self._layout_grid()
        self.update_text()
        # no redraw here: a picture drawn at this size shows at once (one never drawn,
        # or of another size, is drawn on resize), and data that came while the page
        # was hidden is drawn by the next poll, as for a visible panel. Forcing a
        # redraw made every flip wait for a full drawing (up to 0.9 s on a busy machine)
        return True

    @property
    def visible_panels(self) -> list[PlotPanel]:
        return [p for p in self.panels if p.display]

    def page_label(self) -> str:
        n = len(self.panels)
        if self.pages == 1:
            return ""
        first = self.page * self.per_page
        last = min(n, first + self.per_page)
        which = f"panel {first + 1}" if last == first + 1 else f"panels {first + 1}-{last}"
        return f"  [b]{which} of {n}[/] [dim]\\[ ] flip[/]"

    def update_text(self) -> None:
        if not self.items:
            return
        if len(self.items) == 1:
            it = self.items[0]
            step = it.history.last_step
            progress = "-" if step is None else f"{step:g}" + (f"/{it.total}" if it.total else "")
            src = f"record {it.path.name}" if it.is_replay and it.path else ""
            elapsed = fmt_seconds(it.elapsed) if it.elapsed is not None else "-"
            head = (f"[b]{it.short_id}[/]{self.page_label()}  {it.scenario_id}  {it.status}  "
                    f"step {progress}  {elapsed}  seed {it.seed}  {src}")
            verdict = verdict_line(it)
            if it.replay_note:
                verdict += f"  [dim]{_escape(it.replay_note)}[/]"
        else:
            labels = differing_params(self.items)
            head = "[b]compare[/]" + self.page_label() + "  " + "  ".join(
                f"[b]{LETTERS[i % 26]}[/] {_escape(lab)} ({it.status})"
                for i, (it, lab) in enumerate(zip(self.items, labels)))
            verdict = "  ".join(f"[b]{LETTERS[i % 26]}[/] {verdict_line(it)}"
                                for i, it in enumerate(self.items))
        self._update_verdict_table()
        if head + verdict != self._head_text:
            self._head_text = head + verdict
            self.query_one("#plots-head", InfoLine).text = head
            self.query_one("#plots-verdict", InfoLine).text = verdict

    def toggle_verdict_table(self) -> None:
        self.verdict_table = not self._verdict_table_on()
        self._head_text = ""
        self.update_text()
        self._layout_grid()

    def _verdict_table_on(self) -> bool:
        if self.verdict_table is not None:
            return self.verdict_table
        return self.app.size.height >= 40

    def _update_verdict_table(self) -> None:
        table = self.query_one("#verdict-table", Static)
        on = self._verdict_table_on() and len(self.items) == 1 and \
            self.items[0].verdict is not None
        text = verdict_rows(self.items[0], (self.size.width or 100) - 3) if on else ""
        if table.display != on:
            table.display = on
        if self._verdict_text != text:
            self._verdict_text = text
            table.update(text)

    def poll(self) -> None:
        """Called ~10 times a second: redraw visible panels whose data changed."""
        if not self.items or not self.is_on_screen:
            return
        panels = self.visible_panels
        for p in panels:
            p.poll(len(panels))
        if panels and all(p.up_to_date for p in panels):
            self._predraw_hidden(panels[0].size)

    def _predraw_hidden(self, size) -> None:
        """While the shown page is up to date, draw the hidden pages' panels (one at a
        time) at the shown panels' size, so that the first flip to them shows a picture
        at once. Only panels never drawn at that size: later data is drawn when shown."""
        if not size.area or any(p._building for p in self.panels):
            return
        for p in self.panels:
            if not p.display and p.needs_predraw(size.width, size.height):
                p.predraw(size.width, size.height)
                return

    # ------------------------------------------------------------------ axes

    def toggle_logy(self) -> str | None:
        """Flip log y of the focused panel, or of every line panel. The panels' titles
        show the new state ("(log y)"); returns a message only when nothing could flip."""
        panels = self.visible_panels
        focused = [p for p in panels if p.has_focus]
        line_panels = [p for p in (focused or panels) if p.panel.kind == "line"]
        if not line_panels:
            return "no line panel to put on log y"
        for p in line_panels:
            p.logy = not p.logy
            p.redraw()
        return None

    def cycle_smoothing(self) -> None:
        """Next smoothing weight (off, 0.6, 0.9, 0.99); titles show "(ema w)"."""
        i = SMOOTHING.index(self.smoothing) if self.smoothing in SMOOTHING else 0
        self.smoothing = SMOOTHING[(i + 1) % len(SMOOTHING)]
        for p in self.panels:
            p.smoothing = self.smoothing
            p.redraw()
