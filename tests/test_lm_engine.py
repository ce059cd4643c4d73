"""engines/lm: the synthetic language's entropy rate against brute-force enumeration and
Monte Carlo, and the stacked MLP LM / trainer against separately trained models."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from paramlab.engines.lm import markov
from paramlab.engines.lm import mlp_lm as lm
from paramlab.engines.lm import stacked_train as st


def _dense_transition(chain: markov.MarkovChain) -> np.ndarray:
    """The (S, S) context-to-context transition matrix, built entry by entry."""
    S, V = chain.n_states, chain.V
    T = np.zeros((S, S))
    for s in range(S):
        ctx = chain.tokens_of(np.array([s]))[0]
        for c in range(V):
            s2 = chain.state_of(np.array([*ctx[1:], c])[None])[0]
            T[s, s2] += chain.P[s, c]
    return T


def _eigen_stationary(chain: markov.MarkovChain) -> np.ndarray:
    w, vecs = np.linalg.eig(_dense_transition(chain).T)
    v = np.real(vecs[:, np.argmin(np.abs(w - 1))])
    return v / v.sum()


@pytest.mark.parametrize("V,order", [(3, 1), (3, 2), (2, 3)])
def test_stationary_distribution_matches_the_dense_eigenvector(V, order):
    chain = markov.MarkovChain.dirichlet(np.random.default_rng(0), V, order, 0.5)
    assert chain.stationary() == pytest.approx(_eigen_stationary(chain), abs=1e-10)


@pytest.mark.parametrize("V,order,alpha", [(3, 2, 0.3), (4, 1, 0.1), (2, 3, 1.0)])
def test_entropy_rate_equals_conditional_entropy_by_enumeration(V, order, alpha):
    # H(X_n | X_1..X_{n-1}) = H(X_1..X_n) - H(X_1..X_{n-1}) is the entropy rate exactly for
    # n > order when X_1.. starts stationary: enumerate every sequence and its probability
    chain = markov.MarkovChain.dirichlet(np.random.default_rng(1), V, order, alpha)
    pi = _eigen_stationary(chain)

    def joint_entropy(n):
        total = 0.0
        for seq in itertools.product(range(V), repeat=n):
            prob = pi[chain.state_of(np.array(seq[:order])[None])[0]]
            for t in range(order, n):
                prob *= chain.P[chain.state_of(np.array(seq[t - order:t])[None])[0], seq[t]]
            total -= prob * np.log(prob)
        return total

    n = order + 2
    assert chain.entropy_rate() == pytest.approx(joint_entropy(n) - joint_entropy(n - 1),
                                                 abs=1e-10)


def test_entropy_rate_matches_the_monte_carlo_log_loss_of_sampled_text():
    rng = np.random.default_rng(2)
    chain = markov.MarkovChain.dirichlet(rng, 32, 2, 0.1)
    X, Y = markov.sample_windows(chain, rng, 200_000, 4)
    nll = -chain.log_prob_next(X, Y)
    se = nll.std() / np.sqrt(len(nll))  # windows overlap within a sequence: allow 5 se
    assert abs(nll.mean() - chain.entropy_rate()) < 5 * se
    assert 1.5 < chain.entropy_rate() < 2.0  # the spec's "about 1.74 nats" at V=32, alpha=0.1


def test_sampled_contexts_are_stationary_from_the_first_position():
    rng = np.random.default_rng(3)
    chain = markov.MarkovChain.dirichlet(rng, 4, 2, 0.5)
    tokens = chain.sample(rng, 100_000, 6)
    for start in (0, 4):  # the first context and a later one have the law pi
        freq = np.bincount(chain.state_of(tokens[:, start:start + 2]), minlength=16)
        assert 0.5 * np.abs(freq / freq.sum() - chain.stationary()).sum() < 0.01


def test_windows_slide_over_each_sequence():
    tokens = np.arange(14).reshape(2, 7)
    X, Y = markov.windows(tokens, 3)
    assert X.shape == (8, 3) and Y.shape == (8,)
    assert X[0].tolist() == [0, 1, 2] and Y[0] == 3
    assert X[4].tolist() == [7, 8, 9] and Y[3] == 6 and Y[-1] == 13


def test_floor_keeps_every_transition_possible():
    chain = markov.MarkovChain.dirichlet(np.random.default_rng(4), 32, 2, 0.02)
    assert (chain.P > 0).all() and np.allclose(chain.P.sum(1), 1.0)


def _models(k, hid=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [lm.init_(lm.MLPLM(8, 3, 4, hid), g) for _ in range(k)]


def test_stacked_forward_equals_each_model_and_round_trips():
    nets = _models(3)
    stacked = lm.StackedMLPLM(nets)
    idx = torch.randint(0, 8, (3, 5, 3), generator=torch.Generator().manual_seed(1))
    out = stacked(idx)
    for k, net in enumerate(nets):
        assert torch.allclose(out[k], net(idx[k]), atol=1e-6)
        assert torch.allclose(stacked.model(k)(idx[k]), net(idx[k]), atol=1e-6)


def test_stacked_trainer_matches_separately_trained_models():
    # three models, each with its own data, epoch schedule, learning rate and weight decay,
    # trained side by side (StackedAdamW) and one by one (torch.optim.AdamW): the same
    # trajectories
    g = torch.Generator().manual_seed(5)
    rng = np.random.default_rng(5)
    chain = markov.MarkovChain.dirichlet(rng, 8, 2, 0.3)
    X, Y = (torch.as_tensor(a) for a in markov.sample_windows(chain, rng, 512, 3))
    nets = _models(3, seed=6)
    lrs = torch.tensor([3e-3, 1e-3, 5e-3])
    wds = torch.tensor([0.05, 0.0, 0.3])
    steps, batch = 25, 32
    sched = torch.stack([st.epoch_schedule(n, steps, batch, g) for n in (512, 128, 64)], 1)
    stacked = lm.StackedMLPLM(nets)
    opt = st.StackedAdamW(stacked.parameters(), lr=lrs, weight_decay=wds)
    log = [r["loss"] for r in st.train_stacked(stacked, X, Y, sched, opt)]
    for k, net in enumerate(nets):
        sep = torch.optim.AdamW(net.parameters(), lr=float(lrs[k]), weight_decay=float(wds[k]))
        for t in range(steps):
            sep.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(X[sched[t, k]]), Y[sched[t, k]])
            loss.backward()
            sep.step()
            assert float(log[t][k]) == pytest.approx(float(loss.detach()), rel=1e-4)
        ref = stacked.model(k)
        for a, b in zip(net.parameters(), ref.parameters()):
            assert torch.allclose(a, b, atol=2e-5), (k, (a - b).abs().max())
        assert not torch.allclose(nets[k].out.weight, nets[(k + 1) % 3].out.weight)


def test_zero_learning_rate_freezes_a_model_and_only_it():
    stacked = lm.StackedMLPLM(_models(2))
    before = [p.detach().clone() for p in stacked.parameters()]
    opt = st.StackedAdamW(stacked.parameters(), lr=torch.tensor([0.0, 1e-2]))
    idx = torch.randint(0, 8, (2, 4, 3))
    lm.cross_entropy_per_model(stacked(idx), torch.randint(0, 8, (2, 4))).sum().backward()
    opt.step()
    for p, q in zip(stacked.parameters(), before):
        assert torch.equal(p[0], q[0]) and not torch.equal(p[1], q[1])


def test_a_selected_model_goes_on_as_in_the_stack_and_scale_multiplies_the_lr():
    # 3 models with their own lr and weight decay: 3 steps together, then models [2, 0]
    # taken out (select) for 3 more steps at scale 0.5, vs the whole stack at lr / 2
    stacked, ref_stack = (lm.StackedMLPLM(_models(3, seed=8)) for _ in range(2))
    lrs, wds = torch.tensor([3e-3, 1e-3, 5e-3]), torch.tensor([0.05, 0.0, 0.3])
    opt = st.StackedAdamW(stacked.parameters(), lr=lrs, weight_decay=wds)
    ref = st.StackedAdamW(ref_stack.parameters(), lr=lrs, weight_decay=wds)
    g = torch.Generator().manual_seed(9)
    idx = torch.randint(0, 8, (6, 3, 4, 3), generator=g)
    y = torch.randint(0, 8, (6, 3, 4), generator=g)
    keep, model, scale = [2, 0], stacked, 1.0
    for t in range(6):
        if t == 3:
            model = lm.StackedMLPLM(_models(2))
            with torch.no_grad():
                for a, b in zip(model.parameters(), stacked.parameters()):
                    a.copy_(b[keep])
            opt, scale, ref.lr = opt.select(model.parameters(), keep), 0.5, lrs / 2
        rows = keep if t >= 3 else [0, 1, 2]
        lm.cross_entropy_per_model(model(idx[t][rows]), y[t][rows]).sum().backward()
        lm.cross_entropy_per_model(ref_stack(idx[t]), y[t]).sum().backward()
        for o, s in ((opt, scale), (ref, 1.0)):
            o.step(s)
            o.zero_grad()
    for a, b in zip(model.parameters(), ref_stack.parameters()):
        torch.testing.assert_close(a, b.detach()[keep])
    assert opt.t == 6 and not torch.equal(opt.params[0][0], opt.params[0][1])


def test_dropout_rate_per_model_keeps_the_mean_and_spares_rate_zero():
    h = torch.ones(3, 200, 100)
    out = lm.stacked_dropout(h, torch.tensor([0.0, 0.3, 0.6]),
                             torch.Generator().manual_seed(7))
    assert torch.equal(out[0], h[0])
    for k, rate in ((1, 0.3), (2, 0.6)):
        assert (out[k] == 0).float().mean() == pytest.approx(rate, abs=0.01)
        assert out[k].mean() == pytest.approx(1.0, abs=0.02)


def test_epoch_schedule_cycles_each_unique_window_once_per_epoch():
    g = torch.Generator().manual_seed(8)
    sched = st.epoch_schedule(64, 16, 32, g)  # 512 reads of 64 windows: 8 epochs
    assert torch.equal(torch.bincount(sched.flatten()), torch.full((64,), 8))
    epoch0 = sched.flatten()[:64]
    assert sorted(epoch0.tolist()) == list(range(64)) and epoch0.tolist() != list(range(64))
    fresh = st.epoch_schedule(64, 16, 32, g, fresh_each_epoch=True)
    assert sorted(fresh.flatten().tolist()) == list(range(512))
