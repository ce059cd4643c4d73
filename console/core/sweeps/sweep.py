"""Sweeps: a grid or random set of param overrides x seeds, each point an ordinary run.

    paramlab sweep matrix-sensing-overparam --preset quick \\
        --grid alpha_asym=0.01,0.03,0.1,0.3 --seeds 0-4 --workers 2

A sweep lives in one folder:

    sweep.json      the manifest: spec, one entry per point (overrides, seed, full params,
                    identity hash, status, record, verdict, final metrics), rewritten
                    atomically (temp file + os.replace), so it is valid at every moment
    runs/*.jsonl    one ordinary run record per finished or cancelled point (same format as
                    the Runner's; the header also carries "sweep", "point" and "host")

A point's identity is sha256 of the canonical JSON of (scenario, params, seed), so a resumed
sweep re-runs only what did not finish. Points run in worker processes (console/executors:
a local process pool or Dask); a worker returns the events, status and verdict as plain
data and the driver writes the records, so workers need no shared filesystem.

For a UI: `Sweep.start(executor, on_point=...)` runs the sweep in a background thread;
`progress()`, `snapshot()` and `version` are safe to read from any thread; `cancel()` stops
it cleanly; `summary_panels()` gives (Panel, History) pairs that
`console.plotting.draw_panel` draws like a run's panels.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import itertools
import json
import math
import os
import random
import socket
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paramlab.console.core.inputs import InputError
from paramlab.console.core.records import (
    RecordWriter,
    new_run_id,
    now_iso,
    package_versions,
    runs_dir,
)
from paramlab.console.core.runner import (
    CANCELLED,
    DIVERGED,
    DONE,
    FAILED,
    drive,
    load_for_worker,
    resolve_device,
)
from paramlab.scenarios import registry
from paramlab.scenarios.base import (
    Metric,
    Panel,
    ParamError,
    ParamSpec,
    RunContext,
    Scenario,
    ScenarioMeta,
    Table,
    closest,
    event_from_dict,
)
from paramlab.scenarios.history import History

MANIFEST = "sweep.json"
MANIFEST_FORMAT = 1
PENDING, RUNNING, SKIPPED = "pending", "running", "skipped"
COMPLETE = (DONE, FAILED, DIVERGED)  # a resumed sweep does not re-run these


class SweepError(InputError):
    """Bad sweep input or an unusable sweep folder: one line for the user."""


# ------------------------------------------------------------------ the spec


@dataclass(frozen=True)
class RandomDim:
    lo: float
    hi: float
    log: bool = False


@dataclass
class SweepSpec:
    """What to sweep. `sets` are fixed overrides (CLI strings or values); `grid` values
    and `random` bounds are already coerced to the params' types."""

    scenario: str
    preset: str = "default"
    sets: dict[str, Any] = field(default_factory=dict)
    grid: dict[str, list[Any]] = field(default_factory=dict)
    random: dict[str, RandomDim] = field(default_factory=dict)
    samples: int = 0
    sweep_seed: int = 0
    seeds: list[int] = field(default_factory=lambda: [0])
    device: str = "auto"
    metric: str = ""

    @property
    def swept(self) -> list[str]:
        return [*self.grid, *self.random]

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["random"] = {k: dataclasses.asdict(v) for k, v in self.random.items()}
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SweepSpec:
        d = dict(d)
        d["random"] = {k: RandomDim(**v) for k, v in d.get("random", {}).items()}
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


def _spec_named(specs: dict[str, ParamSpec], name: str, flag: str, item: str) -> ParamSpec:
    spec = specs.get(name)
    if spec is None:
        close = closest(name, list(specs))
        hint = f"; did you mean {', '.join(close)}?" if close else \
            f"; known: {', '.join(specs)}"
        raise SweepError(f"{flag} {item!r}: unknown parameter {name!r}{hint}")
    return spec


def parse_grid(items: Sequence[str], specs: Sequence[ParamSpec]) -> dict[str, list[Any]]:
    """`NAME=V1,V2,...` per item -> {name: [coerced values]}; SweepError on any problem."""
    by_name = {s.name: s for s in specs}
    grid: dict[str, list[Any]] = {}
    for item in items:
        name, eq, text = item.partition("=")
        name = name.strip()
        if not eq or not name or not text.strip():
            raise SweepError(f"--grid {item!r}: expected NAME=V1,V2,... "
                             f"(e.g. alpha_sym=0.01,0.1,1)")
        spec = _spec_named(by_name, name, "--grid", item)
        if name in grid:
            raise SweepError(f"--grid {item!r}: {name} is already swept; give its values "
                             f"in one --grid")
        values = []
        for raw in text.split(","):
            if not raw.strip():
                raise SweepError(f"--grid {item!r}: empty value in the list")
            try:
                value = spec.coerce(raw)
            except ParamError as exc:
                raise SweepError(f"--grid {item!r}: {exc}") from None
            if value not in values:
                values.append(value)
        grid[name] = values
    return grid


def parse_random(items: Sequence[str], specs: Sequence[ParamSpec]) -> dict[str, RandomDim]:
    """`NAME=LO:HI[:log]` per item -> {name: RandomDim}; numeric params only."""
    by_name = {s.name: s for s in specs}
    out: dict[str, RandomDim] = {}
    for item in items:
        name, eq, text = item.partition("=")
        name = name.strip()
        parts = text.split(":")
        log = len(parts) == 3 and parts[2].strip().lower() == "log"
        if not eq or not name or len(parts) not in (2, 3) or (len(parts) == 3 and not log):
            raise SweepError(f"--random {item!r}: expected NAME=LO:HI or NAME=LO:HI:log")
        spec = _spec_named(by_name, name, "--random", item)
        if spec.kind not in (int, float) or spec.choices is not None:
            raise SweepError(f"--random {item!r}: {name} is not numeric; use --grid")
        if name in out:
            raise SweepError(f"--random {item!r}: {name} is already swept")
        try:
            lo, hi = spec.coerce(parts[0]), spec.coerce(parts[1])
        except ParamError as exc:
            raise SweepError(f"--random {item!r}: {exc}") from None
        if not lo < hi:
            raise SweepError(f"--random {item!r}: LO must be below HI")
        if log and lo <= 0:
            raise SweepError(f"--random {item!r}: a log range needs LO > 0")
        out[name] = RandomDim(float(lo), float(hi), log)
    return out


def build_spec(scenario: Scenario, *, preset: str = "default",
               sets: Mapping[str, Any] | None = None, grid: Sequence[str] = (),
               random_dims: Sequence[str] = (), samples: int | None = None,
               sweep_seed: int = 0, seeds: Sequence[int] = (0,), device: str = "auto",
               metric: str = "") -> SweepSpec:
    """A validated SweepSpec from CLI-style strings (SweepError on bad input)."""
    assert scenario.meta is not None
    specs = scenario.params.specs()
    g = parse_grid(grid, specs)
    r = parse_random(random_dims, specs)
    both = set(g) & set(r)
    if both:
        raise SweepError(f"{', '.join(sorted(both))}: given to both --grid and --random")
    sets = dict(sets or {})
    fixed = set(sets) & (set(g) | set(r))
    if fixed:
        raise SweepError(f"{', '.join(sorted(fixed))}: both --set and swept")
    if r and not samples:
        raise SweepError("--random needs --samples N (N >= 1)")
    if samples and not r:
        raise SweepError("--samples needs at least one --random NAME=LO:HI")
    if samples is not None and samples < 0:
        raise SweepError("--samples: expected N >= 1")
    if len(set(seeds)) != len(seeds):
        raise SweepError("--seeds: a seed is listed twice")
    try:
        scenario.make_params(preset, sets)
    except ParamError as exc:
        raise SweepError(str(exc).splitlines()[0]) from None
    return SweepSpec(scenario.meta.id, preset, sets, g, r, samples or 0, sweep_seed,
                     list(seeds), device, metric or scenario.key_metric)


def _sig(x: float, digits: int = 6) -> float:
    return float(f"{x:.{digits}g}")


def settings(spec: SweepSpec, scenario: Scenario) -> list[dict[str, Any]]:
    """The param overrides of each point (seeds aside): the grid's product, crossed with
    `samples` random draws (reproducible from `sweep_seed`)."""
    specs = {s.name: s for s in scenario.params.specs()}
    combos = [dict(zip(spec.grid, values))
              for values in itertools.product(*spec.grid.values())]
    if spec.random:
        rng = random.Random(spec.sweep_seed)
        draws = []
        for _ in range(spec.samples):
            draw = {}
            for name, dim in spec.random.items():
                if dim.log:
                    x = math.exp(rng.uniform(math.log(dim.lo), math.log(dim.hi)))
                else:
                    x = rng.uniform(dim.lo, dim.hi)
                if specs[name].kind is int:
                    draw[name] = min(int(dim.hi), max(int(dim.lo), round(x)))
                else:
                    draw[name] = min(dim.hi, max(dim.lo, _sig(x, 4)))
            draws.append(draw)
        combos = [{**c, **d} for c in combos for d in draws]
    return combos


def point_id(scenario: str, params: Mapping[str, Any], seed: int) -> str:
    """sha256 of the canonical JSON of (scenario, params, seed)."""
    text = json.dumps({"scenario": scenario, "params": dict(params), "seed": int(seed)},
                      sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def expand(spec: SweepSpec, scenario: Scenario) -> list[dict[str, Any]]:
    """The manifest's point entries, validated (SweepError names the first bad setting)."""
    points: list[dict[str, Any]] = []
    seen: set[str] = set()
    for overrides in settings(spec, scenario):
        try:
            params = scenario.make_params(spec.preset, {**spec.sets, **overrides}).to_dict()
        except ParamError as exc:
            where = ", ".join(f"{k}={v}" for k, v in overrides.items())
            raise SweepError(f"point {where}: {str(exc).splitlines()[0]}") from None
        for seed in spec.seeds:
            pid = point_id(spec.scenario, params, seed)
            if pid in seen:
                continue
            seen.add(pid)
            points.append({"index": len(points), "id": pid, "overrides": overrides,
                           "seed": int(seed), "params": params, "status": PENDING,
                           "run_id": None, "record": None, "verdict": None, "score": None,
                           "final": {}, "elapsed": None, "cpu": None, "reason": "",
                           "host": None})
    return points


# ------------------------------------------------------------------ the worker side


def _meta_to_dict(meta: ScenarioMeta) -> dict[str, Any]:
    return dataclasses.asdict(meta)


def run_point(task: Mapping[str, Any], stop: Callable[[], bool] | None = None
              ) -> dict[str, Any]:
    """Run one point to its end in this process and return plain data: status, verdict,
    reason, events as [t, event dict] pairs, timing and where it ran. Never raises."""
    stop = stop or (lambda: False)
    if stop():
        return {"status": SKIPPED}
    base: dict[str, Any] = {"events": [], "verdict": None, "reason": "", "error": None,
                            "started": now_iso(), "host": socket.gethostname(),
                            "device": "cpu", "versions": {}}
    t0 = time.monotonic()
    try:
        sc = load_for_worker(task["scenario"], task.get("meta"))
        params = sc.params.build(task["params"])
        base["device"] = resolve_device(task.get("device", "auto"), sc.uses_torch)
        base["versions"] = package_versions(("torch",) if sc.uses_torch else ())
    except Exception as exc:
        return {**base, "status": FAILED, "ended": now_iso(), "elapsed": 0.0,
                "reason": f"{type(exc).__name__}: {exc}".splitlines()[0],
                "error": traceback.format_exc()}
    events: list[list[Any]] = base["events"]
    t0, cpu0 = time.monotonic(), time.process_time()

    def on_event(event: Any) -> None:
        events.append([round(time.monotonic() - t0, 4), event.to_dict()])

    ctx = RunContext(int(task["seed"]), base["device"], should_stop=stop)
    out = drive(sc, params, ctx, History(), on_event=on_event)
    return {**base, "status": out.status, "reason": out.reason, "error": out.error,
            "verdict": out.verdict.to_dict() if out.verdict else None, "ended": now_iso(),
            "elapsed": round(time.monotonic() - t0, 3),
            "cpu": round(time.process_time() - cpu0, 3)}


# ------------------------------------------------------------------ manifest


def write_json_atomic(path: Path, obj: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(obj, fh, indent=1)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read_manifest(directory: str | os.PathLike) -> dict[str, Any]:
    path = Path(directory) / MANIFEST
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise SweepError(f"{directory}: no sweep here (no {MANIFEST})") from None
    except (OSError, ValueError) as exc:
        raise SweepError(f"{path}: unreadable sweep manifest ({exc})") from None
    if not isinstance(data, dict) or data.get("kind") != "paramlab-sweep":
        raise SweepError(f"{path}: not a paramlab sweep manifest")
    if data.get("format", 0) > MANIFEST_FORMAT:
        raise SweepError(f"{path}: manifest format {data.get('format')} is newer than this "
                         f"paramlab reads ({MANIFEST_FORMAT}); upgrade paramlab")
    return data


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

    def __init__(self, directory: Path, manifest: dict[str, Any], scenario: Scenario) -> None:
        self.directory = directory
        self.manifest = manifest
        self.spec = SweepSpec.from_dict(manifest["spec"])
        self.scenario = scenario
        self.version = 0  # bumps on every change of a point
        self._lock = threading.RLock()
        self._cancel = threading.Event()
        self._done = threading.Event()
        self._done.set()
        self._started = time.monotonic()
        self._finished_here = 0
        self._dirty = False
        self._last_write = 0.0
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
                    "backend": None, "spec": spec.to_dict(), "points": points}
        sweep = cls(d, manifest, scenario)
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
        d = Path(directory)
        manifest = read_manifest(d)
        try:
            scenario = registry.load(manifest["spec"]["scenario"])
        except registry.UnknownScenario as exc:
            raise SweepError(f"{d}: {exc}") from None
        return cls(d, manifest, scenario)

    @property
    def sweep_id(self) -> str:
        return self.manifest["sweep_id"]

    @property
    def state(self) -> str:
        return self.manifest["state"]

    # ---------------------------------------------------------------- reading (any thread)

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(p) for p in self.manifest["points"]]

    def progress(self) -> SweepProgress:
        with self._lock:
            counts: dict[str, int] = {}
            passed = 0
            for p in self.manifest["points"]:
                counts[p["status"]] = counts.get(p["status"], 0) + 1
                passed += p["verdict"] == "PASS"
            total = len(self.manifest["points"])
            elapsed = time.monotonic() - self._started
            finished = counts.get(DONE, 0) + counts.get(FAILED, 0) + counts.get(DIVERGED, 0)
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
              on_point: Callable[[dict[str, Any]], None] | None = None,
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
            on_point: Callable[[dict[str, Any]], None] | None = None,
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
        except Exception:
            self.error = traceback.format_exc()
            with self._lock:
                self.manifest["state"] = "interrupted"
                self._requeue_running()
        finally:
            try:
                if own and executor is not None:
                    executor.close()
            finally:
                with self._lock:
                    self._write_manifest()
                lock.close()
                self._cancel.clear()  # a later run() starts afresh
                self._done.set()
        if self.error:
            raise SweepError(self.error.strip().splitlines()[-1])
        return self.state

    def _run_in_thread(self, *args: Any, **kwargs: Any) -> None:
        try:
            self.run(*args, **kwargs)
        except SweepError:
            pass  # kept in self.error
        finally:
            self._done.set()

    def _needs_run(self, p: dict[str, Any], retry_failed: bool) -> bool:
        if p["status"] == DONE:
            return False
        if p["status"] in (FAILED, DIVERGED):
            return retry_failed or bool(p.get("lost"))
        return True

    def _loop(self, executor: Any, on_point: Callable[[dict[str, Any]], None] | None,
              retry_failed: bool) -> None:
        self._adopt_records()
        with self._lock:
            todo = [p for p in self.manifest["points"] if self._needs_run(p, retry_failed)]
            for p in todo:
                p["status"], p["lost"] = PENDING, False
            self.manifest["state"] = RUNNING
            self.manifest["backend"] = getattr(executor, "name", "?")
            self._started = time.monotonic()
            self._finished_here = 0
            self._write_manifest()
        todo.reverse()  # pop() from the end takes points in order
        meta = _meta_to_dict(self.scenario.meta) if self.scenario.meta else None
        stop = executor.stop_token()
        inflight: dict[Any, dict[str, Any]] = {}
        while (todo or inflight) and not self._cancel.is_set():
            room = executor.capacity() - len(inflight)
            while todo and room > 0 and not self._cancel.is_set():
                p = todo.pop()
                task = {"scenario": self.spec.scenario, "meta": meta, "params": p["params"],
                        "seed": p["seed"], "device": self.spec.device}
                inflight[executor.submit(run_point, task, stop)] = p
                with self._lock:
                    p["status"] = RUNNING
                    self.version += 1
                    self._dirty = True
                room -= 1
            for fut in executor.as_completed(list(inflight), timeout=0.2):
                self._finish(inflight.pop(fut), fut, on_point)
            self._maybe_write()
        if self._cancel.is_set():
            executor.request_stop(stop)
            for fut in list(inflight):
                if executor.cancel(fut):
                    with self._lock:
                        inflight.pop(fut)["status"] = PENDING
            deadline = time.monotonic() + 60
            while inflight and time.monotonic() < deadline:
                for fut in executor.as_completed(list(inflight), timeout=0.2):
                    self._finish(inflight.pop(fut), fut, on_point)
            with self._lock:
                for p in inflight.values():  # never answered: mark, keep no record
                    p["status"], p["reason"] = CANCELLED, "cancelled (no answer from worker)"
        with self._lock:
            complete = all(p["status"] in COMPLETE for p in self.manifest["points"])
            self.manifest["state"] = "finished" if complete else "interrupted"

    def _requeue_running(self) -> None:
        for p in self.manifest["points"]:
            if p["status"] == RUNNING:
                p["status"] = PENDING

    def _finish(self, p: dict[str, Any], fut: Any,
                on_point: Callable[[dict[str, Any]], None] | None) -> None:
        try:
            result = fut.result()
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # the backend lost the task (worker died, cancelled)
            if self._cancel.is_set():
                with self._lock:
                    p["status"] = PENDING
                    self.version += 1
                return
            result = {"status": FAILED, "lost": True, "events": [],
                      "reason": f"backend: {type(exc).__name__}: {exc}".splitlines()[0]}
        if result.get("status") == SKIPPED:
            with self._lock:
                p["status"] = PENDING
                self.version += 1
            return
        update = self._write_record(p, result)
        with self._lock:
            p.update(update)
            self.version += 1
            if p["status"] != CANCELLED:
                self._finished_here += 1
            self._dirty = True
            copy = dict(p)
        if on_point is not None:
            try:
                on_point(copy)
            except Exception:
                traceback.print_exc()

    def _write_record(self, p: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
        """Write the point's run record from the worker's result; the manifest fields."""
        events = [(t, event_from_dict(e)) for t, e in result.get("events", [])]
        history = History(e for _, e in events)
        verdict = result.get("verdict")
        update = {"status": result["status"], "reason": result.get("reason", ""),
                  "elapsed": result.get("elapsed"), "cpu": result.get("cpu"),
                  "host": result.get("host"),
                  "lost": bool(result.get("lost")),
                  "verdict": None if verdict is None else
                  ("PASS" if verdict["passed"] else "FAIL"),
                  "score": _score(verdict),
                  "final": {n: history.last(n) for n in history.names()}}
        if result["status"] == CANCELLED and not update["reason"]:
            step = history.last_step
            update["reason"] = "cancelled" + ("" if step is None else f" at step {step:g}")
        if result.get("lost"):
            return update
        run_id = new_run_id()
        path = self.directory / "runs" / f"{run_id}.jsonl"
        try:
            writer = RecordWriter(path, {
                "run_id": run_id, "scenario": self.spec.scenario, "preset": self.spec.preset,
                "params": p["params"], "seed": p["seed"], "device": result.get("device"),
                "versions": result.get("versions", {}), "started": result.get("started"),
                "sweep": self.sweep_id, "point": p["id"], "host": result.get("host")})
            for t, event in events:
                writer.event(event, t)
            writer.close({"status": result["status"], "verdict": verdict,
                          "ended": result.get("ended"), "elapsed": result.get("elapsed"),
                          "reason": result.get("reason", ""), "error": result.get("error")})
            update["run_id"] = run_id
            update["record"] = str(path.relative_to(self.directory))
        except OSError as exc:
            update["reason"] = (update["reason"] + f"; record not written: {exc}").lstrip("; ")
        return update

    def _adopt_records(self) -> None:
        """Points whose record says complete (e.g. the driver died before the manifest
        caught up) are taken from their records instead of being re-run."""
        from paramlab.console.core.records import RecordError, read_footer, read_record

        with self._lock:
            open_ids = {p["id"]: p for p in self.manifest["points"] if p["status"] != DONE}
        if not open_ids:
            return
        for path in sorted((self.directory / "runs").glob("*.jsonl")):
            try:
                header = read_record(path, header_only=True).header
                pid = header.get("point")
                if pid not in open_ids or header.get("sweep") != self.sweep_id:
                    continue
                footer = read_footer(path)
                if not footer or footer.get("status") not in COMPLETE:
                    continue
                rec = read_record(path)
            except (RecordError, OSError):
                continue
            result = {"status": footer["status"], "verdict": footer.get("verdict"),
                      "reason": footer.get("reason", ""), "elapsed": footer.get("elapsed"),
                      "host": header.get("host")}
            history = History(rec.events)
            p = open_ids[pid]
            if p["status"] in COMPLETE:
                continue  # the manifest already has it (maybe a newer retry)
            with self._lock:
                p.update({**result, "lost": False, "run_id": header.get("run_id"),
                          "record": str(path.relative_to(self.directory)),
                          "verdict": None if not result["verdict"] else
                          ("PASS" if result["verdict"]["passed"] else "FAIL"),
                          "score": _score(result["verdict"]),
                          "final": {n: history.last(n) for n in history.names()}})
                self._dirty = True

    def _maybe_write(self) -> None:
        if self._dirty and time.monotonic() - self._last_write > 0.5:
            with self._lock:
                self._write_manifest()

    def _write_manifest(self) -> None:
        self.manifest["updated"] = now_iso()
        write_json_atomic(self.directory / MANIFEST, self.manifest)
        self._dirty = False
        self._last_write = time.monotonic()

    # ---------------------------------------------------------------- summary

    def metric_names(self) -> list[str]:
        names: dict[str, None] = {}
        for p in self.snapshot():
            names.update(dict.fromkeys(p.get("final") or {}))
        return list(names)

    def summary_rows(self) -> list[dict[str, Any]]:
        return summary_rows(self.snapshot(), self.spec)

    def summary_panels(self, metric: str | None = None) -> list[tuple[Panel, History]]:
        return summary_panels(self.snapshot(), self.spec, self.scenario,
                              metric or self.spec.metric)


def _score(verdict: Mapping[str, Any] | None) -> str | None:
    if not verdict:
        return None
    paper = [c for c in verdict["criteria"] if c.get("tier", "paper") == "paper"]
    return f"{sum(bool(c['passed']) for c in paper)}/{len(paper)}"


class _FolderLock:
    def __init__(self, fh: Any) -> None:
        self.fh = fh

    def close(self) -> None:
        self.fh.close()  # closing releases the flock


def lock_folder(directory: Path) -> _FolderLock:
    """One driver per sweep folder (the lock goes with the process, even on kill -9)."""
    fh = open(directory / ".lock", "a+")
    try:
        import fcntl
    except ImportError:  # Windows: no lock
        return _FolderLock(fh)
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        raise SweepError(f"{directory}: another paramlab process is running this "
                         f"sweep") from None
    return _FolderLock(fh)


# ------------------------------------------------------------------ summary data


def summary_rows(points: Sequence[Mapping[str, Any]], spec: SweepSpec) -> list[dict[str, Any]]:
    """One row per point: index, point id, swept values, seed, status, verdict, elapsed,
    final metrics (every series' last value)."""
    rows = []
    for p in points:
        row = {"index": p["index"], "point": p["id"][:12]}
        row.update({name: p["overrides"].get(name) for name in spec.swept})
        row.update({"seed": p["seed"], "status": p["status"], "verdict": p["verdict"] or "",
                    "score": p.get("score") or "", "elapsed": p["elapsed"],
                    "cpu": p.get("cpu"),
                    "reason": p.get("reason") or "", "record": p.get("record") or ""})
        row.update({f"final:{k}": v for k, v in (p.get("final") or {}).items()})
        rows.append(row)
    return rows


def write_csv(path: str | os.PathLike, points: Sequence[Mapping[str, Any]],
              spec: SweepSpec) -> None:
    rows = summary_rows(points, spec)
    columns: dict[str, None] = {}
    for r in rows:
        columns.update(dict.fromkeys(r))
    finals = sorted(c for c in columns if c.startswith("final:"))
    key = f"final:{spec.metric}"
    if key in finals:
        finals.remove(key)
        finals.insert(0, key)
    ordered = [c for c in columns if not c.startswith("final:")] + finals
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=ordered)
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in ordered})


def _label(values: Mapping[str, Any], names: Sequence[str]) -> str:
    return ",".join(f"{values[n]:g}" if isinstance(values[n], float) else str(values[n])
                    for n in names)


def is_log_spaced(name: str, values: Sequence[Any], spec: SweepSpec,
                  scenario: Scenario) -> bool:
    """Log x for random `:log` ranges, and for positive values spanning a decade or more
    of a param declared `log` (two decades or more of any other param)."""
    if name in spec.random and spec.random[name].log:
        return True
    pspec = {s.name: s for s in scenario.params.specs()}.get(name)
    nums = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if not nums or len(nums) != len(values) or min(nums) <= 0:
        return False
    return max(nums) / min(nums) >= (10 if pspec and pspec.log else 100)


MAX_LINES = 6  # more combinations of the other swept params than this: aggregate them
MAX_BARS = 24


def summary_panels(points: Sequence[Mapping[str, Any]], spec: SweepSpec, scenario: Scenario,
                   metric: str) -> list[tuple[Panel, History]]:
    """Summary panels as (Panel, History) pairs for `plotting.draw_panel`:

    - per swept param: the final `metric` against the param, mean and min-max over seeds
      (with other grid params, one mean line per combination of theirs up to MAX_LINES,
      else mean and min-max over seeds and those params together; a random param's values
      are unique to its draw, so the other random params need no lines); log x where the
      param is log-spaced; bars for a categorical param;
    - the verdict pass rate of each setting over its seeds (bars).
    """
    out: list[tuple[Panel, History]] = []
    done = [p for p in points if p["status"] == DONE]
    swept = spec.swept
    n_seeds = len(spec.seeds)
    vals = [(p["overrides"], p["final"].get(metric, math.nan)) for p in done]
    vals = [(o, v) for o, v in vals if isinstance(v, (int, float)) and math.isfinite(v)]
    ys = [v for _, v in vals]
    logy = bool(ys) and min(ys) > 0 and max(ys) / min(ys) >= 100
    for name in swept:
        others = [n for n in spec.grid if n != name]
        xs_all = sorted({o[name] for o, _ in vals}, key=_sort_key)
        combos = sorted({_label(o, others) for o, _ in vals}) if others else [""]
        categorical = any(isinstance(x, (str, bool)) for x in xs_all)
        per_combo = bool(others) and 1 < len(combos) <= MAX_LINES and not categorical
        mixed = [] if per_combo or len(combos) == 1 else list(others)
        if name in spec.grid:
            mixed += [n for n in spec.random]
        over = "seeds" + "".join(f", {n}" for n in mixed)
        hist = History()
        if categorical:
            cells = [[], [], []]
            for x in xs_all:
                group = [v for o, v in vals if o[name] == x]
                for row, stat in zip(cells, (_mean(group), min(group), max(group))):
                    row.append(stat)
            title = f"final {metric} vs {name} (over {over})"
            hist.add(Table(title, ["mean", "min", "max"], [str(x) for x in xs_all], cells))
            out.append((Panel(title, kind="bars", table=title), hist))
            continue
        series: list[str] = []
        labels: dict[str, str] = {}
        for i, x in enumerate(xs_all):
            values: dict[str, float] = {name: float(x)}
            if per_combo:
                for c in combos:
                    group = [v for o, v in vals if o[name] == x and _label(o, others) == c]
                    if group:
                        values[f"mean {c}"] = _mean(group)
            else:
                group = [v for o, v in vals if o[name] == x]
                values.update({"mean": _mean(group), "min": min(group), "max": max(group)})
            hist.add(Metric(i, values))
        if per_combo:
            series = [f"mean {c}" for c in combos]
            labels = {f"mean {c}": f"{','.join(others)}={c}" for c in combos}
            title = f"final {metric} vs {name} (mean over {n_seeds} seeds)"
        else:
            series = ["mean", "min", "max"]
            title = f"final {metric} vs {name} (mean, min-max over {over})"
        out.append((Panel(title, series=tuple(series), x=name,
                          logx=is_log_spaced(name, xs_all, spec, scenario), logy=logy,
                          xlabel=name, labels=labels), hist))
    # pass rate per setting over its seeds
    rates: dict[str, list[int]] = {}
    for p in points:
        if p["status"] not in COMPLETE:
            continue
        key = _label(p["overrides"], swept) if swept else "all"
        rates.setdefault(key, []).append(p["verdict"] == "PASS")
    if rates and len(rates) <= MAX_BARS:
        title = "verdict pass rate over seeds" + (f" ({', '.join(swept)})" if swept else "")
        hist = History()
        hist.add(Table(title, ["pass rate"], list(rates),
                       [[sum(r) / len(r) for r in rates.values()]]))
        out.append((Panel(title, kind="bars", table=title), hist))
    return out


def _mean(xs: Sequence[float]) -> float:
    return sum(xs) / len(xs)


def _sort_key(x: Any) -> tuple[int, Any]:
    return (0, x) if isinstance(x, (int, float)) and not isinstance(x, bool) else (1, str(x))


