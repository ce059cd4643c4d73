"""Thread policy: how many BLAS / OpenMP / torch threads one run uses.

Toy problems gain nothing from more threads, and idle pool threads spin and fight whatever
else runs (another run, a sweep worker, the console, the user's editor): on a 2-core box
with one busy neighbour the default pools made a quick preset 10x slower. So each run uses
one thread unless

1. the user asked (`--threads N`, the console form's threads field), or
2. the user's environment sets one of `OMP_NUM_THREADS`, `OPENBLAS_NUM_THREADS`,
   `MKL_NUM_THREADS` (read once, when paramlab starts, and handed to child processes in
   `PARAMLAB_USER_THREADS`, so the value paramlab itself exports is never mistaken for the
   user's), or
3. the scenario declares `threads = k > 1` (it has matmuls large enough to gain); then it
   gets min(k, free cores), free cores judged from the tasks runnable right now
   (`/proc/loadavg`; the 1-minute load average where that is missing).

`apply_thread_policy` sets the limits for this process (threadpoolctl for BLAS/OpenMP,
`torch.set_num_threads` when torch is loaded) and returns what it did, for the record.

The thread count must not change a run's numbers. Most of torch's CPU kernels split work
over threads without changing the order of any sum, but MKL's matrix products (torch's
CPU GEMM) pick their blocking by thread count: pcb-merging's values moved up to 67 % at
2 threads. MKL's strict conditional numerical reproducibility (`MKL_CBWR=AVX2,STRICT`)
makes them the same at any thread count, and the same on any CPU with AVX2, at no cost in
speed measured on the quick presets (strict / default 0.94-1.04 at one thread). MKL reads
the variable at its first call, so it is set here, when paramlab's run path is imported,
unless the user set it. numpy's OpenBLAS does not read it.
"""

from __future__ import annotations

import os
import sys
from typing import Any

THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
              "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
USER_ENV = "PARAMLAB_USER_THREADS"
LOADAVG = "/proc/loadavg"  # "1.78 1.09 0.82 3/102 32526": the 4th field is runnable/all
EXPORTED_ENV = "PARAMLAB_EXPORTED_THREADS"
CNR_ENV, CNR_MODE = "MKL_CBWR", "AVX2,STRICT"  # MKL's reproducibility mode (see above)


def _user_setting(env: dict[str, str]) -> tuple[int, str] | None:
    """The thread count the user set in the environment, if any (first positive integer)."""
    if env.get(USER_ENV):
        name, _, value = env[USER_ENV].partition("=")
        if value.isdigit() and int(value) > 0:
            return int(value), name
    if env.get(EXPORTED_ENV):
        return None  # the thread variables here are paramlab's own, not the user's
    for name in THREAD_ENV[:3]:
        value = env.get(name, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value), name
    return None


# captured before paramlab exports anything to its children
_USER = _user_setting(dict(os.environ))
if _USER is not None:
    os.environ.setdefault(USER_ENV, f"{_USER[1]}={_USER[0]}")
os.environ.setdefault(CNR_ENV, CNR_MODE)  # before MKL's first call (torch loads it)


def runnable_now(samples: int = 5, gap: float = 0.002) -> int | None:
    """Other threads runnable right now: the kernel's count of runnable tasks in
    /proc/loadavg (minus this process), the least of a few samples so that a passing
    blip is not taken for a neighbour. None where /proc/loadavg is not there."""
    import time

    counts = []
    try:
        for i in range(samples):
            with open(LOADAVG) as f:
                counts.append(int(f.read().split()[3].partition("/")[0]))
            if i + 1 < samples:
                time.sleep(gap)
    except (OSError, ValueError, IndexError):
        return None
    return max(0, min(counts) - 1)


def free_cores() -> int:
    """Cores not busy now (at least 1): from the runnable-task count where the kernel
    gives it (a neighbour that started a second ago counts), else the 1-minute load
    average (which takes about a minute to see a new neighbour)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    busy = runnable_now()
    if busy is None:
        try:
            busy = int(os.getloadavg()[0] + 0.5)
        except OSError:  # pragma: no cover
            busy = 0
    return max(1, cores - busy)


def resolve_threads(requested: int | None, scenario_threads: int = 1,
                    user: tuple[int, str] | None = None,
                    free: int | None = None) -> tuple[int, str]:
    """(threads, why): the explicit request wins, then the user's environment, then the
    scenario's declaration capped by free cores, else 1."""
    if requested is not None:
        return int(requested), "--threads"
    if user is not None:
        return user[0], f"{user[1]}={user[0]} in the environment"
    if scenario_threads > 1:
        n = min(scenario_threads, free_cores() if free is None else free)
        return n, f"scenario declares {scenario_threads}"
    return 1, "default: one thread per run"


def export_env(threads: int) -> None:
    """Before numpy / torch load in a fresh process: size their pools from the start."""
    for name in THREAD_ENV:
        os.environ[name] = str(threads)
    os.environ[EXPORTED_ENV] = "1"


def apply_thread_policy(requested: int | None, scenario: Any = None) -> dict[str, Any]:
    """Resolve and apply this run's thread counts; returns them for the record's header."""
    declared = int(getattr(scenario, "threads", 1) or 1)
    n, why = resolve_threads(requested, declared, _USER)
    export_env(n)  # for libraries not loaded yet (torch loads inside a run) and children
    from threadpoolctl import threadpool_info, threadpool_limits

    threadpool_limits(limits=n)
    info: dict[str, Any] = {"threads": n, "why": why, "mkl_cbwr": os.environ.get(CNR_ENV)}
    pools = {}
    for pool in threadpool_info():
        pools[pool.get("internal_api", "?")] = pool.get("num_threads")
    info["pools"] = pools
    torch = sys.modules.get("torch")
    if torch is not None:
        if torch.get_num_threads() != n:
            torch.set_num_threads(n)
        try:
            torch.set_num_interop_threads(n)
        except RuntimeError:
            pass  # set once per process, before any inter-op work; later calls are refused
        info["torch"] = torch.get_num_threads()
    return info
