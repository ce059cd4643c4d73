from __future__ import annotations

import torch

from paramlab.engines.nn import models, torch_train


def _fit(seed: int, steps: int = 60):
    g = torch_train.generator(seed)
    X = torch.randn(200, 5, generator=g)
    y = (X[:, 0] + X[:, 1] > 0).long()
    model = models.init_normal_(models.MLP(5, [16], 2), [0.5, 0.25], generator=g)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    log = list(torch_train.train(model, torch.nn.functional.cross_entropy, X, y, opt, steps,
                                 batch_size=32, gen=g, eval_every=20,
                                 evaluate=lambda t: {"acc": torch_train.accuracy(model, X, y)}))
    return log


def test_training_learns_a_separable_task_and_yields_every_step():
    log = _fit(0)
    assert [r["step"] for r in log] == list(range(1, 61))
    assert "acc" in log[19] and "acc" not in log[20]
    assert log[-1]["acc"] > 0.9 > 0.0 < log[0]["loss"]
    assert log[-1]["loss"] < log[0]["loss"]


def test_same_seed_same_losses_without_global_rng():
    torch.manual_seed(123)
    a = [r["loss"] for r in _fit(3)]
    torch.manual_seed(456)  # the global RNG must not matter
    b = [r["loss"] for r in _fit(3)]
    assert a == b


def test_cancel_stops_between_steps():
    g = torch_train.generator(0)
    X, y = torch.randn(10, 2, generator=g), torch.randn(10, 1, generator=g)
    model = models.MLP(2, [4], 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    calls = []
    log = list(torch_train.train(model, torch.nn.functional.mse_loss, X, y, opt, 100,
                                 should_stop=lambda: len(calls.append(1) or calls) >= 5))
    assert len(log) == 5


def test_multipliers_scale_layer_outputs():
    m = models.MLP(3, [4], 2, multipliers=[1.0, 0.5])
    m2 = models.MLP(3, [4], 2)
    m2.load_state_dict(m.state_dict())
    x = torch.randn(7, 3)
    assert torch.allclose(m(x), 0.5 * m2(x))
