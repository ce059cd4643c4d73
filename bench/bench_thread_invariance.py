"""Do verdicts and recorded metrics depend on the thread count? (issue 17)

    python bench/bench_thread_invariance.py [--ids ID,ID] [--seeds 0-2] [--preset quick]

Runs each scenario (default: every scenario that declares `threads > 1`, i.e. the ones a
user's default run gives 2 threads while the results file is measured at 1) at
`--threads 1` and `--threads 2` on the same seeds, and compares the two records: the
verdict, and every recorded metric value (same step, same name). Prints per scenario the
verdicts that differ, the number of values that are not bitwise equal, and the largest
absolute and relative difference among them. Runs one at a time (a 2-thread run beside
another process measures nothing about speed, but this bench is about numbers, not time).
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from paramlab.console.core.inputs import parse_seeds
from paramlab.console.core.reading import iter_events, read_record
from paramlab.console.core.threads import THREAD_ENV
from paramlab.scenarios.base import Metric

PARAMLAB = os.path.join(os.path.dirname(sys.executable), "paramlab")


def declared_ids() -> list[str]:
    from paramlab.scenarios import registry

    return [m.id for m in registry.all_meta() if registry.load(m.id).threads > 1]


def metrics(path: Path) -> dict[tuple[float, str], float]:
    return {(e.step, k): v for e in iter_events(path) if isinstance(e, Metric)
            for k, v in e.values.items()}


def run(sid: str, preset: str, seed: int, threads: int, runs: Path) -> Path:
    before = set(runs.glob("*.jsonl"))
    env = {k: v for k, v in os.environ.items() if k not in THREAD_ENV}
    cmd = [PARAMLAB, "run", sid, "--preset", preset, "--seed", str(seed), "--threads",
           str(threads), "--runs-dir", str(runs)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    new = set(runs.glob("*.jsonl")) - before
    if out.returncode not in (0, 1) or len(new) != 1:
        raise SystemExit(f"{' '.join(cmd)} exited {out.returncode}:\n{out.stderr[-2000:]}")
    return new.pop()


def compare(a: dict, b: dict) -> tuple[int, int, float, float]:
    """(values compared, values not bitwise equal, max abs diff, max rel diff)."""
    keys = a.keys() | b.keys()
    differ, max_abs, max_rel = 0, 0.0, 0.0
    for k in keys:
        x, y = a.get(k, math.nan), b.get(k, math.nan)
        if x == y or (math.isnan(x) and math.isnan(y)):
            continue
        differ += 1
        d = abs(x - y)
        if math.isnan(d):
            max_abs = max_rel = math.inf
            continue
        max_abs = max(max_abs, d)
        max_rel = max(max_rel, d / max(abs(x), abs(y), 1e-300))
    return len(keys), differ, max_abs, max_rel


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ids", default="", help="comma-separated ids (default: those declaring "
                                              "threads > 1)")
    ap.add_argument("--seeds", default="0-2")
    ap.add_argument("--preset", default="quick")
    args = ap.parse_args()
    ids = [i for i in args.ids.split(",") if i] or declared_ids()
    seeds = parse_seeds(args.seeds)
    print(f"{'scenario':36} {'seeds':>5} {'verdicts differ':>15} {'values':>7} "
          f"{'not equal':>9} {'max abs':>9} {'max rel':>9}", flush=True)
    worst_rel, flips = 0.0, 0
    with tempfile.TemporaryDirectory() as tmp:
        # one runs folder per thread count: a scenario that caches an artifact in the runs
        # folder (a pre-trained backbone) must build it at that thread count too
        runs = {n: Path(tmp, f"threads-{n}") for n in (1, 2)}
        for d in runs.values():
            d.mkdir()
        for sid in ids:
            n_vals = n_diff = n_flip = 0
            mx_abs = mx_rel = 0.0
            for seed in seeds:
                recs = {n: run(sid, args.preset, seed, n, runs[n]) for n in (1, 2)}
                verdicts = {n: read_record(p).verdict for n, p in recs.items()}
                passed = {n: (v.passed if v else None) for n, v in verdicts.items()}
                n_flip += passed[1] != passed[2]
                nv, nd, ma, mr = compare(metrics(recs[1]), metrics(recs[2]))
                n_vals += nv
                n_diff += nd
                mx_abs, mx_rel = max(mx_abs, ma), max(mx_rel, mr)
            worst_rel, flips = max(worst_rel, mx_rel), flips + n_flip
            print(f"{sid:36} {len(seeds):5d} {n_flip:15d} {n_vals:7d} {n_diff:9d} "
                  f"{mx_abs:9.2e} {mx_rel:9.2e}", flush=True)
    print(f"\nverdicts that differ between 1 and 2 threads: {flips}; largest relative "
          f"difference of a recorded value: {worst_rel:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
