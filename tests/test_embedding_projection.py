"""Engines of the DECOR scenario, against independent computations (scipy, scikit-learn,
torch.optim.Adam, closed-form least squares)."""

from __future__ import annotations

import numpy as np
import pytest

from paramlab.engines.linalg import embedding_projection as ep
from paramlab.engines.linalg import linear_t2i as lt


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


def test_full_projection_equals_the_projector_onto_scipys_null_space():
    import scipy.linalg

    rng = np.random.default_rng(0)
    E = rng.standard_normal((3, 12))  # three undesired token embeddings
    X = rng.standard_normal((7, 12))  # seven prompt tokens
    N = scipy.linalg.null_space(E)  # orthonormal basis of the orthogonal complement
    V = ep.undesired_basis(E)
    assert V.shape == (12, 3)
    np.testing.assert_allclose(ep.project_out(X, V, 1.0), X @ N @ N.T, atol=1e-12)
    np.testing.assert_allclose(ep.complement_projector(V), N @ N.T, atol=1e-12)


def test_basis_spans_the_same_space_as_scipy_orth_and_drops_dependent_rows():
    import scipy.linalg

    rng = np.random.default_rng(1)
    E = rng.standard_normal((2, 9))
    E = np.vstack([E, 2.0 * E[0] - E[1]])  # a dependent third row: rank 2
    V = ep.undesired_basis(E)
    Q = scipy.linalg.orth(E.T)
    assert V.shape == Q.shape == (9, 2)
    np.testing.assert_allclose(V @ V.T, Q @ Q.T, atol=1e-12)
    assert ep.undesired_basis(E, rank=1).shape == (9, 1)


def test_projector_is_symmetric_idempotent_and_leaves_nothing_along_the_undesired_tokens():
    rng = np.random.default_rng(2)
    E = rng.standard_normal((2, 10))
    V = ep.undesired_basis(E)
    P = ep.complement_projector(V)
    np.testing.assert_allclose(P, P.T, atol=1e-12)
    np.testing.assert_allclose(P @ P, P, atol=1e-12)
    Xp = ep.project_out(rng.standard_normal((5, 10)), V)
    np.testing.assert_allclose(Xp @ E.T, 0.0, atol=1e-12)


def test_partial_strength_moves_linearly_between_the_prompt_and_its_projection():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((4, 8))
    V = ep.unit_directions(rng.standard_normal(8))
    full = ep.project_out(X, V, 1.0)
    np.testing.assert_allclose(ep.project_out(X, V, 0.0), X)
    np.testing.assert_allclose(ep.project_out(X, V, 0.3), 0.7 * X + 0.3 * full, atol=1e-12)


def test_batched_projection_with_one_direction_and_strength_per_batch_entry():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((6, 3, 8))  # 6 customisations x 3 prompts, vectors
    E = rng.standard_normal((6, 8))
    alpha = rng.random(6)[:, None]
    V = ep.unit_directions(E)[:, None]  # (6, 1, 8, 1): broadcast over the prompts
    out = ep.project_out(X, V, alpha)
    for t in range(6):
        v = E[t] / np.linalg.norm(E[t])
        for i in range(3):
            expect = X[t, i] - alpha[t, 0] * (X[t, i] @ v) * v
            np.testing.assert_allclose(out[t, i], expect, atol=1e-12)


def test_least_squares_probe_matches_sklearn_linear_regression():
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(5)
    M = rng.standard_normal((40, 6))
    Y = rng.standard_normal((5, 40))
    ours = ep.least_squares_probe(Y, M)
    for y, c in zip(Y, ours):
        ref = LinearRegression(fit_intercept=False).fit(M, y).coef_
        np.testing.assert_allclose(c, ref, atol=1e-10)


def test_cosine_matches_scipy_distance():
    from scipy.spatial.distance import cosine as cos_dist

    rng = np.random.default_rng(6)
    a, b = rng.standard_normal((2, 11))
    assert ep.cosine(a, b) == pytest.approx(1.0 - cos_dist(a, b))


def test_generator_reproduces_every_pretraining_pair_exactly():
    rng = np.random.default_rng(7)
    w = lt.LinearT2I.sample(rng, d=32, K=6, J=4, D=40)
    X = lt.pair_prompts(w.C, w.S)
    k, j = np.divmod(np.arange(24), 4)
    np.testing.assert_allclose(w.generate(X), w.image(k, j), atol=1e-10)
    a, b = w.decompose(w.generate(X))
    np.testing.assert_allclose(a, np.eye(6)[k], atol=1e-10)
    np.testing.assert_allclose(b, np.eye(4)[j], atol=1e-10)


def test_common_direction_sets_the_mean_cosine_between_tokens():
    rng = np.random.default_rng(8)
    E = lt.token_embeddings(rng, 400, 256, 0.5)
    cos = ep.cosine(E[:, None, :], E[None, :, :])[np.triu_indices(400, 1)]
    assert np.mean(cos) == pytest.approx(0.5, abs=0.1)


def test_numpy_adam_matches_torch_adam_step_for_step():
    import torch

    rng = np.random.default_rng(9)
    G = rng.standard_normal((20, 8))
    Y = rng.standard_normal((3, 2, 20))
    e0 = 0.01 * rng.standard_normal((3, 8))
    ours = [e.copy() for e, _ in lt.textual_inversion(G, Y, e0, 25, 0.05)]
    p = torch.tensor(e0, requires_grad=True)
    opt = torch.optim.Adam([p], lr=0.05)
    Gt, Yt = torch.tensor(G), torch.tensor(Y)
    for step in range(25):
        opt.zero_grad()
        loss = (((p @ Gt.T)[:, None, :] - Yt) ** 2).sum(-1).mean(-1).sum() / 20
        loss.backward()
        opt.step()
        np.testing.assert_allclose(ours[step], p.detach().numpy(), rtol=1e-9, atol=1e-12)


def test_textual_inversion_converges_to_the_least_squares_fit_of_the_references():
    rng = np.random.default_rng(10)
    G = rng.standard_normal((30, 6)) / np.sqrt(30)  # full column rank: a unique optimum
    Y = rng.standard_normal((2, 3, 30))
    *_, (e, loss) = lt.textual_inversion(G, Y, np.zeros((2, 6)), 3000, 0.01)
    for t in range(2):
        best = np.linalg.lstsq(G, Y[t].mean(0), rcond=None)[0]
        np.testing.assert_allclose(e[t], best, atol=1e-3)
        direct = np.mean(np.sum((G @ best - Y[t]) ** 2, axis=-1)) / 30
        assert loss[t] == pytest.approx(direct, rel=1e-5)


def test_stacked_worlds_train_like_separate_runs():
    rng = np.random.default_rng(11)
    G = rng.standard_normal((2, 16, 5))
    Y = rng.standard_normal((2, 4, 3, 16))
    e0 = 0.01 * rng.standard_normal((2, 4, 5))
    *_, (both, _) = lt.textual_inversion(G, Y, e0, 50, 0.05)
    for w in range(2):
        *_, (one, _) = lt.textual_inversion(G[w], Y[w], e0[w], 50, 0.05)
        np.testing.assert_allclose(both[w], one, rtol=1e-12, atol=1e-14)


def test_lora_adam_matches_torch_autograd_and_adam():
    import torch

    rng = np.random.default_rng(12)
    G = rng.standard_normal((2, 12, 6))  # two worlds
    Y = rng.standard_normal((2, 3, 2, 12))  # three tasks each
    e_s = rng.standard_normal((2, 6))
    P0 = np.zeros((2, 3, 12, 2))
    Q0 = 0.1 * rng.standard_normal((2, 3, 6, 2))
    ours = [(p.copy(), q.copy()) for p, q, _ in
            lt.lora_customisation(G, Y, e_s, P0, Q0, 15, 0.05)]
    P, Q = torch.tensor(P0, requires_grad=True), torch.tensor(Q0, requires_grad=True)
    opt = torch.optim.Adam([P, Q], lr=0.05)
    Gt, Yt, et = torch.tensor(G), torch.tensor(Y), torch.tensor(e_s)
    for step in range(15):
        opt.zero_grad()
        W = Gt[:, None] + P @ Q.transpose(-1, -2)  # (2, 3, 12, 6)
        out = (W @ et[:, None, :, None])[..., 0]  # (2, 3, 12)
        loss = ((out[:, :, None, :] - Yt) ** 2).sum(-1).mean(-1).sum() / 12
        loss.backward()
        opt.step()
        np.testing.assert_allclose(ours[step][0], P.detach().numpy(), rtol=1e-8, atol=1e-12)
        np.testing.assert_allclose(ours[step][1], Q.detach().numpy(), rtol=1e-8, atol=1e-12)
    X = rng.standard_normal((2, 3, 4, 6))
    W = (Gt[:, None] + P @ Q.transpose(-1, -2)).detach().numpy()
    expect = (W[:, :, None] @ X[..., None])[..., 0]
    np.testing.assert_allclose(lt.lora_images(G, ours[-1][0], ours[-1][1], X), expect,
                               atol=1e-10)


def test_one_word_pretraining_makes_the_generator_exact_on_every_token():
    rng = np.random.default_rng(13)
    w = lt.LinearT2I.sample(rng, d=32, K=6, J=4, D=40, single_tokens=True)
    np.testing.assert_allclose(w.generate(w.C), w.A.T, atol=1e-10)
    np.testing.assert_allclose(w.generate(w.S), w.B.T, atol=1e-10)
    pairs_only = lt.pretrain_generator(w.C, w.S, w.A, w.B)
    assert np.max(np.abs(w.C @ pairs_only.T - w.A.T)) > 0.01  # cross-talk without them
