"""Thread policy benchmark: every scenario's quick preset under the default policy vs one
and two forced threads, on an idle machine and beside one busy neighbour process.

    python bench/bench_threads.py [--ids ID,ID] [--reps 2] [--seed 0] [--check-all]

Each cell is the wall time of `paramlab run ID --preset quick --no-record` in a fresh
process (start-up and imports included: what a user waits for), the minimum over
`--reps` repetitions; the thread variables (OMP_NUM_THREADS, ...) are removed from the
environment, so "default" is paramlab's own policy. The ratio default / best per cell is
the target (<= 1.1). The busy neighbour is a Python busy loop started and stopped here.

The three modes take turns rep by rep, in an order that rotates each rep (on this kind of
virtual machine a fresh process's page faults cost 1-3 s of system time at random, so a
mode always run first or after a given other would carry a bias). Every timed run is
`--no-record` (a recorded run may reuse artifacts from the runs folder's cache, which
would flatter whichever mode records); one more, untimed default run per cell writes a
record to a temporary folder, and the "policy" column is the thread count its header
shows. Where the policy ran k threads, "default" and "k thr" are the same program, so
their ratio ("A/A") is the box's noise, the floor under any cell's ratio.

`--check-all` also times `paramlab check --all --preset quick --seeds 0` beside the busy
neighbour: with the default policy, and with the thread variables set to 1 by hand
(target: within 1.2x).

Needs `paramlab run --threads` (issue 17); until it lands the bench stops at the first run
with paramlab's one-line usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from paramlab.console.core.reading import read_record
from paramlab.console.core.threads import THREAD_ENV as BLAS_ENV

# paramlab's own markers (the thread policy of issue 17) are cleared with the variables
THREAD_ENV = (*BLAS_ENV, "PARAMLAB_USER_THREADS", "PARAMLAB_EXPORTED_THREADS")


def clean_env(threads_by_hand: int | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in THREAD_ENV}
    if threads_by_hand is not None:
        for name in BLAS_ENV:
            env[name] = str(threads_by_hand)
    return env


@contextlib.contextmanager
def busy_neighbour(on: bool):
    if not on:
        yield
        return
    proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    time.sleep(0.5)
    try:
        yield
    finally:
        proc.kill()
        proc.wait()


def wall(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    # 1 is an honest FAIL verdict (still a timing), unless Python crashed with 1
    if out.returncode not in (0, 1) or "Traceback" in out.stderr:
        raise SystemExit(f"{' '.join(cmd)} exited {out.returncode}:\n{out.stderr[-2000:]}")
    return dt


def policy_threads(runs_dir: Path) -> str:
    """The thread count the untimed default run's record header shows."""
    recs = list(runs_dir.glob("*.jsonl"))
    if len(recs) != 1:
        return "?"
    return str((read_record(recs[0], header_only=True).header.get("threads") or {})
               .get("threads", "?"))


# the paramlab of this interpreter (a venv's), not whichever is first on PATH
PARAMLAB = os.path.join(os.path.dirname(sys.executable), "paramlab")


def scenario_ids() -> list[str]:
    out = subprocess.run([PARAMLAB, "list", "--json"], capture_output=True, text=True,
                         check=True)
    return [d["id"] for d in json.loads(out.stdout)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ids", default="", help="comma-separated scenario ids (default: all)")
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--check-all", action="store_true")
    args = ap.parse_args()
    ids = [i for i in args.ids.split(",") if i] or scenario_ids()
    env = clean_env()
    rows = []
    print(f"{'scenario':36} {'cond':5} {'default':>8} {'1 thr':>8} {'2 thr':>8} "
          f"{'def/best':>8} {'policy':>6} {'A/A':>6}", flush=True)
    for sid in ids:
        base = [PARAMLAB, "run", sid, "--preset", "quick", "--seed", str(args.seed)]
        for cond in ("idle", "busy"):
            with busy_neighbour(cond == "busy"), tempfile.TemporaryDirectory() as tmp:
                wall(base + ["--runs-dir", tmp], env)  # untimed: what the policy chose
                modes = {"default": base + ["--no-record"],
                         "1": base + ["--no-record", "--threads", "1"],
                         "2": base + ["--no-record", "--threads", "2"]}
                best = dict.fromkeys(modes, float("inf"))
                order = list(modes)
                for _ in range(args.reps):
                    for mode in order:
                        best[mode] = min(best[mode], wall(modes[mode], env))
                    order = order[1:] + order[:1]
                chose = policy_threads(Path(tmp))
            t_def, t1, t2 = best["default"], best["1"], best["2"]
            ratio = t_def / min(t1, t2)
            aa = t_def / best[chose] if chose in best else float("nan")
            rows.append((sid, cond, t_def, t1, t2, ratio, chose, aa))
            print(f"{sid:36} {cond:5} {t_def:8.2f} {t1:8.2f} {t2:8.2f} {ratio:8.2f} "
                  f"{chose:>6} {aa:6.2f}", flush=True)
    worst = max(r[5] for r in rows)
    print(f"\nworst default/best ratio: {worst:.2f} (target <= 1.1)")
    for r in rows:
        if r[5] > 1.1:
            same = r[6] in ("1", "2") and r[3 + int(r[6]) - 1] == min(r[3], r[4])
            why = ("the policy ran the best mode's thread count: default and best are the "
                   "same program (A/A noise)" if same else "the policy ran another thread "
                   "count than the best mode")
            print(f"  over 1.1: {r[0]} {r[1]} {r[5]:.2f}: {why}")
    if args.check_all:
        cmd = [PARAMLAB, "check", "--all", "--preset", "quick", "--seeds", str(args.seed)]
        # each in a fresh runs folder: neither may reuse the other's cached pre-training
        with busy_neighbour(True), tempfile.TemporaryDirectory() as tmp:
            t_policy = wall(cmd + ["--runs-dir", f"{tmp}/policy"], env)
            t_hand = wall(cmd + ["--runs-dir", f"{tmp}/hand"], clean_env(threads_by_hand=1))
        print(f"check --all --preset quick, busy neighbour: policy {t_policy:.1f} s, "
              f"thread variables = 1 by hand {t_hand:.1f} s, ratio {t_policy / t_hand:.2f} "
              f"(target <= 1.2)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
