"""Messages that cross from worker threads (or between widgets) to the UI.

Run threads never call into the UI per event: the UI polls each history's `version` at a
bounded rate. What does cross threads goes through `App.post_message`, which is
thread-safe: a run finishing, a record loaded (or not) by a worker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from paramlab.console.tui.model import RunView


class RunFinished(Message, bubble=False):
    """A live run ended (done, failed, cancelled or diverged); sent from its thread."""

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id


class RunsChanged(Message, bubble=False):
    """A run was added (launched or opened from a record); `item` is the new one."""

    def __init__(self, item: RunView, select: bool = True) -> None:
        super().__init__()
        self.item = item
        self.select = select


class RecordFailed(Message):
    """A record could not be opened; `message` is the one-line reason."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__()
        self.path = path
        self.message = message
