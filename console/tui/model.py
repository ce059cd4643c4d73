"""The console's run model: `RunView`, one run as the screens and widgets see it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from paramlab.console.core.runner import RunHandle
from paramlab.scenarios.base import Params, Scenario, Verdict
from paramlab.scenarios.history import History


@dataclass(eq=False)
class RunView:
    """What the console shows of one run, met both by a live run (`handle`, a core
    RunHandle) and by a replayed record (the `replay_*` fields): one row of the runs
    table, one set of panels, one log."""

    scenario: Scenario
    params: Params
    seed: int
    preset: str
    handle: RunHandle | None = None
    replay_history: History | None = None
    replay_status: str = ""
    replay_verdict: Verdict | None = None
    replay_elapsed: float | None = None
    replay_reason: str = ""
    replay_error: str | None = None
    replay_note: str = ""  # e.g. whether the re-checked verdict matches the recorded one
    record_path: Path | None = None
    run_id_: str = ""
    marked: bool = False
    opened: float = field(default_factory=time.monotonic)

    @property
    def key(self) -> str:
        return self.run_id if self.handle else f"record:{self.record_path}"

    @property
    def run_id(self) -> str:
        return self.handle.run_id if self.handle else self.run_id_

    @property
    def short_id(self) -> str:
        rid = self.run_id
        return rid[9:] if len(rid) > 9 and rid[8] == "-" else rid

    @property
    def scenario_id(self) -> str:
        return self.scenario.meta.id if self.scenario.meta else "?"

    @property
    def is_replay(self) -> bool:
        return self.handle is None

    @property
    def history(self) -> History:
        return self.handle.history if self.handle else self.replay_history  # type: ignore

    @property
    def status(self) -> str:
        return self.handle.status if self.handle else self.replay_status

    @property
    def finished(self) -> bool:
        return self.handle.finished if self.handle else True

    @property
    def verdict(self) -> Verdict | None:
        return self.handle.verdict if self.handle else self.replay_verdict

    @property
    def elapsed(self) -> float | None:
        return self.handle.elapsed if self.handle else self.replay_elapsed

    @property
    def reason(self) -> str:
        return self.handle.reason if self.handle else self.replay_reason

    @property
    def error(self) -> str | None:
        return self.handle.error if self.handle else self.replay_error

    @property
    def path(self) -> Path | None:
        return self.handle.path if self.handle else self.record_path

    @property
    def total(self) -> int | None:
        if self.handle:
            return self.handle.total
        return self.scenario.total_steps(self.params)

    def changed_params(self) -> dict[str, object]:
        """The params whose value differs from the run's preset."""
        try:
            base = self.scenario.make_params(self.preset).to_dict()
        except Exception:  # a preset this scenario no longer has: against the defaults
            base = self.scenario.params().to_dict()
        return {k: v for k, v in self.params.to_dict().items() if base.get(k) != v}

    def command_line(self) -> str:
        """The `paramlab run` command that repeats this run exactly."""
        import shlex

        from paramlab.console.render.text import fmt_param

        parts = ["paramlab", "run", self.scenario_id]
        if self.preset != "default":
            parts += ["--preset", self.preset]
        parts += ["--seed", str(self.seed)]
        for k, v in self.changed_params().items():
            parts += ["--set", f"{k}={fmt_param(v, digits=17)}"]
        return " ".join(shlex.quote(x) for x in parts)

    def cancel(self) -> None:
        if self.handle and not self.handle.finished:
            self.handle.cancel()
