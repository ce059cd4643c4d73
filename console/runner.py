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

    def start(self, scenario: str | Scenario, params: Params | Mapping[str, Any] | None = None,
              *, preset: str = "default", seed: int = 0, device: str = "auto",
              on_finish: Callable[[RunHandle], None] | None = None) -> RunHandle:
        """Validate, then start the run in its own thread. Raises only for bad input
        (unknown scenario, bad params, bad device), before anything runs."""
        sc = registry.load(scenario) if isinstance(scenario, str) else scenario
        if not isinstance(params, Params):
            params = sc.make_params(preset, params or {})
        dev = resolve_device(device, sc.uses_torch)
        run_id = new_run_id()
        path = self.directory / f"{run_id}.jsonl" if self.record else None
        handle = RunHandle(run_id, sc, params, int(seed), dev, preset, path,
                           total=sc.total_steps(params))
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
            ctx = RunContext(h.seed, h.device, should_stop=h._stop.is_set)
            watch = sc.watch
            t0 = time.monotonic()
            h.started = t0
            status = DONE
            gen = sc.run(h.params, ctx)
            try:
                for event in gen:
                    if writer is not None:
                        writer.event(event, time.monotonic() - t0)
                    h.history.add(event)
                    if watch and isinstance(event, Metric):
                        bad = [k for k in watch if k in event.values
                               and not math.isfinite(event.values[k])]
                        if bad:
                            status = DIVERGED
                            h.reason = f"{bad[0]} became {event.values[bad[0]]} at step " \
                                       f"{event.step:g}"
                            break
                    if h._stop.is_set():
                        status = CANCELLED
                        break
            finally:
                gen.close()
            if status == DONE and h._stop.is_set():
                status = CANCELLED
            if status == DONE:
                h.verdict = sc.check(h.history, h.params)
            h.status = status
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
