"""The selected run's log: its header, notes, verdict and, when it failed, the traceback."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widgets import Log

from paramlab.console.render.text import format_verdict

if TYPE_CHECKING:
    from paramlab.console.tui.model import RunView


class RunLog(Log):
    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, max_lines=5000, highlight=False)
        self.item: RunView | None = None
        self._shown: tuple | None = None

    def show(self, item: RunView | None) -> None:
        if item is not self.item:
            self.item = item
            self._shown = None
        self.poll()

    def poll(self) -> None:
        """Rewrite the log when the run's notes or status changed (a few times a second
        at most; notes are few, so a rewrite is cheap)."""
        item = self.item
        if item is None:
            return
        notes = item.history.notes
        key = (item.key, item.status, item.finished, len(notes))
        if key == self._shown:
            return
        self._shown = key
        self.clear()
        lines = self._header(item) + [f"note: {n}" for n in notes[-2000:]]
        if item.finished:
            lines += self._footer(item)
        self.write_lines(lines)

    @staticmethod
    def _header(item: RunView) -> list[str]:
        params = " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                          for k, v in item.params.to_dict().items())
        lines = [f"run {item.run_id}  {item.scenario_id}  preset {item.preset}  "
                 f"seed {item.seed}", f"params: {params}",
                 f"repeat it: {item.command_line()}   (C copies it)"]
        if item.path is not None:
            lines.append(f"record: {item.path}")
        return lines

    @staticmethod
    def _footer(item: RunView) -> list[str]:
        lines = [""]
        lines += format_verdict(item.verdict, item.scenario, item.status,
                                item.reason).splitlines()
        if item.replay_note:
            lines.append(item.replay_note)
        if item.error:
            lines += ["", "traceback:", *item.error.rstrip().splitlines()]
        return lines
