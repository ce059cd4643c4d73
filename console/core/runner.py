"""The runner: one worker thread per run, cooperative cancel, records, verdicts.

Consumers never receive callbacks per event, so a slow consumer can never block a run:
they read `handle.history` (thread-safe, with a `version` counter that bumps per event)
at their own pace, and may pass `on_finish`, called once from the worker thread.

`start(..., isolate=True)` runs the scenario in a child process instead (the console does
this, so that runs emitting thousands of events a second do not compete with the UI for
the GIL): the child executes the run and writes the record exactly as a thread would, and
sends its events in columnar batches (about 10 a second, the plots' own rate) to the
run's thread here, which merges them into `handle.history`. The handle looks the same
either way; a child that dies without a result becomes a failed run whose record gets a
footer saying so. Both call `execute.execute`: the one run path.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paramlab.engines.params import check_seed
from paramlab.scenarios import registry
from paramlab.scenarios.base import Params, Scenario, Verdict
from paramlab.scenarios.history import History

from .execute import (
    CANCELLED,
    DIVERGED,
    DONE,
    FAILED,
    FINAL_STATUSES,
    RUNNING,
    Outcome,
    RunSpec,
    execute,
    one_line,
    resolve_device,
)
from .processes import SharedFlag, lifeline, process_context, run_in_child
from .reading import append_footer
from .records import RecordError, RunFooter, new_run_id, runs_dir, usable_folder

__all__ = ["CANCELLED", "DIVERGED", "DONE", "FAILED", "FINAL_STATUSES", "RUNNING",
           "RunHandle", "Runner", "resolve_device"]


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
    threads: int | None = None  # requested BLAS/torch threads (None: the policy decides)
    cache_dir: Path | None = None  # runs folder whose .cache keeps built artifacts
    isolated: bool = False  # runs in a child process
    pid: int | None = None  # that process, once started
    _stop: Any = field(default_factory=threading.Event, repr=False)  # or a SharedFlag
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

    def spec(self) -> RunSpec:
        return RunSpec(self.scenario, self.params, self.seed, self.device, self.preset,
                       self.run_id, self.path, should_stop=self._stop.is_set,
                       threads=self.threads, cache_dir=self.cache_dir)

    def _set_start(self, t0: float) -> None:
        self.started = t0

    def _end(self, out: Outcome) -> None:
        self.ended = time.monotonic()
        self.status, self.verdict = out.status, out.verdict
        self.reason, self.error = out.reason, out.error


class Runner:
    def __init__(self, directory: str | Path | None = None, *, record: bool = True) -> None:
        self.directory = runs_dir(directory)
        self.record = record
        self.handles: list[RunHandle] = []

    def start(self, scenario: str | Scenario, params: Params | Mapping[str, Any] | None = None,
              *, preset: str = "default", seed: int = 0, device: str = "auto",
              on_finish: Callable[[RunHandle], None] | None = None,
              display_cap: int | None = None, isolate: bool = False,
              nice: int = 0, threads: int | None = None) -> RunHandle:
        """Validate, then start the run in its own thread. Raises only for bad input
        (unknown scenario, bad params, bad seed or device), before anything runs or is
        recorded.

        `isolate` runs the scenario in a child process (see the module's docstring); the
        scenario must then be loadable there by its id or its metadata's entry point.
        `nice` raises that process's niceness (lower CPU priority when cores are busy).

        `display_cap` bounds `handle.history` to that many points per series (for long
        live runs in the console); the record keeps every event and, if points were
        dropped, the claim is checked on the full history read back from the record.
        It applies only when the run is recorded. `threads` overrides the thread policy
        (core/threads.py) for this run."""
        sc = registry.load(scenario) if isinstance(scenario, str) else scenario
        if not isinstance(params, Params):
            params = sc.make_params(preset, params or {})
        seed = check_seed(seed)
        dev = resolve_device(device, sc.uses_torch)
        run_id = new_run_id()
        path = self.directory / f"{run_id}.jsonl" if self.record else None
        if path is not None:
            usable_folder(self.directory)
        if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)
                                    or threads < 1):
            raise ValueError(f"threads: expected an integer >= 1, got {threads!r}")
        handle = RunHandle(run_id, sc, params, seed, dev, preset, path,
                           total=sc.total_steps(params), threads=threads,
                           cache_dir=self.directory if self.record else None)
        if display_cap is not None and path is not None:
            handle.history = History(cap=display_cap)
        if isolate:
            if sc.meta is None:
                raise ValueError("isolate: the scenario has no metadata to load it by")
            handle.isolated = True
            handle._stop = SharedFlag(process_context())
            task = {"scenario": sc.meta.id, "meta": dataclasses.asdict(sc.meta),
                    "params": params.to_dict(), "seed": seed, "device": dev,
                    "preset": preset, "run_id": run_id,
                    "path": str(path) if path is not None else None, "nice": int(nice),
                    "threads": threads, "cache_dir": str(handle.cache_dir or "") or None}
            target, args = _run_isolated, (handle, on_finish, task)
        else:
            target, args = _run_in_thread, (handle, on_finish)
        handle.thread = threading.Thread(target=target, args=args,
                                         name=f"paramlab-run-{run_id}", daemon=True)
        self.handles.append(handle)
        handle.thread.start()
        return handle

    def active(self) -> list[RunHandle]:
        return [h for h in self.handles if not h.finished]

    def cancel_all(self) -> None:
        for h in self.active():
            h.cancel()


def _finished(h: RunHandle, on_finish: Callable[[RunHandle], None] | None) -> None:
    h._done.set()
    if on_finish is not None:
        try:
            on_finish(h)
        except Exception:
            logging.getLogger(__name__).exception("on_finish callback failed")


def _run_in_thread(h: RunHandle, on_finish: Callable[[RunHandle], None] | None) -> None:
    h._end(execute(h.spec(), history=h.history, on_start=h._set_start))
    _finished(h, on_finish)


def _run_isolated(h: RunHandle, on_finish: Callable[[RunHandle], None] | None,
                  task: dict[str, Any]) -> None:
    """The parent side of an isolated run: start the child, merge its batches into the
    history until its result arrives (or it dies), then finish the handle."""
    end: dict[str, Any] | None = None
    proc = None
    try:
        ctx = process_context()
        receiver, sender = ctx.Pipe(duplex=False)
        life_r, life_w = lifeline(ctx)
        proc = ctx.Process(target=run_in_child, args=(sender, h._stop, task, life_r),
                           name=f"paramlab-run-{h.run_id}", daemon=True)
        h.started = time.monotonic()
        proc.start()
        h.pid = proc.pid
        sender.close()  # so that the child's exit ends recv() with EOFError
        life_r.close()  # life_w stays open in this process until the run is over
        with receiver:
            while True:
                try:
                    msg = receiver.recv()
                except EOFError:
                    break
                if msg[0] == "batch":
                    h.history.merge(*msg[1:])
                elif msg[0] == "end":
                    end = msg[1]
                    break
        proc.join(10)
        life_w.close()
    except Exception as exc:
        end = {"status": FAILED, "error": traceback.format_exc(), "reason": one_line(exc)}
    if end is None:
        code = proc.exitcode if proc is not None else None
        out = Outcome(FAILED, reason=f"the run's process ended without a result "
                                     f"(exit code {code})")
        if h.path is not None:
            try:
                append_footer(h.path, RunFooter(out.status, None,
                                                elapsed=round(h.elapsed, 3),
                                                reason=out.reason,
                                                events=h.history.version))
            except (RecordError, OSError) as exc:  # died before its header: no record
                out = Outcome(FAILED, reason=f"{out.reason}; no record: {one_line(exc)}")
    else:
        out = Outcome.from_dict(end)
    h._end(out)
    _finished(h, on_finish)
