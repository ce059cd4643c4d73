"""The thread policy: one thread per run unless asked, and results that do not depend on it."""

from __future__ import annotations

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

