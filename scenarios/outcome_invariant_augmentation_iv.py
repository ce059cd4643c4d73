"""Outcome-invariant data augmentation as an instrument: DA+IVL vs DA+ERM vs ERM under a
hidden confounder (Akbar, Kilbertus, Shen, Muandet & Dai 2025).

The paper's linear world at toy scale (the spec's design; engine `stats.linear_iv`).
Each Monte-Carlo replicate draws a fresh world: a random orthonormal basis Q of R^d
(d = 10), the augmentation subspace S = its first k = 6 columns, a unit-norm causal
effect beta in span(Q[:, k:]) (so beta is orthogonal to S and the outcome is invariant to
x -> x + S z), and a hidden confounder H ~ N(0, I_2) with
    X = Gamma^T H + N(0, I_d),   Gamma = conf (A_S S^T + leak A_perp P^T),  A ~ N(0, 1),
    Y = beta^T X + (2, -2) H + 0.5 N(0, 1),   X_aug = X + S z,  z ~ N(0, sigma_a^2 I_k).
conf = 2; leak = 0 puts all confounding along the augmentation directions. On n samples:
    ERM     OLS of Y on X;
    DA+ERM  OLS of Y on X_aug;
    DA+IVL  argmin ||Y - X_aug b||^2 + alpha ||P_z (Y - X_aug b)||^2, alpha = 10: the
            augmentation parameters z as an instrument (k < d: not a full one),
            regularized by ERM; equal to anchor regression with gamma = 1 + alpha.
The metric is the relative causal error ||b - beta|| / ||beta|| (its square is the
relative excess risk under do(X ~ N(0, I))). Every estimator is computed from second
moments, so the same formula applied to the SEM's exact covariance gives its population
limit ("population (exact)": bias only, no sampling error) beside each finite-sample read.

Claim check (thresholds from the spec, fixed before the judging seeds were run):
  (a) mean error DA+ERM / ERM <= 1 (DA+ERM < ERM);
  (b) mean error DA+IVL / DA+ERM <= 0.8;
  (c) DA+IVL beats DA+ERM in >= 80% of the replicates.
Mechanism tier (shown, not deciding):
  - population errors DA+ERM / ERM <= 1 and DA+IVL / DA+ERM <= 1 from the exact SEM
    covariance: consequences of the paper's population theorems when leak = 0 (they hold
    by theory, so they are not evidence; they show the finite-sample gains are bias
    removed, not noise);
  - U-shape in alpha: the near-pure IV fit (alpha = 1000) is worse than the best smaller
    alpha at finite n (IV needs the ERM regularizer: its population bias is 0.013 but its
    finite-sample error 0.47-0.57);
  - the caveat: DA+IVL / DA+ERM at leak = 0.3 (from the leak sweep) >= 0.8, i.e. the
    claim is expected to fail when confounding leaks outside S.
Panels: the running mean error per replicate; bars of the mean errors (finite sample and
exact population); DA+IVL error against 1 + alpha (the anchor gamma; alpha 0 to 1000)
with its population curve; errors against sigma_a (0.1-10) and against leak (0-1). The
sweeps reuse each replicate's world and standard-normal shocks (common random numbers), so
the sweep point leak = 0.3 is exactly the run with leak = 0.3 (a test checks this).

Control: leak = 0.3 (the spec's). Confounding outside S is out of z's reach; IVL pushes
the S-coefficients toward the IV solution, which removes X_S's role as a proxy that
adjusts for H, so the perp-coefficients absorb more confounding. DA+IVL becomes worse
than DA+ERM and (b), (c) fail (tests/test_outcome_invariant_augmentation_iv.py).
Quick, seeds 0-19: FAIL 20/20, (b) 1.25-1.34, (c) 0-0.12. Other settings that fail (b),
quick, seeds 0-19, FAIL 20/20 each: leak = 0.1 (0.89-0.96; in this world the claim fails
from leak 0.1, not only from the spec's 0.3) and 0.2 (1.13-1.22); sigma_a = 0.1
(0.99-1.00: the augmentation barely moves X); conf = 0 (1.09-1.18: nothing to de-confound,
IVL only adds variance).

Measured, seeds 0-19 (mean +- sd over seeds; 2-core box under load):
  quick   (60 reps, n = 2000) PASS 20/20: ERM 0.673 +- 0.020, DA+ERM 0.617 +- 0.014,
          DA+IVL 0.428 +- 0.007; (a) 0.899-0.935, (b) 0.663-0.732, (c) 0.97-1.
          Population: 0.671, 0.614, 0.373. Seeds 0-99: 100/100 ((b) at most 0.75).
          About 1 s CPU (2 s wall) on one core.
  default (100 reps, n = 3000) PASS 20/20: ERM 0.668 +- 0.020, DA+ERM 0.613 +- 0.015,
          DA+IVL 0.410 +- 0.004; (a) 0.905-0.927, (b) 0.643-0.690, (c) 0.98-1.
          Population: 0.667, 0.611, 0.373. About 2 s CPU (4-6 s wall) on one core.
  alpha sweep (default): 0.613 (0), 0.572 (1), 0.513 (3), 0.410 (10), 0.353 (30),
          0.388 (100), 0.438 (300), 0.467 (1000); population 0.611 ... 0.101 (100),
          0.013 (1000). The minimum is near alpha = 30 here (spec: near 10).
  sigma_a sweep (default, DA+ERM vs DA+IVL): 0.1: 0.668 vs 0.663; 1: 0.613 vs 0.410;
          10: 0.139 vs 0.108 (a strong augmentation makes DA+ERM nearly as good; spec
          0.112 vs 0.101).
  leak sweep (default, ERM / DA+ERM / DA+IVL): 0: 0.668 / 0.613 / 0.410;
          0.1: 0.664 / 0.618 / 0.569; 0.3: 0.636 / 0.620 / 0.807; 1: 0.493 / 0.505 / 0.663.

Presets: the spec's 10 (quick) and 30 (default) replicates were tried first: quick 19/20
(seed 19 at (b) = 0.84; (b) 0.66-0.84), default 20/20 ((b) 0.59-0.73); on seeds 20-59 a
30-replicate quick failed 1 of 40. The spread is between worlds (worlds with weak
confounding along S gain less), so the replicates were raised to 60 (quick) and 100
(default); a run still costs seconds. No threshold changed.

Against the spec's calibration: its prototype read ERM 0.42-0.49, DA+ERM 0.39-0.45, DA+IVL
0.24-0.30; ours are higher in absolute terms (a unit-norm beta here; the prototype's beta
and loading normalisation are not stated) but the ratios agree: IVL/DA 0.64-0.69 (spec
0.63-0.71), DA/ERM about 0.92 (spec 0.91-0.93), IVL better in 97-100% of replicates
(spec 100%). One world was tried (the spec's); it reproduces, so no redesign was needed.
Not reproduced here: the paper's real-data experiments and its compositions of
augmentations that simulate a worst-case intervention (beyond the IVL = anchor
regression identity, which the engine tests check).
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
from .measure import mean, ratio

ALPHA_GRID = (0.0, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1000.0)  # spec: 0 to 1000
SIGMA_GRID = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)  # spec: 0.1 to 10
LEAK_GRID = (0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0)  # spec: 0 to 1
NEAR_IV_ALPHA = 1000.0  # the alpha grid's end: IV barely regularized by ERM
CAVEAT_LEAK = 0.3  # the spec's "expected to fail when leak >= 0.3"
METHODS = ("erm", "da", "ivl")
LABELS = {"erm": "ERM", "da": "DA+ERM", "ivl": "DA+IVL"}

# thresholds, from the spec (fixed before any judging run)
RATIO_IVL_DA = 0.8  # mean error DA+IVL <= 0.8 x DA+ERM
SHARE_IVL_WINS = 0.8  # DA+IVL beats DA+ERM in >= 80% of replicates
RATIO_NAME = "(b) mean error DA+IVL / DA+ERM"


@dataclass(frozen=True)
class AugmentationIVParams(Params):
    d: int = param(10, range=(2, 50), help="treatment dimension")
    k: int = param(6, range=(1, 49), help="dimension of the augmentation subspace S (< d)")
    n: int = param(3000, range=(50, 100_000), log=True, help="samples per replicate")
    reps: int = param(100, range=(2, 1000), help="Monte-Carlo replicates (a fresh world each)")
    sigma_a: float = param(1.0, range=(0.01, 100.0), log=True,
                           help="augmentation strength: z ~ N(0, sigma_a^2 I_k)")
    alpha: float = param(10.0, range=(0.0, 1e6),
                         help="IVL weight of the IV term (0: DA+ERM; anchor gamma = 1 + alpha)")
    conf: float = param(2.0, range=(0.0, 10.0), help="confounder -> treatment strength")
    leak: float = param(0.0, range=(0.0, 1.0),
                        help="confounding outside S, relative to inside (the paper's caveat; "
                             "the claim fails from 0.1 on here)")
    noise: float = param(0.5, range=(0.0, 10.0), help="outcome noise sd")

    def check_consistency(self) -> list[str]:
        if self.k >= self.d:
            return [f"k: must be < d ({self.d}) so that beta has room outside S, got {self.k}"]
        if self.n <= self.d + self.k:
            return [f"n: must exceed d + k ({self.d + self.k}), got {self.n}"]
        return []


def run(p: AugmentationIVParams, ctx: RunContext) -> Iterator[Metric | Note | Table]:
    import numpy as np

    from paramlab.engines.stats import linear_iv as liv

    rng = ctx.rng
    alphas = np.array([0.0, p.alpha, *ALPHA_GRID])  # [DA+ERM, DA+IVL, the alpha sweep]
    yield Note(f"d={p.d}, k={p.k}, n={p.n}, reps={p.reps}, sigma_a={p.sigma_a}, "
               f"alpha={p.alpha}, conf={p.conf}, leak={p.leak}, noise={p.noise}")

    def errors(world: liv.AugmentationWorld, M: np.ndarray, a: np.ndarray) -> np.ndarray:
        """Relative causal errors [ERM, IVL at each alpha in a] from moments M."""
        est = liv.estimate(M, world.sem.blocks, a)
        return np.concatenate([[liv.relative_causal_error(est.erm, world.beta)],
                               liv.relative_causal_error(est.ivl, world.beta)])

    finite, population = [], []
    sweep_alpha, sweep_alpha_pop, sweep_sigma, sweep_leak = [], [], [], []
    for r in range(p.reps):
        world = liv.draw_world(rng, p.d, p.k, p.conf, p.leak, p.sigma_a, noise=p.noise)
        E = rng.standard_normal((p.n, world.sem.p))  # shocks shared by every sweep point
        e = errors(world, liv.second_moments(world.sem.propagate(E)), alphas)
        e_pop = errors(world, world.sem.covariance(), alphas)
        finite.append(e[:3])
        population.append(e_pop[:3])
        sweep_alpha.append(e[3:])
        sweep_alpha_pop.append(e_pop[3:])
        sweep_sigma.append([errors(w, liv.second_moments(w.sem.propagate(E)),
                                   alphas[:2]) for w in
                            (world.with_(sigma_a=s) for s in SIGMA_GRID)])
        sweep_leak.append([errors(w, liv.second_moments(w.sem.propagate(E)),
                                  alphas[:2]) for w in
                           (world.with_(leak=v) for v in LEAK_GRID)])
        run_mean = np.mean(finite, axis=0)
        yield Metric(r, {f"err_{m}": float(v) for m, v in zip(METHODS, e[:3])}
                     | {f"pop_err_{m}": float(v) for m, v in zip(METHODS, e_pop[:3])}
                     | {f"mean_err_{m}": float(v) for m, v in zip(METHODS, run_mean)})
        if ctx.should_stop():
            return

    step = p.reps - 1
    a_mean, a_pop = np.mean(sweep_alpha, axis=0), np.mean(sweep_alpha_pop, axis=0)
    for a, v, v_pop in zip(ALPHA_GRID, a_mean, a_pop):
        step += 1
        yield Metric(step, {"anchor_gamma": 1.0 + a, "alpha_err_ivl": float(v),
                            "alpha_pop_ivl": float(v_pop)})
    for name, grid, sweep in (("sigma_a", SIGMA_GRID, sweep_sigma),
                              ("leak", LEAK_GRID, sweep_leak)):
        for x, row in zip(grid, np.mean(sweep, axis=0)):
            step += 1
            yield Metric(step, {f"{name}_sweep": x}
                         | {f"{name}_err_{m}": float(v) for m, v in zip(METHODS, row)})
    cols = [LABELS[m] for m in METHODS]
    yield Table("mean_error", ["finite sample", "population (exact)"], cols,
                [np.mean(finite, axis=0).tolist(), np.mean(population, axis=0).tolist()])


def _ivl_wins(history: History) -> float:
    ivl, da = history.series("err_ivl")[1], history.series("err_da")[1]
    return mean([float(a < b) for a, b in zip(ivl, da)])


def check(history: History, p: AugmentationIVParams) -> Verdict:
    err = {m: mean(history.series(f"err_{m}")[1]) for m in METHODS}
    pop = {m: mean(history.series(f"pop_err_{m}")[1]) for m in METHODS}
    by_gamma = dict(zip(*history.paired("anchor_gamma", "alpha_err_ivl")))
    near_iv = by_gamma.get(1.0 + NEAR_IV_ALPHA, float("nan"))
    best_below = min((v for g, v in by_gamma.items() if g < 1.0 + NEAR_IV_ALPHA),
                     default=float("nan"))
    leak_x, leak_ivl = history.paired("leak_sweep", "leak_err_ivl")
    leak_da = dict(zip(*history.paired("leak_sweep", "leak_err_da")))
    caveat = {x: ratio(v, leak_da.get(x, float("nan"))) for x, v in zip(leak_x, leak_ivl)}
    wins = _ivl_wins(history)
    criteria = (
        Criterion.at_most("(a) mean error DA+ERM / ERM", ratio(err["da"], err["erm"]), 1.0),
        Criterion.at_most(RATIO_NAME, ratio(err["ivl"], err["da"]), RATIO_IVL_DA),
        Criterion.at_least("(c) share of replicates where DA+IVL beats DA+ERM", wins,
                           SHARE_IVL_WINS),
        Criterion.at_most("population error DA+ERM / ERM (exact covariance; theorem)",
                          ratio(pop["da"], pop["erm"]), 1.0, tier="mechanism"),
        Criterion.at_most("population error DA+IVL / DA+ERM (exact covariance; theorem)",
                          ratio(pop["ivl"], pop["da"]), 1.0, tier="mechanism"),
        Criterion.at_least(f"U-shape: near-pure IV (alpha = {NEAR_IV_ALPHA:g}) error / "
                           "best smaller-alpha error", ratio(near_iv, best_below), 1.0,
                           tier="mechanism"),
        Criterion.at_least(f"caveat: DA+IVL / DA+ERM at leak = {CAVEAT_LEAK:g} (sweep)",
                           caveat.get(CAVEAT_LEAK, float("nan")), RATIO_IVL_DA,
                           tier="mechanism"),
    )
    return Verdict.of(criteria, f"mean relative causal error ERM {err['erm']:.3f}, DA+ERM "
                      f"{err['da']:.3f}, DA+IVL {err['ivl']:.3f} (IVL/DA "
                      f"{ratio(err['ivl'], err['da']):.2f}; IVL better in {wins:.0%} of "
                      f"replicates)")


SCENARIO = Scenario(
    params=AugmentationIVParams,
    run=run,
    check=check,
    panels=(
        Panel("running mean relative causal error ||b - beta|| / ||beta||",
              series=tuple(f"mean_err_{m}" for m in METHODS), xlabel="replicate",
              labels={f"mean_err_{m}": LABELS[m] for m in METHODS}),
        Panel("mean relative causal error: finite sample vs exact population", kind="bars",
              table="mean_error"),
        Panel("DA+IVL error vs anchor gamma = 1 + alpha (gamma = 1: DA+ERM)",
              series=("alpha_err_ivl", "alpha_pop_ivl"), x="anchor_gamma", logx=True,
              xlabel="1 + alpha (log)",
              labels={"alpha_err_ivl": "finite sample", "alpha_pop_ivl": "population"}),
        Panel("error vs augmentation strength sigma_a",
              series=tuple(f"sigma_a_err_{m}" for m in METHODS), x="sigma_a_sweep",
              logx=True, xlabel="sigma_a (log)",
              labels={f"sigma_a_err_{m}": LABELS[m] for m in METHODS}),
        Panel("error vs leak (confounding outside the augmentation subspace)",
              series=tuple(f"leak_err_{m}" for m in METHODS), x="leak_sweep",
              xlabel="leak", labels={f"leak_err_{m}": LABELS[m] for m in METHODS}),
    ),
    presets={"quick": {"reps": 60, "n": 2000}},
    watch=("err_ivl",),
    key_metric="mean_err_ivl",
    total_steps=lambda p: p.reps - 1 + len(ALPHA_GRID) + len(SIGMA_GRID) + len(LEAK_GRID),
    notes=__doc__ or "",
    paper_reports="Population theory for linear SEMs: outcome-invariant DA acts as a soft "
                  "intervention on the treatment and reduces confounding bias; IVL "
                  "regression (IV with the DA parameters as instrument, regularized by "
                  "ERM) reduces it further. A finite-sample linear simulation shows DA+IVL "
                  "below DA+ERM below ERM in causal error, and real-data experiments agree.",
    paper_rows=(
        PaperRow("causal error, DA+IVL vs DA+ERM (linear simulation)",
                 "lower (qualitative; no number read here)", "ratio of mean errors",
                 "abstract; finite-sample linear simulation", RATIO_NAME),
        PaperRow("causal error, DA+ERM vs ERM (linear simulation)",
                 "lower (qualitative; no number read here)", "ratio of mean errors",
                 "abstract; finite-sample linear simulation", "(a) mean error DA+ERM / ERM"),
        PaperRow("share of replicates where DA+IVL beats DA+ERM", "not reported", "share",
                 "-", "(c) share of replicates where DA+IVL beats DA+ERM"),
        PaperRow("population confounding bias, DA+ERM vs ERM", "lower (theorem)",
                 "ratio of exact errors", "population analysis, linear SEM",
                 "population error DA+ERM / ERM (exact covariance; theorem)"),
        PaperRow("population confounding bias, DA+IVL vs DA+ERM", "lower (theorem)",
                 "ratio of exact errors", "population analysis, linear SEM",
                 "population error DA+IVL / DA+ERM (exact covariance; theorem)"),
    ),
    status="reproduces",
)
