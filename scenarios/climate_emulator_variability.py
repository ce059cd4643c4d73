"""Internal variability decides the linear-vs-deep climate emulator benchmark
(Luetjens, Ferrari, Watson-Parris & Selin 2024).

A toy ClimateBench (engines/stats/climate.py): five training emission pathways and one
held-out ssp245-like test pathway, 86 years, R = 32 regions. Forced temperature is one
warming pattern times the global temperature; forced precipitation adds to its warming
pattern a nonlinear aerosol term nl * tanh(3 (a - 0.5)) on a separate, orthogonal
pattern, which linear pattern scaling (LPS, one pattern per variable) cannot represent.
Every ensemble member adds AR(1) internal variability (rho 0.8, sigma_pr 1.0,
sigma_tas 0.15 per member and region). Training targets are the mean of M members.

Emulators, per variable and M:
    LPS  global mean regressed on (cumulative CO2, aerosol), then each region on the
         global mean (closed form, the paper's linear baseline; the contrast)
    NN   torch MLP 3 -> 64 -> 64 -> R (GELU) on (cumulative CO2, aerosol, emissions),
         full-batch Adam, lr 5e-3, weight decay 1e-4, 400 steps (the shared torch loop)
Both are scored by RMSE on the test pathway against the M-member test mean (as a
benchmark with M members would score them; `eval_target` can switch to the 3-member
mean or the noise-free forced response).

Claim check (each must hold; spec thresholds, both presets):
  1. precipitation, M = 3:  RMSE(LPS) < RMSE(NN)            (strict; ratio < 1)
  2. precipitation, M = 50: RMSE(NN) <= 0.8 RMSE(LPS)
  3. temperature: RMSE(LPS) < RMSE(NN) at M = 3 and at M = 50.
Broken variants that must fail: `eval_target=3-member` (the M = 50 models scored against
3-member targets: the noise floor sigma/sqrt(3) hides the NN's gain) and nl = 0 (no
nonlinearity: nothing for the NN to win).

Design choices, fixed on seeds 0-4 before the checks were read as pass/fail: the spec's
second calibration (nl 0.6, random aerosol pattern) passed claim 2 on only 3 of 5 seeds
here (NN/LPS 0.59-0.89 at M = 50: when the random aerosol pattern overlaps the warming
pattern, LPS absorbs part of it). The aerosol pattern is therefore made orthogonal to the
warming pattern, and nl = 0.8 (spec range 0-1.5): NN/LPS at M = 50 = 0.75/0.55/0.57/
0.47/0.50, LPS/NN at M = 3 = 0.72/0.79/0.87/0.71/0.89 (seeds 0-4). The 50-member noise
floor is sigma_pr/sqrt(50) = 0.14, so the NN (forced error ~0.08) cannot go below ~0.16.
The default preset sweeps M in {1, 3, 5, 10, 20, 50} (the crossover plot); quick runs
only M = 3 and 50, with identical numbers there (the member draws do not depend on the
sweep).

NN inits (issue 11). With one NN per (variable, M) the verdict hung on the network's init:
quick passed 20/20 on seeds 0-19 but 19/20 on seeds 20-39 (seed 22: pr M=50 NN/LPS
0.834), and on seed 22 four inits gave 0.834 / 0.752 / 0.756 / 0.777 (pr M=3 LPS/NN
0.79-0.90). A benchmark reports a deep emulator's expected skill, not one init's, so each
(variable, M) now trains `nn_inits` = 4 independently initialised NNs side by side
(engines.nn.models.StackedMLP: one batched program; summed losses and element-wise Adam
train each exactly as a separate run, tested) and the NN's RMSE is the mean of their
RMSEs (not of an ensemble prediction, which would be a different, stronger model). Init
0 is the former single network. Thresholds unchanged. Measured after the change, quick,
seeds 0-39: 40/40 PASS; pr M=3 LPS/NN 0.73-0.93, pr M=50 NN/LPS 0.42-0.79 (seed 22
0.79), tas M=3 LPS/NN 0.76-0.91, tas M=50 0.30-0.49. The claim's numbers at M = 3 and 50
are identical in the default preset (same member draws and generators), so the default
verdict equals the quick one seed by seed (default, seeds 0-19: 20/20 PASS, same values;
~15-25 s of CPU per run).
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

SWEEPS = {"claim": (3, 50), "full": (1, 3, 5, 10, 20, 50)}
MAX_MEMBERS = 50
VARIABLES = ("pr", "tas")
EVAL_EVERY = 20
INIT_STRIDE = 104729  # generator offset between the NN inits of one (M, variable)


@dataclass(frozen=True)
class ClimateParams(Params):
    sweep: str = param("full", choices=tuple(SWEEPS),
                       help="ensemble sizes M: claim = {3, 50}, full = {1,3,5,10,20,50}")
    sigma_pr: float = param(1.0, range=(0.3, 2.0), help="precipitation internal variability")
    sigma_tas: float = param(0.15, range=(0.01, 1.0), help="temperature internal variability")
    rho: float = param(0.8, range=(0.0, 0.95), help="AR(1) year-to-year correlation")
    nl: float = param(0.8, range=(0.0, 1.5), help="strength of the nonlinear aerosol term")
    regions: int = param(32, range=(4, 128), help="number of regions R")
    width: int = param(64, range=(8, 256), help="NN hidden width")
    nn_steps: int = param(400, range=(50, 3000), help="NN full-batch Adam steps")
    lr: float = param(5e-3, range=(1e-4, 1e-1), log=True, help="NN learning rate")
    weight_decay: float = param(1e-4, range=(0.0, 1e-1), help="NN weight decay (Adam, L2)")
    nn_inits: int = param(4, range=(1, 16),
                          help="independently initialised NNs per (variable, M), trained "
                               "side by side; their RMSEs are averaged")
    eval_target: str = param("matching", choices=("matching", "3-member", "forced"),
                             help="test target: M-member mean, 3-member mean, or forced")


def _target(F_te, noise_te, M: int, how: str):
    if how == "forced":
        return F_te
    m = M if how == "matching" else 3
    return F_te + noise_te[:m].mean(axis=0)


def run(p: ClimateParams, ctx: RunContext) -> Iterator[Metric | Note | Table]:
    import numpy as np
    import torch

    from paramlab.engines.nn import models
    from paramlab.engines.nn import torch_train as tt
    from paramlab.engines.stats import climate as cl

    rng = ctx.rng
    train, test = cl.pathways()
    pat = cl.Patterns.draw(rng, p.regions)
    sigma = {"pr": p.sigma_pr, "tas": p.sigma_tas}
    X_tr = np.concatenate([pw.predictors() for pw in train])
    X_te = test.predictors()
    mu, sd = X_tr.mean(axis=0), X_tr.std(axis=0)
    T = cl.T_YEARS
    world = {}
    for var in VARIABLES:  # every member drawn up front: results do not depend on the sweep
        F_tr = np.concatenate([cl.forced(pw, pat, p.nl)[var] for pw in train])
        noise_tr = np.concatenate([cl.ar1_noise(rng, MAX_MEMBERS, T, p.regions, p.rho, sigma[var])
                                   for _ in train], axis=1)
        F_te = cl.forced(test, pat, p.nl)[var]
        noise_te = cl.ar1_noise(rng, MAX_MEMBERS, T, p.regions, p.rho, sigma[var])
        world[var] = (F_tr, noise_tr, F_te, noise_te)
    yield Note(f"{len(train)} training pathways x {T} years, test {test.name}; R={p.regions}; "
               f"noise floor of a 50-member mean: pr {p.sigma_pr / 50**0.5:.3f}, "
               f"tas {p.sigma_tas / 50**0.5:.3f}")

    Xn_tr, Xn_te = tt.to_device(ctx.device, (X_tr - mu) / sd, (X_te - mu) / sd)
    Ms = SWEEPS[p.sweep]
    step = 0
    results: dict[tuple[str, int], dict[str, float]] = {}
    for M in Ms:
        for var in VARIABLES:
            F_tr, noise_tr, F_te, noise_te = world[var]
            Y = F_tr + noise_tr[:M].mean(axis=0)
            target = _target(F_te, noise_te, M, p.eval_target)
            target50 = F_te + noise_te.mean(axis=0)
            lps = cl.PatternScaling.fit(X_tr, Y).predict(X_te)

            y_mu, y_sd = float(Y.mean()), float(Y.std())
            (Yn,) = tt.to_device(ctx.device, (Y - y_mu) / y_sd)
            widths = [p.width, p.width]
            # one generator per (M, variable): a run of the full sweep and a run of only
            # M = 3 and 50 train the same networks at M = 3 and 50
            # (init k: its own generator; k = 0 is the network of a single-init run)
            nets = [models.init_normal_(
                models.MLP(3, widths, p.regions, activation="gelu"),
                [3**-0.5, p.width**-0.5, p.width**-0.5],
                generator=tt.generator(ctx.seed + 7919 * M + VARIABLES.index(var)
                                       + INIT_STRIDE * k)) for k in range(p.nn_inits)]
            model = models.StackedMLP(nets).to(ctx.device)
            opt = torch.optim.Adam(model.parameters(), lr=p.lr, weight_decay=p.weight_decay)

            def predict(m=model, mu_=y_mu, sd_=y_sd):
                """(nn_inits, T, R) test predictions, one per independently trained NN."""
                return m(Xn_te).detach().cpu().numpy().astype(np.float64) * sd_ + mu_

            def mean_rmse(preds, target_):
                return float(np.mean([cl.rmse(pred, target_) for pred in preds]))

            def loss_fn(out, y):  # sum of the NNs' own losses: each gets its own gradient
                return ((out - y) ** 2).mean(dim=(1, 2)).sum()

            logged = var == "pr" and M in (3, 50)
            lps50 = cl.rmse(lps, target50)
            for out in tt.train(model, loss_fn, Xn_tr, Yn, opt, p.nn_steps,
                                evaluate=lambda t, y50=target50: {
                                    "rmse50": mean_rmse(predict(), y50)},
                                eval_every=EVAL_EVERY, should_stop=ctx.should_stop):
                out["loss"] /= p.nn_inits
                step += 1
                if logged and "rmse50" in out:
                    yield Metric(step, {"nn_step": out["step"],
                                        f"loss_pr_M{M}": out["loss"],
                                        f"nn_rmse50_pr_M{M}": out["rmse50"],
                                        f"lps_rmse50_pr_M{M}": lps50})
            if ctx.should_stop():
                return
            nn = predict()
            results[(var, M)] = {"lps": cl.rmse(lps, target), "nn": mean_rmse(nn, target),
                                 "lps_forced": cl.rmse(lps, F_te),
                                 "nn_forced": mean_rmse(nn, F_te)}
        step += 1
        values = {"M": float(M)}
        for var in VARIABLES:
            for k, v in results[(var, M)].items():
                values[f"{var}_{k}"] = v
        yield Metric(step, values)
        r = results[("pr", M)]
        yield Note(f"M={M}: pr LPS {r['lps']:.3f} NN {r['nn']:.3f} (forced {r['lps_forced']:.3f}"
                   f" / {r['nn_forced']:.3f}); tas LPS {results[('tas', M)]['lps']:.3f} "
                   f"NN {results[('tas', M)]['nn']:.3f}")

    cols = [(var, M) for var in VARIABLES for M in (3, 50) if (var, M) in results]
    yield Table("rmse_claims", ["LPS", "NN"], [f"{v} M={M}" for v, M in cols],
                [[results[c]["lps"] for c in cols], [results[c]["nn"] for c in cols]])
    yield Table("rmse_relative", ["LPS", "NN"], [f"{v} M={M}" for v, M in cols],
                [[1.0] * len(cols), [results[c]["nn"] / results[c]["lps"] for c in cols]])


def _at_M(history: History, name: str, M: int) -> float:
    for m, v in zip(*history.paired("M", name)):
        if int(m) == M:
            return v
    return float("nan")


def check(history: History, p: ClimateParams) -> Verdict:
    r = {(var, M, k): _at_M(history, f"{var}_{k}", M)
         for var in VARIABLES for M in (3, 50) for k in ("lps", "nn", "lps_forced", "nn_forced")}

    below_one = 1.0 - 1e-12  # the claims 1 and 3 are strict inequalities
    criteria = (
        Criterion.at_most("pr M=3: RMSE LPS / NN (< 1)", ratio(r["pr", 3, "lps"],
                                                             r["pr", 3, "nn"]), below_one),
        Criterion.at_most("pr M=50: RMSE NN / LPS", ratio(r["pr", 50, "nn"],
                                                         r["pr", 50, "lps"]), 0.8),
        Criterion.at_most("tas M=3: RMSE LPS / NN (< 1)", ratio(r["tas", 3, "lps"],
                                                              r["tas", 3, "nn"]), below_one),
        Criterion.at_most("tas M=50: RMSE LPS / NN (< 1)", ratio(r["tas", 50, "lps"],
                                                               r["tas", 50, "nn"]), below_one),
        Criterion.at_most("pr NN error vs forced: M=50 / M=3", ratio(
            r["pr", 50, "nn_forced"], r["pr", 3, "nn_forced"]), 0.5, tier="mechanism"),
    )
    return Verdict.of(criteria, f"pr: LPS wins at M=3 ({r['pr', 3, 'lps']:.3f} vs "
                      f"{r['pr', 3, 'nn']:.3f}), NN wins at M=50 ({r['pr', 50, 'nn']:.3f} vs "
                      f"{r['pr', 50, 'lps']:.3f}); tas: LPS wins at both")


def _total(p: ClimateParams) -> int:
    Ms = SWEEPS[p.sweep]
    return len(Ms) * (len(VARIABLES) * p.nn_steps + 1)


SCENARIO = Scenario(
    params=ClimateParams,
    run=run,
    check=check,
    panels=(
        Panel("precipitation test RMSE vs the 50-member mean, during NN training",
              series=("nn_rmse50_pr_M3", "nn_rmse50_pr_M50", "lps_rmse50_pr_M3",
                      "lps_rmse50_pr_M50"), x="nn_step", xlabel="NN step",
              labels={"nn_rmse50_pr_M3": "NN, M=3", "nn_rmse50_pr_M50": "NN, M=50",
                      "lps_rmse50_pr_M3": "LPS, M=3", "lps_rmse50_pr_M50": "LPS, M=50"}),
        Panel("NN train loss (precipitation, standardized)", series=("loss_pr_M3", "loss_pr_M50"),
              x="nn_step", logy=True, xlabel="NN step",
              labels={"loss_pr_M3": "M=3", "loss_pr_M50": "M=50"}),
        Panel("precipitation RMSE vs ensemble size M (test target: M-member mean)",
              series=("pr_lps", "pr_nn", "pr_lps_forced", "pr_nn_forced"), x="M", logx=True,
              logy=True, xlabel="members M (log)",
              labels={"pr_lps": "LPS", "pr_nn": "NN", "pr_lps_forced": "LPS vs forced",
                      "pr_nn_forced": "NN vs forced"}),
        Panel("temperature RMSE vs ensemble size M", series=("tas_lps", "tas_nn"), x="M",
              logx=True, logy=True, xlabel="members M (log)",
              labels={"tas_lps": "LPS", "tas_nn": "NN"}),
        Panel("RMSE relative to LPS at the claim's ensemble sizes (NN < 1: NN wins)",
              kind="bars", table="rmse_relative"),
    ),
    presets={"quick": {"sweep": "claim"}},
    watch=("loss_pr_M3", "loss_pr_M50"),
    key_metric="pr_nn",
    total_steps=_total,
    uses_torch=True,
    notes=__doc__ or "",
    paper_reports="LPS outperforms the 100M-parameter ClimaX on 3 of 4 ClimateBench "
                  "variables, notably surface temperature and precipitation; with 50-member "
                  "MPI-ESM1.2-LR ensemble-mean targets LPS stays more accurate on "
                  "temperature but is outperformed by a deep learning emulator on "
                  "precipitation.",
    paper_rows=(
        PaperRow("precipitation, 3-member targets (ClimateBench): LPS vs deep emulator",
                 "LPS more accurate than ClimaX (not reported as a ratio)", "RMSE LPS / DL",
                 "abstract; Sec. 3 (ClimateBench results)", "pr M=3: RMSE LPS / NN (< 1)"),
        PaperRow("precipitation, 50-member ensemble-mean targets: deep emulator vs LPS",
                 "deep emulator (CNN-LSTM) more accurate (not reported as a ratio)",
                 "RMSE DL / LPS", "abstract; Sec. 4 (Em-MPI results)",
                 "pr M=50: RMSE NN / LPS"),
        PaperRow("temperature, 3-member targets: LPS vs deep emulator",
                 "LPS more accurate (not reported as a ratio)", "RMSE LPS / DL",
                 "abstract; Sec. 3", "tas M=3: RMSE LPS / NN (< 1)"),
        PaperRow("temperature, 50-member targets: LPS vs deep emulator",
                 "LPS stays more accurate (not reported as a ratio)", "RMSE LPS / DL",
                 "abstract; Sec. 4", "tas M=50: RMSE LPS / NN (< 1)"),
        PaperRow("deep emulator overfits internal variability with few members",
                 "not reported (error falls as members are added)", "RMSE vs forced, "
                 "M=50 / M=3", "Sec. 4 (RMSE vs number of realizations)",
                 "pr NN error vs forced: M=50 / M=3"),
    ),
    status="reproduces",
)
