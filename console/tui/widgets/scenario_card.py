"""A scenario's card: paper (title, arXiv id, year), claim, what the paper reports, and
the param form to launch a run."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.markup import escape
from textual.widgets import Static

from paramlab.console.tui.widgets.param_form import ParamForm
from paramlab.scenarios.base import Scenario


class ScenarioCard(VerticalScroll):
    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.scenario: Scenario | None = None

    def compose(self) -> ComposeResult:
        yield Static("pick a scenario on the left ( / filters )", id="card-text")
        yield Static("", id="card-reports")

    @property
    def form(self) -> ParamForm | None:
        forms = self.query(ParamForm)
        return forms.first() if forms else None

    async def show(self, scenario: Scenario) -> None:
        if scenario is self.scenario:
            return
        self.scenario = scenario
        self.query_one("#card-text", Static).update(self.card_text(scenario))
        self.query_one("#card-reports", Static).update(self.reports_text(scenario))
        await self.query(ParamForm).remove()
        await self.mount(ParamForm(scenario, id="form"), before="#card-reports")
        self.scroll_home(animate=False)

    @staticmethod
    def card_text(scenario: Scenario) -> str:
        m = scenario.meta
        if m is None:
            return "(no metadata)"
        arxiv = f"arXiv {m.paper.arxiv}, " if m.paper.arxiv else ""
        status = f"  [dim]at toy scale: {escape(scenario.status)}[/]" if scenario.status else ""
        return (f"[b]{escape(m.id)}[/]  {escape(m.title)}{status}\n"
                f"[b]paper[/]  {escape(m.paper.title)} ({arxiv}{m.paper.year})\n"
                f"       [dim]{escape(m.paper.authors)}[/]\n"
                f"[b]claim[/]  {escape(m.claim)}")

    @staticmethod
    def reports_text(scenario: Scenario) -> str:
        m = scenario.meta
        if m is None:
            return ""
        return f"[b]paper reports[/]  {escape(scenario.paper_reports)}"
