"""The sweep screen (`w` on a scenario card): what to sweep, then the sweep live.

The top rows take the same syntax as `paramlab sweep` (and go through the same
`build_spec`, so a mistake gets the CLI's one-line message, shown under the form, and
nothing starts): grid items `name=v1,v2,...`, random items `name=lo:hi[:log]` with a
sample count, seeds `0-4`, workers, and the metric to summarise. The card's preset and
edited fields are the sweep's fixed `--set`s.

Started, the sweep runs in its own thread on a local process pool (console/sweep.py);
this screen polls it twice a second: the progress line (points done / total, failures,
ETA), the points table, and the summary panels (final metric against each swept param,
mean and min-max over seeds; pass rate per setting), drawn by the same `PlotPanel` as a
run's plots. `c` cancels (running points stop and are marked, the manifest stays valid);
`escape` goes back once it is not running. The folder is RUNS/sweeps/<id>, so
`paramlab sweep --resume` continues it and its records open like any run's.
"""

from __future__ import annotations

import math
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Input, Label, Static

from paramlab.console.render.text import (
    fmt_param,
    fmt_seconds,
    fmt_value,
    format_sweep_progress,
)
from paramlab.console.tui.widgets.info_line import InfoLine
from paramlab.console.tui.widgets.plot_panel import PlotPanel
from paramlab.scenarios.base import Scenario

POLL_SECONDS = 0.5
MAX_PANELS = 4


class SweepScreen(Screen):
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+s", "start", "Start", priority=True),
        Binding("c", "cancel_sweep", "Cancel sweep"),
    ]

    def __init__(self, scenario: Scenario, *, preset: str = "default",
                 sets: dict[str, str] | None = None, device: str = "auto",
                 threads: int | None = None) -> None:
        super().__init__()
        self.scenario = scenario
        self.preset = preset
        self.sets = dict(sets or {})
        self.device = device
        self.threads = threads
        self.sweep: Any = None  # core.sweeps.Sweep once started
        self._seen_version = -1
        self._rows: dict[str, tuple] = {}

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        from paramlab.console.core.executors import default_workers

        sc = self.scenario
        sid = sc.meta.id if sc.meta else "?"
        fixed = " ".join(f"{k}={v}" for k, v in self.sets.items()) or "no other changes"
        with Vertical(id="sweep-form"):
            yield Static(f"[b]sweep[/] {sid}  preset [b]{self.preset}[/], {fixed}",
                         id="sweep-title")
            with Horizontal(classes="field"):
                yield Label("grid", classes="name")
                yield Input(id="sw-grid", compact=True,
                            placeholder="name=v1,v2,... (several: separate by spaces)")
            with Horizontal(classes="field"):
                yield Label("random", classes="name")
                yield Input(id="sw-random", compact=True,
                            placeholder="name=lo:hi or name=lo:hi:log (optional)")
                yield Label("samples", classes="name short")
                yield Input("0", id="sw-samples", classes="small", compact=True)
            with Horizontal(classes="field"):
                yield Label("seeds", classes="name")
                yield Input("0-2", id="sw-seeds", classes="small", compact=True)
                yield Label("workers", classes="name short")
                yield Input(str(default_workers()), id="sw-workers", classes="small",
                            compact=True)
                yield Label("metric", classes="name short")
                yield Input(sc.key_metric or "", id="sw-metric", classes="metric",
                            compact=True)
                yield Button("Start (ctrl+s)", id="sw-start", variant="primary",
                             compact=True)
            yield Static("", id="sw-error", classes="error", markup=False)
        yield InfoLine("enter the values to sweep, then ctrl+s (or enter) to start",
                       id="sw-progress")
        yield Grid(id="sw-panels")
        yield DataTable(id="sw-points", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#sw-grid", Input).focus()
        self.set_interval(POLL_SECONDS, self.poll)

    # ------------------------------------------------------------------ start

    def parse(self) -> tuple[Any, int]:
        """(SweepSpec, workers) from the inputs; raises SweepError with one line."""
        from paramlab.console.core.inputs import InputError, parse_seeds
        from paramlab.console.core.sweeps import SweepError, build_spec, expand

        def text(node_id: str) -> str:
            return self.query_one(f"#{node_id}", Input).value.strip()

        try:
            seeds = parse_seeds(text("sw-seeds"))
        except InputError as exc:
            raise SweepError(str(exc)) from None
        try:
            samples = int(text("sw-samples") or "0")
            workers = int(text("sw-workers") or "1")
        except ValueError:
            raise SweepError("samples and workers: expected whole numbers") from None
        if workers < 1:
            raise SweepError("workers: expected N >= 1")
        grid, random_dims = text("sw-grid").split(), text("sw-random").split()
        if not grid and not random_dims:
            raise SweepError("nothing to sweep: give a grid (name=v1,v2) or a random "
                             "range (name=lo:hi)")
        metric = text("sw-metric")
        # a param edited in the form and also swept here: the swept values win (the
        # CLI, given both flags explicitly, still refuses)
        swept = {item.partition("=")[0].strip() for item in grid + random_dims}
        sets = {k: v for k, v in self.sets.items() if k not in swept}
        spec = build_spec(self.scenario, preset=self.preset, sets=sets, grid=grid,
                          random_dims=random_dims, samples=samples or None, seeds=seeds,
                          device=self.device, metric=metric, threads=self.threads)
        expand(spec, self.scenario)  # every point's params are valid
        return spec, workers

    def action_start(self) -> None:
        from paramlab.console.core.sweeps import Sweep, SweepError

        if self.sweep is not None and not self.sweep.finished:
            self.notify("the sweep is running (c cancels it)", severity="warning")
            return
        error = self.query_one("#sw-error", Static)
        try:
            spec, workers = self.parse()
            sweep = Sweep.create(spec, runs=self.app.runs_dir)
        except (SweepError, OSError) as exc:
            error.update(str(exc).splitlines()[0])
            error.set_class(True, "shown")
            return
        error.update("")
        error.set_class(False, "shown")
        self.sweep = sweep
        self._seen_version = -1
        self._rows.clear()
        sweeps = getattr(self.app, "sweeps", None)
        if sweeps is not None:
            sweeps.append(sweep)
        sweep.start(workers=workers)
        self.query_one("#sw-points", DataTable).focus()
        self.poll()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_start()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "sw-start":
            self.action_start()

    # ------------------------------------------------------------------ live

    def poll(self) -> None:
        sweep = self.sweep
        if sweep is None:
            return
        pr = sweep.progress()
        line = format_sweep_progress(pr)
        if sweep.finished:
            if sweep.error:
                line += f"  [red]stopped: {sweep.error.strip().splitlines()[-1]}[/]"
            else:
                line += f"  [b]{sweep.state}[/], {pr.passed}/{pr.total} passed"
            line += f"  [dim]{sweep.directory}[/]"
        self.query_one("#sw-progress", InfoLine).text = line
        if sweep.version != self._seen_version:
            self._seen_version = sweep.version
            points = sweep.snapshot()
            self._update_table(points)
            self._update_panels()

    def _update_table(self, points: list[dict[str, Any]]) -> None:
        table = self.query_one("#sw-points", DataTable)
        swept = self.sweep.spec.swept
        metric = self.sweep.spec.metric
        if not table.columns:
            table.add_column("#", key="index")
            for name in swept:
                table.add_column(name, key=f"p:{name}")
            table.add_column("seed", key="seed")
            table.add_column("status", key="status")
            table.add_column("verdict", key="verdict")
            table.add_column(f"final {metric}"[:24], key="final")
            table.add_column("time", key="time")
            table.add_column("reason", key="reason")
        for p in points:
            final = p.final.get(metric)
            row = (str(p.index), *(fmt_param(p.overrides.get(n)) for n in swept),
                   str(p.seed), p.status,
                   f"{p.verdict} {p.score or ''}".strip() if p.verdict else "-",
                   fmt_value(final) if isinstance(final, (int, float)) else "-",
                   fmt_seconds(p.elapsed) if p.elapsed else "-",
                   (p.reason or "")[:60])
            key = p.id
            if key not in self._rows:
                table.add_row(*row, key=key)
            elif self._rows[key] != row:
                for col, value in zip(table.columns, row):
                    table.update_cell(key, col, value, update_width=True)
            self._rows[key] = row

    def _update_panels(self) -> None:
        pairs = self.sweep.summary_panels()[:MAX_PANELS]
        grid = self.query_one("#sw-panels", Grid)
        panels = list(grid.query(PlotPanel))
        if [p.panel.title for p in panels] != [panel.title for panel, _ in pairs]:
            grid.remove_children()
            panels = [PlotPanel(panel) for panel, _ in pairs]
            if panels:
                grid.mount_all(panels)
                grid.styles.grid_size_columns = max(1, min(len(panels),
                                                           self.size.width // 44))
                rows = math.ceil(len(panels) / grid.styles.grid_size_columns)
                grid.styles.grid_rows = str(max(8, (grid.size.height or 16) // rows))
        for widget, (panel, history) in zip(panels, pairs):
            widget.panel = panel
            widget.logy = panel.logy
            widget.set_sources([("", history)])

    # ------------------------------------------------------------------ leave

    def action_cancel_sweep(self) -> None:
        if self.sweep is None or self.sweep.finished:
            self.notify("no sweep running", severity="warning")
            return
        self.sweep.cancel()
        self.notify("cancelling the sweep: running points stop and are marked")

    def action_back(self) -> None:
        if self.sweep is not None and not self.sweep.finished:
            self.notify("the sweep is running: c cancels it, then escape goes back",
                        severity="warning")
            return
        self.app.pop_screen()

