"""The runs table: one row per live run or replayed record, refreshed a few times a second
(only the cells whose text changed are updated). `space` marks a row for comparison."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from paramlab.console.render.text import fmt_param, fmt_seconds, fmt_value

if TYPE_CHECKING:
    from paramlab.console.tui.model import RunView

SCENARIO_WIDTH, VERDICT_WIDTH, PARAMS_WIDTH = 22, 32, 24
# fixed widths: a changing cell never changes the table's size (no layout pass)
COLUMNS = (("mark", " ", 1), ("id", "run", 13), ("scenario", "scenario", SCENARIO_WIDTH),
           ("status", "status", 9), ("progress", "progress", 8), ("elapsed", "elapsed", 7),
           ("verdict", "verdict", VERDICT_WIDTH), ("preset", "preset", 7),
           ("seed", "seed", 4), ("params", "changed params", PARAMS_WIDTH),
           ("metric", "key metric", 24))
STATUS_STYLE = {"running": "bold cyan", "done": "green", "failed": "bold red",
                "cancelled": "yellow", "diverged": "bold red", "incomplete": "yellow"}


def row_cells(item: RunView) -> dict[str, str | Text]:
    step = item.history.last_step
    total = item.total
    if item.is_replay:
        progress = "record"
    elif step is None:  # e.g. a child process still importing torch
        progress = "starting" if not item.finished else "-"
    elif total:
        progress = f"{min(100, int(100 * step / total))}%"
    else:
        progress = f"step {step:g}"
    key = item.scenario.key_metric
    metric = f"{key}={fmt_value(item.history.last(key))}" if key else ""
    v = item.verdict
    if v is not None:
        verdict = Text.assemble(("✓ " if v.passed else "✗ ", "green" if v.passed else "red"),
                                _crop(v.summary, VERDICT_WIDTH - 2))
    elif item.status in ("failed", "diverged"):
        verdict = Text(_crop(f"✗ {item.reason or item.status}", VERDICT_WIDTH), style="red")
    else:
        verdict = Text("-" if item.finished else "...", style="dim")
    changed = " ".join(f"{k}={fmt_param(v)}" for k, v in item.changed_params().items())
    return {
        "preset": item.preset,
        "seed": str(item.seed),
        "params": _crop(changed, PARAMS_WIDTH) or "-",
        "mark": Text("*", style="bold magenta") if item.marked else Text(" "),
        "id": item.short_id,
        "scenario": _crop(item.scenario_id, SCENARIO_WIDTH),
        "status": Text(item.status, style=STATUS_STYLE.get(item.status, "")),
        "progress": progress,
        "elapsed": fmt_seconds(item.elapsed) if item.elapsed is not None else "-",
        "metric": metric,
        "verdict": verdict,
    }


def _sort_key(value: object) -> tuple:
    """Numbers by value, everything else by its text."""
    text = str(value).strip()
    try:
        return (0, float(text.rstrip("%s ").split()[0]), text)
    except (ValueError, IndexError):
        return (1, 0.0, text)


def _crop(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 3] + "..."


class RunsTable(DataTable):
    BINDINGS = [Binding("space", "mark", "Mark")]

    class MarkToggled(Message):
        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._shown: dict[str, dict[str, str]] = {}
        self._sort: tuple[str | None, bool] = (None, False)

    def on_mount(self) -> None:
        for key, label, width in COLUMNS:
            self.add_column(label, key=key, width=width)

    def add_item(self, item: RunView) -> None:
        cells = row_cells(item)
        self.add_row(*(cells[k] for k, _, _ in COLUMNS), key=item.key)
        self._shown[item.key] = {k: str(v) for k, v in cells.items()}

    def update_item(self, item: RunView) -> None:
        shown = self._shown.get(item.key)
        if shown is None:
            return
        for key, value in row_cells(item).items():
            if shown.get(key) != str(value):
                shown[key] = str(value)
                self.update_cell(item.key, key, value)

    def has_item(self, key: str) -> bool:
        return key in self._shown

    def select_key(self, key: str) -> None:
        if key in self._shown:
            self.move_cursor(row=self.get_row_index(key))

    @property
    def selected_key(self) -> str | None:
        if self.row_count == 0:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except Exception:
            return None

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        """A click on a column header sorts by it; again: the other way round. The rows
        start in the order the runs started (the run id's time, then its start)."""
        event.stop()
        column = event.column_key.value
        self._sort = (column, not self._sort[1] if self._sort[0] == column else False)
        self.sort(event.column_key, key=lambda v: _sort_key(v), reverse=self._sort[1])

    def action_mark(self) -> None:
        key = self.selected_key
        if key is not None:
            self.post_message(self.MarkToggled(key))
