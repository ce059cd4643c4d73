"""The thread policy: one thread per run unless asked, and results that do not depend on it."""

from __future__ import annotations

import os

import pytest

from paramlab.console.core import threads


def test_explicit_request_wins_over_environment_and_scenario():
    assert threads.resolve_threads(3, scenario_threads=4, user=(2, "OMP_NUM_THREADS"),
                                   free=8) == (3, "--threads")


def test_user_environment_wins_over_scenario_declaration():
    n, why = threads.resolve_threads(None, scenario_threads=4, user=(2, "MKL_NUM_THREADS"),
                                     free=8)
    assert (n, why) == (2, "MKL_NUM_THREADS=2 in the environment")


def test_scenario_declaration_is_capped_by_free_cores():
    assert threads.resolve_threads(None, scenario_threads=4, free=2)[0] == 2
    assert threads.resolve_threads(None, scenario_threads=4, free=8)[0] == 4


def test_free_cores_counts_neighbours_runnable_now(tmp_path, monkeypatch):
    fake = tmp_path / "loadavg"
    monkeypatch.setattr(threads, "LOADAVG", str(fake))
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (0.0, 0.0, 0.0))  # stale: no one
    fake.write_text("0.00 0.00 0.00 3/102 1\n")  # this process + two neighbours
    assert threads.runnable_now(samples=2, gap=0) == 2
    assert threads.free_cores() == 2
    fake.write_text("0.00 0.00 0.00 9/102 1\n")
    assert threads.free_cores() == 1  # never below one
    fake.write_text("garbled")
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (2.6, 0.0, 0.0))
    assert threads.runnable_now() is None
    assert threads.free_cores() == 1  # falls back to the load average: 3 busy of 4


def test_default_is_one_thread():
    assert threads.resolve_threads(None) == (1, "default: one thread per run")


def test_thread_variables_exported_by_paramlab_are_not_taken_for_the_users():
    env = {"OMP_NUM_THREADS": "1", threads.EXPORTED_ENV: "1"}
    assert threads._user_setting(env) is None
    env[threads.USER_ENV] = "OMP_NUM_THREADS=4"
    assert threads._user_setting(env) == (4, "OMP_NUM_THREADS")
    assert threads._user_setting({"OPENBLAS_NUM_THREADS": "3"}) == (3, "OPENBLAS_NUM_THREADS")
    assert threads._user_setting({"OMP_NUM_THREADS": "abc"}) is None


@pytest.mark.parametrize("n", [1, 2])
def test_policy_limits_blas_openmp_and_torch_pools(n):
    import numpy as np  # noqa: F401  (loads OpenBLAS)
    import torch
    from threadpoolctl import threadpool_info

    info = threads.apply_thread_policy(n)
    try:
        assert info["threads"] == n
        assert torch.get_num_threads() == n
        assert all(p["num_threads"] == n for p in threadpool_info())
    finally:
        threads.apply_thread_policy(1)



def test_a_run_records_its_threads_and_gives_the_same_verdict_at_1_and_2_threads(runs):
    from paramlab.console.core.reading import read_record
    from paramlab.console.core.runner import Runner

    runner = Runner(runs)
    out = {}
    for n in (1, 2):
        h = runner.start("robust-matrix-recovery-subgradient", preset="quick", seed=3,
                         threads=n)
        assert h.wait(120) and h.status == "done", h.error
        header = read_record(h.path).header
        assert header["threads"]["threads"] == n and header["threads"]["why"] == "--threads"
        assert header["threads"]["mkl_cbwr"] == os.environ.get(threads.CNR_ENV)
        out[n] = (h.verdict.to_dict(), {k: h.history.last(k) for k in h.history.names()})
    assert out[1][0]["passed"] == out[2][0]["passed"]
    # bitwise here (it declares 2 threads; bench_thread_invariance: every value equal)
    assert out[1] == out[2]
    threads.apply_thread_policy(1)


def test_a_run_with_no_request_uses_one_thread(runs):
    from paramlab.console.core.reading import read_record
    from paramlab.console.core.runner import Runner

    h = Runner(runs).start("one-connection-sem", preset="quick", seed=0)  # declares none
    assert h.wait(120) and h.status == "done"
    assert read_record(h.path).header["threads"]["threads"] in (1, threads._USER[0]
                                                                if threads._USER else 1)


def test_bad_thread_counts_are_refused_before_anything_runs(runs, capsys):
    from paramlab.console.cli import main

    for bad in ("0", "-2", "x"):
        assert main(["run", "matrix-sensing-overparam", "--threads", bad]) == 2
        assert "--threads: expected an integer >= 1" in capsys.readouterr().err
    assert not runs.exists()


_GEMMS = """
import os, sys
import paramlab.console.core.threads  # sets MKL's reproducibility mode before MKL's first call
import torch
shapes = [(128, 2048, 10), (10, 2048, 128), (64, 4096, 64), (256, 256, 256), (2000, 100, 50)]
out = {}
for n in (1, 2):
    torch.set_num_threads(n)
    g = torch.Generator().manual_seed(0)
    out[n] = [torch.randn(m, k, generator=g) @ torch.randn(k, p, generator=g)
              for m, k, p in shapes]
print(os.environ.get("MKL_CBWR"), all(torch.equal(a, b) for a, b in zip(out[1], out[2])))
"""


def test_matrix_products_are_the_same_at_1_and_2_threads():
    # Without MKL's strict reproducibility mode, (128 x 2048) @ (2048 x 10) differs at 1 vs
    # 2 threads on the box this was written on (MKL picks its blocking by thread count).
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != threads.CNR_ENV}
    out = subprocess.run([sys.executable, "-c", _GEMMS], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == [threads.CNR_MODE, "True"]
    env[threads.CNR_ENV] = "AUTO"  # the user's own setting wins
    out = subprocess.run([sys.executable, "-c", _GEMMS], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.stdout.split()[0] == "AUTO", out.stderr[-2000:]
