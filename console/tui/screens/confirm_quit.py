"""Asks before quitting while runs are going (they are cancelled, their records kept)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmQuit(ModalScreen[bool]):
    BINDINGS = [Binding("y", "answer(True)", "Quit"),
                Binding("n,escape", "answer(False)", "Stay")]

    def __init__(self, active: int) -> None:
        super().__init__()
        self.active = active

    def compose(self) -> ComposeResult:
        runs = "1 run or sweep is" if self.active == 1 else \
            f"{self.active} runs or sweeps are"
        with Vertical(id="confirm-box"):
            yield Static(f"{runs} still going. Quit and cancel "
                         f"{'it' if self.active == 1 else 'them'}? Records are kept.")
            with Horizontal(id="confirm-buttons"):
                yield Button("Quit (y)", id="yes", variant="error", compact=True)
                yield Button("Stay (n)", id="no", compact=True)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
