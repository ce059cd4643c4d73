"""IncreLoRA: incremental rank allocation (Zhang et al. 2023, arXiv 2308.12043).

The paper's claim: instead of a fixed uniform LoRA rank per module, start small and, every Δ
steps, add rank to the modules with the highest importance score (AdaLoRA's sensitivity EMA
|θ·∇θL| with its uncertainty term, averaged per module); at the same final parameter budget
this beats uniform LoRA (and AdaLoRA), most clearly in low-resource settings.

Toy world (engines/peft/increlora.py). A frozen random "pretrained" network of L = 6 modules
(32 x 32 weights W_l ~ N(0, gain²/32), built through ctx.cached); the downstream target is the
same network with W_l + Δ_l, Δ_l = c U_l V_l^T of heterogeneous true ranks [8, 0, 1, 4, 0, 1]
(every true component has singular value c = delta_scale). n_train = 512 (low resource),
n_test = 4,096, 5 % label noise. Every method uses the same SVD-form update P diag(λ) Q
(λ = 0 at the start, P, Q random unit-scale columns), full-batch Adam lr 5e-3 (the shared
engines/lm/stacked_train.StackedAdamW, weight decay 0, one learning rate per stacked model),
trained side by side in one tensor program at the same final budget R = 12 rank components:
    uniform    rank 2 in every module (the contrast: LoRA);
    increlora  rank 1 per module; from step `ema_warmup` on, every `interval` steps the
               add_per_event = 2 modules with the largest mean sensitivity score (EMA
               β = 0.85) get one component each (the paper's top-k selection), until 12;
               the learning rate warms up again over 20 steps after each addition;
    random_a   the same schedule with the modules drawn at random (the ablation).
Replicate tasks: `replicates` = 3 independent tasks (own frozen world, data, inits and random
draws; world seed [10000 + seed, task]) are trained side by side in the same stacked
program (3 tasks x 3 methods = 9 models), and each method's rel_MSE (test MSE / test MSE of
the frozen network of its task) is averaged over the tasks - the paper, too, reports a
method's score over a suite of tasks. A Note lists every task's numbers.

Topology (the first redesign). In the spec's serial 6-layer tanh MLP a change in one layer can
be absorbed by its neighbours, so a module's "true rank" is not what it needs, and the
sensitivity score spends the budget on early layers (world 1 below). The shipped world keeps
six frozen tanh modules but places them on parallel branches over disjoint input slices,
y = Σ_l tanh(x_l (W_l + ΔW_l)^T) V_l^T (V_l frozen): each module's needed rank is its true
rank, which is the heterogeneity the paper's allocation is meant to exploit.

Claim check (thresholds: the spec's recommended values, fixed before seeds 0-19; unchanged)
  paper     mean rel_MSE(IncreLoRA) / mean rel_MSE(uniform LoRA) <= 0.85
            mean rel_MSE(IncreLoRA) / mean rel_MSE(random allocation) <= 0.85
                (the ablation must lose: the score, not the schedule, does the work)
  mechanism Spearman(mean final allocated ranks over the tasks, true ranks) >= 0.5
            final total rank of IncreLoRA = budget (identity, by construction)
Control: allocation = "random" makes the IncreLoRA arm choose modules at random; it fails
the first paper criterion (tests/test_increlora_rank_allocation.py).

Worlds tried (seeds as stated; ratios are IncreLoRA / uniform unless said)
1. Spec world, serial 6-layer tanh MLP, delta_scale 1.0, gain 1.0, 2,000 steps, t0 200,
   Δ 100, seeds 0-2: inc/uni 0.959 / 0.958 / 0.995; allocations [2,3,3,1,2,1],
   [2,4,2,1,1,2], [2,2,2,3,2,1], Spearman -0.43 / -0.17 / 0.26. The rank-0 second layer gets
   3-4 components. An oracle allocation [6,1,1,3,0,1] reaches 0.28 x uniform, so allocation
   matters, but the score cannot find it. delta_scale 0.4: 0.954 / 0.728, ρ 0.31 / -0.03.
   gain 1.5, delta 0.5: 0.758 / 0.797, ρ 0.74 / 0.10; gain 2.0: 0.819 / 0.670, ρ 0.31 / 0.25.
2. Parallel branches, one task, top-1 (add_per_event 1), delta_scale 0.5, gain 1.0, seeds
   0-2, 2,000 steps: inc/uni 0.401 / 0.501 / 0.509, random/uni 1.15 / 1.40 / 1.00,
   allocation [7,1,1,1,1,1] on all three (ρ 0.67): the score finds the rank-8 module every
   time but, greedy, never gives the rank-4 module a second component.
3. World 2 on seeds 0-19 (one task, top-1, four random draws): default (2,000 steps, t0 200,
   Δ 100) 19/20 PASS (seed 10 0.965: all six additions to the rank-4 module); quick 700 steps
   (t0 80, Δ 40) 18/20 UNSTABLE (inc/uni 0.386-1.03, inc/random 0.370-1.16: seed 13
   misallocates, seed 12 has lucky random draws); other quick schedules 17, 16, 18, 17, 18/20
   (600 steps t0 60 Δ 30; 1,000 steps t0 100 Δ 50; t0 120; t0 120 Δ 50; EMA β 0.97 no
   change). The failures are single-task events: the first addition goes to the rank-4
   module and, its fresh component being in flux (high uncertainty Ū), it keeps winning.
4. (2026-12) 3 replicate tasks, top-1, one random draw per task, quick 500 steps (t0 60,
   Δ 30), seeds 0-19: 18/20 (inc/uni 0.445-0.942, inc/random 0.337-0.894; seed 14 has all
   three tasks misallocated, seed 12 one task misallocated and a lucky random draw); about
   1 task in 5 misallocates at this short schedule. 5.9 s CPU.
5. (2026-12, shipped) 3 replicate tasks, top-2 (add_per_event 2: each event gives one
   component to each of the two best-scoring modules, three events), one random draw per
   task. Quick 500 steps (t0 60, Δ 40), seeds 0-19: 20/20, inc/uni 0.398-0.721 (median
   0.477), inc/random 0.351-0.613 (median 0.468), ρ 0.84-1.00; seeds 20-39:
   20/20, inc/uni 0.405-0.575, inc/random 0.381-0.660, ρ 0.85-1.00.
   Default (2,000 steps, t0 200, Δ 100), seeds 0-19: 20/20, inc/uni 0.396-0.642 (median
   0.420), inc/random 0.342-0.570 (median 0.407), ρ 0.66-0.91 (median 0.85). The typical
   task allocation is [4, 1, 1, 4, 1, 1] (true [8, 0, 1, 4, 0, 1]); a misallocating task is
   rarer and milder than with top-1 because the rank-8 and rank-4 modules both get
   components from the first event on.
Seeds 0-19 pass rates (world 5, one thread, bench/bench_results.py): quick 20/20, default
20/20 (stable). CPU per run (one thread): quick 6-7 s, default ~23 s.
Control (allocation = "random", quick, seeds 0-19): the verdict fails on 19/20 seeds;
IncreLoRA(random) / uniform 0.770-1.202 (median 1.03, 18/20 above 0.85), / random arm
0.760-1.263, ρ median -0.23.

Not reproduced: the greedy sensitivity allocation does not reach the oracle split (rank-8
module capped at 1 + 3 events = 4 components under top-2; oracle [6, 1, 1, 3, 0, 1] is
~0.26 x uniform vs IncreLoRA's ~0.4-0.5 x); with top-1 on a single task the verdict is not
stable (worlds 3-4); the serial-MLP world of the spec does not reproduce (world 1). The
paper's advance-learning initialisation is replaced by λ = 0 with random P, Q columns.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from paramlab.scenarios.base import (
    Criterion,
    Metric,
    Note,
    Panel,
    PaperRow,
    Params,
    RunContext,
    Scenario,
    Table,
    Verdict,
    param,
)
from paramlab.scenarios.history import History
from paramlab.scenarios.measure import last, mean, ratio

WIDTH, N_TEST = 32, 4096
DRAWS = "abcd"
CRIT_UNI = "rel_MSE(IncreLoRA) / rel_MSE(uniform LoRA)"
CRIT_RAND = "rel_MSE(IncreLoRA) / mean rel_MSE(random allocation)"
CRIT_RHO = "Spearman(mean final allocated ranks, true ranks)"
CRIT_BUDGET = "IncreLoRA final total rank - budget (identity)"


@dataclass(frozen=True)
class IncreloraRankAllocationParams(Params):
    true_ranks: str = param("8,0,1,4,0,1", help="true rank of each module's change")
    budget: int = param(12, range=(6, 30), help="final total rank R (all methods)")
    init_rank: int = param(1, range=(0, 2), help="IncreLoRA's starting rank per module")
    interval: int = param(100, range=(10, 500), help="steps between rank additions Δ")
    add_per_event: int = param(2, range=(1, 3),
                               help="modules that get one rank each per event (top-k)")
    ema_warmup: int = param(200, range=(10, 1000), help="first addition at this step")
    ema_beta: float = param(0.85, range=(0.5, 0.999), help="sensitivity EMA β")
    n_train: int = param(512, range=(64, 4096), log=True, help="training examples")
    steps: int = param(2000, range=(50, 10_000), log=True, help="full-batch Adam steps")
    lr: float = param(5e-3, range=(1e-4, 1e-1), log=True, help="Adam learning rate")
    warmup: int = param(20, range=(1, 200), help="lr warm-up (restarted at each addition)")
    delta_scale: float = param(0.5, range=(0.05, 2.0), help="singular value of true changes")
    gain: float = param(1.0, range=(0.5, 3.0), help="frozen weight gain")
    noise: float = param(0.05, range=(0.0, 1.0), help="label noise / target change std")
    topology: str = param("parallel", choices=("parallel", "serial"),
                          help="modules on parallel branches (shipped) or a serial MLP")
    random_draws: int = param(1, range=(1, 4),
                              help="random-allocation ablation draws per task (averaged)")
    replicates: int = param(3, range=(1, 8),
                            help="independent tasks (world, data, init) side by side; "
                                 "each method's test MSE is averaged over them")
    allocation: str = param("sensitivity", choices=("sensitivity", "random"),
                            help="IncreLoRA's module choice (random: the control)")
    evals: int = param(20, range=(2, 200), help="evaluations along training")

    def ranks(self) -> list[int]:
        return [int(r) for r in self.true_ranks.split(",") if r.strip()]

    def check_consistency(self) -> list[str]:
        try:
            rs = self.ranks()
        except ValueError:
            return [f"true_ranks: comma-separated integers, got {self.true_ranks!r}"]
        if len(rs) < 2 or min(rs) < 0 or max(rs) > WIDTH:
            return [f"true_ranks: >= 2 modules with ranks in 0..{WIDTH}, got {rs}"]
        L = len(rs)
        if self.budget % L:
            return [f"budget {self.budget} must be a multiple of the module count {L} "
                    "(uniform LoRA)"]
        if self.init_rank * L > self.budget:
            return ["init_rank x modules exceeds the budget"]
        return []


def run(p: IncreloraRankAllocationParams, ctx: RunContext) -> Iterator[Metric | Note | Table]:
    import numpy as np
    import torch

    from paramlab.engines.lm.stacked_train import StackedAdamW
    from paramlab.engines.peft import increlora as IL

    true = p.ranks()
    kinds = ["uniform", "increlora"] + [f"random_{c}" for c in DRAWS[:p.random_draws]]
    K, A = p.replicates, len(kinds)
    L, d, R, M = len(true), WIDTH, p.budget, K * A
    dev = ctx.device
    # stacked model m = task (replicate) m // A, method kinds[m % A]
    rep = torch.arange(M, device=dev) // A
    kind = [m % A for m in range(M)]
    worlds = []
    for r in range(K):
        recipe = {"seed": int(ctx.seed), "task": r, "width": d, "true_ranks": true,
                  "delta_scale": p.delta_scale, "gain": p.gain}
        worlds.append(ctx.cached("increlora_world", recipe,
                                 lambda rc=recipe: IL.make_world(
                                     [10_000 + rc["seed"], rc["task"]], d, true,
                                     p.delta_scale, p.gain)))
    Wk, Dk, Vk = (torch.tensor(np.stack([np.asarray(w[k]) for w in worlds]),
                               dtype=torch.float32, device=dev) for k in ("W", "D", "V"))
    if p.topology == "parallel":
        def prep(x):
            return IL.split_branches(x, L)

        def fwd(W_, V_, dW, xs):
            return IL.branches(W_ if dW is None else W_ + dW, V_, xs)
        d_in = L * d
    else:
        def prep(x):
            return x

        def fwd(W_, V_, dW, xs):
            return IL.forward(W_, dW, xs)
        d_in = d
    rng = ctx.rng
    g = torch.Generator().manual_seed(int(rng.integers(2**31)))
    xtr = prep(torch.randn(K, p.n_train, d_in, generator=g).to(dev))
    xte = prep(torch.randn(K, N_TEST, d_in, generator=g).to(dev))
    with torch.no_grad():
        ytr, yte = fwd(Wk, Vk, Dk, xtr), fwd(Wk, Vk, Dk, xte)
        base_te = fwd(Wk, Vk, None, xte)
        sig = (yte - base_te).flatten(1).std(1)[:, None, None]
        ytr = ytr + p.noise * sig * torch.randn(ytr.shape, generator=g).to(dev)
        base_mse = ((base_te - yte) ** 2).mean((1, 2))
    W, V, Xtr, Xte = Wk[rep], Vk[rep], xtr[rep], xte[rep]
    Ytr, Yte, base = ytr[rep], yte[rep], base_mse[rep]
    P = (torch.randn(M, L, d, R, generator=g) / np.sqrt(d)).to(dev).requires_grad_()
    Q = (torch.randn(M, L, R, d, generator=g) / np.sqrt(d)).to(dev).requires_grad_()
    lam = torch.zeros(M, L, R, device=dev, requires_grad=True)
    mask = torch.zeros(M, L, R, device=dev)
    for m in range(M):
        mask[m, :, :(R // L if kind[m] == 0 else p.init_rank)] = 1
    params = [P, lam, Q]
    opt = StackedAdamW(params, lr=torch.full((M,), p.lr, device=dev), weight_decay=0.0)
    ema = IL.SensitivityEMA([tuple(q.shape) for q in params], p.ema_beta, device=dev)
    last_add = torch.zeros(M, device=dev)
    alloc_rng = np.random.default_rng(int(rng.integers(2**31)))
    choosers = {m: (p.allocation if kind[m] == 1 else "random") for m in range(M)
                if kind[m] >= 1}
    inc = [m for m in range(M) if kind[m] == 1]
    yield Note(f"{p.topology} world, true ranks {true}, budget {R}, {K} independent tasks "
               f"(world, data, init) side by side: uniform rank {R // L} per module; "
               f"IncreLoRA from {p.init_rank}, +1 rank in each of the {p.add_per_event} "
               f"top-scoring modules every {p.interval} steps from step {p.ema_warmup} "
               f"({p.allocation} choice)")
    eval_at = set(np.unique(np.linspace(0, p.steps, p.evals + 1).round().astype(int)))
    rel = torch.full((M,), float("nan"))
    for t in range(p.steps + 1):
        if t in eval_at:
            with torch.no_grad():
                te = ((fwd(W, V, IL.delta(P, lam, Q, mask), Xte) - Yte) ** 2).mean((1, 2))
                rel = (te / base).cpu()
            per_kind = rel.reshape(K, A).mean(0).tolist()
            vals = {f"relmse_{a}": v for a, v in zip(kinds, per_kind)}
            ranks_now = mask[inc].sum(-1).mean(0).tolist()
            vals |= {f"rank_m{i}": r for i, r in enumerate(ranks_now)}
            vals["total_rank_increlora"] = float(sum(ranks_now))
            yield Metric(t, vals)
        if t == p.steps or ctx.should_stop():
            break
        loss = ((fwd(W, V, IL.delta(P, lam, Q, mask), Xtr) - Ytr) ** 2).mean((1, 2))
        opt.zero_grad()
        loss.sum().backward()
        ema.update(params)
        step = t + 1
        opt.lr = p.lr * torch.clamp((step - last_add) / p.warmup, max=1.0)
        opt.step()
        if step >= p.ema_warmup and (step - p.ema_warmup) % p.interval == 0:
            sc = IL.module_scores(*ema.scores(), mask)
            for m, how in choosers.items():
                room = R - int(mask[m].sum())
                if room <= 0:
                    continue
                s = sc[m].clone()
                for _ in range(min(p.add_per_event, room)):
                    ranks = mask[m].sum(-1)
                    free = (ranks < R) & (s > -np.inf)
                    if not bool(free.any()):
                        break
                    if how == "sensitivity":
                        l_ = int(torch.where(free, s, -np.inf).argmax())
                    else:
                        l_ = int(alloc_rng.choice(np.flatnonzero(free.cpu().numpy())))
                    mask[m, l_, int(ranks[l_])] = 1
                    s[l_] = -np.inf  # at most one component per module per event
                last_add[m] = step
    final = mask.sum(-1).cpu()
    relk = rel.reshape(K, A)
    yield Note("per task: rel_MSE uniform / IncreLoRA / random (mean), IncreLoRA ranks: "
               + "; ".join(f"{float(relk[r, 0]):.4g} / {float(relk[r, 1]):.4g} / "
                           f"{float(relk[r, 2:].mean()):.4g} {final[inc[r]].int().tolist()}"
                           for r in range(K)))
    mean_ranks = final.reshape(K, A, L).mean(0).tolist()
    yield Table("final_ranks", rows=["true"] + kinds,
                columns=[f"m{i}" for i in range(L)],
                cells=[[float(r) for r in true]] + [[float(r) for r in row]
                                                     for row in mean_ranks])


def _final(h: History, name: str) -> float:
    try:
        return last(h.series(name)[1])
    except KeyError:
        return float("nan")


def spearman(a: list[float], b: list[float]) -> float:
    """scipy's Spearman rank correlation (ties get average ranks); NaN for a constant side."""
    import warnings

    from scipy.stats import spearmanr

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns on constant input and returns NaN
        return float(spearmanr(a, b)[0])


def check(history: History, p: IncreloraRankAllocationParams) -> Verdict:
    inc = _final(history, "relmse_increlora")
    uni = _final(history, "relmse_uniform")
    rnd = mean([_final(history, f"relmse_random_{c}") for c in DRAWS[:p.random_draws]])
    true = p.ranks()
    alloc = [_final(history, f"rank_m{i}") for i in range(len(true))]
    rho = spearman(alloc, true)
    gap = _final(history, "total_rank_increlora") - p.budget
    r_uni, r_rnd = ratio(inc, uni), ratio(inc, rnd)
    criteria = (
        Criterion.at_most(CRIT_UNI, r_uni, 0.85),
        Criterion.at_most(CRIT_RAND, r_rnd, 0.85),
        Criterion.at_least(CRIT_RHO, rho, 0.5, tier="mechanism"),
        Criterion.between(CRIT_BUDGET, gap, -0.5, 0.5, tier="mechanism"),
    )
    return Verdict.of(criteria, f"IncreLoRA / uniform LoRA test MSE {r_uni:.3g}, / random "
                      f"allocation {r_rnd:.3g}; mean ranks {[round(a, 2) for a in alloc]} "
                      f"vs true {true} (ρ = {rho:.2f})")


SCENARIO = Scenario(
    params=IncreloraRankAllocationParams,
    run=run,
    check=check,
    panels=(
        Panel("test MSE / frozen-network MSE per method", series=("relmse_*",), logy=True),
        Panel("IncreLoRA allocated rank per module", series=("rank_m*",)),
        Panel("final ranks (true, per method)", kind="bars", table="final_ranks"),
    ),
    presets={"quick": {"steps": 500, "interval": 40, "ema_warmup": 60, "evals": 10}},
    watch=("relmse_uniform", "relmse_increlora"),
    key_metric="relmse_increlora",
    total_steps=lambda p: p.steps,
    uses_torch=True,
    threads=2,  # stacked tanh branches: 1.4x faster on 2 idle cores (bench_threads, measured
    #             on the 700-step single-task quick preset before the 2026-12 redesign)
    notes=__doc__ or "",
    paper_reports="IncreLoRA beats LoRA and AdaLoRA at the same parameter budget on GLUE, "
                  "with a larger gain in low-resource settings (exact numbers not in the "
                  "spec).",
    paper_rows=(
        PaperRow("IncreLoRA vs uniform LoRA at equal budget", "better on all GLUE tasks "
                 "(accuracy, not MSE; no MSE ratio reported)", "ratio",
                 "paper Table 1", CRIT_UNI),
        PaperRow("allocation vs random-allocation ablation", "not reported", "ratio",
                 "spec's ablation (d)", CRIT_RAND),
        PaperRow("allocated ranks follow the need", "not reported (rank maps shown)", "ρ",
                 "paper Fig. of final ranks", CRIT_RHO),
    ),
    status="partly",
)
