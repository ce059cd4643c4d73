"""Runs in child processes: the multiprocessing context, the warm process server, loading
a scenario in a worker, the shared stop flag, and the child side of an isolated run (which
calls `execute` like every run and sends its events to the parent in columnar batches)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from array import array
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from paramlab.scenarios import registry
from paramlab.scenarios.base import Metric, Note, Paper, Scenario, ScenarioMeta, Table
from paramlab.scenarios.history import History

from . import threads as _threads  # noqa: F401  (captures the user's thread settings first)
from .execute import FAILED, RunSpec, execute, one_line


def process_context() -> Any:
    """The multiprocessing context for runs and sweep workers: forkserver where it exists
    (never fork: the parent has threads), else spawn."""
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() \
        else "spawn"
    return multiprocessing.get_context(method)


def warm_process_server() -> None:
    """Start the forkserver now, with this module imported in it, so that each isolated
    run's process starts in milliseconds. numpy and torch are *not* preloaded: they size
    their thread pools when imported, and each worker sizes its own. Call it before
    anything redirects sys.stderr (a Textual app does): the helper processes are handed
    its file descriptor. Only the resource tracker with spawn."""
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()
    ctx = process_context()
    if ctx.get_start_method() != "forkserver":
        return
    ctx.set_forkserver_preload([__name__])
    from multiprocessing import forkserver

    forkserver.ensure_running()


def lifeline(ctx: Any) -> tuple[Any, Any]:
    """A one-way pipe (reader, writer) whose writer only this process holds. A child given
    the reader calls `die_with_parent(reader, stop)`: when this process ends, however it
    ends (kill -9 included), the child's run is asked to stop and the child exits, so no
    worker, forkserver or resource tracker outlives its driver."""
    return ctx.Pipe(duplex=False)


def die_with_parent(reader: Any, stop: Any, grace: float = 1.0) -> None:
    """Watch a lifeline (see `lifeline`) in a daemon thread: at its end, call `stop()`
    (the run ends as cancelled, footer written), wait `grace` seconds, then exit."""
    import threading

    def watch() -> None:
        while True:
            try:
                reader.recv_bytes()  # nothing is ever sent: this returns only at the end
            except (EOFError, OSError):
                break
        try:
            stop()
        finally:
            time.sleep(grace)
            os._exit(1)

    threading.Thread(target=watch, name="paramlab-lifeline", daemon=True).start()


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


class RecordOnly(History):
    """The child's history when the run is recorded: it keeps nothing (the parent holds
    the display history, the record holds every event), so a long run's process stays
    small; `decimated` makes `execute` check the claim on the record's events."""

    def __init__(self) -> None:
        super().__init__()
        self.decimated = True

    def add(self, event: Any) -> None:
        pass


class Batcher:
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


def run_in_child(conn: Any, stop: Any, task: dict[str, Any], life: Any = None) -> None:
    """Entry point of an isolated run's process: `execute` with the batcher as sink."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when a run stops
    if life is not None:
        die_with_parent(life, stop.set)
    if task.get("nice"):
        try:
            os.nice(task["nice"])
        except (AttributeError, OSError):  # no nice on this platform: run as is
            pass
    batcher = Batcher(conn, stop)
    try:
        sc = load_for_worker(task["scenario"], task["meta"])
        params = sc.params.build(task["params"])
    except Exception as exc:
        import traceback

        batcher.send(("end", {"status": FAILED, "error": traceback.format_exc(),
                              "reason": one_line(exc)}))
        return
    path = Path(task["path"]) if task["path"] else None
    spec = RunSpec(sc, params, task["seed"], task["device"], task["preset"], task["run_id"],
                   path, should_stop=stop.is_set, threads=task.get("threads"),
                   cache_dir=task.get("cache_dir"))
    out = execute(spec, batcher.add, history=RecordOnly() if path is not None else None)
    batcher.flush()
    batcher.send(("end", out.to_dict()))
    conn.close()
