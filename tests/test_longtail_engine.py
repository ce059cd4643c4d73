"""engines.nn.longtail against independent computations (numpy loops, nn.Linear, sklearn)."""

from __future__ import annotations

import math

import numpy as np
import torch

from paramlab.engines.nn import longtail as lt


def test_longtail_counts_follow_the_exponential_profile():
    counts = lt.longtail_counts(20, 600, 100.0)
    assert counts[0] == 600 and counts[-1] == 6
    for i, c in enumerate(counts):
        assert c == max(1, round(600 * 100.0 ** (-i / 19)))
    assert lt.longtail_counts(5, 50, 1.0) == [50] * 5


def test_logit_adjusted_ce_matches_a_numpy_loop():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(7, 4, generator=g, dtype=torch.float64)
    y = torch.randint(0, 4, (7,), generator=g)
    counts = torch.tensor([50.0, 20.0, 5.0, 1.0], dtype=torch.float64)
    tau = 0.7
    got = lt.logit_adjusted_ce(logits, y, lt.log_prior(counts), tau).item()
    pi = counts.numpy() / counts.numpy().sum()
    ref = 0.0
    for row, label in zip(logits.numpy(), y.numpy()):
        z = row + tau * np.log(pi)
        ref += -(z[label] - math.log(np.exp(z).sum()))
    assert abs(got - ref / 7) < 1e-12
    plain = torch.nn.functional.cross_entropy(logits, y).item()
    assert abs(lt.logit_adjusted_ce(logits, y, lt.log_prior(counts), 0.0).item() - plain) < 1e-12


def test_backdoor_average_is_the_weighted_mean_of_softmaxes():
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(3, 5, 6, generator=g, dtype=torch.float64)
    p_z = torch.tensor([1.0, 2.0, 5.0], dtype=torch.float64)
    got = lt.backdoor_average(logits, p_z).numpy()
    x = logits.numpy()
    ref = np.zeros((5, 6))
    for z in range(3):
        e = np.exp(x[z] - x[z].max(-1, keepdims=True))
        ref += p_z[z].item() / 8.0 * e / e.sum(-1, keepdims=True)
    assert np.allclose(got, ref, atol=1e-12)
    uni = lt.backdoor_average(logits).numpy()
    assert np.allclose(uni.sum(-1), 1.0) and np.allclose(
        uni, torch.softmax(logits, -1).numpy().mean(0))


def test_stacked_mlp_equals_separate_nn_linear_models():
    g = torch.Generator().manual_seed(2)
    net = lt.StackedMLP(3, 6, 8, 4, 5, gen=g)
    x = torch.randn(3, 10, 6, generator=g)
    out = net(x)
    for m in range(3):
        layers = []
        for W, b in ((net.W1, net.b1), (net.W2, net.b2), (net.W3, net.b3)):
            lin = torch.nn.Linear(W.shape[1], W.shape[2])
            with torch.no_grad():
                lin.weight.copy_(W[m].T)
                lin.bias.copy_(b[m, 0])
            layers.append(lin)
        ref = layers[2](torch.relu(layers[1](torch.relu(layers[0](x[m])))))
        assert torch.allclose(out[m], ref, atol=1e-6)


def test_training_heads_together_equals_training_each_alone():
    g = torch.Generator().manual_seed(3)
    feats = torch.randn(2, 40, 5, generator=g, dtype=torch.float64)
    y = torch.randint(0, 3, (40,), generator=g)
    W = torch.randn(2, 5, 3, generator=g, dtype=torch.float64)
    b = torch.zeros(2, 1, 3, dtype=torch.float64)
    log_pi = lt.log_prior(torch.bincount(y, minlength=3).double())
    taus = torch.tensor([0.0, 1.0], dtype=torch.float64)
    Wj, bj, _ = lt.train_linear_heads(feats, y, W, b, log_pi, taus, 30, 0.05)
    for h in range(2):
        Wa, ba, _ = lt.train_linear_heads(feats[h:h + 1], y, W[h:h + 1], b[h:h + 1],
                                          log_pi, taus[h:h + 1], 30, 0.05)
        assert torch.allclose(Wj[h], Wa[0], atol=1e-10) and torch.allclose(bj[h], ba[0])


def test_la_head_matches_sklearn_logistic_regression_with_posthoc_prior_offset():
    # Menon et al.: training with CE(f + log pi) and predicting with f is the same as
    # fitting plain logistic regression and predicting with its logits - log pi
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(4)
    K, d = 5, 4
    centres = rng.normal(0.0, 1.5, (K, d))
    counts = lt.longtail_counts(K, 300, 30.0)
    X = np.concatenate([centres[k] + rng.normal(size=(n, d)) for k, n in enumerate(counts)])
    y = np.concatenate([[k] * n for k, n in enumerate(counts)])
    Xt = np.concatenate([centres[k] + rng.normal(size=(400, d)) for k in range(K)])
    log_pi = np.log(np.asarray(counts) / sum(counts))
    lr = LogisticRegression(C=1e4, max_iter=5000).fit(X, y)
    pred_sk = np.argmax(lr.decision_function(Xt) - log_pi, axis=1)
    feats = torch.tensor(X, dtype=torch.float64)[None]
    W0 = torch.zeros(1, d, K, dtype=torch.float64)
    b0 = torch.zeros(1, 1, K, dtype=torch.float64)
    W, b, _ = lt.train_linear_heads(feats, torch.tensor(y), W0, b0,
                                    torch.tensor(log_pi), torch.ones(1, dtype=torch.float64),
                                    1500, 0.05)
    pred_la = np.argmax(Xt @ W[0].numpy() + b[0].numpy(), axis=1)
    assert np.mean(pred_la == pred_sk) >= 0.97


def test_heads_with_their_own_labels_and_priors_train_as_if_alone():
    g = torch.Generator().manual_seed(5)
    feats = torch.randn(2, 30, 4, generator=g, dtype=torch.float64)
    y = torch.randint(0, 3, (2, 30), generator=g)
    W = torch.randn(2, 4, 3, generator=g, dtype=torch.float64)
    b = torch.zeros(2, 1, 3, dtype=torch.float64)
    log_pi = torch.stack([lt.log_prior(torch.bincount(y[h], minlength=3).double() + 1)
                          for h in range(2)])
    taus = torch.ones(2, dtype=torch.float64)
    Wj, _, _ = lt.train_linear_heads(feats, y, W, b, log_pi, taus, 20, 0.05)
    for h in range(2):
        Wa, _, _ = lt.train_linear_heads(feats[h:h + 1], y[h], W[h:h + 1], b[h:h + 1],
                                         log_pi[h], taus[h:h + 1], 20, 0.05)
        assert torch.allclose(Wj[h], Wa[0], atol=1e-10)
