"""Sweep throughput: one 8-point sweep through a process pool of 1 and of 2 workers and a
Dask LocalCluster(2), in one process, one after the other.

    python bench/bench_sweep.py [--scenario ID] [--preset P] [--set NAME=VALUE ...]
                                [--points 8] [--no-dask]

Prints the wall time of each (backend start-up included, as a user waits for it), the
speed-ups over 1 worker as ratios (target >= 1.8x for the 2-worker pool on 2 free cores),
and Dask's fixed overhead: LocalCluster start + close, and the per-sweep cost of an 8-point
sweep of near-empty points compared with the pool. Worker processes get one BLAS/OpenMP
thread each in every configuration, so the ratios measure process parallelism alone.
The machine's load affects the numbers: "cores busy" (the points' CPU seconds over the
sweep's wall time) shows how much CPU the sweep actually got; on an idle 2-core machine a
2-worker sweep of CPU-bound points keeps close to 2 cores busy.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path


def timed_sweep(spec, directory: Path, make_executor) -> tuple[float, float, float, float]:
    """(start-up, sweep, close) wall seconds of one sweep on a fresh executor, and the
    points' CPU seconds (summed over points, measured in the workers)."""
    from paramlab.console.core.sweeps import Sweep

    t0 = time.perf_counter()
    ex = make_executor()
    t1 = time.perf_counter()
    sweep = Sweep.create(spec, directory)
    state = sweep.run(ex)
    t2 = time.perf_counter()
    ex.close()
    t3 = time.perf_counter()
    bad = [p for p in sweep.snapshot() if p.status != "done"]
    assert state == "finished" and not bad, (state, bad[:1])
    return t1 - t0, t2 - t1, t3 - t2, sum(p.cpu for p in sweep.snapshot())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", default="matrix-sensing-overparam")
    ap.add_argument("--preset", default="quick")
    ap.add_argument("--set", dest="sets", action="append", default=[])
    ap.add_argument("--points", type=int, default=8, help="points (seeds 0..N-1)")
    ap.add_argument("--no-dask", action="store_true")
    args = ap.parse_args()

    from paramlab.console.cli.commands import parse_sets
    from paramlab.console.core.executors import DaskExecutor, PoolExecutor
    from paramlab.console.core.sweeps import build_spec
    from paramlab.scenarios import registry

    sc = registry.load(args.scenario)
    seeds = list(range(args.points))
    spec = build_spec(sc, preset=args.preset, sets=parse_sets(args.sets), seeds=seeds)
    # near-empty points (same scenario, tiny size) for the fixed overheads
    tiny = build_spec(registry.load("matrix-sensing-overparam"),
                      sets={"T": "50", "m": "200", "n": "10"}, seeds=seeds)
    backends = [("pool(1)", lambda: PoolExecutor(1, threads_per_worker=1)),
                ("pool(2)", lambda: PoolExecutor(2, threads_per_worker=1))]
    if not args.no_dask:
        backends.append(("dask LocalCluster(2)", lambda: DaskExecutor(workers=2)))
    print(f"{args.scenario} [{args.preset}] {' '.join(args.sets)}: {args.points} points, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    walls: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as d:
        for i, (name, make) in enumerate(backends):
            start, run, close, cpu = timed_sweep(spec, Path(d) / f"s{i}", make)
            walls[name] = start + run + close
            print(f"  {name:<22} {walls[name]:7.2f} s  (start {start:.2f} s, sweep "
                  f"{run:.2f} s, close {close:.2f} s; points' CPU {cpu:.2f} s = "
                  f"{cpu / run:.2f} cores busy on average)")
        base = walls["pool(1)"]
        print("speed-up over pool(1): " + ", ".join(
            f"{name} {base / w:.2f}x" for name, w in walls.items() if name != "pool(1)")
            + "  (target >= 1.8x for pool(2) on 2 free cores)")
        if not args.no_dask:
            pool_t = timed_sweep(tiny, Path(d) / "tiny-pool", backends[1][1])
            dask_t = timed_sweep(tiny, Path(d) / "tiny-dask", backends[2][1])
            print(f"Dask fixed overhead: LocalCluster(2) start {dask_t[0]:.2f} s + close "
                  f"{dask_t[2]:.2f} s (pool(2): {pool_t[0]:.2f} s + {pool_t[2]:.2f} s); "
                  f"{args.points} near-empty points: dask {dask_t[1]:.2f} s vs pool "
                  f"{pool_t[1]:.2f} s")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
