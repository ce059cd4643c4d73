"""A one-line text (markup) that repaints without a layout pass when it changes.

`Static.update` asks for a layout of the screen each time; a status line updated a few
times a second next to live plots should only repaint itself.
"""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget


class InfoLine(Widget):
    DEFAULT_CSS = """
    InfoLine {
        height: 1;
        width: 1fr;
    }
    """

    text: reactive[str] = reactive("", layout=False)

    def __init__(self, text: str = "", *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.text = text

    def render(self) -> Content:
        return Content.from_markup(self.text)
