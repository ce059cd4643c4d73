"""Learning the SOR relaxation omega across a sequence of linear systems with a bandit
(Khodak, Chow, Balcan & Talwalkar, ICLR 2024, "Learning to relax").

A sequence of T systems (-Lap_2D + c_t I) x = b_t on an m x m interior grid, with
c_t = c_max U(0,1)^2 and b_t ~ N(0, I). Each round a learner picks omega from K values in
[1.0, 1.85] and pays the number of red-black SOR sweeps to relative residual 1e-8 (capped);
it sees only that count. The full cost table (T x K, one vectorised pass, engines/
linear_systems.py) gives the comparators: Gauss-Seidel (omega = 1), the best fixed omega
in hindsight and the instance-optimal omega (best arm per system).

Learners (engines/stats/bandits.py): Tsallis-INF, the paper's choice, fed raw iteration counts
with the authors' running-mean normalisation (their TsallisINF.m); EXP3 and UCB1 on
cost / cap; and a contextual learner that sees c_t and runs Tsallis-INF in 4 bins of c
(the paper's TsallisINFCB baseline). The paper's own contextual method, ChebCB (Chebyshev
regression per arm with bounded coefficients and an inverse-gap-weighting policy), is not
shipped.

Claim check (spec thresholds, fixed in advance; `learner` picks which bandit is judged):
over the second half, learner cost <= 1.3 x best fixed omega (quick: <= 1.5, the spec's
proposal for T = 300) and <= 0.65 x Gauss-Seidel, and its average regret per round is
lower in the second half than in the first (learning, not luck). The contextual claim
(approaching the instance-optimal policy) is shown as a mechanism row only. The spec's
calibration used per-bin UCB and found no gain; per-bin Tsallis-INF does a little better
than the best fixed omega at T = 1000 (2nd half 24.6-25.6 vs 26.3-26.5 sweeps, seeds 0-2)
but stays far from the instance-optimal 19.3-19.4, and at T = 300 (quick) it loses to the
best fixed omega (22.5-26.6 vs 19.9-21.4, seeds 0-4). Approaching the instance-optimal
policy does not reproduce at this scale without the paper's ChebCB.

Averaging (issue 11). The paper averages its curves over 40 trials. A single play of a
bandit at T = 300 is noisy: with one play the quick check failed on 1 of seeds 0-19
(seed 16: the learner sat on a poor arm in the 2nd half, cost / Gauss-Seidel 0.667,
regret per round up by 3.0 sweeps) and passed 20/20 on default. Every learner now plays
the same sequence `trials` = 8 times with independent random streams and its cost per
round is the mean over the plays (the cost table is computed once, so this costs only
the bandit loop, ~0.3 s per play at T = 300). Thresholds unchanged. Measured after the
change, seeds 0-19: quick 20/20 PASS (cost / best fixed 1.12-1.23, cost / Gauss-Seidel
0.53-0.61, regret change -3.6..-6.9 sweeps); default 20/20 PASS (1.05-1.10, 0.47-0.51,
-2.5..-4.5 sweeps).

Control: `omega_max=1.2` (every arm near Gauss-Seidel) fails "cost / Gauss-Seidel"
(0.685-0.698 on quick seeds 0-2; test).

Cross-checks: lexicographic SOR (the authors' sor.m) gives the same best omega as
red-black (tests), and each system's best arm sits within one arm of Young's
omega* = 2 / (1 + sqrt(1 - rho_J^2)), rho_J = 4 cos(pi h) / (4 + c) (mechanism row; 100 %
on the seeds we ran).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .base import (
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
from .history import History
from .measure import ratio

LEARNERS = ("tsallis_inf", "exp3", "ucb1", "contextual")
LABELS = {"avg_tsallis_inf": "Tsallis-INF", "avg_exp3": "EXP3", "avg_ucb1": "UCB1",
          "avg_contextual": "contextual (4 bins)", "avg_gauss_seidel": "Gauss-Seidel",
          "avg_best_fixed": "best fixed omega", "avg_instance_opt": "instance-optimal"}


@dataclass(frozen=True)
class SORBanditParams(Params):
    m: int = param(8, range=(6, 16), help="interior grid size (m x m unknowns)")
    T: int = param(1000, range=(200, 3000), help="number of linear systems in the sequence")
    K: int = param(8, range=(4, 16), help="number of omega arms in [omega_min, omega_max]")
    omega_min: float = param(1.0, range=(0.5, 1.5), help="smallest omega arm (1 = Gauss-Seidel)")
    omega_max: float = param(1.85, range=(1.2, 1.99), help="largest omega arm")
    c_max: float = param(2.0, range=(0.0, 8.0), help="shift c_t = c_max * U(0,1)^2")
    tol: float = param(1e-8, range=(1e-12, 1e-3), log=True, help="relative residual target")
    cap: int = param(200, range=(20, 2000), help="iteration cap per solve")
    learner: str = param("tsallis_inf", choices=LEARNERS, help="the bandit the check judges")
    trials: int = param(8, range=(1, 64),
                        help="plays of each learner through the sequence (costs averaged)")

    def check_consistency(self) -> list[str]:
        if self.omega_max <= self.omega_min:
            return [f"omega_max: must be > omega_min ({self.omega_min}), got {self.omega_max}"]
        return []


def bound_factor(p: SORBanditParams) -> float:
    """Allowed 2nd-half cost / best fixed: 1.3 (spec, T = 1000) or 1.5 below T = 1000."""
    return 1.3 if p.T >= 1000 else 1.5


def _play(p: SORBanditParams, cost, c, seeds) -> dict[str, tuple]:
    """One play of every learner through the sequence: (cost paid, arm chosen) per round."""
    import numpy as np

    from paramlab.engines.stats import bandits

    learners = {
        "tsallis_inf": bandits.TsallisINF(p.K, np.random.default_rng(seeds[0]),
                                          adaptive_scale=True),
        "exp3": bandits.EXP3(p.K, p.T, np.random.default_rng(seeds[1])),
        "ucb1": bandits.UCB1(p.K, np.random.default_rng(seeds[2])),
    }
    ctx_rng = np.random.default_rng(seeds[3])
    contextual = bandits.Binned(0.0, max(p.c_max, 1e-9), 4, lambda: bandits.TsallisINF(
        p.K, ctx_rng, adaptive_scale=True))
    raw_cost = {"tsallis_inf"}  # the others learn from cost / cap in [0, 1]
    arms = {name: np.zeros(p.T, dtype=np.int64) for name in LEARNERS}
    for t in range(p.T):
        for name, lrn in learners.items():
            a = lrn.choose()
            lrn.update(float(cost[t, a]) if name in raw_cost else cost[t, a] / p.cap)
            arms[name][t] = a
        a = contextual.choose(float(c[t]))
        contextual.update(float(cost[t, a]))
        arms["contextual"][t] = a
    rounds = np.arange(p.T)
    return {name: (cost[rounds, arms[name]].astype(np.float64), arms[name])
            for name in LEARNERS}


def run(p: SORBanditParams, ctx: RunContext) -> Iterator[Metric | Note | Table]:
    import numpy as np

    from paramlab.engines.linalg import linear_systems as ls

    rng = ctx.rng
    omegas = np.linspace(p.omega_min, p.omega_max, p.K)
    c = p.c_max * rng.random(p.T) ** 2
    b = rng.standard_normal((p.T, p.m, p.m))
    cost = np.empty((p.T, p.K), dtype=np.int64)
    chunk = 250
    for s in range(0, p.T, chunk):  # the hindsight table, in chunks so a cancel is prompt
        cost[s:s + chunk] = ls.red_black_sor_iterations(c[s:s + chunk], b[s:s + chunk],
                                                        omegas, p.tol, p.cap)
        if ctx.should_stop():
            return
    capped = float(np.mean(cost >= p.cap))
    best_arm = int(np.argmin(cost.sum(axis=0)))
    yield Note(f"{p.T} systems on a {p.m}x{p.m} grid, omegas {np.round(omegas, 3).tolist()}; "
               f"best fixed omega {omegas[best_arm]:.3f}; {100 * capped:.1f}% of solves capped")

    # the learners, each with its own stream of random numbers; the paper averages its
    # curves over 40 trials, here every learner plays the sequence `trials` times and
    # its cost per round is the mean over those plays
    paid = {name: np.zeros(p.T) for name in LEARNERS}
    arms = {name: np.zeros((p.trials, p.T), dtype=np.int64) for name in LEARNERS}
    for r, seeds in enumerate(rng.integers(0, 2**63 - 1, size=(p.trials, 4))):
        if ctx.should_stop():
            return
        for name, (costs, chosen) in _play(p, cost, c, seeds).items():
            paid[name] += costs / p.trials
            arms[name][r] = chosen

    every = max(1, p.T // 250)
    n_seen = np.arange(1, p.T + 1)
    running = {name: np.cumsum(paid[name]) / n_seen for name in LEARNERS}
    running["gauss_seidel"] = np.cumsum(cost[:, 0]) / n_seen
    running["best_fixed"] = np.cumsum(cost[:, best_arm]) / n_seen
    running["instance_opt"] = np.cumsum(cost.min(axis=1)) / n_seen
    for t in range(p.T):
        if (t + 1 >= 10 and t % every == 0) or t == p.T - 1:  # averages over >= 10 systems
            values = {f"avg_{name}": float(v[t]) for name, v in running.items()}
            values.update(omega_chosen=float(omegas[arms[p.learner][0, t]]), c=float(c[t]))
            yield Metric(t + 1, values)

    half = p.T // 2
    first, second = slice(0, half), slice(half, p.T)
    best1 = float(cost[first].mean(axis=0).min())
    best2 = float(cost[second].mean(axis=0).min())
    summary = {
        "best_fixed_2nd": best2,
        "gauss_seidel_2nd": float(cost[second, 0].mean()),
        "instance_opt_2nd": float(cost[second].min(axis=1).mean()),
        "best_fixed_omega": float(omegas[best_arm]),
    }
    # Young's theory per system: the best arm should sit next to omega*(c_t)
    young = ls.omega_opt(ls.rho_jacobi(p.m, c))
    nearest = np.abs(young[:, None] - omegas[None, :]).argmin(axis=1)
    summary["young_within_one_arm"] = float(np.mean(np.abs(cost.argmin(axis=1) - nearest) <= 1))
    for name in LEARNERS:
        summary[f"{name}_2nd"] = float(paid[name][second].mean())
        summary[f"{name}_regret_1st"] = float(paid[name][first].mean()) - best1
        summary[f"{name}_regret_2nd"] = float(paid[name][second].mean()) - best2
    yield Metric(p.T, summary)

    cols = [f"{w:.2f}" for w in omegas]
    yield Table("arm choices, 2nd half (fraction)", list(LEARNERS), cols,
                [(np.bincount(arms[name][:, second].ravel(), minlength=p.K)
                  / arms[name][:, second].size).tolist()
                 for name in LEARNERS])
    # the cost landscape: mean sweeps vs omega in three bands of c
    bands = np.quantile(c, [0.0, 1 / 3, 2 / 3, 1.0])
    for j, w in enumerate(omegas):
        values = {"omega": float(w), "cost_all_c": float(cost[:, j].mean())}
        for name, lo, hi in zip(("cost_low_c", "cost_mid_c", "cost_high_c"), bands[:-1],
                                bands[1:]):
            sel = (c >= lo) & (c <= hi)
            values[name] = float(cost[sel, j].mean())
        yield Metric(p.T + 1 + j, values)


def check(history: History, p: SORBanditParams) -> Verdict:
    last = history.last
    ln = p.learner
    mine, best, gs = last(f"{ln}_2nd"), last("best_fixed_2nd"), last("gauss_seidel_2nd")
    r1, r2 = last(f"{ln}_regret_1st"), last(f"{ln}_regret_2nd")
    criteria = (
        Criterion.at_most(f"{ln} 2nd-half cost / best fixed omega", ratio(mine, best),
                          bound_factor(p)),
        Criterion.at_most(f"{ln} 2nd-half cost / Gauss-Seidel", ratio(mine, gs), 0.65),
        Criterion.at_most(f"{ln} regret per round: 2nd half - 1st half", r2 - r1, 0.0),
        Criterion.at_most("contextual (4-bin Tsallis-INF) 2nd half / best fixed",
                          ratio(last("contextual_2nd"), best), 1.0, tier="mechanism"),
        Criterion.at_least("systems whose best arm is within one arm of Young's omega*",
                           last("young_within_one_arm"), 0.9, tier="mechanism"),
    )
    return Verdict.of(criteria, f"2nd half: {ln} {mine:.1f} sweeps vs best fixed {best:.1f} vs "
                      f"Gauss-Seidel {gs:.1f} (instance-optimal {last('instance_opt_2nd'):.1f}"
                      f", contextual {last('contextual_2nd'):.1f})")


SCENARIO = Scenario(
    params=SORBanditParams,
    run=run,
    check=check,
    panels=(
        Panel("running average cost (SOR sweeps per system)",
              series=tuple(LABELS), xlabel="system t", labels=LABELS),
        Panel("arm choices in the 2nd half", kind="bars",
              table="arm choices, 2nd half (fraction)"),
        Panel("cost landscape: mean sweeps vs omega", x="omega",
              series=("cost_all_c", "cost_low_c", "cost_mid_c", "cost_high_c"),
              xlabel="omega", labels={"cost_all_c": "all c", "cost_low_c": "low c",
                                      "cost_mid_c": "mid c", "cost_high_c": "high c"}),
    ),
    presets={"quick": {"T": 300, "m": 6, "K": 6, "cap": 150}},
    key_metric="avg_tsallis_inf",
    total_steps=lambda p: p.T + p.K,
    notes=__doc__ or "",
    paper_reports="Tsallis-INF's cumulative iterations approach those of the best fixed "
                  "omega over 5000 shifted-Laplacian systems (averaged over 40 trials); "
                  "ChebCB, using the diagonal shift as context, approaches the "
                  "instance-optimal omega; both come with sublinear regret guarantees.",
    paper_rows=(
        PaperRow("Tsallis-INF cost vs best fixed omega (2nd half)",
                 "not reported (approaches it; sublinear regret)", "ratio", "abstract",
                 "tsallis_inf 2nd-half cost / best fixed omega"),
        PaperRow("Tsallis-INF cost vs Gauss-Seidel (2nd half)", "not reported", "ratio",
                 "experiments", "tsallis_inf 2nd-half cost / Gauss-Seidel"),
        PaperRow("regret per round, 2nd half - 1st half", "< 0 (sublinear regret)",
                 "SOR sweeps", "abstract", "tsallis_inf regret per round: 2nd half - 1st half"),
        PaperRow("contextual learner vs best fixed omega", "not reported (ChebCB approaches "
                 "the instance-optimal omega)", "ratio", "abstract",
                 "contextual (4-bin Tsallis-INF) 2nd half / best fixed"),
    ),
    status="partly",
)
