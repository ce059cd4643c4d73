"""Replay: read a record, rebuild its scenario, params and history, and re-check the
claim, comparing the new verdict with the recorded one. The CLI's `replay` and the
console's replayed rows both call `replay(path)`."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass

from paramlab.engines.params import ParamError
from paramlab.scenarios import registry
from paramlab.scenarios.base import Params, Scenario, Verdict
from paramlab.scenarios.history import History

from .inputs import InputError
from .reading import ColumnHistory, Record, read_record
from .records import RUNNING, RecordError, writer_state

SAME, DIFFERS, INCOMPLETE, NOT_CHECKED = "same", "differs", "incomplete", "not checked"
STILL_RUNNING = "running"  # no footer, and its writer is alive: no verdict on a part


def same_verdict(a: Verdict, b: Verdict) -> bool:
    """Equal verdicts, NaN measurements included (nan != nan as floats, but two NaN
    measurements are the same outcome)."""
    return json.dumps(a.to_dict(), sort_keys=True) == json.dumps(b.to_dict(), sort_keys=True)


@dataclass
class Replay:
    record: Record
    scenario: Scenario
    params: Params
    history: History
    verdict: Verdict | None  # re-computed (runs that finished, or have no footer)
    comparison: str  # SAME, DIFFERS, INCOMPLETE (no footer) or NOT_CHECKED (not done)

    @property
    def note(self) -> str:
        """One line for the user about the re-check (and skipped lines)."""
        text = {SAME: "re-checked: same verdict as recorded",
                DIFFERS: "warning: the re-computed verdict differs from the recorded one",
                INCOMPLETE: "no footer (interrupted run): verdict on the events recorded "
                            "so far",
                STILL_RUNNING: "still running (its process is alive): no verdict on a "
                               "partial history; follow it with paramlab watch",
                NOT_CHECKED: ""}[self.comparison]
        if self.record.skipped:
            text += ("; " if text else "") + f"skipped {self.record.skipped} unreadable line(s)"
        return text


def replay(path: str | os.PathLike,
           load: Callable[[str], Scenario] = registry.load) -> Replay:
    """Replay the record at `path`; InputError (one line) when it cannot be: no such
    file, not a record, unknown scenario, recorded params no longer valid."""
    history = ColumnHistory()
    try:
        rec = read_record(path, into=history)
    except RecordError as exc:
        raise InputError(str(exc)) from None
    try:
        sc = load(rec.scenario)
    except (registry.UnknownScenario, registry.ScenarioLoadError) as exc:
        raise InputError(f"{path}: {str(exc.args[0]).splitlines()[0]}") from None
    try:
        params = sc.params.build(rec.header.get("params", {}))
    except ParamError as exc:
        first = str(exc).splitlines()[0]
        raise InputError(f"{path}: recorded params no longer valid: {first}") from None
    if rec.status not in ("done", "incomplete"):
        return Replay(rec, sc, params, history, None, NOT_CHECKED)
    if rec.status == "incomplete" and writer_state(rec.header) == RUNNING:
        return Replay(rec, sc, params, history, None, STILL_RUNNING)
    verdict = sc.check(history, params)
    if rec.status == "incomplete":
        comparison = INCOMPLETE
    elif rec.verdict is not None and same_verdict(rec.verdict, verdict):
        comparison = SAME
    else:
        comparison = DIFFERS
    return Replay(rec, sc, params, history, verdict, comparison)
