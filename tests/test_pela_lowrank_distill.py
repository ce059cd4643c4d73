from functools import partial

import scenario_runs
import torch

SID = "pela-lowrank-distill"
run_to_end = partial(scenario_runs.run_to_end, SID)


def test_svd_split_matches_truncation():
    from paramlab.engines.nn import pela

    W = torch.randn(40, 30, generator=torch.Generator().manual_seed(0))
    A, B = pela.svd_factors(W, 5)
    U, S, Vh = torch.linalg.svd(W, full_matrices=False)
    ref = (U[:, :5] * S[:5]) @ Vh[:5]
    assert torch.allclose(B @ A, ref, atol=1e-5)
    assert abs(pela.truncation_error(W, 5) - float(S[5:].pow(2).sum().sqrt())) < 1e-4
    assert pela.rank_for(512, 512, 3) == 85


def test_the_control_fails_the_param_budget():
    h = run_to_end({"ratio": 2.0}, seed=0)
    assert "PELA params / full params" in scenario_runs.failed_paper(h)
