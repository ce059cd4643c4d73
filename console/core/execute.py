"""One run, executed: the only place a scenario's events are produced, recorded and
checked. The runner's threads, the console's child processes and the sweep's workers all
call `execute(spec, sink)`; they differ only in where the events go (`sink`, the record's
target) and which history keeps them.

A run goes `running -> done | failed | cancelled | diverged`. Nothing a scenario does (an
exception, NaN, a cancel) escapes as an exception: it becomes the outcome's status, and
the record's footer says what happened (with the traceback when it failed).
"""

from __future__ import annotations

import math
import os
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paramlab.scenarios.base import Metric, Params, RunContext, Scenario, Verdict
from paramlab.scenarios.history import History

from .cache import cache_for
from .reading import iter_events
from .records import (
    RecordBuffer,
    RecordWriter,
    RunFooter,
    RunHeader,
    new_run_id,
    now_iso,
    package_versions,
)
from .threads import apply_thread_policy

MEMORY = "memory"  # RunSpec.record: keep the record's lines in memory
RUNNING, DONE, FAILED, CANCELLED, DIVERGED = "running", "done", "failed", "cancelled", "diverged"
FINAL_STATUSES = (DONE, FAILED, CANCELLED, DIVERGED)

# display-capped runs re-read their record for the check: one at a time per process, so
# that several long runs ending together do not hold several full histories at once
_FULL_READS = threading.Semaphore(1)


def resolve_device(requested: str, uses_torch: bool) -> str:
    """`auto` -> cuda when a torch scenario finds one, else cpu. numpy engines run on cpu."""
    if requested not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device: expected one of auto, cpu, cuda, got {requested!r}")
    if not uses_torch:
        return "cpu"
    if requested == "cpu":
        return "cpu"
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if requested == "cuda":
        raise ValueError("device: cuda was asked for but torch sees no CUDA device")
    return "cpu"


def one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


@dataclass
class RunSpec:
    """What to run and where its record goes: a file (`record` a path), memory (MEMORY:
    the lines come back in `Outcome.record_lines`, for a sweep's worker) or nowhere
    (None). `header` adds fields to the record's header (sweep, point, host)."""

    scenario: Scenario
    params: Params
    seed: int
    device: str = "cpu"
    preset: str = "default"
    run_id: str = field(default_factory=new_run_id)
    record: Path | str | None = None  # a file, MEMORY, or None (not recorded)
    header: dict[str, Any] = field(default_factory=dict)
    should_stop: Callable[[], bool] = lambda: False
    threads: int | None = None  # None: the thread policy decides (core/threads.py)
    cache_dir: Path | str | None = None  # the runs folder whose .cache keeps artifacts

    @property
    def scenario_id(self) -> str:
        return self.scenario.meta.id if self.scenario.meta else "?"

    def make_header(self, threads: dict[str, Any] | None = None) -> RunHeader:
        sc = self.scenario
        import socket

        extra = {"host": socket.gethostname(), "pid": os.getpid(), **self.header}
        return RunHeader(self.run_id, self.scenario_id, self.preset, self.params.to_dict(),
                         int(self.seed), self.device,
                         package_versions(("torch",) if sc.uses_torch else ()),
                         threads=threads, **extra)


@dataclass
class Outcome:
    """How a run ended: a final status, the verdict (runs that finished), and for the
    others one line of reason (plus the traceback of a failure)."""

    status: str
    verdict: Verdict | None = None
    reason: str = ""
    error: str | None = None
    elapsed: float = 0.0
    cpu: float = 0.0
    threads: dict[str, Any] | None = None  # what the thread policy set
    record_lines: list[bytes] | None = None  # the record, when kept in MEMORY

    def footer(self) -> RunFooter:
        return RunFooter(self.status, self.verdict.to_dict() if self.verdict else None,
                         now_iso(), round(self.elapsed, 3), self.reason, self.error)

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "reason": self.reason, "error": self.error,
                "verdict": self.verdict.to_dict() if self.verdict else None,
                "elapsed": round(self.elapsed, 3), "cpu": round(self.cpu, 3),
                "threads": self.threads}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Outcome:
        v = d.get("verdict")
        return cls(d["status"], Verdict.from_dict(v) if v else None, d.get("reason", ""),
                   d.get("error"), d.get("elapsed") or 0.0, d.get("cpu") or 0.0,
                   d.get("threads"))


def execute(spec: RunSpec, sink: Callable[[Any], None] | None = None, *,
            history: History | None = None,
            on_start: Callable[[float], None] | None = None) -> Outcome:
    """Run `spec` to its end: write its record's header, feed each event to the record,
    to `sink` and to `history`; stop on a watched non-finite value (diverged) or on
    `spec.should_stop()` (cancelled); check the claim; write the footer. Never raises.

    A `history` that drops points (`decimated`: capped for display, or keeping nothing)
    is not what the claim is checked on: the check reads the full record back."""
    history = History() if history is None else history
    t0, cpu0 = time.monotonic(), time.process_time()
    if on_start is not None:
        on_start(t0)
    writer: RecordBuffer | None = None
    threads = None
    try:
        threads = apply_thread_policy(spec.threads, spec.scenario)
        if spec.record == MEMORY:
            writer = RecordBuffer(spec.make_header(threads))
        elif spec.record is not None:
            writer = RecordWriter(Path(spec.record), spec.make_header(threads))
    except Exception as exc:  # e.g. the runs folder is not writable
        return Outcome(FAILED, None, one_line(exc), traceback.format_exc(), threads=threads)
    on_event = sink
    if writer is not None:
        def on_event(event: Any, _w: RecordBuffer = writer) -> None:
            _w.event(event, time.monotonic() - t0)
            if sink is not None:
                sink(event)

    ctx = RunContext(int(spec.seed), spec.device, should_stop=spec.should_stop,
                     cache=cache_for(spec.cache_dir))
    out = _drive(spec.scenario, spec.params, ctx, history, on_event,
                 lambda: _full_history(history, writer))
    out.elapsed = time.monotonic() - t0
    out.cpu = time.process_time() - cpu0
    out.threads = threads
    if writer is not None:
        try:
            writer.close(out.footer())
        except Exception:  # e.g. disk full: the run's outcome stays in memory
            out.error = (out.error or "") + traceback.format_exc()
        if not isinstance(writer, RecordWriter):
            out.record_lines = writer.lines
    return out


def _drive(sc: Scenario, params: Params, ctx: RunContext, history: History,
           on_event: Callable[[Any], None] | None,
           full_history: Callable[[], History]) -> Outcome:
    try:
        watch = sc.watch
        status, reason = DONE, ""
        gen = sc.run(params, ctx)
        try:
            for event in gen:
                if on_event is not None:
                    on_event(event)
                history.add(event)
                if watch and isinstance(event, Metric):
                    bad = [k for k in watch if k in event.values
                           and not math.isfinite(event.values[k])]
                    if bad:
                        status = DIVERGED
                        reason = f"{bad[0]} became {event.values[bad[0]]} at step " \
                                 f"{event.step:g}"
                        break
                if ctx.should_stop():
                    status = CANCELLED
                    break
        finally:
            gen.close()
        if status == DONE and ctx.should_stop():
            status = CANCELLED
        verdict = sc.check(full_history(), params) if status == DONE else None
        return Outcome(status, verdict, reason)
    except Exception as exc:
        return Outcome(FAILED, None, one_line(exc), traceback.format_exc())


def _full_history(history: History, writer: RecordBuffer | None) -> History:
    """The history `check` needs: every point. One that dropped points is replaced by
    the record's events (the record is the full truth)."""
    if not history.decimated or not isinstance(writer, RecordWriter):
        return history
    writer.flush()
    with _FULL_READS:
        return History(iter_events(writer.path))
