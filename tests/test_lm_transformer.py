from __future__ import annotations

import pytest
import torch

from paramlab.engines.lm import transformer as tf

CFG = tf.TransformerConfig(vocab=32, layers=2, d_model=16, heads=2, max_len=64)


def _model(seed: int = 0, scale: float = 0.3) -> tf.TinyTransformer:
    # weights well away from init scale so the logits are O(1) and the check is not trivial
    model = tf.TinyTransformer(CFG)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, scale, generator=g)
    return model.double().eval()


def test_decoding_with_and_without_kv_cache_gives_the_same_logits():
    model = _model()
    prompt = torch.randint(0, CFG.vocab, (3, 7), generator=torch.Generator().manual_seed(1))
    ids_c, logits_c = tf.generate(model, prompt, 12, kv_cache=True)
    ids_n, logits_n = tf.generate(model, prompt, 12, kv_cache=False)
    assert torch.equal(ids_c, ids_n)
    for a, b in zip(logits_c, logits_n):
        assert a.abs().max() > 0.1  # not a trivially flat output
        torch.testing.assert_close(a, b, atol=1e-5, rtol=0)


def test_cached_steps_match_one_full_causal_forward_in_float32():
    model = _model().float()
    seq = torch.randint(0, CFG.vocab, (2, 20), generator=torch.Generator().manual_seed(2))
    full, _ = model(seq)
    # prefill 5 tokens, then a chunk of 4, then single tokens
    out, cache = model(seq[:, :5])
    parts = [out]
    o, cache = model(seq[:, 5:9], cache)
    parts.append(o)
    for t in range(9, 20):
        o, cache = model(seq[:, t:t + 1], cache)
        parts.append(o)
    torch.testing.assert_close(torch.cat(parts, 1), full, atol=1e-5, rtol=0)
    assert cache[0][0].shape == (2, CFG.heads, 20, CFG.d_head)


def test_future_tokens_do_not_change_past_logits():
    model = _model()
    a = torch.randint(0, CFG.vocab, (1, 10), generator=torch.Generator().manual_seed(3))
    b = a.clone()
    b[0, 6:] = (b[0, 6:] + 1) % CFG.vocab
    torch.testing.assert_close(model(a)[0][:, :6], model(b)[0][:, :6])


def test_init_is_reproducible_from_the_generator():
    m1 = tf.init_(tf.TinyTransformer(CFG), torch.Generator().manual_seed(5))
    m2 = tf.init_(tf.TinyTransformer(CFG), torch.Generator().manual_seed(5))
    for p, q in zip(m1.parameters(), m2.parameters()):
        assert torch.equal(p, q)
    assert m1.blocks[0].ln1.weight.eq(1).all() and m1.blocks[0].qkv.bias.eq(0).all()


def test_generate_reports_each_forward_call_shape():
    model = _model()
    prompt = torch.zeros(1, 4, dtype=torch.long)
    calls = []
    tf.generate(model, prompt, 3, on_forward=lambda n, past: calls.append((n, past)))
    assert calls == [(4, 0), (1, 4), (1, 5)]
    calls.clear()
    tf.generate(model, prompt, 3, kv_cache=False,
                on_forward=lambda n, past: calls.append((n, past)))
    assert calls == [(4, 0), (5, 0), (6, 0)]


def test_forward_flops_matches_a_hand_count():
    # L=1, d=4, V=8, 2 new tokens after 3 cached (S = 5), batch 1. Per token:
    # QKV 4x12 = 48 MACs, out-proj 16, MLP 4x16 + 16x4 = 128, scores 4x5 = 20, weighted
    # sum 5x4 = 20, head 4x8 = 32: 264 MACs = 528 FLOPs per token, 1056 for two.
    cfg = tf.TransformerConfig(vocab=8, layers=1, d_model=4, heads=1)
    assert tf.forward_flops(cfg, n_new=2, n_past=3) == 1056
    assert tf.forward_flops(cfg, n_new=2, n_past=3, batch=3) == 3 * 1056


@pytest.mark.parametrize("n_new,n_past", [(7, 0), (1, 9), (3, 4)])
def test_forward_flops_matches_torch_flop_counter(n_new, n_past):
    from torch.utils.flop_counter import FlopCounterMode

    model = _model().float()
    seq = torch.zeros(2, n_past + n_new, dtype=torch.long)
    cache = model(seq[:, :n_past])[1] if n_past else None
    with FlopCounterMode(display=False) as counter:
        model(seq[:, n_past:], cache)
    assert counter.get_total_flops() == tf.forward_flops(CFG, n_new, n_past, batch=2)


def test_forward_bytes_counts_weights_and_kv_cache():
    cfg = tf.TransformerConfig(vocab=8, layers=2, d_model=4, heads=1)
    # 100 weights + K and V of 2 layers x 4 dims x 5 positions, 4 bytes each
    assert tf.forward_bytes(cfg, 100, n_new=1, n_past=4) == 4 * (100 + 2 * 2 * 4 * 5)


def test_flop_clock_is_a_roofline_with_per_layer_overhead():
    cfg = tf.TransformerConfig(vocab=8, layers=2, d_model=4, heads=1)
    clock = tf.FlopClock(flop_rate=1000.0, bandwidth=100.0, overhead_per_layer=0.5)
    flops = tf.forward_flops(cfg, 3, 0)
    moved = tf.forward_bytes(cfg, 50, 3, 0)
    assert clock.forward_seconds(cfg, 50, 3, 0) == pytest.approx(
        1.0 + max(flops / 1000.0, moved / 100.0))
    # a decode step of the default clock on a real model is memory bound, a long
    # prefill compute bound: per token, decode costs far more than prefill
    big = tf.TransformerConfig(layers=4, d_model=256, heads=4)
    n = tf.TinyTransformer(big).n_params()
    c = tf.FlopClock()
    decode = c.forward_seconds(big, n, 1, 128)
    per_prefill_token = (c.forward_seconds(big, n, 256, 0)
                         - c.forward_seconds(big, n, 128, 0)) / 128
    assert decode / per_prefill_token > 10
