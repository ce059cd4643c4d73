"""Every merge method against a straightforward re-implementation of its paper's
definition, written here in numpy with explicit loops (no helper of the engine is used),
on small random task vectors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from paramlab.engines import merging

N, D = 4, 37  # tasks x parameters: d not a multiple of 10, so int(k*d) truncates


def random_taus(seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(N, D, generator=g)


def close(engine: torch.Tensor, reference: np.ndarray) -> bool:
    return np.allclose(engine.double().numpy(), reference, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------- references


def ref_weight_average(T: np.ndarray) -> np.ndarray:
    """Model soup: theta_0 + (1/n) sum_i tau_i."""
    return sum(T[i] for i in range(len(T))) / len(T)


def ref_task_arithmetic(T: np.ndarray, lam: float) -> np.ndarray:
    """Ilharco et al.: lam * sum_i tau_i."""
    return lam * sum(T[i] for i in range(len(T)))


def ref_ties(T: np.ndarray, k: float, lam: float) -> np.ndarray:
    """Yadav et al. Alg. 1: trim each tau_i to its top-k magnitudes (int(k*d) entries,
    mergekit's count), elect gamma_p = sgn(sum_i trimmed_ip) (a zero vote takes the sign of
    the sum of the elected signs), disjoint mean over the tasks whose sign is gamma_p."""
    n, d = T.shape
    m = max(1, int(k * d))
    trimmed = np.zeros_like(T)
    for i in range(n):
        order = sorted(range(d), key=lambda j: -abs(T[i, j]))
        for j in order[:m]:
            trimmed[i, j] = T[i, j]
    gamma = [float(np.sign(sum(trimmed[i, j] for i in range(n)))) for j in range(d)]
    majority = float(np.sign(sum(gamma)))
    gamma = [g if g != 0 else majority for g in gamma]
    out = np.zeros(d)
    for j in range(d):
        agree = [trimmed[i, j] for i in range(n) if np.sign(trimmed[i, j]) == gamma[j]]
        out[j] = sum(agree) / len(agree) if agree else 0.0
    return lam * out


def ref_dare(T: np.ndarray, u: np.ndarray, p: float, lam: float) -> np.ndarray:
    """Yu et al. Eq. 1-2: m ~ Bernoulli(p) drops an entry (here: dropped where u < p),
    survivors rescaled by 1 / (1 - p); DARE + Task Arithmetic sums them, x lam."""
    n, d = T.shape
    out = np.zeros(d)
    for i in range(n):
        for j in range(d):
            if u[i, j] >= p:
                out[j] += T[i, j] / (1 - p)
    return lam * out


def _minmax(row: np.ndarray) -> np.ndarray:
    lo, hi = min(row), max(row)
    return np.array([(x - lo) / (hi - lo) if hi > lo else 0.0 for x in row])


def _clip_row(row: np.ndarray, low_q: float, high_q: float) -> np.ndarray:
    """The PCB code's `clamp(x, min_ratio, max_ratio)` on one row: clip to the sorted
    values at positions int(d*min_ratio) and int(d*(1-max_ratio)-1)."""
    s = sorted(row)
    d = len(row)
    lo, hi = s[int(d * low_q)], s[int(d * (1 - high_q) - 1)]
    return np.array([min(max(x, lo), hi) for x in row])


def _weighted_by_scores(tau: np.ndarray, score: np.ndarray, ratio: float) -> np.ndarray:
    """PCB Eq. 4-5: drop each row's entries below the top `ratio` of its scores, rescale
    the kept scores to [0, 1] (min-max of the clipped row), merged = sum tau w / sum w."""
    n, d = tau.shape
    w = np.stack([_minmax(_clip_row(score[i], 1 - ratio, 0.0)) for i in range(n)])
    out = np.zeros(d)
    for j in range(d):
        den = sum(w[i, j] for i in range(n))
        out[j] = sum(tau[i, j] * w[i, j] for i in range(n)) / den if den > 0 else 0.0
    return out


def ref_pcb(T: np.ndarray, ratio: float, clamp: float, lam: float,
            activation: str = "tanh") -> np.ndarray:
    """Du et al. Sec. 3 with the public code's choices: clip |tau| at the `clamp`
    quantiles; intra beta_intra,i = exp(n * norm(|tau_i|)^2) (Eq. 2); inter
    tanh(tau_i * sum_j tau_j) (code) or sum_j softmax(norm(tau_i * tau_j)) (Eq. 3);
    beta = intra * inter; drop and rescale (Eq. 4-5); x lam."""
    n, d = T.shape
    tau_abs = np.stack([_clip_row(np.abs(T[i]), clamp, clamp) for i in range(n)])
    tau = np.sign(T) * tau_abs
    total = T.sum(axis=0)
    score = np.zeros_like(T)
    for i in range(n):
        intra = [math.exp(n * v ** 2) for v in _minmax(tau_abs[i])]
        if activation == "tanh":
            inter = [math.tanh(T[i, j] * total[j]) for j in range(d)]
        else:
            inter = np.zeros(d)
            for k in range(n):
                z = _minmax(T[i] * T[k])
                inter += np.exp(z) / np.exp(z).sum()
        score[i] = [a * b for a, b in zip(intra, inter)]
    return lam * _weighted_by_scores(tau, score, ratio)


# --------------------------------------------------------------------------- comparisons

SEEDS = [0, 1, 2]


@pytest.mark.parametrize("seed", SEEDS)
def test_weight_average_and_task_arithmetic_match_their_definitions(seed):
    T = random_taus(seed)
    Tn = T.double().numpy()
    assert close(merging.merge("weight_average", T), ref_weight_average(Tn))
    assert close(merging.merge("task_arithmetic", T, lam=0.7), ref_task_arithmetic(Tn, 0.7))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("k", [0.1, 0.2, 0.5, 1.0])
def test_ties_matches_the_paper_definition(seed, k):
    T = random_taus(seed)
    out = merging.merge("ties", T, k=k, lam=1.3)
    assert close(out, ref_ties(T.double().numpy(), k, 1.3))


def test_ties_keeps_int_kd_entries_one_fewer_than_the_ties_authors_code():
    T = random_taus(5)
    k = 0.2
    kept = merging.topk_mask(T, k).sum(dim=1)
    assert kept.tolist() == [int(k * D)] * N  # mergekit's count: 7 of 37
    # the TIES authors' rule: threshold = the (d - int(k*d))-th smallest |tau|, keep >= it
    for i in range(N):
        a = sorted(abs(float(x)) for x in T[i])
        threshold = a[D - int(k * D) - 1]
        assert sum(abs(float(x)) >= threshold for x in T[i]) == int(k * D) + 1


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("p", [0.0, 0.5, 0.9])
def test_dare_matches_the_paper_definition(seed, p):
    T = random_taus(seed)
    # the engine draws u ~ U(0, 1) of T's shape from the generator; replay the same draws
    u = torch.rand(T.shape, generator=torch.Generator().manual_seed(seed + 100))
    out = merging.merge("dare", T, gen=torch.Generator().manual_seed(seed + 100), p=p, lam=0.4)
    assert close(out, ref_dare(T.double().numpy(), u.double().numpy(), p, 0.4))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("ratio", [0.1, 0.3, 0.75])
@pytest.mark.parametrize("clamp", [0.0, 0.05])
def test_pcb_matches_the_paper_definition(seed, ratio, clamp):
    T = random_taus(seed)
    out = merging.merge("pcb", T, ratio=ratio, clamp=clamp, lam=0.9)
    assert close(out, ref_pcb(T.double().numpy(), ratio, clamp, 0.9))


@pytest.mark.parametrize("seed", SEEDS)
def test_pcb_softmax_inter_balancing_matches_eq_3(seed):
    T = random_taus(seed)
    out = merging.merge("pcb", T, ratio=0.3, clamp=0.0, activation="softmax")
    assert close(out, ref_pcb(T.double().numpy(), 0.3, 0.0, 1.0, activation="softmax"))


@pytest.mark.parametrize("seed", SEEDS)
def test_pcb_random_is_pcbs_pipeline_with_uniform_scores(seed):
    T = random_taus(seed)
    u = torch.rand(T.shape, generator=torch.Generator().manual_seed(seed))
    out = merging.merge("pcb_random", T, gen=torch.Generator().manual_seed(seed), ratio=0.3,
                        clamp=0.05, lam=1.1)
    Tn = T.double().numpy()
    tau = np.sign(Tn) * np.stack([_clip_row(np.abs(Tn[i]), 0.05, 0.05) for i in range(N)])
    assert close(out, 1.1 * _weighted_by_scores(tau, u.double().numpy(), 0.3))
