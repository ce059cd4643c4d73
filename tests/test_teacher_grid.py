"""engines/lm/teacher_grid.py: the teacher language against direct computation, and the
padded stacked grid against width-h models trained alone with torch.optim.Adam."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from paramlab.engines.lm import teacher_grid as tg
from paramlab.engines.lm.mlp_lm import MLPLM, init_


@pytest.fixture(scope="module")
def teacher():
    return tg.random_teacher(np.random.default_rng(0), V=8, ctx=3, d_emb=4, hidden=32,
                             floor=1.2)


def test_contexts_enumerate_base_v_numbers():
    tok = tg.all_contexts(5, 3)
    assert tok.shape == (125, 3)
    assert (tok @ np.array([25, 5, 1]) == np.arange(125)).all()


def test_teacher_hits_its_entropy_floor_and_pi_is_a_product(teacher):
    assert teacher.entropy == pytest.approx(1.2, abs=1e-9)
    H = -(teacher.probs * np.log(teacher.probs)).sum(1) @ teacher.pi
    assert H == pytest.approx(1.2, abs=1e-9)
    pi = teacher.pi.reshape(8, 8, 8)
    first = pi.sum((1, 2))
    assert pi == pytest.approx(np.einsum("i,j,k->ijk", first, first, first), rel=1e-9)


def test_samples_follow_pi_and_the_next_token_distribution(teacher):
    c, y = teacher.sample(np.random.default_rng(1), 400_000)
    freq = np.bincount(c, minlength=teacher.n_contexts) / c.size
    assert np.abs(freq - teacher.pi).sum() < 0.03
    joint = np.zeros_like(teacher.probs)
    np.add.at(joint, (c, y), 1.0)
    want = (teacher.pi[:, None] * teacher.probs).sum(0)  # marginal of the next token
    assert joint.sum(0) / c.size == pytest.approx(want, abs=3e-3)
    top = np.argmax(teacher.pi)
    rows = y[c == top]
    assert np.bincount(rows, minlength=8) / rows.size == pytest.approx(teacher.probs[top],
                                                                        abs=0.02)


def test_population_loss_is_the_pi_weighted_soft_cross_entropy(teacher):
    model = init_(MLPLM(8, 3, 4, 6, layers=1), torch.Generator().manual_seed(0))
    tt = tg.teacher_tensors(teacher, confident=0.5)
    L, err = tg.population_loss(model, tt)
    with torch.no_grad():
        logits = model(torch.as_tensor(teacher.tokens)).double()
    soft = F.cross_entropy(logits, torch.as_tensor(teacher.probs), reduction="none")
    assert L == pytest.approx(float(soft @ torch.as_tensor(teacher.pi)), rel=1e-10)
    conf = teacher.probs.max(1) >= 0.5
    wrong = logits.argmax(1).numpy() != teacher.probs.argmax(1)
    assert err == pytest.approx((teacher.pi * conf * wrong).sum()
                                / (teacher.pi * conf).sum(), rel=1e-10)
    assert L > teacher.entropy


def test_student_params_counts_the_module_parameters():
    for h in (3, 12, 65):
        net = MLPLM(32, 3, 8, h, layers=1)
        assert tg.student_params(32, 3, 8, h) == sum(p.numel() for p in net.parameters())
        assert tg.width_for(tg.student_params(32, 3, 8, h), 32, 3, 8) == h


def test_lr_schedule_warms_up_then_decays_to_a_tenth():
    lr = tg.lr_schedule(200, 0.01)
    assert lr.shape == (200,)
    assert lr.max() == pytest.approx(0.01)
    assert lr[9] == pytest.approx(0.01) and lr[0] == pytest.approx(0.001)
    assert lr[-1] == pytest.approx(0.001)
    assert (np.diff(lr[10:]) <= 1e-15).all()


def test_padded_grid_follows_each_width_trained_alone(teacher):
    widths, steps, lrs, B = [5, 9, 3], [7, 12, 4], [0.01, 0.005, 0.02], 16
    got = {}
    for rec in tg.train_grid(teacher, widths, steps, lrs, batch=B, d_emb=4,
                             rng=np.random.default_rng(5),
                             generator=torch.Generator().manual_seed(3), curve_points=2):
        for k, t, L, _ in rec.get("eval", []):
            if t == steps[k]:
                got[k] = L
    # the same batches and inits, one model at a time with torch.optim.Adam
    K, T = len(widths), max(steps)
    c, y = teacher.sample(np.random.default_rng(5), T * K * B)
    c, y = c.reshape(T, K, B), y.reshape(T, K, B)
    gen = torch.Generator().manual_seed(3)
    inits = [init_(MLPLM(8, 3, 4, h, layers=1), gen) for h in widths]
    tt = tg.teacher_tensors(teacher)
    for k, net in enumerate(inits):
        opt = torch.optim.Adam(net.parameters(), lr=lrs[k], betas=(0.9, 0.98), eps=1e-8)
        sched = tg.lr_schedule(steps[k], lrs[k])
        for t in range(steps[k]):
            opt.param_groups[0]["lr"] = float(sched[t])
            opt.zero_grad()
            x = torch.as_tensor(teacher.tokens[c[t, k]])
            F.cross_entropy(net(x), torch.as_tensor(y[t, k])).backward()
            opt.step()
        alone, _ = tg.population_loss(net, tt)
        assert got[k] == pytest.approx(alone, rel=1e-5)
