"""Recorded runs in the runs directory; enter replays one into the plots and verdict."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static


class RecordsScreen(Screen):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back"),
                Binding("enter", "open", "Open", priority=True),
                Binding("g", "reload", "Reload")]

    def __init__(self, directory: Path) -> None:
        super().__init__()
        self.directory = directory
        self.paths: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Static(f"records in {self.directory} (reading...)", id="records-head",
                     markup=False)
        yield DataTable(id="records", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, label in (("id", "run"), ("scenario", "scenario"), ("status", "status"),
                           ("verdict", "verdict"), ("started", "started"),
                           ("elapsed", "elapsed")):
            table.add_column(label, key=key)
        self.action_reload()

    def action_reload(self) -> None:
        self.run_worker(self._read, thread=True, exclusive=True, group="records-list")

    def _read(self) -> None:
        from paramlab.console.core.reading import record_rows

        rows = record_rows(self.directory)
        self.app.call_from_thread(self._fill, rows)

    def _fill(self, rows: list[dict]) -> None:
        from paramlab.console.render.text import fmt_seconds

        table = self.query_one(DataTable)
        table.clear()
        self.paths = {}
        for r in reversed(rows):  # newest first
            el = fmt_seconds(r["elapsed"]) if r["elapsed"] is not None else "-"
            table.add_row(r["id"], r["scenario"], r["status"], r["verdict"] or "-",
                          r["started"], el, key=r["path"])
            self.paths[r["path"]] = r["path"]
        head = self.query_one("#records-head", Static)
        if rows:
            head.update(f"{len(rows)} records in {self.directory}: enter opens one, "
                        f"esc goes back")
        else:
            head.update(f"no records in {self.directory} yet (runs write them there)")
        table.focus()

    def action_open(self) -> None:
        table = self.query_one(DataTable)
        if not self.paths or table.row_count == 0:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if key:
            self.app.pop_screen()
            self.app.open_record(key)
