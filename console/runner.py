"""The runner: one worker thread per run, cooperative cancel, records, verdicts.

A run goes `running -> done | failed | cancelled | diverged`. Nothing a scenario does
(an exception, NaN, a cancel) reaches the caller as an exception: it becomes the run's
status, and the record's footer says what happened (with the traceback when it failed).

Consumers never receive callbacks per event, so a slow consumer can never block a run:
they read `handle.history` (thread-safe, with a `version` counter that bumps per event)
at their own pace, and may pass `on_finish`, called once from the worker thread.
"""

from __future__ import annotations

import math
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paramlab.scenarios import registry
from paramlab.scenarios.base import Metric, Params, RunContext, Scenario, Verdict
from paramlab.scenarios.history import History

from .records import RecordWriter, new_run_id, now_iso, package_versions, runs_dir

RUNNING, DONE, FAILED, CANCELLED, DIVERGED = "running", "done", "failed", "cancelled", "diverged"
FINAL_STATUSES = (DONE, FAILED, CANCELLED, DIVERGED)


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


@dataclass(eq=False)
class RunHandle:
    run_id: str
    scenario: Scenario
    params: Params
    seed: int
    device: str
    preset: str
    path: Path | None
    history: History = field(default_factory=History)
    status: str = RUNNING
    verdict: Verdict | None = None
    error: str | None = None  # traceback of a failed run
    reason: str = ""  # one line: why it diverged / failed
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None
    total: int | None = None
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _done: threading.Event = field(default_factory=threading.Event, repr=False)
    thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def scenario_id(self) -> str:
        return self.scenario.meta.id if self.scenario.meta else "?"

    @property
    def elapsed(self) -> float:
        return (self.ended or time.monotonic()) - self.started

    @property
    def step(self) -> float | None:
        return self.history.last_step

    @property
    def finished(self) -> bool:
        return self._done.is_set()

    def cancel(self) -> None:
        self._stop.set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)


class Runner:
    def __init__(self, directory: str | Path | None = None, *, record: bool = True) -> None:
        self.directory = runs_dir(directory)
        self.record = record
        self.handles: list[RunHandle] = []
        # display-capped runs re-read their record for the check: one at a time, so that
        # several long runs ending together do not hold several full histories at once
        self._full_reads = threading.Semaphore(1)

    def start(self, scenario: str | Scenario, params: Params | Mapping[str, Any] | None = None,
              *, preset: str = "default", seed: int = 0, device: str = "auto",
              on_finish: Callable[[RunHandle], None] | None = None,
              display_cap: int | None = None) -> RunHandle:
        """Validate, then start the run in its own thread. Raises only for bad input
        (unknown scenario, bad params, bad device), before anything runs.

        `display_cap` bounds `handle.history` to that many points per series (for long
        live runs in the console); the record keeps every event and, if points were
        dropped, the claim is checked on the full history read back from the record.
        It applies only when the run is recorded."""
        sc = registry.load(scenario) if isinstance(scenario, str) else scenario
        if not isinstance(params, Params):
            params = sc.make_params(preset, params or {})
        dev = resolve_device(device, sc.uses_torch)
        run_id = new_run_id()
        path = self.directory / f"{run_id}.jsonl" if self.record else None
        handle = RunHandle(run_id, sc, params, int(seed), dev, preset, path,
                           total=sc.total_steps(params))
        if display_cap is not None and path is not None:
            handle.history = History(cap=display_cap)
        handle.thread = threading.Thread(target=self._execute, args=(handle, on_finish),
                                         name=f"paramlab-run-{run_id}", daemon=True)
        self.handles.append(handle)
        handle.thread.start()
        return handle

    def active(self) -> list[RunHandle]:
        return [h for h in self.handles if not h.finished]

    def cancel_all(self) -> None:
        for h in self.active():
            h.cancel()

    # ---------------------------------------------------------------- worker

    def _execute(self, h: RunHandle, on_finish: Callable[[RunHandle], None] | None) -> None:
        sc = h.scenario
        writer = None
        try:
            if h.path is not None:
                writer = RecordWriter(h.path, {
                    "run_id": h.run_id, "scenario": h.scenario_id, "preset": h.preset,
                    "params": h.params.to_dict(), "seed": h.seed, "device": h.device,
                    "versions": package_versions(("torch",) if sc.uses_torch else ()),
                    "started": now_iso()})
            t0 = time.monotonic()
            h.started = t0
            on_event = None
            if writer is not None:
                def on_event(event, _w=writer):
                    _w.event(event, time.monotonic() - t0)
            out = drive(sc, h.params, RunContext(h.seed, h.device, should_stop=h._stop.is_set),
                        h.history, on_event=on_event,
                        full_history=lambda: _full_history(h, writer, self._full_reads))
            h.verdict, h.reason, h.error = out.verdict, out.reason, out.error
            h.status = out.status
        except Exception as exc:
            h.status = FAILED
            h.error = traceback.format_exc()
            h.reason = f"{type(exc).__name__}: {exc}".splitlines()[0]
        h.ended = time.monotonic()
        if writer is not None:
            try:
                writer.close({"status": h.status,
                              "verdict": h.verdict.to_dict() if h.verdict else None,
                              "ended": now_iso(), "elapsed": round(h.elapsed, 3),
                              "reason": h.reason, "error": h.error})
            except Exception:  # e.g. disk full: the run's outcome stays in memory
                h.error = (h.error or "") + traceback.format_exc()
        h._done.set()
        if on_finish is not None:
            try:
                on_finish(h)
            except Exception:
                traceback.print_exc()


# -------------------------------------------------------------------- one run, anywhere


@dataclass
class Outcome:
    """How a run ended: a final status, the verdict (runs that finished), and for the
    others one line of reason (plus the traceback of a failure)."""

    status: str
    verdict: Verdict | None = None
    reason: str = ""
    error: str | None = None


def drive(sc: Scenario, params: Params, ctx: RunContext, history: History, *,
          on_event: Callable[[Any], None] | None = None,
          full_history: Callable[[], History] | None = None) -> Outcome:
    """Run `sc` to its end: feed each event to `on_event` (e.g. a record writer) and to
    `history`, stop on a watched non-finite value (diverged) or on `ctx.should_stop()`
    (cancelled), then check the claim. Shared by the Runner's threads and the sweep's
    worker processes. Never raises: an exception becomes a failed outcome.
    `full_history` gives the history the check reads when `history` is a capped display
    history (default: `history` itself)."""
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
        if status == DONE:
            verdict = sc.check(full_history() if full_history else history, params)
        else:
            verdict = None
        return Outcome(status, verdict, reason)
    except Exception as exc:
        return Outcome(FAILED, None, f"{type(exc).__name__}: {exc}".splitlines()[0],
                       traceback.format_exc())


def _full_history(h: RunHandle, writer: RecordWriter | None,
                  slots: threading.Semaphore) -> History:
    """The history `check` needs: every point. A display-capped history that dropped
    points is replaced by the record's events (the record is the full truth)."""
    if not h.history.decimated or writer is None:
        return h.history
    from .records import iter_events

    writer.flush()
    with slots:
        return History(iter_events(h.path))
