from functools import partial

import numpy as np
import pytest
import scenario_runs
import torch

from paramlab.engines.peft import self_ft as sf

SID = "s3ft-self-supervised-ft"
run_to_end = partial(scenario_runs.run_to_end, SID)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quick_claim_check_passes(seed):
    h = run_to_end(seed=seed)
    assert h.verdict.passed, h.verdict.summary


def test_the_control_fails_the_claim():
    # a judge that never accepts the own answer: S3FT is SFT, drop ratio 1.0, KL ratio 1.0
    h = run_to_end({"judge": "never"})
    assert "general drop: S3FT / SFT" in scenario_runs.failed_paper(h)


def test_stacked_forward_and_kl_match_independent_computation():
    g = torch.Generator().manual_seed(0)
    ps = sf.init(3, 16, g)
    X = torch.rand(5, 64, generator=g)
    out = sf.forward(ps, X)
    for m in range(3):
        lin = [torch.nn.Linear(a, b) for a, b in ((64, 16), (16, 16), (16, sf.VOCAB))]
        with torch.no_grad():
            for i, layer in enumerate(lin):
                layer.weight.copy_(ps[2 * i][m].T)
                layer.bias.copy_(ps[2 * i + 1][m, 0])
        ref = lin[2](torch.relu(lin[1](torch.relu(lin[0](X)))))
        assert torch.allclose(out[m], ref, atol=1e-5)
    p = torch.softmax(out[0], -1).numpy().astype(np.float64)
    q = torch.softmax(out[1], -1).numpy().astype(np.float64)
    ref_kl = np.mean(np.sum(p * np.log(p / q), -1))
    assert sf.kl(out[:1], out[1:2]).item() == pytest.approx(ref_kl, rel=1e-4)


def test_target_rules():
    labels = torch.tensor([0, 1, 2])
    own = torch.tensor([[0, 7, 12]])
    correct = (own % 10) == labels
    assert sf.targets("sft", own, correct, labels).tolist() == [[10, 11, 12]]
    assert sf.targets("s3ft", own, correct, labels).tolist() == [[0, 11, 12]]
    assert sf.targets("para", own, correct, labels).tolist() == [[0, 1, 12]]
    assert sf.targets("sft", own, correct, labels, style_shift=False).tolist() == [[0, 1, 2]]
