"""engines/peft/tucker.py against independent computations: numpy mode-n products for the
Tucker reconstruction, numpy SVD (HOSVD) for the truths' structure, hand counts."""

import numpy as np
import torch
from torch import nn

from paramlab.engines.peft import tucker as T

SHAPE = (6, 5, 3, 3)


def _mode_product(X, U, mode):
    """X x_mode U by unfolding (numpy, no einsum)."""
    Xm = np.moveaxis(X, mode, 0)
    rest = Xm.shape[1:]
    Y = U @ Xm.reshape(Xm.shape[0], -1)
    return np.moveaxis(Y.reshape((U.shape[0],) + rest), 0, mode)


def test_tucker_delta_matches_numpy_mode_products():
    g = torch.Generator().manual_seed(0)
    mod = T.TuckerDelta(SHAPE, (2, 3, 2, 1), scale=0.7, generator=g)
    with torch.no_grad():
        mod.core.copy_(torch.randn(mod.core.shape, generator=g))
    X = mod.core.detach().double().numpy()
    for k, U in enumerate(mod.factors):
        X = _mode_product(X, U.detach().double().numpy(), k)
    np.testing.assert_allclose(mod().detach().double().numpy(), 0.7 * X, rtol=1e-5, atol=1e-6)


def test_exact_counts_and_matched_rank():
    for ranks in [(1, 1, 1, 1), (2, 3, 2, 1), (4, 5, 3, 3)]:
        mod = T.TuckerDelta(SHAPE, ranks)
        n = sum(p.numel() for p in mod.parameters() if p.requires_grad)
        assert n == mod.n_trainable() == np.prod(ranks) + sum(a * b for a, b in zip(SHAPE, ranks))
    lora = T.LoRAConvDelta(SHAPE, 3)
    assert sum(p.numel() for p in lora.parameters()) == lora.n_trainable() == 3 * (6 + 45)
    big = (32, 32, 3, 3)
    assert T.tucker_count(big, (8, 8, 3, 3)) == 1106 and T.tucker_count(big, (4, 4, 3, 3)) == 418
    for budget, rank in [(418, 2), (1106, 4), (2082, 7), (320, 1), (321, 2)]:
        assert T.matched_lora_rank(big, budget) == rank
        assert T.conv_lora_count(big, rank) >= budget
        assert T.conv_lora_count(big, rank - 1) < budget or rank == 1


def test_zero_init_is_the_identity():
    g = torch.Generator().manual_seed(1)
    base = nn.Conv2d(5, 6, 3, padding=1)
    x = torch.randn(4, 5, 7, 7, generator=g)
    for delta in (T.TuckerDelta(SHAPE, (2, 2, 3, 3), generator=g),
                  T.LoRAConvDelta(SHAPE, 2, generator=g)):
        ad = T.AdaptedConv2d(base, delta)
        assert torch.equal(ad(x), base(x))
        assert all(not p.requires_grad for p in ad.base.parameters())
        assert sum(p.numel() for p in ad.parameters() if p.requires_grad) == delta.n_trainable()
        # and it trains: a gradient reaches the adapter
        ad(x).pow(2).sum().backward()
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in delta.parameters())


def test_lora_delta_is_the_reshaped_matrix_product():
    g = torch.Generator().manual_seed(2)
    mod = T.LoRAConvDelta(SHAPE, 2, generator=g)
    with torch.no_grad():
        mod.B.copy_(torch.randn(mod.B.shape, generator=g))
    B, A = mod.B.detach().numpy(), mod.A.detach().numpy()
    ref = np.stack([[[[B[o] @ A[:, i * 9 + h * 3 + w] for w in range(3)] for h in range(3)]
                     for i in range(5)] for o in range(6)])
    np.testing.assert_allclose(mod().detach().numpy(), ref, rtol=1e-5, atol=1e-6)


def test_truths_have_their_structure():
    rng = np.random.default_rng(0)
    big = (32, 32, 3, 3)
    t = T.tucker_truth(rng, big, (8, 8, 3, 3))
    assert T.multilinear_ranks(t) == (8, 8, 3, 3)
    assert abs(np.linalg.norm(t) - 1) < 1e-12
    # HOSVD with the truncated ranks reconstructs it exactly
    Us = [np.linalg.svd(T.unfold(t, k), full_matrices=False)[0][:, :r]
          for k, r in enumerate((8, 8, 3, 3))]
    core = t
    for k, U in enumerate(Us):
        core = _mode_product(core, U.T, k)
    rec = core
    for k, U in enumerate(Us):
        rec = _mode_product(rec, U, k)
    np.testing.assert_allclose(rec, t, atol=1e-10)
    m = T.matrix_truth(rng, big, 4)
    assert np.linalg.matrix_rank(m.reshape(32, -1)) == 4
    assert T.multilinear_ranks(m)[1] > 8  # not Tucker-(8, 8, 3, 3): spatially unstructured
