"""Shrunk ML predictions attenuate treatment effects; LCC and Tweedie's correction undo it
without new labels (Pettersson, Jerzak & Daoud 2025).

Upstream ("one map"): latent wealth Y ~ N(0, 1); 16 "satellite" features generated from
it, X = [Y, tanh Y, Y^2/3] W + noise * N(0, I) (anti-causal, as images are caused by
wealth), W with random orthogonal rows of norm sqrt(16). A scikit-learn regressor
(HistGradientBoosting by default) is trained on `n_upstream` labelled units; a held-out
calibration split of `n_calibration` units gives the shrinkage slope b of P = a + b Y, the
LCC map (P - a) / b and two Tweedie noise scales: the paper's residual variance mean((Y -
P)^2), and a slope-matched sigma^2 that makes the corrected values' slope on Y equal 1 on
the calibration split.

Downstream ("many trials"): `trials` independent trials of `units` units each, with a
trial-specific population mean (N(0, 0.5^2)), a randomized treatment T and true effect
tau (Y += tau T); features are regenerated from Y and pushed through the frozen upstream
model. Each trial estimates tau by a difference in means of: the truth (oracle), the raw
predictions (naive, the contrast), LCC, Tweedie (residual sigma^2, the paper's), Tweedie
(slope-matched sigma^2) and PPI, which uses `ppi_labels` fresh labels per trial (the
reference that needs new ground truth). Tweedie's score is the Gaussian-KDE score of
that trial's own predictions (Scott's bandwidth).

Claim check (spec thresholds, means of tau_hat/tau over the trials):
  naive <= 0.85 (attenuation present; it tracks b);
  LCC, Tweedie-residual and Tweedie-slope each in [0.88, 1.12];
  each correction removes >= 65% of the bias: |1 - corrected| <= 0.35 |1 - naive|.
Quick uses the same thresholds and the default's upstream and calibration sizes (4,000 /
1,000) with 40 trials instead of 60. Issue 11: the quick preset used to shrink them to
2,000 / 600 / 25 trials, and was 18/20 PASS on seeds 0-19 (LCC mean ratio up to 1.13 on
two seeds: the LCC slope is fitted on the calibration split, an error that averaging over
trials does not remove) against 20/20 for the default (LCC 0.90-1.06), and the default
was 38/40 on fresh seeds 20-59 (naive up to 0.855, a correction down to 0.846). Two design
changes, no threshold changed: (1) quick keeps the calibration size (the run costs about
3 s either way); (2) W's rows were raw Gaussian draws, whose norms (chi-square, d = 16)
set the signal-to-noise ratio, so the shrinkage slope b ranged 0.51-0.79 over seeds and
sometimes sat at the 0.85 attenuation threshold; W now has random orthogonal rows of the
expected norm sqrt(d), which fixes the signal-to-noise ratio (b 0.70-0.74 on 12 seeds).
Caveat: slope-matched Tweedie is close to LCC by construction (both force slope 1 on the
calibration split); the residual-variance version is the independent test of the
paper's method. `lcc=b=1` is the broken LCC (intercept only), which equals naive.
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

METHODS = ("oracle", "naive", "lcc", "tweedie_resid", "tweedie_slope", "ppi")
LABELS = {"oracle": "oracle (true Y)", "naive": "naive P", "lcc": "LCC",
          "tweedie_resid": "Tweedie (resid. var.)", "tweedie_slope": "Tweedie (slope-match)",
          "ppi": "PPI (fresh labels)"}
SHORT = {"oracle": "oracle", "naive": "naive", "lcc": "LCC", "tweedie_resid": "Tw-resid",
         "tweedie_slope": "Tw-slope", "ppi": "PPI"}
CORRECTIONS = ("lcc", "tweedie_resid", "tweedie_slope")
POP_SD = 0.5  # spread of the trials' population means


@dataclass(frozen=True)
class DebiasParams(Params):
    noise: float = param(3.0, range=(0.5, 5.0),
                         help="feature noise: sets the upstream R^2 and the shrinkage b")
    d: int = param(16, range=(3, 64), help="number of satellite features")
    n_upstream: int = param(4000, range=(200, 20000), help="labelled units to train upstream")
    n_calibration: int = param(1000, range=(100, 3000), help="held-out calibration units")
    trials: int = param(60, range=(5, 500), help="downstream trials")
    units: int = param(800, range=(100, 5000), help="units per trial")
    tau: float = param(0.5, range=(0.05, 2.0), help="true treatment effect")
    model: str = param("gbm", choices=("gbm", "ridge", "knn"), help="upstream regressor")
    ppi_labels: int = param(100, range=(10, 1000), help="fresh labels per trial for PPI")
    lcc: str = param("fitted", choices=("fitted", "b=1"),
                     help="LCC slope: fitted, or b=1 (broken: intercept only)")


def run(p: DebiasParams, ctx: RunContext) -> Iterator[Metric | Note | Table]:
    import numpy as np

    from paramlab.engines.stats import debias as db

    rng = ctx.rng
    world = db.World.draw(rng, p.d, p.noise)
    Y_up = rng.standard_normal(p.n_upstream)
    f = db.upstream_model(p.model, ctx.seed).fit(world.features(rng, Y_up), Y_up)
    Y_cal = rng.standard_normal(p.n_calibration)
    P_cal = f.predict(world.features(rng, Y_cal))
    a, b = db.linear_calibration(P_cal, Y_cal)
    b_lcc = b if p.lcc == "fitted" else 1.0
    s2_resid = db.sigma2_residual(P_cal, Y_cal)
    s2_slope = db.sigma2_slope_match(P_cal, Y_cal)
    r2 = 1 - s2_resid / float(np.var(Y_cal))
    yield Note(f"upstream {p.model}: calibration R^2 {r2:.2f}, P = {a:.3f} + {b:.3f} Y; "
               f"Tweedie sigma^2 residual {s2_resid:.3f}, slope-matched {s2_slope:.3f}")
    edges = np.arange(-2.5, 2.51, 0.5)
    centres, mean_p = [], []
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (Y_cal >= lo) & (Y_cal < hi)
        if sel.sum() >= 5:
            centres.append((lo + hi) / 2)
            mean_p.append(float(P_cal[sel].mean()))
    yield Table("calibration", ["mean prediction P", "true Y (bin centre)"],
                [f"{c:+.2f}" for c in centres], [mean_p, centres])
    yield Metric(0, {"slope_b": b, "sigma2_resid": s2_resid, "sigma2_slope": s2_slope})

    ratios: dict[str, list[float]] = {m: [] for m in METHODS}
    for t in range(1, p.trials + 1):
        T = (rng.random(p.units) < 0.5).astype(int)
        Y = POP_SD * rng.standard_normal() + rng.standard_normal(p.units) + p.tau * T
        P = f.predict(world.features(rng, Y))
        labelled = rng.choice(p.units, size=min(p.ppi_labels, p.units), replace=False)
        est = {
            "oracle": db.difference_in_means(Y, T),
            "naive": db.difference_in_means(P, T),
            "lcc": db.difference_in_means(db.lcc(P, a, b_lcc), T),
            "tweedie_resid": db.difference_in_means(db.tweedie(P, s2_resid), T),
            "tweedie_slope": db.difference_in_means(db.tweedie(P, s2_slope), T),
            "ppi": db.ppi_difference_in_means(P, T, labelled, Y[labelled]),
        }
        values = {"trial": float(t), "truth": 1.0}
        for m in METHODS:
            ratios[m].append(est[m] / p.tau)
            values[f"ratio_{m}"] = ratios[m][-1]
            values[f"mean_{m}"] = float(np.mean(ratios[m]))
        yield Metric(t, values)
        if ctx.should_stop():
            return

    yield Table("mean_ratio", ["mean tau_hat / tau"], [SHORT[m] for m in METHODS],
                [[float(np.mean(ratios[m])) for m in METHODS]])
    bins = np.arange(0.0, 1.81, 0.2)
    shown = ("naive", "lcc", "tweedie_resid")
    counts = [np.histogram(np.clip(ratios[m], 0.0, 1.79), bins)[0].tolist() for m in shown]
    yield Table("ratio_hist", [LABELS[m] for m in shown],
                [f"{lo:.1f}" for lo in bins[:-1]], counts)


def check(history: History, p: DebiasParams) -> Verdict:
    mean = {m: history.last(f"mean_{m}") for m in METHODS}
    naive_bias = abs(1 - mean["naive"])
    criteria = [Criterion.at_most("naive mean tau_hat/tau (attenuated)", mean["naive"], 0.85)]
    for m in CORRECTIONS:
        criteria.append(Criterion.between(f"{LABELS[m]} mean tau_hat/tau", mean[m], 0.88, 1.12))
    for m in CORRECTIONS:
        criteria.append(Criterion.at_most(f"{LABELS[m]}: |1 - ratio| / |1 - naive ratio|",
                                          ratio(abs(1 - mean[m]), naive_bias), 0.35))
    criteria += [
        Criterion.between("oracle mean tau_hat/tau", mean["oracle"], 0.9, 1.1, tier="mechanism"),
        Criterion.at_most("upstream shrinkage slope b", history.last("slope_b"), 0.9,
                          tier="mechanism"),
    ]
    return Verdict.of(criteria, f"naive {mean['naive']:.2f} (b = {history.last('slope_b'):.2f})"
                      f" -> LCC {mean['lcc']:.2f}, Tweedie {mean['tweedie_resid']:.2f} / "
                      f"{mean['tweedie_slope']:.2f}, PPI {mean['ppi']:.2f}")


SCENARIO = Scenario(
    params=DebiasParams,
    run=run,
    check=check,
    panels=(
        Panel("running mean of tau_hat / tau over trials", x="trial",
              series=("truth", "mean_naive", "mean_lcc", "mean_tweedie_resid",
                      "mean_tweedie_slope", "mean_ppi"),
              xlabel="trial", ylabel="tau_hat / tau",
              labels={"truth": "1 (unbiased)", **{f"mean_{m}": LABELS[m] for m in METHODS}}),
        Panel("mean tau_hat / tau by method", kind="bars", table="mean_ratio"),
        Panel("calibration split: mean prediction per true-Y bin (shrinkage)", kind="bars",
              table="calibration", xlabel="true Y bin"),
        Panel("histogram of tau_hat / tau across trials", kind="bars", table="ratio_hist",
              xlabel="tau_hat / tau (bin start)"),
    ),
    presets={"quick": {"trials": 40}},
    key_metric="mean_tweedie_resid",
    total_steps=lambda p: p.trials,
    notes=__doc__ or "",
    paper_reports="Shrinkage attenuates effects; both LCC and Tweedie's correction reduce "
                  "the attenuation, Tweedie's giving nearly unbiased treatment effects, "
                  "meeting or beating approaches that need retraining or new labels (PPI) "
                  "in simulations and on DHS wealth data.",
    paper_rows=(
        PaperRow('naive effect estimate / true effect',
                 'attenuated (< 1)',
                 unit='', source='abstract',
                 criterion='naive mean tau_hat/tau (attenuated)'),
        PaperRow('LCC effect estimate / true effect',
                 'attenuation reduced',
                 unit='', source='abstract',
                 criterion='LCC mean tau_hat/tau'),
        PaperRow('Tweedie effect estimate / true effect',
                 'nearly unbiased',
                 unit='', source='abstract',
                 criterion='Tweedie (resid. var.) mean tau_hat/tau'),
    ),
    status="reproduces",
)
