"""Runner overhead: the same preset through Runner + record vs the bare generator.

    python bench/bench_runner.py [SCENARIO] [--preset P] [--repeats N]

Prints the median wall time of each and their ratio (target <= 1.03), measured in one
process, alternating the two so that machine load affects both alike.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from paramlab.console.core.runner import Runner
from paramlab.scenarios import load
from paramlab.scenarios.base import RunContext
from paramlab.scenarios.history import History


def bare(sc, params, seed):
    t0 = time.perf_counter()
    history = History()
    for event in sc.run(params, RunContext(seed)):
        history.add(event)  # the check needs a history either way
    sc.check(history, params)
    return time.perf_counter() - t0


def through_runner(sc, params, seed, directory):
    t0 = time.perf_counter()
    h = Runner(directory).start(sc, params, seed=seed)
    h.wait()
    assert h.status == "done", h.error
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario", nargs="?", default="matrix-sensing-overparam")
    ap.add_argument("--preset", default="default")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    sc = load(args.scenario)
    params = sc.make_params(args.preset)
    a, b = [], []
    with tempfile.TemporaryDirectory() as d:
        bare(sc, params, 0)  # warm-up: imports, caches
        for i in range(args.repeats):
            a.append(bare(sc, params, i))
            b.append(through_runner(sc, params, i, d))
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"{args.scenario} [{args.preset}] x{args.repeats}: bare generator {ma:.3f} s, "
          f"runner + record {mb:.3f} s, ratio {mb / ma:.3f} (target <= 1.03)")


if __name__ == "__main__":
    main()
