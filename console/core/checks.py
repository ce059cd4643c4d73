"""Claim checks over seeds: each (scenario, preset, seed) an ordinary recorded run, in
worker processes of the sweep's process pool, through the sweep's worker function (which
calls `execute`, as every run does), and the seeds' outcomes aggregated into pass rates and
per-criterion spreads (core/stability.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from paramlab.scenarios.base import Params, Scenario, Verdict

from .executors import PoolExecutor
from .records import runs_dir, usable_folder
from .stability import SeedOutcome
from .sweeps.points import run_point


@dataclass
class SeedResult:
    """One seed's check: how the run ended, its verdict, its record."""

    scenario: str
    preset: str
    seed: int
    status: str
    verdict: Verdict | None
    reason: str
    elapsed: float
    record: str | None

    def outcome(self) -> SeedOutcome:
        return SeedOutcome.of(self.seed, self.status, self.verdict, self.elapsed)


def run_checks(plan: Sequence[tuple[Scenario, Params]], seeds: Sequence[int], *,
               preset: str, workers: int = 2, device: str = "auto",
               threads: int | None = None, directory: str | Path | None = None,
               record: bool = True,
               on_result: Callable[[SeedResult], None] | None = None) -> list[SeedResult]:
    """Every seed of every planned scenario in `workers` processes (each with one thread
    unless `threads` says otherwise); results in plan order. ValueError (one line) when
    the runs folder cannot take records. Ctrl-C cancels what has not started and lets the
    running seeds end (their records get footers)."""
    d = usable_folder(runs_dir(directory)) if record else None
    tasks = [{"scenario": sc.meta.id, "meta": dataclasses.asdict(sc.meta),
              "params": params.to_dict(), "preset": preset, "seed": int(seed),
              "device": device, "threads": threads, "record_to": str(d) if d else None,
              "cache_dir": str(d) if d else None}
             for sc, params in plan if sc.meta is not None for seed in seeds]
    results: dict[int, SeedResult] = {}
    with PoolExecutor(workers) as pool:
        futures = {pool.submit(run_point, t): i for i, t in enumerate(tasks)}
        pending = list(futures)
        while pending:
            for f in pool.as_completed(pending, timeout=0.5):
                pending.remove(f)
                i, res = futures[f], f.result()
                v = res.get("verdict")
                r = SeedResult(tasks[i]["scenario"], preset, tasks[i]["seed"], res["status"],
                               Verdict.from_dict(v) if v else None, res.get("reason", ""),
                               res.get("elapsed") or 0.0, res.get("record"))
                results[i] = r
                if on_result is not None:
                    on_result(r)
    return [results[i] for i in sorted(results)]


__all__ = ["SeedResult", "run_checks"]
