"""The key map (`?`)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = (
    ("Scenarios", (
        ("/", "filter the scenario list (enter: to the list, esc: leave the box)"),
        ("up/down, enter", "move in the list; enter goes to the param form"),
        ("r, ctrl+r, enter", "run the scenario with the form's params (enter in a field)"),
        ("w", "sweep it: grid/random values x seeds, live progress and summary plots"),
        ("tab / shift+tab", "move between fields and panes"),
    )),
    ("Runs", (
        ("up/down", "select a run in the runs table: its plots and log show"),
        ("c", "cancel the selected run (its record still gets a footer)"),
        ("space", "mark / unmark the run for comparison"),
        ("o", "overlay the marked runs of one scenario (again: back to one run)"),
        ("R", "recorded runs: open a record to replay it"),
    )),
    ("Plots", (
        ("y", "log y on/off (the focused panel, or all panels)"),
        ("s", "smoothing: off, debiased EMA 0.6 / 0.9 / 0.99 (as TensorBoard)"),
        ("m", "maximise the focused panel, or the first shown (esc to come back)"),
        ("left/right", "cursor on the focused panel: every series' value at that x"),
        ("shift+arrow, home/end", "cursor: 1/20 of the points at a time, to the ends; esc hides"),
        ("[ ]", "previous / next page of panels when they do not all fit"),
        ("v", "verdict table: criterion | measured | threshold | paper (shown when tall)"),
        ("e", "export the focused panel (CSV) and the verdict (JSON) beside the record"),
        ("C", "copy the command line that repeats the selected run"),
        ("1 2 3", "tabs: scenarios, plots, log"),
    )),
    ("Sweep screen", (
        ("ctrl+s, enter", "start the sweep (same syntax as paramlab sweep --grid/--random)"),
        ("c", "cancel the running sweep (points stop and are marked)"),
        ("escape", "back to the main screen (once the sweep is not running)"),
    )),
    ("App", (
        ("?", "this help"),
        ("ctrl+p", "command palette"),
        ("q", "quit (asks first while runs are going)"),
    )),
)


def help_text() -> str:
    lines = ["[b]paramlab keys[/]", ""]
    for group, keys in KEYS:
        lines.append(f"[b]{group}[/]")
        lines += [f"  [b]{k:<18}[/] {what}" for k, what in keys]
        lines.append("")
    lines.append("[dim]esc, q or ? closes this help[/]")
    return "\n".join(lines)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box"):
            yield Static(help_text(), id="help-text")

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
