"""engines/nn/data_diet.py against independent computations: EL2N from its definition in
numpy, GraNd against torch.func's per-example gradients and the closed form of a linear
softmax model, stacked SGD against separately trained models."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

from paramlab.engines.nn import data_diet as dd


def _data(n=64, d=5, K=4, seed=0):
    rng = np.random.default_rng(seed)
    X = torch.tensor(rng.standard_normal((n, d)), dtype=torch.float32)
    y = torch.tensor(rng.integers(0, K, n))
    return X, y


def test_el2n_is_the_l2_distance_of_softmax_to_the_one_hot_label():
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((3, 10, 4))
    y = rng.integers(0, 4, 10)
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    want = np.sqrt(((p - np.eye(4)[y]) ** 2).sum(-1))
    got = dd.el2n(torch.tensor(logits), torch.tensor(y)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_grand_matches_per_example_gradients_from_torch_func():
    X, y = _data(n=16)
    g = torch.Generator().manual_seed(0)
    model = dd.stacked_mlp(3, 5, [7, 6], 4, g)
    got = dd.grand(model, X, y)
    params = {f"w{i}": w for i, w in enumerate(model.weights)}
    params |= {f"b{i}": b for i, b in enumerate(model.biases)}

    def loss(ps, x, t):  # one example, every stacked model
        h = x.expand(3, 1, -1)
        for i in range(len(model.weights)):
            h = torch.baddbmm(ps[f"b{i}"], h, ps[f"w{i}"])
            if i < len(model.weights) - 1:
                h = torch.relu(h)
        return torch.nn.functional.cross_entropy(h[:, 0], t.expand(3), reduction="sum")

    grads = torch.func.vmap(torch.func.grad(loss), in_dims=(None, 0, 0))(
        {k: v.detach() for k, v in params.items()}, X, y)
    # each model's gradient lives in its own slice of the stacked parameters
    want = torch.stack([sum(gr[:, m].square().flatten(1).sum(1) for gr in grads.values())
                        for m in range(3)]).sqrt()
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)


def test_grand_of_a_linear_softmax_model_is_el2n_times_the_input_norm():
    # closed form: d CE / dW = x (p - y)^T, d CE / db = p - y, so
    # GraNd = ||p - y|| sqrt(||x||^2 + 1), and its ranking follows EL2N closely
    rng = np.random.default_rng(0)
    X, y, _ = dd.cluster_mixture(rng, 10, 20, 3, 0.05, 0.6).sample(rng, 1000)
    X, y = torch.tensor(X), torch.tensor(y)
    g = torch.Generator().manual_seed(1)
    model = dd.stacked_mlp(1, 20, [], 10, g)
    sched = dd.subset_schedule([torch.arange(1000)], 16, 128, g)  # 2 epochs, as scored
    for _ in dd.train_stacked(model, X, y, sched, lr=0.05, cosine=False):
        pass
    with torch.no_grad():
        logits = dd.forward(model, X)
    e = dd.el2n(logits, y)[0]
    gr = dd.grand(model, X, y)[0]
    torch.testing.assert_close(gr, e * (X.square().sum(1) + 1).sqrt(), rtol=1e-5, atol=1e-6)
    assert spearmanr(gr.numpy(), e.numpy())[0] > 0.9


def test_select_keeps_the_top_bottom_offset_or_random_examples():
    scores = np.array([0.5, 0.9, 0.1, 0.7, 0.3, 0.8])
    assert dd.select(scores, 2, "hard").tolist() == [1, 5]
    assert dd.select(scores, 2, "easy").tolist() == [2, 4]
    assert dd.select(scores, 2, "hard", offset=1).tolist() == [3, 5]  # skip the top one
    assert dd.select(scores, 2, "hard", offset=10).tolist() == [2, 4]  # clipped: the last 2
    r = dd.select(scores, 4, "random", np.random.default_rng(0))
    assert len(set(r.tolist())) == 4 and r.max() < 6
    with pytest.raises(ValueError, match="rng"):
        dd.select(scores, 2, "random")
    with pytest.raises(ValueError, match="keep"):
        dd.select(scores, 2, "middle")


def test_select_per_class_keeps_the_same_share_of_every_class():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], [10, 20, 30])
    scores = rng.random(60) + y  # class 2 holds every globally high score
    kept = dd.select_per_class(scores, y, 0.5, "hard")
    assert np.bincount(y[kept]).tolist() == [5, 10, 15]
    for c in range(3):  # within each class: its own top half
        members = np.flatnonzero(y == c)
        top = members[np.argsort(scores[members])[::-1][:len(members) // 2]]
        assert sorted(top.tolist()) == sorted(kept[y[kept] == c].tolist())
    r = dd.select_per_class(scores, y, 0.5, "random", rng)
    assert np.bincount(y[r]).tolist() == [5, 10, 15]


def test_flip_labels_flips_the_asked_fraction_to_other_classes():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 1000)
    noisy, flipped = dd.flip_labels(rng, y, 0.1, 10)
    assert flipped.sum() == 100
    assert np.all(noisy[flipped] != y[flipped]) and np.all(noisy[~flipped] == y[~flipped])
    assert noisy.min() >= 0 and noisy.max() < 10


def test_cluster_mixture_has_balanced_classes_and_the_asked_sub_cluster_shares():
    rng = np.random.default_rng(0)
    mix = dd.cluster_mixture(rng, 10, 20, 3, 0.05, 0.6)
    X, y, sub = mix.sample(rng, 20000)
    assert X.shape == (20000, 20) and np.bincount(y).tolist() == [2000] * 10
    np.testing.assert_allclose(np.bincount(sub) / 20000, [0.85, 0.05, 0.05, 0.05], atol=0.01)
    resid = X - mix.centres[y, sub]
    assert resid.std() == pytest.approx(0.6, rel=0.02)
    with pytest.raises(ValueError):
        dd.cluster_mixture(rng, 10, 20, 5, 0.2, 0.6)


def test_subset_schedule_cycles_each_model_through_its_own_subset():
    g = torch.Generator().manual_seed(0)
    subs = [torch.arange(0, 40), torch.tensor([3, 7, 11, 19, 23, 29, 31, 37])]
    sched = dd.subset_schedule(subs, 10, 8, g)
    assert sched.shape == (10, 2, 8)
    assert sorted(sched[:5, 0].flatten().tolist()) == list(range(40))  # one epoch
    for t in range(10):  # the 8-example subset: one epoch per step
        assert sorted(sched[t, 1].tolist()) == subs[1].tolist()


def test_stacked_sgd_trains_each_model_as_a_lone_run_would():
    X, _ = _data(n=200, d=5, K=3)
    y = (X[:, :3] + 0.3 * X[:, 3:4]).argmax(1)  # learnable labels
    g = torch.Generator().manual_seed(0)
    stack = dd.stacked_mlp(2, 5, [16], 3, g)
    subs = [torch.arange(0, 200), torch.arange(50, 120)]
    sched = dd.subset_schedule(subs, 30, 16, g)
    lone = []
    for j in range(2):
        m = dd.stacked_mlp(1, 5, [16], 3, g)
        with torch.no_grad():
            for a, b in zip(list(m.parameters()), list(stack.parameters())):
                a.copy_(b[j:j + 1])
        for _ in dd.train_stacked(m, X, y, sched[:, j:j + 1], lr=0.1, weight_decay=1e-3):
            pass
        lone.append(m)
    for _ in dd.train_stacked(stack, X, y, sched, lr=0.1, weight_decay=1e-3):
        pass
    for j, m in enumerate(lone):
        for a, b in zip(m.parameters(), stack.parameters()):
            torch.testing.assert_close(a[0], b[j], rtol=1e-5, atol=1e-6)
    acc = dd.accuracy(stack, X, y)
    assert acc.shape == (2,) and float(acc[0]) > 0.5


def test_the_stacked_update_is_torch_sgd_with_momentum_and_a_cosine_schedule():
    X, _ = _data(n=100, d=5, K=3)
    y = X[:, :3].argmax(1)
    g = torch.Generator().manual_seed(2)
    ours = dd.stacked_mlp(1, 5, [8], 3, g)
    ref = dd.stacked_mlp(1, 5, [8], 3, g)
    with torch.no_grad():
        for a, b in zip(ref.parameters(), ours.parameters()):
            a.copy_(b)
    sched = dd.subset_schedule([torch.arange(100)], 20, 10, g)
    for _ in dd.train_stacked(ours, X, y, sched, lr=0.1, momentum=0.9, weight_decay=1e-3):
        pass
    opt = torch.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3)
    sch = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=20)
    for t in range(20):
        idx = sched[t, 0]
        opt.zero_grad()
        torch.nn.functional.cross_entropy(dd.forward(ref, X[idx])[0], y[idx]).backward()
        opt.step()
        sch.step()
    for a, b in zip(ref.parameters(), ours.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
