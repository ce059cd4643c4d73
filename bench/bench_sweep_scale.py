"""Sweep driver cost at scale (issue 12): a sweep of N points on an executor whose points
finish at once (no scenario runs: what is left is the driver's own work: expanding,
dispatching, journaling, progress), then a resume of the finished folder.

    python bench/bench_sweep_scale.py [--points 1000,10000,100000]

Prints per N: create seconds, per-point driver overhead (run wall / N), driver peak RSS
growth, and resume (open: manifest + journal read, every point checked against the spec;
then progress) in wall and CPU seconds (a loaded machine inflates the wall). Targets:
constant per-point overhead (<= 1 ms), <= 200 MB at 100k points, resume < 5 s."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import concurrent.futures as cf, json, resource, sys, time
from pathlib import Path
from paramlab.console.core.sweeps import Sweep, build_spec
from paramlab.scenarios import registry

class Instant:
    name = "instant"
    def __init__(self, width=64):
        self.width = width
    def capacity(self): return self.width
    def submit(self, fn, task, stop):
        f = cf.Future()
        f.set_result({"status": "done", "lines": None, "run_id": None, "elapsed": 0.0,
                      "cpu": 0.0, "host": "bench", "final": {"loss": 0.5, "acc": 1.0},
                      "verdict": None, "reason": ""})
        return f
    def as_completed(self, futs, timeout=None):
        yield from futs
    def cancel(self, fut): return False
    def stop_token(self): return lambda: False
    def request_stop(self, token): pass
    def close(self): pass

n, folder = int(sys.argv[1]), Path(sys.argv[2])
sc = registry.load("matrix-sensing-overparam")
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
spec = build_spec(sc, preset="quick", seeds=list(range(n)))
sweep = Sweep.create(spec, folder)
t1 = time.perf_counter()
state = sweep.run(Instant())
t2 = time.perf_counter()
assert state == "finished", state
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"create": t1 - t0, "run": t2 - t1, "rss_mb": (peak - base) / 1024}))
"""

RESUME = r"""
import json, sys, time
from paramlab.console.core.sweeps import Sweep
t0, c0 = time.perf_counter(), time.process_time()
sw = Sweep.open(sys.argv[1])
pr = sw.progress()
print(json.dumps({"resume": time.perf_counter() - t0, "cpu": time.process_time() - c0,
                  "done": pr.done}))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", default="1000,10000,100000")
    args = ap.parse_args()
    print(f"{'points':>8} {'create s':>9} {'per point ms':>13} {'driver MB':>10} "
          f"{'resume s':>9} {'(CPU s)':>8}")
    for n in (int(x) for x in args.points.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            d = Path(tmp) / "sw"
            out = json.loads(subprocess.run([sys.executable, "-c", CHILD, str(n), str(d)],
                                            capture_output=True, text=True,
                                            check=True).stdout)
            res = json.loads(subprocess.run([sys.executable, "-c", RESUME, str(d)],
                                            capture_output=True, text=True,
                                            check=True).stdout)
            assert res["done"] == n
            print(f"{n:>8} {out['create']:>9.2f} {1000 * out['run'] / n:>13.3f} "
                  f"{out['rss_mb']:>10.0f} {res['resume']:>9.2f} {res['cpu']:>8.2f}")


if __name__ == "__main__":
    main()
