"""Seconds per preset on each device, for the torch scenarios (GPU vs CPU in one run).

    python bench/bench_devices.py [ID ...] [--preset default] [--devices cuda,cpu]

Drives each scenario's generator directly (no records, no plotting), so it runs where only
the scenario's own dependencies are installed. Prints one row per scenario and device:
wall seconds, the verdict, and the GPU/CPU ratio.
"""

from __future__ import annotations

import argparse
import time

from paramlab.scenarios import all_meta, load
from paramlab.scenarios.base import RunContext
from paramlab.scenarios.history import History


def run_once(sc, params, device: str, seed: int) -> tuple[float, str]:
    t0 = time.perf_counter()
    history = History()
    for event in sc.run(params, RunContext(seed, device)):
        history.add(event)
    if device == "cuda":
        import torch

        torch.cuda.synchronize()
    verdict = sc.check(history, params)
    return time.perf_counter() - t0, verdict.label + \
        f" ({verdict.score})"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("ids", nargs="*")
    ap.add_argument("--preset", default="default")
    ap.add_argument("--devices", default="cuda,cpu")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    ids = args.ids or [m.id for m in all_meta() if load(m.id).uses_torch]
    devices = args.devices.split(",")
    print(f"{'scenario':<34} {'device':<6} {'seconds':>8}  verdict")
    for sid in ids:
        sc = load(sid)
        params = sc.make_params(args.preset)
        secs = {}
        for dev in devices:
            if dev == "cuda":
                import torch

                if not torch.cuda.is_available():
                    print(f"{sid:<34} cuda   (no CUDA device)")
                    continue
                run_once(sc, sc.make_params("quick"), dev, args.seed)  # warm-up: kernels
            secs[dev], verdict = run_once(sc, params, dev, args.seed)
            print(f"{sid:<34} {dev:<6} {secs[dev]:8.2f}  {verdict}", flush=True)
        if "cuda" in secs and "cpu" in secs:
            print(f"{sid:<34} ratio  cuda/cpu = {secs['cuda'] / secs['cpu']:.2f}", flush=True)


if __name__ == "__main__":
    main()
