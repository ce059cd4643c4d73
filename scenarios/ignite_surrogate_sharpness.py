"""IGNITE: a surrogate-sharpness constraint for offline optimisation (Dao, Nguyen, Hoang,
Low, NeurIPS 2024, "Incorporating Surrogate Gradient Norm to Improve Offline Optimization
Techniques").

Offline model-based optimisation fits a surrogate g_theta to a static data set and
gradient-ascends designs on it; out of distribution the surrogate is erratic and the
search exploits its errors. IGNITE trains the surrogate under a constraint on its
SHARPNESS, the norm of the gradient of its output with respect to its parameters,
||grad_theta g(x)||, averaged over the offline data (min MSE s.t. sharpness <= eps, a
Lagrangian with dual ascent on lambda). Its theory: low empirical sharpness bounds the
worst-case sharpness on unseen inputs, so the regime where it should help is the one in
which the plain surrogate is sharp and erratic away from the data: a high-dimensional
design space covered by few offline points (Design-Bench's tasks, d = 56 ... 5000+).

World (torch; engines/stats/offline_design.py for the task, engines/nn/ignite.py for
the surrogates): black box f(x) = -||x - 0.5||^2 - A sum(1 - cos 2 pi (x_i - 0.5)), A = 1,
on [-2, 2]^d, d = 24; 600 uniform samples, the best half hidden (Design-Bench's "hide the
top"), so 300 offline points. Surrogate: 24-128-1 tanh MLP, Adam 3e-3, batch 128, 150
epochs (quick 100), standardised y. IGNITE arm: 20% warm-up unconstrained, then eps = 0.5
x the mean sharpness reached (per surrogate); loss += lambda (sharpness - eps), lambda <-
max(0, lambda + 0.05 (sharpness - eps)) per step; sharpness in closed form, ||grad||^2 = 1
+ ||a||^2 + ||v (1 - a^2)||^2 (||x||^2 + 1), tested against torch.func per-sample
gradients and against the SAM form (the rise of g under the worst parameter move of norm
rho is rho ||grad||). Search: Adam ascent (lr 0.02, 50 steps, clamped to the box) from the
128 best offline designs on each surrogate. Score: Design-Bench normalisation (f - f_min) /
(f_max_offline - f_min), 1 = the best design the optimiser saw; p100 = best of the 128,
p50 = median. 4 surrogate inits per arm, scores averaged; each IGNITE surrogate shares
init and mini-batches with a plain one (paired arms, one stacked program).

Claim check (the spec's default thresholds, fixed before any run, used for both presets):
  paper      IGNITE p50 - base p50 >= +0.05;  IGNITE p100 - base p100 >= 0
  mechanism  IGNITE sharpness on the offline data / eps <= 1.1 (the constraint holds);
             IGNITE / base sharpness at the final designs <= 1 (the theory: low
             empirical sharpness carries over to unseen inputs);
             base - IGNITE optimism gap (mean predicted - true score of the final
             designs) >= 0 (the plain surrogate's errors are what the search exploits).
The spec allowed the quick preset lenient thresholds (Δp50 >= 0, Δp100 >= -0.03); with 4
paired surrogates and 100 epochs the quick preset meets the default thresholds, so both
presets use them. At 60 epochs (the spec's quick) seeds 0-19 pass 19/20 (Δp50) and 18/20
(Δp100): the plain surrogate has not yet overfitted.

Control (tests/test_ignite_surrogate_sharpness.py): eps_ratio = 1.0, eps = the warm-up
sharpness (the spec's broken variant: the constraint never binds, lambda stays 0, the
IGNITE surrogates ARE the plain ones). Δp50 = Δp100 = 0 exactly on 20/20 seeds (default),
so "IGNITE p50 - base p50 >= 0.05" fails: FAIL 0/20. A second test checks that the easy
regime (W1) fails the same criterion.

Measured (seeds 0-19, scenario code as shipped; Δ = IGNITE - base, normalised score):
  quick    PASS 20/20. Δp50 +0.118..+0.405 (median +0.287), Δp100 +0.088..+0.523
           (median +0.334); ~2 s per run on the loaded 2-core box.
  default  PASS 20/20. Δp50 +0.152..+0.471 (median +0.313), Δp100 +0.091..+0.647
           (median +0.330); constraint ratio 0.78-0.96; OOD sharpness ratio 0.39-0.48;
           optimism gap smaller by 0.30-0.72. ~2.7 s per run.

Both regimes, and the worlds tried (default preset unless said, seeds 0-19, Δ = IGNITE -
base; "pass" = paper criteria both hold):
  W0  the shipped world (d 24, 300 offline points, A 1): pass 20/20 (numbers above).
      Spec prototype (1 surrogate, 6 seeds): Δp50 +.11..+.30, Δp100 +.04..+.29.
  W1  the EASY regime, the spec's first version (d 8, 2000 samples -> 1000 offline points,
      A 0.3): REVERSES, pass 0/20. Δp50 -0.326..-0.193 (median -0.252), Δp100
      -0.130..+0.014 (median -0.069, >= 0 on 1/20). The constraint still holds (0.89-1.01),
      still cuts the sharpness at the designs (ratio 0.42-0.51) and the optimism gap
      (by 0.17-0.33): the plain surrogate is already accurate there, and the constraint
      only biases it toward a flatter, less informative fit.
  W2  d 8, 600 samples (300 offline), A 1: mixed, pass 4/20. Δp50 -0.112..+0.145
      (median -0.008), Δp100 -0.198..+0.069 (median -0.085).
  W3  d 8, 2000 samples, A 1: reverses, pass 0/20. Δp50 -0.279..-0.172 (median
      -0.229), Δp100 -0.159..+0.021 (median -0.066).
  W4  d 24, A 0 (smooth bowl, no ripples): pass 20/20, Δp50 +0.086..+0.348 (median
      +0.261), Δp100 +0.094..+0.300 (median +0.222).
  W5  d 24, 4000 samples (2000 offline points): pass 20/20, Δp50 +0.164..+0.385 (median
      +0.272), Δp100 +0.168..+0.432 (median +0.279); OOD sharpness ratio 0.28-0.31. In
      d 24 even 2000 points leave the designs' neighbourhood empty: dimension, not the
      count alone, decides the regime.
  W6  the spec's quick length (60 epochs; 4 paired surrogates), quick preset: Δp50
      -0.006..+0.312 (median +0.155; >= 0.05 on 19/20), Δp100 -0.020..+0.395 (median
      +0.208; >= 0 on 18/20): verdict unstable, hence 100 epochs.
  W7  eps ratio (prototype of the same engine, 2 paired surrogates, 150 epochs, seeds
      0-5; min / mean): 0.25: Δp50 +0.05 / +0.22, Δp100 +0.13 / +0.28; 0.5: +0.15 /
      +0.31, +0.22 / +0.31; 0.75: +0.27 / +0.30, +0.19 / +0.28; 0.9: +0.16 / +0.18, +0.03
      / +0.13. Positive on 6/6 at every ratio (the spec's single-surrogate run found 0.25
      mixed on p100); the gain fades as the bound loosens toward 1 (the control).
  W8  other black boxes of engines/stats/offline_design.py at d 24, 300 offline points
      (param black_box): negated Ackley pass 20/20, Δp50 +0.103..+0.279 (median +0.203),
      Δp100 +0.081..+0.623 (median +0.370); negated Rosenbrock pass 20/20, Δp50
      +0.092..+0.451 (median +0.294), Δp100 +0.094..+0.382 (median +0.212).
  W9  Ackley in the easy regime (d 8, 2000 samples): reverses hard, pass 0/20, Δp50
      -2.155..-1.630, Δp100 -1.781..-0.583; here even the optimism gap is larger for
      IGNITE (base - IGNITE -1.16..-0.76): the plain surrogate finds Ackley's central
      funnel from dense data and the flattened one does not.
So the claim holds in the regime the theory names (high d, sparse offline data, an
erratic plain surrogate) and reverses in the easy regime (low d, dense data); the sign
flips between d 8 and d 24 at fixed data (W2). The paper reports gains on most but not
all task/baseline pairs; its "up to 9.6%" is relative to the baseline's score, while
the gains here are larger (+20-30% relative at p50): the toy's plain surrogate
overfits harder than Design-Bench's tuned baselines.

Not reproduced / not tested: the Design-Bench tasks themselves and COMs or other base
optimisers (only gradient ascent); the paper's eps / learning-rate grid (eps is tied to
the warm-up sharpness here); whether a generic regulariser (weight decay, early stopping)
tuned to the same MSE would do as well (not in the paper's claim, not tested); the CUDA
path (no GPU in this session; tensors move to ctx.device, generators stay on CPU).
"""

from __future__ import annotations

import math
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

ARMS = ("base", "ignite")
MIN_D50 = 0.05  # the spec's default-preset thresholds, used for both presets
MIN_D100 = 0.0
D50 = "IGNITE p50 - base p50 (normalised score)"
D100 = "IGNITE p100 - base p100 (normalised score)"
CONSTRAINT = "IGNITE sharpness on the offline data / eps (end of training)"
OOD = "IGNITE / base sharpness at the final designs (out of distribution)"
GAP = "base - IGNITE optimism gap (predicted - true score, final designs)"


@dataclass(frozen=True)
class IgniteParams(Params):
    dim: int = param(24, range=(2, 64), help="design dimension d")
    n_offline: int = param(600, range=(100, 5000), log=True,
                           help="uniform samples of [-2, 2]^d drawn before hiding the top")
    hide_top_frac: float = param(0.5, range=(0.0, 0.9),
                                 help="best fraction of the samples hidden from the optimiser")
    black_box: str = param("rippled_bowl", choices=("rippled_bowl", "ackley", "rosenbrock"),
                           help="the function maximised (engines/stats/offline_design.py)")
    ripple_amp: float = param(1.0, range=(0.0, 2.0),
                              help="amplitude A of the cosine ripples of the rippled bowl")
    hidden: int = param(128, range=(8, 512), log=True, help="hidden tanh units of the surrogate")
    epochs: int = param(150, range=(10, 400), help="surrogate training epochs")
    lr: float = param(3e-3, range=(1e-4, 0.1), log=True, help="Adam learning rate (surrogate)")
    batch: int = param(128, range=(8, 1024), log=True, help="surrogate mini-batch size")
    eps_ratio: float = param(0.5, range=(0.05, 2.0),
                             help="eps = ratio x mean sharpness after the warm-up (>= 1: the "
                                  "constraint never binds, the control)")
    dual_lr: float = param(0.05, range=(0.001, 1.0), log=True,
                           help="step of the dual ascent on the multiplier lambda")
    warmup_frac: float = param(0.2, range=(0.0, 0.9),
                               help="share of the epochs trained unconstrained before eps is set")
    search_steps: int = param(50, range=(5, 400), help="gradient-ascent steps on the surrogate")
    search_lr: float = param(0.02, range=(1e-3, 0.5), log=True,
                             help="Adam learning rate of the design search")
    n_starts: int = param(128, range=(8, 512), log=True,
                          help="designs optimised (the best offline ones)")
    surrogate_seeds: int = param(4, range=(1, 16),
                                 help="surrogate inits per arm; scores are averaged over them "
                                      "(each IGNITE surrogate shares init and batches with a "
                                      "base one)")

    def check_consistency(self) -> list[str]:
        kept = round((1 - self.hide_top_frac) * self.n_offline)
        if self.n_starts > kept:
            return [f"n_starts: at most the {kept} offline designs kept, got {self.n_starts}"]
        return []


def total_steps(p: IgniteParams) -> int:
    # epochs 0..E, search steps 0..T, one summary row
    return p.epochs + 1 + p.search_steps + 1


def run(p: IgniteParams, ctx: RunContext) -> Iterator[Metric | Note | Table]:
    import numpy as np
    import torch

    from paramlab.engines.nn import ignite as ig
    from paramlab.engines.nn import torch_train as tt
    from paramlab.engines.stats import offline_design as od

    rng = ctx.rng
    dev = ctx.device
    S, A = p.surrogate_seeds, len(ARMS)

    def f(X: np.ndarray) -> np.ndarray:
        if p.black_box == "rippled_bowl":
            return od.rippled_bowl(X, p.ripple_amp)
        return od.BLACK_BOXES[p.black_box](X)

    task = od.make_offline_task(rng, f, p.dim, p.n_offline, p.hide_top_frac)
    y_mu, y_sd = float(task.y.mean()), float(task.y.std())
    X, y = tt.to_device(dev, task.X, (task.y - y_mu) / y_sd)
    g = tt.generator(int(rng.integers(2**31)))
    yield Note(f"black box: {p.black_box}, d={p.dim}, ripple {p.ripple_amp}; {len(task.y)} "
               f"offline designs (best {p.hide_top_frac:.0%} of {p.n_offline} hidden); "
               f"surrogate {p.dim}-{p.hidden}-1 tanh, {S} init(s) per arm")

    # models [0, S) plain MSE, [S, 2S) IGNITE, paired: same init, same batches
    model = ig.tied_init(ig.init_stacked(S, p.dim, p.hidden, g), A)
    model = ig.StackedTanhMLP(*(t.to(dev) for t in model.params()))
    ratio = torch.tensor([math.inf] * S + [p.eps_ratio] * S)

    def arm_mean(v: torch.Tensor) -> list[float]:
        return [float(x) for x in v.reshape(A, S).mean(1).cpu()]

    last: dict[str, torch.Tensor] = {}
    for r in ig.train_ignite(model, X, y, ratio, epochs=p.epochs, batch=p.batch, lr=p.lr,
                             dual_lr=p.dual_lr, warmup_frac=p.warmup_frac, gen=g,
                             tie_batches=A):
        last = r
        row = {"epoch": float(r["epoch"])}
        for name in ("mse", "sharp"):
            for arm, v in zip(ARMS, arm_mean(r[name])):
                row[f"{name}_{arm}"] = v
        eps = r["eps"][S:]
        if bool(torch.isfinite(eps).all()):  # set at the end of the warm-up
            row["eps"] = float(eps.mean())
        row["lambda"] = float(r["lam"][S:].mean())
        yield Metric(int(r["epoch"]), row)
        if ctx.should_stop():
            return
    eps_end = last["eps"][S:]
    constraint = float((last["sharp"][S:] / eps_end).mean()) if bool(
        torch.isfinite(eps_end).all()) else math.nan

    # ---- gradient ascent from the best offline designs on each surrogate
    X0 = tt.to_device(dev, task.top(p.n_starts))[0]
    base = p.epochs + 1
    final: dict[str, list[float]] = {}
    Xd = X0.expand(A * S, *X0.shape)
    for t, Xd, pred in ig.gradient_ascent(model, X0, steps=p.search_steps, lr=p.search_lr,
                                          lo=task.lo, hi=task.hi):
        true = task.score(Xd.cpu().double().numpy())  # (M, n)
        guess = task.normalise(pred.cpu().double().numpy() * y_sd + y_mu)
        p100 = true.max(1).reshape(A, S).mean(1)
        p50 = np.median(true, 1).reshape(A, S).mean(1)
        gap = (guess - true).mean(1).reshape(A, S).mean(1)
        row = {"search_step": float(t)}
        for i, arm in enumerate(ARMS):
            row |= {f"p100_{arm}": float(p100[i]), f"p50_{arm}": float(p50[i]),
                    f"gap_{arm}": float(gap[i]),
                    f"pred_p50_{arm}": float(np.median(guess, 1).reshape(A, S).mean(1)[i])}
        final = {k: [row[f"{k}_{a}"] for a in ARMS] for k in ("p100", "p50", "gap")}
        yield Metric(base + t, row)
        if ctx.should_stop():
            return
    with torch.no_grad():
        sharp_ood = arm_mean(model.sharpness(Xd).mean(1))
        sharp_off = arm_mean(model.sharpness(X).mean(1))
    summary = {
        "d_p50": final["p50"][1] - final["p50"][0],
        "d_p100": final["p100"][1] - final["p100"][0],
        "constraint_ratio": constraint,
        "ood_sharp_ratio": sharp_ood[1] / sharp_ood[0],
        "gap_diff": final["gap"][0] - final["gap"][1],
        "sharp_ood_base": sharp_ood[0], "sharp_ood_ignite": sharp_ood[1],
        "sharp_offline_base": sharp_off[0], "sharp_offline_ignite": sharp_off[1],
    }
    yield Metric(base + p.search_steps + 1, summary)
    yield Table("final designs (normalised score; 1 = best offline design)", list(ARMS),
                ["p100", "p50", "optimism gap", "sharpness offline", "sharpness at designs"],
                [[final["p100"][i], final["p50"][i], final["gap"][i], sharp_off[i],
                  sharp_ood[i]] for i in range(A)])
    yield Note(f"p100 base {final['p100'][0]:.3f} IGNITE {final['p100'][1]:.3f}; p50 base "
               f"{final['p50'][0]:.3f} IGNITE {final['p50'][1]:.3f}; sharpness at the designs "
               f"base {sharp_ood[0]:.2f} IGNITE {sharp_ood[1]:.2f}")


def check(history: History, p: IgniteParams) -> Verdict:
    def last(name: str) -> float:
        return history.last(name) if name in history else math.nan

    d50, d100 = last("d_p50"), last("d_p100")
    criteria = [
        Criterion.at_least(D50, d50, MIN_D50),
        Criterion.at_least(D100, d100, MIN_D100),
        Criterion.at_most(CONSTRAINT, last("constraint_ratio"), 1.1, tier="mechanism"),
        Criterion.at_most(OOD, last("ood_sharp_ratio"), 1.0, tier="mechanism"),
        Criterion.at_least(GAP, last("gap_diff"), 0.0, tier="mechanism"),
    ]
    return Verdict.of(criteria, f"IGNITE beats the plain surrogate: p50 {d50:+.3f}, "
                      f"p100 {d100:+.3f}")


SCENARIO = Scenario(
    params=IgniteParams,
    run=run,
    check=check,
    panels=(
        Panel("true score (p50) vs search step", series=("p50_base", "p50_ignite"),
              x="search_step", xlabel="gradient-ascent step",
              ylabel="normalised score (1 = best offline)",
              labels={"p50_base": "plain MSE surrogate", "p50_ignite": "IGNITE"}),
        Panel("true score (p100) vs search step", series=("p100_base", "p100_ignite"),
              x="search_step", xlabel="gradient-ascent step",
              ylabel="normalised score (1 = best offline)"),
        Panel("sharpness ||grad_theta g|| and eps vs epoch",
              series=("sharp_base", "sharp_ignite", "eps"), x="epoch", xlabel="epoch",
              ylabel="mean sharpness on the offline data"),
        Panel("multiplier lambda vs epoch", series=("lambda",), x="epoch", xlabel="epoch",
              ylabel="lambda"),
        Panel("optimism gap (predicted - true score) vs search step",
              series=("gap_base", "gap_ignite"), x="search_step",
              xlabel="gradient-ascent step", ylabel="predicted - true"),
        Panel("training MSE (standardised y) vs epoch", series=("mse_base", "mse_ignite"),
              x="epoch", xlabel="epoch", ylabel="MSE", logy=True),
        Panel("final designs", kind="bars",
              table="final designs (normalised score; 1 = best offline design)"),
    ),
    presets={"quick": {"epochs": 100}},
    watch=("mse_base", "mse_ignite"),
    key_metric="p50_ignite",
    total_steps=total_steps,
    uses_torch=True,
    notes=__doc__ or "",
    paper_reports="On Design-Bench tasks, adding the IGNITE sharpness constraint to offline "
                  "optimisers (gradient ascent, COMs, ...) improves their normalised scores "
                  "in most task/baseline pairs, by up to 9.6%.",
    paper_rows=(
        PaperRow("IGNITE p100 - base p100", "up to +9.6% relative (most task/baseline "
                 "pairs positive)", "paper: relative %; paramlab: absolute normalised score",
                 "abstract / Tables 1-2, Design-Bench", D100),
        PaperRow("IGNITE p50 - base p50", "no number in the spec (gains are task- and "
                 "baseline-dependent)", "normalised score",
                 "Tables 1-2", D50),
    ),
    status="partly",
)
