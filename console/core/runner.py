"""The runner: one worker thread per run, cooperative cancel, records, verdicts.

A run goes `running -> done | failed | cancelled | diverged`. Nothing a scenario does
(an exception, NaN, a cancel) reaches the caller as an exception: it becomes the run's
status, and the record's footer says what happened (with the traceback when it failed).

Consumers never receive callbacks per event, so a slow consumer can never block a run:
they read `handle.history` (thread-safe, with a `version` counter that bumps per event)
at their own pace, and may pass `on_finish`, called once from the worker thread.

`start(..., isolate=True)` runs the scenario in a child process instead (the console does
this, so that runs emitting thousands of events a second do not compete with the UI for
the GIL): the child drives the run and writes the record exactly as a thread would, and
sends its events in columnar batches (about 10 a second, the plots' own rate) to the
run's thread here, which merges them into `handle.history`. The handle looks the same
either way; a child that dies without a result becomes a failed run whose record gets
a footer saying so.
"""

from __future__ import annotations

import dataclasses
import math
import multiprocessing
import os
import signal
import threading
import time
import traceback
from array import array
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paramlab.console.core.records import (
    RecordWriter,
    new_run_id,
    now_iso,
    package_versions,
    runs_dir,
)
from paramlab.scenarios import registry
from paramlab.scenarios.base import (
    Metric,
    Note,
    Paper,
    Params,
    RunContext,
    Scenario,
    ScenarioMeta,
    Table,
    Verdict,
)
from paramlab.scenarios.history import History

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
              display_cap: int | None = None, isolate: bool = False,
              nice: int = 0) -> RunHandle:
        """Validate, then start the run in its own thread. Raises only for bad input
        (unknown scenario, bad params, bad device), before anything runs.

        `isolate` runs the scenario in a child process (see the module's docstring); the
        scenario must then be loadable there by its id or its metadata's entry point.
        `nice` raises that process's niceness (lower CPU priority when cores are busy).

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
        if isolate:
            if sc.meta is None:
                raise ValueError("isolate: the scenario has no metadata to load it by")
            handle.isolated = True
            handle._stop = SharedFlag(process_context())
            task = {"scenario": sc.meta.id, "meta": dataclasses.asdict(sc.meta),
                    "params": params.to_dict(), "seed": int(seed), "device": dev,
                    "preset": preset, "run_id": run_id,
                    "path": str(path) if path is not None else None,
                    "nice": int(nice)}
            target, args = self._execute_isolated, (handle, on_finish, task)
        else:
            target, args = self._execute, (handle, on_finish)
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

    # ---------------------------------------------------------------- worker

    def _execute(self, h: RunHandle, on_finish: Callable[[RunHandle], None] | None,
                 tee: Callable[[Any], None] | None = None) -> None:
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
            on_event = tee
            if writer is not None:
                def on_event(event, _w=writer, _tee=tee):
                    _w.event(event, time.monotonic() - t0)
                    if _tee is not None:
                        _tee(event)
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
        self._finished(h, on_finish)

    @staticmethod
    def _finished(h: RunHandle, on_finish: Callable[[RunHandle], None] | None) -> None:
        h._done.set()
        if on_finish is not None:
            try:
                on_finish(h)
            except Exception:
                traceback.print_exc()

    def _execute_isolated(self, h: RunHandle, on_finish: Callable[[RunHandle], None] | None,
                          task: dict[str, Any]) -> None:
        """The parent side of an isolated run: start the child, merge its batches into
        the history until its result arrives (or it dies), then finish the handle."""
        end: dict[str, Any] | None = None
        proc = None
        try:
            ctx = process_context()
            receiver, sender = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_run_in_child, args=(sender, h._stop, task),
                               name=f"paramlab-run-{h.run_id}", daemon=True)
            h.started = time.monotonic()
            proc.start()
            h.pid = proc.pid
            sender.close()  # so that the child's exit ends recv() with EOFError
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
        except Exception as exc:
            end = {"status": FAILED, "error": traceback.format_exc(),
                   "reason": f"{type(exc).__name__}: {exc}".splitlines()[0]}
        h.ended = time.monotonic()
        if end is None:
            code = proc.exitcode if proc is not None else None
            end = {"status": FAILED,
                   "reason": f"the run's process ended without a result (exit code {code})"}
            if h.path is not None:
                _append_footer(h, end)
        h.status = end["status"]
        h.verdict = Verdict.from_dict(end["verdict"]) if end.get("verdict") else None
        h.reason, h.error = end.get("reason", ""), end.get("error")
        self._finished(h, on_finish)


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


# -------------------------------------------------------------------- child processes


def process_context() -> Any:
    """The multiprocessing context for runs and sweep workers: forkserver where it exists
    (never fork: the parent has threads), else spawn."""
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() \
        else "spawn"
    return multiprocessing.get_context(method)


# Thread-pool sizes of BLAS / OpenMP (numpy, torch): read once, when the library loads
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
              "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def one_thread_per_process(threads: int = 1) -> None:
    """For a worker process about to import numpy / torch: size their thread pools (the
    environment wins). Several processes each with all-core BLAS pools oversubscribe the
    CPU (OpenBLAS threads spin), and a result's last bits may depend on the pool size."""
    for name in THREAD_ENV:
        os.environ.setdefault(name, str(threads))


def warm_process_server() -> None:
    """Start the forkserver now, with paramlab's runner imported in it, so that each
    isolated run's process starts in milliseconds. numpy and torch are *not* preloaded:
    they size their thread pools when imported, and each worker sizes its own.
    Call it before anything redirects sys.stderr (a Textual app does): the helper
    processes are handed its file descriptor. Only the resource tracker with spawn."""
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()
    ctx = process_context()
    if ctx.get_start_method() != "forkserver":
        return
    ctx.set_forkserver_preload(["paramlab.console.core.runner"])
    from multiprocessing import forkserver

    forkserver.ensure_running()


def load_for_worker(scenario_id: str, meta: Mapping[str, Any] | None) -> Scenario:
    """Load a scenario in a worker process; one registered only in the parent (a notebook,
    a test, a benchmark) is registered here from its metadata, if its module imports."""
    try:
        return registry.load(scenario_id)
    except registry.UnknownScenario:
        if not meta:
            raise
        d = dict(meta)
        d["paper"] = Paper(**d["paper"])
        registry.register(ScenarioMeta(**d))
        return registry.load(scenario_id)


class SharedFlag:
    """A stop flag shared with a child process: one byte of shared memory (reading it
    costs a fraction of a microsecond, unlike a multiprocessing.Event's lock)."""

    def __init__(self, ctx: Any) -> None:
        self._flag = ctx.RawValue("b", 0)

    def set(self) -> None:
        self._flag.value = 1

    def is_set(self) -> bool:
        return bool(self._flag.value)


class _RecordOnly(History):
    """The child's history when the run is recorded: it keeps nothing (the parent holds
    the display history, the record holds every event), so a long run's process stays
    small; `decimated` tells the runner to check the claim on the record's events."""

    def __init__(self) -> None:
        super().__init__()
        self.decimated = True

    def add(self, event: Any) -> None:
        pass


class _Batcher:
    """Child side of an isolated run: collects events column-wise and sends them to the
    parent every `every` seconds (or `most` events). If the parent is gone, the run is
    asked to stop (it ends as cancelled, with its record's footer written)."""

    def __init__(self, conn: Any, stop: Any, every: float = 0.1, most: int = 20_000) -> None:
        self.conn, self.stop, self.every, self.most = conn, stop, every, most
        self.broken = False
        self._reset()

    def _reset(self) -> None:
        self.cols: dict[str, tuple[array, array]] = {}
        self.tables: list[Table] = []
        self.notes: list[str] = []
        self.n = 0
        self.last_step: float | None = None
        self.sent = time.monotonic()

    def add(self, event: Any) -> None:
        if isinstance(event, Metric):
            step = float(event.step)
            self.last_step = step
            cols = self.cols
            for name, value in event.values.items():
                col = cols.get(name)
                if col is None:
                    col = cols[name] = (array("d"), array("d"))
                col[0].append(step)
                col[1].append(float(value))
        elif isinstance(event, Table):
            self.tables.append(event)
        elif isinstance(event, Note):
            self.notes.append(event.text)
        self.n += 1
        if self.n >= self.most or time.monotonic() - self.sent >= self.every:
            self.flush()

    def flush(self) -> None:
        if self.n and not self.broken:
            self.send(("batch", self.cols, self.tables, self.notes, self.n, self.last_step))
        self._reset()

    def send(self, msg: tuple) -> None:
        try:
            self.conn.send(msg)
        except (BrokenPipeError, ConnectionResetError, EOFError, OSError):
            self.broken = True
            self.stop.set()


def _run_in_child(conn: Any, stop: Any, task: dict[str, Any]) -> None:
    """Entry point of an isolated run's process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when a run stops
    one_thread_per_process()  # several runs go at once, as a sweep's points do
    if task.get("nice"):
        try:
            os.nice(task["nice"])
        except (AttributeError, OSError):  # no nice on this platform: run as is
            pass
    batcher = _Batcher(conn, stop)
    try:
        sc = load_for_worker(task["scenario"], task["meta"])
        params = sc.params.build(task["params"])
    except Exception as exc:
        batcher.send(("end", {"status": FAILED, "error": traceback.format_exc(),
                              "reason": f"{type(exc).__name__}: {exc}".splitlines()[0]}))
        return
    path = Path(task["path"]) if task["path"] else None
    h = RunHandle(task["run_id"], sc, params, task["seed"], task["device"], task["preset"],
                  path)
    h._stop = stop
    if path is not None:
        h.history = _RecordOnly()
    runner = Runner(path.parent if path is not None else None, record=path is not None)
    runner._execute(h, None, tee=batcher.add)
    batcher.flush()
    batcher.send(("end", {"status": h.status, "reason": h.reason, "error": h.error,
                          "verdict": h.verdict.to_dict() if h.verdict else None}))
    conn.close()


def _append_footer(h: RunHandle, footer: dict[str, Any]) -> None:
    """Close the record of a run whose process died: keep every line it wrote (a torn
    last line is left for the tolerant reader to skip) and add a footer."""
    from paramlab.console.core.records import read_footer

    try:
        if read_footer(h.path) is not None:  # type: ignore[arg-type]
            return
        import json

        with open(h.path, "a", encoding="utf-8") as fh:  # type: ignore[arg-type]
            fh.write("\n" + json.dumps({"kind": "footer", "events": h.history.version,
                                        "verdict": None, "ended": now_iso(),
                                        "elapsed": round(h.elapsed, 3), **footer},
                                       separators=(",", ":")) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
    except OSError:
        pass


def _full_history(h: RunHandle, writer: RecordWriter | None,
                  slots: threading.Semaphore) -> History:
    """The history `check` needs: every point. A display-capped history that dropped
    points is replaced by the record's events (the record is the full truth)."""
    if not h.history.decimated or writer is None:
        return h.history
    from paramlab.console.core.records import iter_events

    writer.flush()
    with slots:
        return History(iter_events(h.path))
