from functools import partial

import numpy as np
import pytest
import scenario_runs
import torch
from torch.nn import functional as F

from paramlab.engines.nn import kind_ddpm as K
from paramlab.scenarios.kind_diffusion_learngene import CRIT_LORA, CRIT_PARAMS, CRIT_SCRATCH

SID = "kind-diffusion-learngene"
run_to_end = partial(scenario_runs.run_to_end, SID)
SMALL = K.Config(width=16, T=10, batch=8, pre_steps=3, steps=3, n_test=20, n_levels=2)


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quick_claim_check_passes(seed):
    h = run_to_end(seed=seed)
    assert h.verdict.passed, h.verdict.summary


def test_a_random_learngene_fails_the_claim():
    h = run_to_end({"learngene": "random"})
    failed = scenario_runs.failed_paper(h)
    assert CRIT_LORA in failed and CRIT_SCRATCH in failed
    assert CRIT_PARAMS not in failed  # same budget: only the learngene changed
    crit = {c.name: c for c in h.verdict.criteria}
    assert crit[CRIT_SCRATCH].measured > 1.0  # worse than training from scratch


def _arrays(cfg, g):
    """Pre-trained-like arrays without training (random weights, random tailors)."""
    out = {}
    for li, (d_in, d_out) in enumerate(cfg.dims()):
        for name in ("plain", "kind"):
            W, b = K._init_dense(g, d_in, d_out)
            out[f"{name}_W{li}"], out[f"{name}_b{li}"] = W.numpy(), b.numpy()
        k = cfg.tailor_rank
        out[f"kind_tA{li}"] = torch.randn(K.N_SLOTS, k, d_in, generator=g).numpy()
        out[f"kind_tB{li}"] = torch.randn(K.N_SLOTS, d_out, k, generator=g).numpy() * 0.1
    return out


def _reference_forward(member, x, slot):
    """One member, one sample at a time, with F.linear on its explicit weights."""
    rows = []
    for i in range(x.shape[0]):
        h = x[i:i + 1]
        c = int(slot[i])
        for li, L in enumerate(member.layers):
            W = L["W"] + (L["U"] * L["s"]) @ L["V"].T + L["lB"] @ L["lA"]
            W = W + L["tB"][c] @ L["tA"][c]
            h = F.linear(h, W, L["b"])
            h = F.silu(h) if li < len(member.layers) - 1 else h
        rows.append(h)
    return torch.cat(rows)


def test_stacked_forward_equals_each_member_alone():
    g = torch.Generator().manual_seed(0)
    members = K.transfer_members(_arrays(SMALL, g), list(K.TRANSFER), SMALL, g)
    x = torch.randn(12, K.D_IN, generator=g)
    slot = torch.randint(K.N_SLOTS, (12,), generator=g)
    out = K.Stack(members, SMALL).forward(x, slot)
    for m, got in zip(members, out):
        torch.testing.assert_close(got, _reference_forward(m, x, slot), rtol=1e-4, atol=1e-5)


def test_the_learngene_svd_is_exact_and_kind_starts_from_the_pretrained_function():
    g = torch.Generator().manual_seed(1)
    arrays = _arrays(SMALL, g)
    kind, = K.transfer_members(arrays, ["kind"], SMALL, g)
    for li, L in enumerate(kind.layers):
        W = (L["U"] * L["s"]) @ L["V"].T
        np.testing.assert_allclose(W.numpy(), arrays[f"kind_W{li}"], atol=1e-5)


def test_warm_tailors_are_the_best_rank_k_mean_source_tailor():
    g = torch.Generator().manual_seed(2)
    arrays = _arrays(SMALL, g)
    kind, = K.transfer_members(arrays, ["kind"], SMALL, g)
    k = SMALL.tailor_rank
    for li, L in enumerate(kind.layers):
        mean = np.einsum("cok,cki->oi", arrays[f"kind_tB{li}"], arrays[f"kind_tA{li}"]) / 5
        U, S, Vt = np.linalg.svd(mean.astype(np.float64))
        best = (U[:, :k] * S[:k]) @ Vt[:k]
        for c in range(K.N_SLOTS):
            np.testing.assert_allclose((L["tB"][c] @ L["tA"][c]).numpy(), best, atol=1e-5)


def test_trainable_counts_match_the_closed_forms():
    g = torch.Generator().manual_seed(3)
    members = K.transfer_members(_arrays(SMALL, g), list(K.TRANSFER), SMALL, g)
    n = {m.name: m.n_trainable() for m in members}
    dims = SMALL.dims()
    side = sum(a + b for a, b in dims)
    assert n["lora"] == SMALL.lora_rank * side
    assert n["pc_lora"] == K.N_SLOTS * SMALL.tailor_rank * side
    assert n["kind"] == K.N_SLOTS * SMALL.tailor_rank * side + sum(min(d) for d in dims)
    assert n["full_ft"] == n["scratch"] == sum(a * b + b for a, b in dims)


def test_a_member_trains_the_same_alone_and_its_frozen_parts_stay_put():
    arrays = _arrays(SMALL, torch.Generator().manual_seed(4))
    w = K.digits_world(0, 10, 20)
    X, s = torch.from_numpy(w["X_tr"]), torch.from_numpy(w["s_tr"])

    def trained(methods):
        g = torch.Generator().manual_seed(5)
        members = K.transfer_members(arrays, methods, SMALL, g)
        stack = K.Stack(members, SMALL)
        for _ in K.train(stack, X, s, 5, torch.Generator().manual_seed(6)):
            pass
        return stack

    both = trained(["lora", "kind"])
    alone = trained(["lora"])
    for L2, L1 in zip(both.layers, alone.layers):
        for key in K.PARTS:
            torch.testing.assert_close(L2[key][0], L1[key][0])
    for li, L in enumerate(both.layers):  # LoRA's backbone and KIND's bases never move
        np.testing.assert_array_equal(L["W"][0].detach().numpy(), arrays[f"plain_W{li}"])
        np.testing.assert_array_equal(L["b"][1].detach().numpy(), arrays[f"kind_b{li}"])
        assert L["lB"][0].abs().sum() > 0  # while the adapter did


def test_per_part_adam_is_torch_adam():
    p = torch.randn(1, 5, requires_grad=True)
    q = p.detach().clone().requires_grad_(True)

    class One:
        lr = {"W": torch.tensor([0.01])}

        def parameters(self):
            return [("W", p)]

    mine, ref = K.optimizers(One()), torch.optim.Adam([q], lr=0.01)
    for i in range(4):
        for t in (p, q):
            ((t - i) ** 2).sum().backward()
        for opt in mine:
            opt.step()
            opt.zero_grad()
        ref.step()
        ref.zero_grad()
    torch.testing.assert_close(p, q)
    assert not torch.equal(p, torch.zeros_like(p))


def test_cosine_schedule_matches_the_closed_form():
    T, s = 50, 0.008
    f = np.cos((np.arange(T + 1) / T + s) / (1 + s) * np.pi / 2) ** 2
    beta = np.minimum(1 - f[1:] / f[:-1], 0.999)
    np.testing.assert_allclose(K.cosine_alpha_bar(T).numpy(), np.cumprod(1 - beta), rtol=1e-6)


def test_frechet_distance_matches_scipy_sqrtm():
    from scipy import linalg

    rng = np.random.default_rng(0)
    a = rng.standard_normal((300, 8)) @ rng.standard_normal((8, 8))
    b = rng.standard_normal((200, 8)) + 0.5
    Sa, Sb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    ref = ((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(Sa + Sb - 2 * linalg.sqrtm(Sa @ Sb).real)
    assert K.frechet(a, b) == pytest.approx(ref, rel=1e-8)
    assert abs(K.frechet(a, a)) < 1e-8


def test_samples_have_one_block_per_class_within_range():
    g = torch.Generator().manual_seed(7)
    members = K.transfer_members(_arrays(SMALL, g), ["lora", "kind"], SMALL, g)
    x, slot = K.sample(K.Stack(members, SMALL), 3, SMALL, g)
    assert x.shape == (2, 3 * K.N_SLOTS, K.D_X) and x.abs().max() <= 1
    assert slot.tolist() == [c for c in range(K.N_SLOTS) for _ in range(3)]
