"""Scenarios grouped by theme, with a filter box. Highlighting one shows its card."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

from paramlab.scenarios.base import ScenarioMeta


def matches(meta: ScenarioMeta, query: str) -> bool:
    """Every word of the query appears in the id, title, theme, claim or paper."""
    hay = " ".join((meta.id, meta.title, meta.theme, meta.claim, meta.paper.title,
                    meta.paper.authors, str(meta.paper.year), meta.paper.arxiv)).lower()
    return all(word in hay for word in query.lower().split())


def short_paper(meta: ScenarioMeta) -> str:
    first = meta.paper.authors.split(",")[0].strip().split(" ")[-1]
    return f"{first} {meta.paper.year}"


class ScenarioBrowser(Vertical):
    class Highlighted(Message):
        def __init__(self, scenario_id: str, chosen: bool) -> None:
            super().__init__()
            self.scenario_id = scenario_id
            self.chosen = chosen  # enter pressed (not just moved onto)

    def __init__(self, metas: Sequence[ScenarioMeta], *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.metas = list(metas)
        self._shown: list[str] | None = None

    def compose(self) -> ComposeResult:
        yield Input(placeholder="/ filter scenarios", id="filter", compact=True)
        yield OptionList(id="scenario-list")

    def on_mount(self) -> None:
        self.populate("")

    @property
    def option_list(self) -> OptionList:
        return self.query_one("#scenario-list", OptionList)

    def populate(self, query: str) -> int:
        """Show the scenarios matching `query`, grouped under their theme."""
        ol = self.option_list
        shown = [m for m in self.metas if matches(m, query)]
        ids = [m.id for m in shown]
        if ids and ids == self._shown:  # typing on, same matches: nothing to redraw
            return len(shown)
        self._shown = ids
        ol.clear_options()
        themes: dict[str, list[ScenarioMeta]] = {}
        for m in shown:
            themes.setdefault(m.theme, []).append(m)
        options: list[Option] = []
        for theme, metas in themes.items():
            options.append(Option(Text(theme.upper(), style="bold"), disabled=True))
            for m in metas:
                arxiv = f" {m.paper.arxiv}" if m.paper.arxiv else ""
                options.append(Option(Text.assemble(
                    m.id, "\n", (f"  {short_paper(m)}{arxiv}", "dim")), id=m.id))
        if not shown:
            options.append(Option(Text(f"no scenario matches {query!r}", style="dim"),
                                  disabled=True))
        ol.add_options(options)
        first = next((i for i, o in enumerate(options) if o.id), None)
        if first is not None:
            ol.highlighted = first
        return len(shown)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            event.stop()
            self.populate(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            event.stop()
            self.option_list.focus()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if event.option.id:
            self.post_message(self.Highlighted(event.option.id, chosen=False))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.post_message(self.Highlighted(event.option.id, chosen=True))
