"""The WideNet engine against independent computations: sparse top-k routing equals the
dense mixture, the balance loss is 1 under uniform routing, sharing shares what it says."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from paramlab.engines.lm import widenet as wn  # noqa: E402


def _model(variant, **kw):
    cfg = wn.WideNetConfig.variant(variant, vocab=40, seq_len=6, d_model=16, heads=2,
                                   layers=3, **kw)
    return wn.init_(wn.SharedEncoder(cfg), torch.Generator().manual_seed(0))


def test_sparse_routing_equals_the_dense_mixture_of_all_experts():
    moe = wn.MoE(8, n_experts=4, top_k=2)
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in moe.parameters():
            p.normal_(0, 0.5, generator=g)
    x = torch.randn(50, 8, generator=g)
    out, balance, counts = moe(x)
    assert torch.allclose(out, moe.dense_reference(x), atol=1e-6)
    assert counts.sum() == 50


def test_top_k_weights_are_the_renormalised_router_probabilities():
    moe = wn.MoE(8, n_experts=4, top_k=2)
    x = torch.randn(10, 8, generator=torch.Generator().manual_seed(2))
    idx, w, probs = moe.gates(x)
    top = probs.gather(1, idx)
    assert torch.allclose(w, top / top.sum(1, keepdim=True))
    assert torch.allclose(w.sum(1), torch.ones(10))


def test_balance_loss_is_one_when_routing_is_uniform():
    moe = wn.MoE(8, n_experts=4, top_k=1)
    with torch.no_grad():
        moe.router.weight.zero_()  # every prob 1/4; top-1 ties
    _, balance, _ = moe(torch.randn(12, 8))
    # f_e sums to 1 and P_e = 1/4 for every e: E * sum f_e P_e = 1 whatever the ties
    assert balance.item() == pytest.approx(1.0)


def test_parameter_counts_follow_the_sharing():
    vit, albert, wide = _model("vit"), _model("albert"), _model("widenet")
    d, L, E = 16, 3, 4
    block_attn = 3 * d * d + 3 * d + d * d + d
    ffn = 2 * d * 4 * d + 4 * d + d
    ln = 2 * d
    assert vit.n_params() - albert.n_params() == (L - 1) * (block_attn + ffn + 2 * ln)
    assert wide.n_params() - albert.n_params() == (E - 1) * ffn + d * E + (L - 1) * 2 * ln
    assert len(wide.attn) == len(wide.ffn) == 1 and len(wide.ln1) == L


def test_widenet_with_one_expert_and_shared_lns_is_albert():
    albert = _model("albert")
    same = _model("widenet_sharedln", n_experts=1)
    x = torch.randint(0, 40, (5, 6))
    assert torch.equal(albert(x)[0], same(x)[0])


def test_key_pair_task_labels_come_from_the_table():
    task = wn.KeyPairTask(5, 7, n_distract=10, seq_len=6, n_classes=3)
    g = torch.Generator().manual_seed(0)
    table = task.table(g)
    seq, y = task.sample(table, 200, g)
    for s, label in zip(seq.tolist(), y.tolist()):
        a = [t for t in s if t < 5]
        b = [t - 5 for t in s if 5 <= t < 12]
        assert len(a) == 1 and len(b) == 1
        assert label == table[a[0], b[0]]


def test_dense_and_sparse_expert_compute_give_the_same_function_and_gradients():
    outs, grads = [], []
    x = torch.randint(0, 40, (8, 6), generator=torch.Generator().manual_seed(4))
    for dense in (False, True):
        m = _model("widenet", dense_moe=dense)
        logits, bal, _ = m(x)
        (logits.square().sum() + bal).backward()
        outs.append(logits.detach())
        grads.append(torch.cat([p.grad.flatten() for p in m.parameters()]))
    assert torch.allclose(outs[0], outs[1], atol=1e-6)
    assert torch.allclose(grads[0], grads[1], atol=1e-6)


@pytest.mark.parametrize("variant", ["vit", "albert", "shared_indivln", "widenet"])
def test_each_stacked_member_computes_the_shared_encoder_with_its_weights(variant):
    cfg = wn.WideNetConfig.variant(variant, vocab=40, seq_len=6, d_model=16, heads=2, layers=3)
    stack = wn.init_stack_(wn.StackedEncoder(cfg, 3), torch.Generator().manual_seed(0))
    with torch.no_grad():  # non-trivial LayerNorms and biases too
        for p in stack.parameters():
            p.add_(0.1 * torch.randn(p.shape, generator=torch.Generator().manual_seed(1)))
    x = torch.randint(0, 40, (7, 6), generator=torch.Generator().manual_seed(2))
    logits, bal, counts = stack(x)
    assert logits.shape == (3, 7, 10) and counts.shape[:2] == (3, 3)
    for k in range(3):
        m = stack.member(k)
        assert m.n_params() == stack.n_params()
        ref_logits, ref_bal, ref_counts = m(x)
        assert torch.allclose(logits[k], ref_logits, atol=1e-5)
        assert torch.allclose(bal[k], ref_bal, atol=1e-6)
        assert torch.equal(counts[:, k], ref_counts)


def test_stacked_members_train_independently():
    # the gradient of the summed loss wrt member k's weights is member k's own gradient
    cfg = wn.WideNetConfig.variant("widenet", vocab=40, seq_len=6, d_model=8, heads=2, layers=2)
    stack = wn.init_stack_(wn.StackedEncoder(cfg, 2), torch.Generator().manual_seed(0))
    x = torch.randint(0, 40, (5, 6), generator=torch.Generator().manual_seed(3))
    logits, bal, _ = stack(x)
    (logits.square().sum() + bal.sum()).backward()
    m = stack.member(1)
    ref_logits, ref_bal, _ = m(x)
    (ref_logits.square().sum() + ref_bal).backward()
    assert torch.allclose(stack.w1.grad[0, 1].permute(1, 0, 2), m.ffn[0].w1.grad, atol=1e-5)
    assert torch.allclose(stack.tok.grad[1], m.tok.weight.grad, atol=1e-5)


def test_stacked_albert_and_one_expert_shared_ln_widenet_start_identical():
    kw = dict(vocab=40, seq_len=6, d_model=8, heads=2, layers=2)
    a = wn.init_stack_(wn.StackedEncoder(wn.WideNetConfig.variant("albert", **kw), 2),
                       torch.Generator().manual_seed(5))
    w = wn.init_stack_(wn.StackedEncoder(
        wn.WideNetConfig.variant("widenet_sharedln", n_experts=1, **kw), 2),
        torch.Generator().manual_seed(5))
    x = torch.randint(0, 40, (4, 6))
    assert torch.equal(a(x)[0], w(x)[0])


def test_all_key_pairs_is_every_input_once_with_its_label():
    task = wn.KeyPairTask(3, 4, seq_len=2)
    table = task.table(torch.Generator().manual_seed(0))
    X, y = wn.all_key_pairs(task, table)
    assert X.shape == (24, 2) and len({tuple(r) for r in X.tolist()}) == 24
    for (s0, s1), label in zip(X.tolist(), y.tolist()):
        a, b = (s0, s1 - 3) if s0 < 3 else (s1, s0 - 3)
        assert label == table[a, b]
