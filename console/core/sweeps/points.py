"""A sweep's points: the `SweepPoint` record of one (params, seed) in the manifest, their
expansion from a spec, and `run_point`, the worker side of one point: an ordinary run
through `execute`, recorded into memory (workers need no shared filesystem), whose record
lines, outcome and final metrics go back to the driver as plain data."""

from __future__ import annotations

import dataclasses
import math
import socket
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from paramlab.console.core.execute import (
    CANCELLED,
    DIVERGED,
    DONE,
    FAILED,
    MEMORY,
    RunSpec,
    execute,
    one_line,
    resolve_device,
)
from paramlab.console.core.processes import load_for_worker
from paramlab.scenarios.base import ParamError, Scenario, Verdict
from paramlab.scenarios.history import History

from .spec import SweepError, SweepSpec, point_ids, settings

PENDING, RUNNING, SKIPPED = "pending", "running", "skipped"
COMPLETE = (DONE, FAILED, DIVERGED)  # a resumed sweep does not re-run these


@dataclass
class SweepPoint:
    """One point of a sweep as the manifest keeps it. `verdict` is the label (PASS or
    FAIL) and `score` the paper-tier count ("2/2"); `final` holds every series' last
    value; `record` is the run record's path relative to the sweep folder."""

    index: int
    id: str
    overrides: dict[str, Any]
    seed: int
    params: dict[str, Any]
    status: str = PENDING
    run_id: str | None = None
    record: str | None = None
    verdict: str | None = None
    score: str | None = None
    final: dict[str, float] = field(default_factory=dict)
    elapsed: float | None = None
    cpu: float | None = None
    reason: str = ""
    host: str | None = None
    lost: bool = False  # the backend lost it: re-run on resume

    def to_dict(self) -> dict[str, Any]:
        """For writing (by hand: dataclasses.asdict deep-copies every value, 40x slower
        at 100k points). `params` and `overrides` are shared with the point (and with the
        other seeds of its setting): do not modify them."""
        return {"index": self.index, "id": self.id, "overrides": self.overrides,
                "seed": self.seed, "params": self.params, "status": self.status,
                "run_id": self.run_id, "record": self.record, "verdict": self.verdict,
                "score": self.score, "final": dict(self.final), "elapsed": self.elapsed,
                "cpu": self.cpu, "reason": self.reason, "host": self.host, "lost": self.lost}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SweepPoint:
        """A point from its manifest entry; SweepError (one line) naming the first field
        of the wrong type (a hand-edited manifest), never a traceback."""
        if not isinstance(d, Mapping):
            raise SweepError(f"expected an object, got {type(d).__name__}")
        missing = _REQUIRED_SET.difference(d.keys())
        if missing:
            raise SweepError(f"field {sorted(missing)[0]!r} is missing")
        kw = {}
        for name, v in d.items():  # exact types, as JSON gives them (a bool is no int)
            ok = _TYPESETS.get(name)
            if ok is None:
                continue
            if type(v) not in ok:
                raise SweepError(f"field {name!r} has the wrong type ({type(v).__name__})")
            kw[name] = v
        if kw.get("status", PENDING) not in _STATUSES:
            raise SweepError(f"field 'status': unknown value {d['status']!r}")
        rec = kw.get("record")
        if rec is not None and (rec.startswith(("/", "\\")) or ".." in Path(rec).parts
                                or Path(rec).is_absolute()):
            raise SweepError(f"field 'record' must be a path inside the sweep folder: {rec!r}")
        final = kw.get("final")
        if final:
            final = dict(final)
            for k, v in final.items():
                if v is None:  # NaN, as the manifest's JSON writer stores it
                    final[k] = math.nan
                elif type(v) is not float and type(v) is not int:
                    raise SweepError(f"final value {k!r} is not a number")
            kw["final"] = final
        return cls(**kw)

    def copy(self) -> SweepPoint:
        return dataclasses.replace(self, overrides=dict(self.overrides),
                                   final=dict(self.final))

    def set_verdict(self, verdict: Mapping[str, Any] | None) -> None:
        if not verdict:
            self.verdict = self.score = None
            return
        v = Verdict.from_dict(verdict)
        paper = [c for c in v.criteria if c.tier == "paper"]
        self.verdict = v.label
        self.score = f"{sum(c.passed for c in paper)}/{len(paper)}"


_NUM = (int, float, type(None))
_OPT_STR = (str, type(None))
_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "index": (int,), "id": (str,), "overrides": (dict,), "seed": (int,), "params": (dict,),
    "status": (str,), "run_id": _OPT_STR, "record": _OPT_STR, "verdict": _OPT_STR,
    "score": _OPT_STR, "final": (dict,), "elapsed": _NUM, "cpu": _NUM, "reason": (str,),
    "host": _OPT_STR, "lost": (bool,)}
_REQUIRED = ("index", "id", "overrides", "seed", "params")
_REQUIRED_SET = frozenset(_REQUIRED)
_TYPESETS = {name: frozenset(types) for name, types in _FIELD_TYPES.items()}
_STATUSES = (PENDING, RUNNING, SKIPPED, DONE, FAILED, DIVERGED, CANCELLED)


def expand(spec: SweepSpec, scenario: Scenario) -> list[SweepPoint]:
    """The sweep's points, validated (SweepError names the first bad setting)."""
    points: list[SweepPoint] = []
    seen: set[str] = set()
    for overrides in settings(spec, scenario):
        try:
            params = scenario.make_params(spec.preset, {**spec.sets, **overrides}).to_dict()
        except ParamError as exc:
            where = ", ".join(f"{k}={v}" for k, v in overrides.items())
            raise SweepError(f"point {where}: {str(exc).splitlines()[0]}") from None
        for seed, pid in zip(spec.seeds, point_ids(spec.scenario, params, spec.seeds)):
            if pid not in seen:
                seen.add(pid)
                points.append(SweepPoint(len(points), pid, overrides, int(seed), params))
    return points


def run_point(task: Mapping[str, Any], stop: Callable[[], bool] | None = None
              ) -> dict[str, Any]:
    """Run one point to its end in this process; return plain data: the outcome, the
    record's lines, its run id, the final metrics and where it ran. Never raises.
    With `task["record_to"]` (a folder this process can write) the record is written
    there as the run goes instead, and no lines come back (`paramlab check` does so)."""
    stop = stop or (lambda: False)
    if stop():
        return {"status": SKIPPED}
    host = socket.gethostname()
    try:
        sc = load_for_worker(task["scenario"], task.get("meta"))
        params = sc.params.build(task["params"])
        device = resolve_device(task.get("device", "auto"), sc.uses_torch)
    except Exception as exc:
        return {"status": FAILED, "reason": one_line(exc), "error": traceback.format_exc(),
                "host": host, "lines": None}
    spec = RunSpec(sc, params, int(task["seed"]), device, task.get("preset", "default"),
                   record=MEMORY, header={"sweep": task.get("sweep"),
                                          "point": task.get("point"), "host": host},
                   should_stop=stop, threads=task.get("threads"),
                   cache_dir=task.get("cache_dir"))
    if task.get("record_to"):
        spec.record = Path(task["record_to"]) / f"{spec.run_id}.jsonl"
    history = History()
    out = execute(spec, history=history)
    reason = out.reason
    if out.status == CANCELLED and not reason:
        step = history.last_step
        reason = "cancelled" + ("" if step is None else f" at step {step:g}")
    return {**out.to_dict(), "reason": reason, "host": host, "run_id": spec.run_id,
            "lines": out.record_lines,
            "record": str(spec.record) if isinstance(spec.record, Path) else None,
            "final": {n: history.last(n) for n in history.names()}}
