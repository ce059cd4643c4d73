"""Replay throughput and memory on a large record (issue 12: a 200 MB record must replay at
>= 50 MB/s with peak memory <= 2x its size).

    python bench/bench_replay.py [--mb 200] [--scenario matrix-sensing-overparam]

Runs the scenario's quick preset once, then writes a record of about `--mb` MB by repeating
its metric events at increasing steps (a long run's shape), and replays it in a fresh
process: wall seconds, MB/s, and peak RSS above the process's baseline (imports)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import resource, sys, time
from paramlab.console.core.replay import replay
from paramlab.scenarios import registry
registry.load(sys.argv[2])
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0, c0 = time.perf_counter(), time.process_time()
r = replay(sys.argv[1])
dt, cpu = time.perf_counter() - t0, time.process_time() - c0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(dt, (peak - base) * 1024, len(r.history), r.comparison, cpu)
"""


def make_record(scenario: str, mb: float, folder: Path) -> Path:
    from paramlab.console.core.execute import RunSpec, execute
    from paramlab.scenarios import registry

    sc = registry.load(scenario)
    params = sc.make_params("quick", {})
    small = folder / "small.jsonl"
    execute(RunSpec(sc, params, 0, "cpu", "quick", "bench", small))
    lines = small.read_bytes().splitlines()
    header, body = lines[0], lines[1:]
    events = [json.loads(x) for x in body if b'"kind":"event"' in x]
    metrics = [e for e in events if e.get("type") == "metric"]
    others = [e for e in events if e.get("type") != "metric"]
    footer = [x for x in body if b'"kind":"footer"' in x]
    span = max(e["step"] for e in metrics) + 1
    big = folder / "big.jsonl"
    target = mb * 1e6
    with open(big, "wb") as fh:
        fh.write(header + b"\n")
        size, k = len(header), 0
        while size < target:
            chunk = b"".join(json.dumps({**e, "step": e["step"] + k * span},
                                        separators=(",", ":")).encode() + b"\n"
                             for e in metrics)
            fh.write(chunk)
            size += len(chunk)
            k += 1
        for e in others:
            fh.write(json.dumps(e, separators=(",", ":")).encode() + b"\n")
        for x in footer:
            fh.write(x + b"\n")
    return big


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=200.0)
    ap.add_argument("--scenario", default="matrix-sensing-overparam")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        big = make_record(args.scenario, args.mb, Path(tmp))
        size = big.stat().st_size
        out = subprocess.run([sys.executable, "-c", CHILD, str(big), args.scenario],
                             capture_output=True, text=True, check=True).stdout.split()
        dt, extra, n = float(out[0]), float(out[1]), int(out[2])
        cpu = float(out[4])
        print(f"record {size / 1e6:.1f} MB, {n} metric rows: replay {dt:.1f} s = "
              f"{size / 1e6 / dt:.1f} MB/s wall ({size / 1e6 / cpu:.1f} MB/s of CPU); "
              f"peak memory {extra / 1e6:.0f} MB = "
              f"{extra / size:.2f}x the record ({out[3]})")


if __name__ == "__main__":
    main()
