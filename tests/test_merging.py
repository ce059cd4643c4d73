from __future__ import annotations

import math

import pytest
import torch

from paramlab.engines import merging

# three task vectors, five parameters (no ties in |tau| within a row)
TOY = torch.tensor([[1.0, -2.0, 0.5, 0.1, 3.0],
                    [-1.5, -1.0, 0.2, 2.0, -0.3],
                    [0.4, 2.5, -0.6, -0.2, 1.0]])


def test_ties_matches_hand_computed_toy():
    # trim k=0.4 keeps 2 of 5 per row: [0,-2,0,0,3], [-1.5,0,0,2,0], [0,2.5,0,0,1]
    # elected signs (sum of trimmed = [-1.5, .5, 0, 2, 4]): -, +, (0 -> majority +), +, +
    # disjoint means: -1.5, 2.5 (only the agreeing 2.5), 0, 2, (3+1)/2 = 2; times lam 0.5
    out = merging.merge("ties", TOY, k=0.4, lam=0.5)
    assert torch.allclose(out, torch.tensor([-0.75, 1.25, 0.0, 1.0, 1.0]))


def test_ties_count_election_uses_sign_votes():
    T = torch.tensor([[5.0], [-1.0], [-1.0]])
    assert merging.merge("ties", T, k=1.0, elect="mass").item() == 5.0
    assert merging.merge("ties", T, k=1.0, elect="count").item() == -1.0


def test_dare_rescale_matches_hand_computed_toy():
    keep = torch.tensor([[True, False, True, False, True],
                         [False, True, True, True, False],
                         [True, True, False, False, False]])
    out = merging.dare_rescale(TOY, keep, p=0.5).sum(dim=0)
    # kept entries doubled: [2*(1+.4), 2*(-1+2.5), 2*(.5+.2), 2*2, 2*3]
    assert torch.allclose(out, torch.tensor([2.8, 3.0, 1.4, 4.0, 6.0]))


def test_dare_without_drop_is_task_arithmetic():
    g = torch.Generator().manual_seed(0)
    out = merging.merge("dare", TOY, gen=g, p=0.0, lam=0.3)
    assert torch.allclose(out, merging.merge("task_arithmetic", TOY, lam=0.3))


def test_dare_drops_a_fraction_p_and_rescales_the_rest():
    g = torch.Generator().manual_seed(1)
    tau = torch.full((1, 20000), 0.7)
    out = merging.merge("dare", tau, gen=g, p=0.9)
    kept = out != 0
    assert abs(kept.float().mean().item() - 0.1) < 0.01
    assert torch.allclose(out[kept], torch.tensor(7.0))  # 0.7 / (1 - 0.9)
    assert abs(out.mean().item() - 0.7) < 0.05  # unbiased on average


def test_pcb_matches_hand_computed_toy():
    T = torch.tensor([[40.0, -20.0, 10.0, 0.0],
                      [20.0, 40.0, -10.0, 10.0],
                      [-10.0, 20.0, 40.0, -20.0]])
    # sum tau = [50, 40, 40, -10]; tau * sum tau is large, so tanh gives its sign:
    #   inter = [1,-1,1,0], [1,1,-1,-1], [-1,1,1,1]
    # minmax_row(|tau|) = [1,.5,.25,0], [1/3,1,0,0], [0,1/3,1,1/3]; intra = exp(3 m^2)
    e = math.exp
    score = [[e(3), -e(0.75), e(3 / 16), 0.0],
             [e(1 / 3), e(3), -1.0, -1.0],
             [-1.0, e(1 / 3), e(3), e(1 / 3)]]
    # ratio 0.75 on d=4: clip each row below its sorted[1] value, then min-max:
    #   row 1 clip at 0 -> [1, 0, e^(3/16)/e^3, 0]; row 2 clip at -1 -> [(e^(1/3)+1)/(e^3+1), 1,
    #   0, 0]; row 3 clip at e^(1/3) -> [0, 0, 1, 0]
    a = score[0][2] / e(3)
    b = (e(1 / 3) + 1) / (e(3) + 1)
    expected = torch.tensor([(40 + 20 * b) / (1 + b), 40.0, (10 * a + 40) / (1 + a), 0.0])
    out = merging.merge("pcb", T, ratio=0.75, clamp=0.0, lam=2.0)
    assert torch.allclose(out, 2.0 * expected, rtol=1e-5)


def test_pcb_outlier_clip_keeps_the_reference_off_by_one():
    x = torch.tensor([[1.0, 2.0, 3.0, 4.0]])
    # int(4 * (1 - 1e-4) - 1) = 2: the largest entry is clipped to the second largest
    assert merging.clamp_rows(x, 1e-4, 1e-4).tolist() == [[1.0, 2.0, 3.0, 3.0]]
    assert merging.clamp_rows(x, 0.0, 0.0).tolist() == x.tolist()


def test_pcb_flipped_inter_sign_and_softmax_change_the_merge():
    g = torch.Generator().manual_seed(0)
    T = torch.randn(3, 200, generator=g)
    base = merging.merge("pcb", T)
    flipped = merging.merge("pcb", T, inter_sign=-1)
    soft = merging.merge("pcb", T, activation="softmax")
    assert torch.isfinite(soft).all() and torch.isfinite(flipped).all()
    assert not torch.allclose(base, flipped) and not torch.allclose(base, soft)
    # agreement rewarded: the merge leans towards sum tau; conflict rewarded: away from it
    s = T.sum(dim=0)
    assert torch.dot(base, s) > torch.dot(flipped, s)


def test_weight_average_and_state_dict_round_trip():
    tvs = [{"w": TOY[i, :4].reshape(2, 2), "b": TOY[i, 4:]} for i in range(3)]
    out = merging.merge("weight_average", tvs)
    assert set(out) == {"w", "b"} and out["w"].shape == (2, 2)
    assert torch.allclose(out["w"].reshape(-1), TOY[:, :4].mean(dim=0))
    T, layout = merging.stack(tvs)
    assert torch.equal(T, TOY)
    theta = merging.add({"w": torch.ones(2, 2), "b": torch.zeros(1)}, out, scale=2.0)
    assert torch.allclose(theta["b"], 2 * TOY[:, 4:].mean(dim=0))


def test_every_method_declares_documented_params():
    assert {"weight_average", "task_arithmetic", "ties", "dare", "pcb"} <= set(merging.METHODS)
    for method in merging.METHODS.values():
        for p in method.params:
            assert p.help and p.name in method.describe()
            method.resolve(**{p.name: p.default})  # defaults are valid
    assert "k: a number in (0, 1]" in merging.get("ties").describe()


@pytest.mark.parametrize("name, kwargs, message", [
    ("ties", {"k": 1.5}, "ties: k: expected a number in (0, 1], got 1.5"),
    ("ties", {"k": "a"}, "ties: k: expected a number in (0, 1], got 'a'"),
    ("dare", {"p": 1.0}, "dare: p: expected a number in [0, 1), got 1.0"),
    ("pcb", {"activation": "relu"}, "pcb: activation: expected one of tanh, softmax"),
    ("pcb", {"ratoi": 0.2}, "pcb: ratoi: unknown parameter (did you mean ratio?)"),
    ("weight_average", {"lam": 1.0}, "weight_average: lam: unknown parameter"),
])
def test_registry_rejects_bad_params_with_a_clear_message(name, kwargs, message):
    with pytest.raises(merging.MergeParamError) as info:
        merging.merge(name, TOY, gen=torch.Generator(), **kwargs)
    assert message in str(info.value)


def test_unknown_method_and_missing_generator_are_named():
    with pytest.raises(merging.MergeParamError, match="did you mean ties"):
        merging.get("tise")
    with pytest.raises(merging.MergeParamError, match="needs a torch.Generator"):
        merging.merge("dare", TOY)
