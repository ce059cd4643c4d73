"""A sweep: a grid or random set of param overrides x seeds, each point an ordinary run.

    paramlab sweep matrix-sensing-overparam --preset quick \\
        --grid alpha_asym=0.01,0.03,0.1,0.3 --seeds 0-4 --workers 2

A sweep lives in one folder:

    sweep.json      the manifest: spec, one entry per point (`SweepPoint`: overrides, seed,
                    full params, identity hash, status, record, verdict, final metrics),
                    rewritten atomically, so it is valid at every moment
    runs/*.jsonl    one ordinary run record per finished or cancelled point (the header
                    also carries "sweep", "point" and "host")

Points run in worker processes (`core/executors`: a local process pool or Dask); each
worker executes its point with the one run path and returns the record's lines, which the
driver writes as they are (so workers need no shared filesystem).

For a UI: `Sweep.start(executor, on_point=...)` runs the sweep in a background thread;
`progress()`, `snapshot()` and `version` are safe to read from any thread; `cancel()` stops
it cleanly; `summary_panels()` gives (Panel, History) pairs drawn like a run's panels.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paramlab.console.core.execute import CANCELLED, DIVERGED, DONE, FAILED, one_line
from paramlab.console.core.reading import ColumnHistory, read_footer, read_record
from paramlab.console.core.records import RecordError, new_run_id, now_iso, runs_dir, write_lines
from paramlab.scenarios import registry
from paramlab.scenarios.base import Panel, Scenario
from paramlab.scenarios.history import History

from .manifest import (
    JOURNAL,
    MANIFEST,
    MANIFEST_FORMAT,
    Journal,
    dumps,
    lock_folder,
    read_manifest,
    write_json_atomic,
)
from .points import COMPLETE, PENDING, RUNNING, SKIPPED, SweepPoint, expand, run_point
from .spec import SweepError, SweepSpec
from .summary import summary_panels, summary_rows

# ------------------------------------------------------------------ progress


@dataclass(frozen=True)
class SweepProgress:
    total: int
    done: int  # status done
    failed: int  # failed or diverged
    cancelled: int
    running: int
    pending: int
    passed: int  # done with a passing verdict
    elapsed: float  # seconds since this session started
    eta: float | None  # seconds, from this session's throughput

    @property
    def finished(self) -> int:
        return self.done + self.failed


# ------------------------------------------------------------------ the sweep


class Sweep:
    """A sweep folder and its run loop. Thread-safe to read while it runs."""

    def __init__(self, directory: Path, manifest: dict[str, Any], scenario: Scenario,
                 points: list[SweepPoint] | None = None) -> None:
        self.directory = directory
        self.manifest = {k: v for k, v in manifest.items() if k != "points"}
        self.points = points if points is not None else \
            [SweepPoint.from_dict(p) for p in manifest.get("points", [])]
        self.spec = SweepSpec.from_dict(manifest["spec"])
        self.scenario = scenario
        self.version = 0  # bumps on every change of a point
        self._lock = threading.RLock()
        self._cancel = threading.Event()
        self._done = threading.Event()
        self._done.set()
        self._started = time.monotonic()
        self._finished_here = 0
        self._changed: dict[int, SweepPoint] = {}  # points changed since the last write
        self._last_write = 0.0
        self._journal = Journal(directory / JOURNAL)
        self._meta: dict[str, Any] | None = None
        self.thread: threading.Thread | None = None
        self.error: str | None = None  # traceback, when the run loop itself broke

    # ---------------------------------------------------------------- creation

    @classmethod
    def create(cls, spec: SweepSpec, directory: str | os.PathLike | None = None, *,
               runs: str | os.PathLike | None = None) -> Sweep:
        scenario = registry.load(spec.scenario)
        points = expand(spec, scenario)
        sweep_id, d = cls.new_folder(directory, runs)
        d.mkdir(parents=True, exist_ok=True)
        manifest = {"kind": "paramlab-sweep", "format": MANIFEST_FORMAT, "sweep_id": sweep_id,
                    "created": now_iso(), "updated": now_iso(), "state": PENDING,
                    "backend": None, "spec": spec.to_dict()}
        sweep = cls(d, manifest, scenario, points)
        sweep._write_manifest()
        return sweep

    @staticmethod
    def new_folder(directory: str | os.PathLike | None = None,
                   runs: str | os.PathLike | None = None) -> tuple[str, Path]:
        """A new sweep id and its folder (`directory`, else RUNS/sweeps/<id>), checked to
        be usable; nothing is created yet."""
        sweep_id = new_run_id()
        d = Path(directory) if directory else runs_dir(runs) / "sweeps" / sweep_id
        if (d / MANIFEST).exists():
            raise SweepError(f"{d} already holds a sweep; continue it with --resume {d}")
        if d.exists() and (not d.is_dir() or any(d.iterdir())):
            raise SweepError(f"{d}: exists and is not an empty folder")
        return sweep_id, d

    @classmethod
    def open(cls, directory: str | os.PathLike) -> Sweep:
        """The sweep in `directory`, its manifest checked field by field and its points
        against what its spec expands to: SweepError (one line) when it was edited by hand
        into something this sweep did not make."""
        d = Path(directory)
        path = d / MANIFEST
        manifest = read_manifest(d)
        spec_d, points = manifest.get("spec"), manifest.get("points")
        if not isinstance(spec_d, dict) or not isinstance(spec_d.get("scenario"), str):
            raise SweepError(f"{path}: 'spec' is missing or not a sweep spec")
        if not isinstance(points, list):
            raise SweepError(f"{path}: 'points' is missing or not a list")
        if not isinstance(manifest.get("state"), str) or \
                not isinstance(manifest.get("sweep_id"), str):
            raise SweepError(f"{path}: 'state' and 'sweep_id' must be strings")
        try:
            scenario = registry.load(spec_d["scenario"])
        except registry.UnknownScenario as exc:
            raise SweepError(f"{d}: {exc.args[0]}") from None
        try:
            spec = SweepSpec.from_dict(spec_d)
            expected = expand(spec, scenario)
        except SweepError as exc:
            raise SweepError(f"{path}: {exc}") from None
        except (TypeError, ValueError, AttributeError) as exc:
            raise SweepError(f"{path}: unreadable sweep spec ({one_line(exc)})") from None
        if len(points) != len(expected):
            raise SweepError(f"{path}: {len(points)} points, but its spec makes "
                             f"{len(expected)} (edited by hand?)")
        built = []
        for i, (raw, want) in enumerate(zip(points, expected)):
            try:
                p = SweepPoint.from_dict(raw)
            except SweepError as exc:
                raise SweepError(f"{path}: point {i}: {exc}") from None
            if (p.index, p.id, p.seed, p.params) != (want.index, want.id, want.seed,
                                                    want.params):
                raise SweepError(f"{path}: point {i} is not the point its spec makes "
                                 f"(edited by hand, or made by another paramlab version)")
            p.params, p.overrides = want.params, want.overrides  # one dict per setting
            built.append(p)
        return cls(d, manifest, scenario, built)

    @property
    def sweep_id(self) -> str:
        return self.manifest["sweep_id"]

    @property
    def state(self) -> str:
        return self.manifest["state"]

    # ---------------------------------------------------------------- reading (any thread)

    def snapshot(self) -> list[SweepPoint]:
        with self._lock:
            return [p.copy() for p in self.points]

    def progress(self) -> SweepProgress:
        with self._lock:
            counts: dict[str, int] = {}
            for p in self.points:
                counts[p.status] = counts.get(p.status, 0) + 1
            passed = sum(p.verdict == "PASS" for p in self.points)
            total = len(self.points)
            elapsed = time.monotonic() - self._started
            finished = sum(counts.get(s, 0) for s in COMPLETE)
            eta = None
            if self._finished_here and not self._done.is_set():
                eta = elapsed / self._finished_here * (total - finished)
            return SweepProgress(total, counts.get(DONE, 0),
                                 counts.get(FAILED, 0) + counts.get(DIVERGED, 0),
                                 counts.get(CANCELLED, 0), counts.get(RUNNING, 0),
                                 counts.get(PENDING, 0), passed, elapsed, eta)

    @property
    def finished(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def cancel(self) -> None:
        """Stop: nothing new starts, running points are asked to stop and are marked
        cancelled; the manifest stays valid. Safe from any thread."""
        self._cancel.set()

    # ---------------------------------------------------------------- running

    def start(self, executor: Any = None, *, workers: int | None = None,
              on_point: Callable[[SweepPoint], None] | None = None,
              retry_failed: bool = False) -> threading.Thread:
        """Run in a background thread; `on_point(point)` is called from that thread after
        each point finishes (a UI should hand it over to its own thread)."""
        self._cancel.clear()
        self._done.clear()
        self.thread = threading.Thread(
            target=self._run_in_thread, args=(executor,),
            kwargs={"workers": workers, "on_point": on_point, "retry_failed": retry_failed},
            name=f"paramlab-sweep-{self.sweep_id}", daemon=True)
        self.thread.start()
        return self.thread

    def run(self, executor: Any = None, *, workers: int | None = None,
            on_point: Callable[[SweepPoint], None] | None = None,
            retry_failed: bool = False) -> str:
        """Run every point that is not complete; returns the final state ("finished" or
        "interrupted"). Without an executor, a local process pool is made (and closed).
        Raises SweepError when another process runs this sweep, or the loop broke."""
        try:
            lock = lock_folder(self.directory)  # before touching anything
        except SweepError as exc:
            self.error = str(exc)
            self._done.set()
            raise
        self._done.clear()
        self.error = None
        own = executor is None
        try:
            if own:
                from paramlab.console.core.executors import make_executor

                executor = make_executor("pool", workers=workers)
            self._loop(executor, on_point, retry_failed)
        except OSError as exc:  # the sweep folder cannot be written (disk full, gone)
            self.error = self._cannot_write(exc)
            with self._lock:
                self.manifest["state"] = "interrupted"
                for p in self.points:
                    if p.status == RUNNING:
                        p.status = PENDING
        except Exception:
            self.error = traceback.format_exc()
            with self._lock:
                self.manifest["state"] = "interrupted"
                for p in self.points:
                    if p.status == RUNNING:
                        p.status = PENDING
        finally:
            try:
                if own and executor is not None:
                    executor.close()
            finally:
                with self._lock:
                    try:
                        self._write_manifest()
                    except OSError as exc:  # the folder keeps its last good state
                        self.error = self.error or self._cannot_write(exc)
                self._journal.close()
                lock.close()
                self._cancel.clear()  # a later run() starts afresh
                self._done.set()
        if self.error:
            raise SweepError(self.error.strip().splitlines()[-1])
        return self.state

    def _cannot_write(self, exc: OSError) -> str:
        why = exc.strerror or str(exc)
        return (f"sweep stopped: cannot write to {self.directory} ({why}); finished points "
                f"are kept: make room, then paramlab sweep --resume {self.directory}")

    def _run_in_thread(self, *args: Any, **kwargs: Any) -> None:
        try:
            self.run(*args, **kwargs)
        except SweepError:
            pass  # kept in self.error
        finally:
            self._done.set()

    @property
    def runs_folder(self) -> Path:
        """The runs folder whose .cache the points share: RUNS for RUNS/sweeps/<id>, else
        the sweep's own folder."""
        d = self.directory
        return d.parent.parent if d.parent.name == "sweeps" else d

    @staticmethod
    def _needs_run(p: SweepPoint, retry_failed: bool) -> bool:
        if p.status == DONE:
            return False
        if p.status in (FAILED, DIVERGED):
            return retry_failed or p.lost
        return True

    def _task(self, p: SweepPoint) -> dict[str, Any]:
        if self._meta is None and self.scenario.meta:
            self._meta = dataclasses.asdict(self.scenario.meta)  # once, not per point
        return {"scenario": self.spec.scenario, "meta": self._meta, "params": p.params,
                "seed": p.seed, "device": self.spec.device, "preset": self.spec.preset,
                "sweep": self.sweep_id, "point": p.id, "threads": self.spec.threads,
                "cache_dir": str(self.runs_folder)}

    def _set(self, p: SweepPoint, **changes: Any) -> None:
        with self._lock:
            for k, v in changes.items():
                setattr(p, k, v)
            self.version += 1
            self._changed[p.index] = p

    def _loop(self, executor: Any, on_point: Callable[[SweepPoint], None] | None,
              retry_failed: bool) -> None:
        self._adopt_records()
        with self._lock:
            todo = [p for p in self.points if self._needs_run(p, retry_failed)]
            for p in todo:
                p.status, p.lost = PENDING, False
            self.manifest["state"] = RUNNING
            self.manifest["backend"] = getattr(executor, "name", "?")
            self._started = time.monotonic()
            self._finished_here = 0
            self._write_manifest()
        todo.reverse()  # pop() from the end takes points in order
        stop = executor.stop_token()
        inflight: dict[Any, SweepPoint] = {}
        while (todo or inflight) and not self._cancel.is_set():
            room = executor.capacity() - len(inflight)
            while todo and room > 0 and not self._cancel.is_set():
                p = todo.pop()
                inflight[executor.submit(run_point, self._task(p), stop)] = p
                self._set(p, status=RUNNING)
                room -= 1
            for fut in executor.as_completed(list(inflight), timeout=0.2):
                self._finish(inflight.pop(fut), fut, on_point)
            self._maybe_write()
        if self._cancel.is_set():
            executor.request_stop(stop)
            for fut in list(inflight):
                if executor.cancel(fut):
                    self._set(inflight.pop(fut), status=PENDING)
            deadline = time.monotonic() + 60
            while inflight and time.monotonic() < deadline:
                for fut in executor.as_completed(list(inflight), timeout=0.2):
                    self._finish(inflight.pop(fut), fut, on_point)
            for p in inflight.values():  # never answered: mark, keep no record
                self._set(p, status=CANCELLED, reason="cancelled (no answer from worker)")
        with self._lock:
            complete = all(p.status in COMPLETE for p in self.points)
            self.manifest["state"] = "finished" if complete else "interrupted"

    def _finish(self, p: SweepPoint, fut: Any,
                on_point: Callable[[SweepPoint], None] | None) -> None:
        try:
            result = fut.result()
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # the backend lost the task (worker died, cancelled)
            if self._cancel.is_set():
                self._set(p, status=PENDING)
                return
            result = {"status": FAILED, "lost": True, "lines": None,
                      "reason": f"backend: {type(exc).__name__}: {exc}".splitlines()[0]}
        if result.get("status") == SKIPPED:
            self._set(p, status=PENDING)
            return
        record, reason = None, result.get("reason", "")
        if result.get("lines"):
            path = self.directory / "runs" / f"{result['run_id']}.jsonl"
            try:
                write_lines(path, result["lines"])
                record = str(path.relative_to(self.directory))
            except OSError as exc:
                reason = (reason + f"; record not written: {exc}").lstrip("; ")
        with self._lock:
            p.status, p.reason = result["status"], reason
            p.elapsed, p.cpu = result.get("elapsed"), result.get("cpu")
            p.host, p.lost = result.get("host"), bool(result.get("lost"))
            p.final = result.get("final") or {}
            p.run_id, p.record = (result.get("run_id"), record) if record else (None, None)
            p.set_verdict(result.get("verdict"))
            self.version += 1
            self._changed[p.index] = p
            if p.status != CANCELLED:
                self._finished_here += 1
            copy = p.copy()
        if on_point is not None:
            try:
                on_point(copy)
            except Exception:
                logging.getLogger(__name__).exception("on_point callback failed")

    def _adopt_records(self) -> None:
        """Points whose record says complete (e.g. the driver died before the manifest
        caught up) are taken from their records instead of being re-run."""
        with self._lock:
            open_ids = {p.id: p for p in self.points if p.status != DONE}
        if not open_ids:
            return
        for path in sorted((self.directory / "runs").glob("*.jsonl")):
            try:
                header = read_record(path, header_only=True).header
                p = open_ids.get(header.get("point"))
                if p is None or header.get("sweep") != self.sweep_id:
                    continue
                footer = read_footer(path)
                if not footer or footer.get("status") not in COMPLETE:
                    continue
                history = ColumnHistory()
                read_record(path, into=history)
            except (RecordError, OSError):
                continue
            if p.status in COMPLETE:
                continue  # the manifest already has it (maybe a newer retry)
            with self._lock:
                p.status, p.reason = footer["status"], footer.get("reason", "")
                p.elapsed, p.host, p.lost = footer.get("elapsed"), header.get("host"), False
                p.run_id, p.record = header.get("run_id"), str(path.relative_to(self.directory))
                p.set_verdict(footer.get("verdict"))
                p.final = {n: history.last(n) for n in history.names()}
                self._changed[p.index] = p

    def _maybe_write(self) -> None:
        """At most every 0.5 s: the points changed since the last write, appended to the
        journal (one line each: the cost is per change, not per point of the sweep). The
        sweep's own fields change only with a whole write (`_write_manifest`)."""
        if self._changed and time.monotonic() - self._last_write > 0.5:
            with self._lock:
                self._journal.append([dumps({"point": i, **p.to_dict()}) + b"\n"
                                      for i, p in self._changed.items()])
                self._changed.clear()
                self._last_write = time.monotonic()

    def _write_manifest(self) -> None:
        """The whole state into the manifest (compaction), then an empty journal."""
        self.manifest["updated"] = now_iso()
        write_json_atomic(self.directory / MANIFEST, self.manifest,
                          items=("points", (p.to_dict() for p in self.points)))
        self._journal.reset()
        self._changed.clear()
        self._last_write = time.monotonic()

    # ---------------------------------------------------------------- summary

    def metric_names(self) -> list[str]:
        names: dict[str, None] = {}
        for p in self.snapshot():
            names.update(dict.fromkeys(p.final))
        return list(names)

    def summary_rows(self) -> list[dict[str, Any]]:
        return summary_rows(self.snapshot(), self.spec)

    def summary_panels(self, metric: str | None = None) -> list[tuple[Panel, History]]:
        return summary_panels(self.snapshot(), self.spec, self.scenario,
                              metric or self.spec.metric)
