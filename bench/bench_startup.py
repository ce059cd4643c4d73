"""Cold start of `paramlab --help` and `paramlab list` (target < 0.3 s each, no torch).

    python bench/bench_startup.py [--repeats N]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=10)
    args = ap.parse_args()
    here = Path(sys.executable).with_name("paramlab")  # this interpreter's paramlab first
    exe = str(here) if here.exists() else shutil.which("paramlab") or sys.exit(
        "paramlab is not on PATH (pip install -e .)")
    baseline = statistics.median(timed([sys.executable, "-c", "pass"])
                                 for _ in range(args.repeats))
    print(f"python -c pass          median {baseline:.3f} s (interpreter start, for scale)")
    for argv in (["--help"], ["list"]):
        t = statistics.median(timed([exe, *argv]) for _ in range(args.repeats))
        verdict = "ok" if t < 0.3 else "over target"
        print(f"paramlab {' '.join(argv):<14} median {t:.3f} s  (target < 0.3 s: {verdict})")


if __name__ == "__main__":
    main()
