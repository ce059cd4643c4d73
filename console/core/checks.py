"""Claim checks over seeds: each (scenario, preset, seed) an ordinary recorded run through
`execute`, in this process or in worker processes, and the seeds' outcomes aggregated
into pass rates and per-criterion spreads (core/stability.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paramlab.scenarios.base import Params, Scenario, Verdict

from .execute import RunSpec, execute, resolve_device
from .processes import load_for_worker, process_context
from .records import new_run_id, runs_dir
from .stability import SeedOutcome


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


def check_seed(task: dict[str, Any]) -> dict[str, Any]:
    """Worker side: run one seed of one scenario, recorded; plain data back."""
    sc = load_for_worker(task["scenario"], task["meta"])
    params = sc.params.build(task["params"])
    run_id = new_run_id()
    path = Path(task["runs_dir"]) / f"{run_id}.jsonl" if task["runs_dir"] else None
    spec = RunSpec(sc, params, task["seed"], resolve_device(task["device"], sc.uses_torch),
                   task["preset"], run_id, path, threads=task["threads"])
    out = execute(spec)
    return {**out.to_dict(), "record": str(path) if path else None}


def run_checks(plan: Sequence[tuple[Scenario, Params]], seeds: Sequence[int], *,
               preset: str, workers: int = 2, device: str = "auto",
               threads: int | None = None, directory: str | Path | None = None,
               record: bool = True,
               on_result: Callable[[SeedResult], None] | None = None) -> list[SeedResult]:
    """Every seed of every planned scenario in `workers` processes (each with one thread
    unless `threads` says otherwise); results in plan order. Ctrl-C cancels what has not
    started and lets the running seeds end (their records get footers)."""
    d = runs_dir(directory) if record else None
    tasks = [{"scenario": sc.meta.id, "meta": dataclasses.asdict(sc.meta),
              "params": params.to_dict(), "preset": preset, "seed": int(seed),
              "device": device, "threads": threads, "runs_dir": str(d) if d else None}
             for sc, params in plan if sc.meta is not None for seed in seeds]
    results: dict[int, SeedResult] = {}
    with ProcessPoolExecutor(max(1, workers), mp_context=process_context()) as pool:
        futures = {pool.submit(check_seed, t): i for i, t in enumerate(tasks)}
        try:
            for i, res in _completed(futures):
                t = tasks[i]
                v = res.get("verdict")
                r = SeedResult(t["scenario"], preset, t["seed"], res["status"],
                               Verdict.from_dict(v) if v else None, res.get("reason", ""),
                               res.get("elapsed") or 0.0, res.get("record"))
                results[i] = r
                if on_result is not None:
                    on_result(r)
        except KeyboardInterrupt:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return [results[i] for i in sorted(results)]


def _completed(futures: dict[Any, int]) -> Iterator[tuple[int, dict[str, Any]]]:
    pending = set(futures)
    while pending:
        done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
        for f in done:
            yield futures[f], f.result()
