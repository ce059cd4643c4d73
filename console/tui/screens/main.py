"""The main screen: scenario browser and card, live plots, the run's log, and the runs
table underneath. A timer polls the runs at a bounded rate: plots at ~10 Hz (only the
visible ones, only when their data changed), the table and log at 1 Hz
(a runs-table update re-renders the whole table: the costliest part of a frame).
"""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, TabbedContent, TabPane

from paramlab.console.tui.messages import RunFinished, RunsChanged
from paramlab.console.tui.widgets.param_form import ParamForm
from paramlab.console.tui.widgets.plots_view import PlotsView
from paramlab.console.tui.widgets.run_log import RunLog
from paramlab.console.tui.widgets.runs_table import RunsTable
from paramlab.console.tui.widgets.scenario_browser import ScenarioBrowser
from paramlab.console.tui.widgets.scenario_card import ScenarioCard

PLOT_HZ = 10
TABLE_EVERY = 10  # table and log refresh every 10th plot tick (1 Hz)
CARD_DELAY = 0.25  # seconds on a scenario before its card is built


class MainScreen(Screen):
    # esc goes through the bindings: a maximised panel with its cursor on hides the
    # cursor first; `action_leave_input` then leaves the maximised view
    ESCAPE_TO_MINIMIZE = False
    BINDINGS = [
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("r", "run", "Run"),
        Binding("ctrl+r", "run", "Run", show=False, priority=True),
        Binding("w", "sweep", "Sweep"),
        Binding("c", "cancel", "Cancel"),
        Binding("o", "compare", "Compare"),
        Binding("y", "toggle_logy", "Log y"),
        Binding("s", "cycle_smoothing", "Smooth", show=False),  # in ? help; footer room
        Binding("m", "maximize_panel", "Zoom", show=False),
        Binding("e", "export", "Export", show=False),
        Binding("C", "copy_command", "Copy command", show=False),
        Binding("v", "toggle_verdict", "Verdict table", show=False),
        Binding("left_square_bracket", "flip(-1)", "Prev panels", show=False),
        Binding("right_square_bracket", "flip(1)", "Next panels", show=False),
        Binding("1", "tab('tab-scenarios')", "Scenarios", show=False),
        Binding("2", "tab('tab-plots')", "Plots", show=False),
        Binding("3", "tab('tab-log')", "Log", show=False),
        Binding("escape", "leave_input", "Back", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.selected: str | None = None  # key of the run whose plots/log are shown
        self.comparing = False
        self._ticks = 0
        self._card_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        with TabbedContent(id="views", initial="tab-scenarios"):
            with TabPane("Scenarios", id="tab-scenarios"):
                with Horizontal(id="scenarios-body"):
                    yield ScenarioBrowser(self.app.scenario_metas(), id="browser")
                    yield ScenarioCard(id="card")
            with TabPane("Plots", id="tab-plots"):
                yield PlotsView(id="plots")
            with TabPane("Log", id="tab-log"):
                yield RunLog(id="log")
        yield RunsTable(id="runs")
        yield Footer()

    def on_mount(self) -> None:
        self.set_interval(1 / PLOT_HZ, self._tick)

    # ------------------------------------------------------------------ parts

    @property
    def plots(self) -> PlotsView:
        return self.query_one(PlotsView)

    @property
    def runs_table(self) -> RunsTable:
        return self.query_one(RunsTable)

    @property
    def card(self) -> ScenarioCard:
        return self.query_one(ScenarioCard)

    @property
    def tabs(self) -> TabbedContent:
        return self.query_one("#views", TabbedContent)

    def _tick(self) -> None:
        self._ticks += 1
        if self.tabs.active == "tab-plots":
            self.plots.poll()
        if self._ticks % TABLE_EVERY == 0:
            for item in self.app.items:
                if not item.finished or item.key == self.selected:
                    self.runs_table.update_item(item)
            if self.tabs.active == "tab-plots":
                self.plots.update_text()
            elif self.tabs.active == "tab-log":
                self.query_one(RunLog).poll()

    # ------------------------------------------------------------------ scenarios

    async def on_scenario_browser_highlighted(self, event: ScenarioBrowser.Highlighted) -> None:
        # moving through the list (or typing a filter) shows the card after a short
        # pause, so that a fast scroll does not build a form for every line passed
        if self._card_timer is not None:
            self._card_timer.stop()
            self._card_timer = None
        if event.chosen:
            await self._show_card(event.scenario_id, focus_form=True)
        else:
            self._card_timer = self.set_timer(
                CARD_DELAY, lambda: self._show_card(event.scenario_id))

    async def _show_card(self, scenario_id: str, focus_form: bool = False) -> None:
        self._card_timer = None
        try:
            scenario = self.app.load_scenario(scenario_id)
        except Exception as exc:  # a broken scenario module must not take the app down
            self.notify(f"{scenario_id}: {type(exc).__name__}: {exc}",
                        severity="error", title="cannot load scenario")
            return
        await self.card.show(scenario)
        if focus_form:
            form = self.card.form
            if form is not None:
                form.query(Input).first().focus()

    def on_param_form_launch_requested(self, event: ParamForm.LaunchRequested) -> None:
        event.stop()
        self.action_run()

    def on_param_form_sweep_requested(self, event: ParamForm.SweepRequested) -> None:
        event.stop()
        self.action_sweep()

    # ------------------------------------------------------------------ runs

    async def on_runs_changed(self, event: RunsChanged) -> None:
        table = self.runs_table
        if not table.has_item(event.item.key):
            table.add_item(event.item)
        if event.select:
            self.comparing = False
            table.select_key(event.item.key)
            await self._show(event.item.key)
            self.switch_tab("tab-plots")

    def on_run_finished(self, event: RunFinished) -> None:
        item = self.app.find(event.run_id)
        if item is not None:
            self.runs_table.update_item(item)
            self.plots.update_text()
            self.query_one(RunLog).poll()

    async def on_data_table_row_highlighted(self, event: RunsTable.RowHighlighted) -> None:
        key = event.row_key.value
        if key and key != self.selected and not self.comparing:
            await self._show(key)

    def on_data_table_row_selected(self, event: RunsTable.RowSelected) -> None:
        self.switch_tab("tab-plots")

    async def _show(self, key: str) -> None:
        item = self.app.find(key)
        if item is None:
            return
        self.selected = key
        await self.plots.show([item])
        self.query_one(RunLog).show(item)

    async def on_runs_table_mark_toggled(self, event: RunsTable.MarkToggled) -> None:
        item = self.app.find(event.key)
        if item is None:
            return
        item.marked = not item.marked
        self.runs_table.update_item(item)
        if self.comparing:
            await self._compare()

    # ------------------------------------------------------------------ actions

    def action_filter(self) -> None:
        self.tabs.active = "tab-scenarios"
        self.query_one("#filter", Input).focus()

    def action_tab(self, tab: str) -> None:
        self.switch_tab(tab)

    def switch_tab(self, tab: str) -> None:
        """Show a tab, moving focus out of the pane being hidden first (TabbedContent
        follows focus: a focused widget left in a hidden pane would switch back)."""
        if self.tabs.active == tab:
            return
        if tab == "tab-scenarios":
            self.tabs.active = tab
            self.call_after_refresh(self.query_one(ScenarioBrowser).option_list.focus)
            return
        self.runs_table.focus()
        self.tabs.active = tab

    def action_maximize_panel(self) -> None:
        """Maximise the focused panel (the first shown if none has focus); esc returns.
        Only on the Plots tab (elsewhere `m` may be the start of a filter being typed)."""
        if self.tabs.active != "tab-plots":
            return
        panels = self.plots.visible_panels
        if not panels:
            return
        target = next((p for p in panels if p.has_focus), panels[0])
        target.focus()
        self.maximize(target, container=False)

    def _selected_item(self):
        return self.app.find(self.selected) if self.selected else None

    def action_export(self) -> None:
        """The focused panel's points (CSV; the first shown if none has focus) and the
        verdict (JSON), written next to the selected run's record."""
        from paramlab.console.core.export import export_panel, export_verdict

        item = self._selected_item()
        if self.tabs.active != "tab-plots" or item is None:
            return
        if item.path is None:
            self.notify("this run has no record to export beside", severity="warning")
            return
        panels = self.plots.visible_panels
        if not panels:
            return
        target = next((p for p in panels if p.has_focus), panels[0])
        try:
            csv_path = export_panel(Path(item.path), target.panel, item.history)
            written = [csv_path.name]
            if item.finished:
                written.append(export_verdict(Path(item.path), item.verdict,
                                              item.status).name)
        except OSError as exc:
            self.notify(f"export failed: {exc}", severity="error")
            return
        self.notify("wrote " + ", ".join(written), title="export", timeout=4)

    def action_copy_command(self) -> None:
        """Copy the command line that repeats the selected run (OSC 52 clipboard)."""
        item = self._selected_item()
        if item is None:
            return
        self.app.copy_to_clipboard(item.command_line())
        self.notify(item.command_line(), title="copied", timeout=4)

    def action_toggle_verdict(self) -> None:
        if self.tabs.active == "tab-plots":
            self.plots.toggle_verdict_table()

    def action_flip(self, delta: int) -> None:
        if self.tabs.active != "tab-plots":
            return
        if not self.plots.flip(delta):
            self.notify("all panels are on screen", timeout=2)

    def action_leave_input(self) -> None:
        if self.maximized is not None:
            self.minimize()
            return
        if isinstance(self.focused, Input):
            self.runs_table.focus() if self.app.items else \
                self.query_one(ScenarioBrowser).option_list.focus()

    def _valid_form(self, not_started: str):
        """The card's form and its validated launch spec, or None (with a notice)."""
        form = self.card.form
        if form is None:
            self.notify("pick a scenario first", severity="warning")
            self.switch_tab("tab-scenarios")
            return None
        spec = form.validate()
        if spec is None:
            self.switch_tab("tab-scenarios")
            self.notify("fix the params first: " + "; ".join(form.errors)[:200],
                        severity="error", title=not_started)
            return None
        return form, spec

    def action_run(self) -> None:
        valid = self._valid_form("not started")
        if valid is None:
            return
        form, spec = valid
        try:
            self.app.launch(form.scenario, spec.params, preset=spec.preset, seed=spec.seed,
                            device=spec.device, threads=spec.threads)
        except ValueError as exc:  # e.g. cuda asked for but absent
            form.show_error(str(exc))
            self.notify(str(exc), severity="error", title="not started")

    def action_sweep(self) -> None:
        """Sweep the card's scenario: its preset and edited fields are the fixed part."""
        valid = self._valid_form("no sweep")
        if valid is None:
            return
        form, spec = valid
        from paramlab.console.tui.screens.sweep import SweepScreen

        self.app.push_screen(SweepScreen(form.scenario, preset=spec.preset,
                                         sets=form.overrides(), device=spec.device,
                                         threads=spec.threads))

    def action_cancel(self) -> None:
        key = self.runs_table.selected_key
        item = self.app.find(key) if key else None
        if item is None or item.finished:
            self.notify("no running run selected", severity="warning")
            return
        item.cancel()
        self.notify(f"cancelling {item.short_id}")

    async def action_compare(self) -> None:
        if self.comparing:
            self.comparing = False
            if self.selected:
                await self._show(self.selected)
            self.notify("compare off")
            return
        await self._compare()

    async def _compare(self) -> None:
        marked = [i for i in self.app.items if i.marked]
        if len(marked) < 2:
            self.notify("mark two or more runs with space to compare them",
                        severity="warning")
            self.comparing = False
            return
        scenarios = {i.scenario_id for i in marked}
        if len(scenarios) > 1:
            self.notify("compare runs of one scenario (marked: " + ", ".join(sorted(scenarios))
                        + ")", severity="warning")
            return
        self.comparing = True
        await self.plots.show(marked)
        self.switch_tab("tab-plots")

    def action_toggle_logy(self) -> None:
        if not self.plots.items:
            return
        self.switch_tab("tab-plots")
        # no toast: the panels' titles say "(log y)" (a toast per key costs a re-layout)
        message = self.plots.toggle_logy()
        if message:
            self.notify(message, severity="warning", timeout=2)

    def action_cycle_smoothing(self) -> None:
        if not self.plots.items:
            return
        self.switch_tab("tab-plots")
        self.plots.cycle_smoothing()
