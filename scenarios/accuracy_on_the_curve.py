"""Accuracy on the curve (Liang, Mao, Kwon, Yang, Zou, ICML 2023, arXiv 2305.02995).

NOTES_PLACEHOLDER
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

CONVEX = "quadratic coefficient c2 at rho {} (convex moon)"
GAIN = "R2_quad - R2_lin at rho 0.9 (nonlinearity)"
RATIO = "range(minority acc) / range(majority acc) at rho {} (disproportion)"
TOGETHER = "mean |minority - majority| over the zoo at rho 0.5 (control arm: move together)"
FIT_TABLE = "fits over the zoo, per rho"


def _rhos(text: str) -> list[float]:
    return sorted({float(v) for v in text.replace(" ", "").split(",") if v})


def _tag(rho: float) -> str:
    return f"{rho:g}".replace("0.", "")


@dataclass(frozen=True)
class AccuracyOnTheCurveParams(Params):
    rho_list: str = param("0.5,0.7,0.9,0.97",
                          help="training spurious correlations P(a = y), comma-separated in "
                               "[0.5, 0.995]; must include 0.5 (control arm) and 0.9")
    core_mu: float = param(0.4, range=(0.05, 2.0), help="core feature: y * core_mu + noise")
    core_noise: float = param(0.25, range=(0.01, 2.0), help="std of the core feature's noise")
    spur_mu: float = param(1.5, range=(0.5, 3.0), help="spurious feature: a * spur_mu + N(0, 1)")
    n_noise_dims: int = param(20, range=(0, 200), help="pure-noise input dimensions")
    n_train: int = param(1000, range=(200, 10000), log=True, help="training examples per rho")
    n_test: int = param(20000, range=(2000, 100000), log=True,
                        help="group-balanced test examples (rho_test = 0.5)")
    n_repeats: int = param(3, range=(1, 10),
                           help="independent training sets per rho; each gives a zoo, the fit "
                                "statistics are averaged over them")
    n_lambdas: int = param(10, range=(2, 30), help="L2 strengths in logspace(-4, 0)")
    lr: float = param(0.5, range=(0.01, 2.0), log=True, help="full-batch GD learning rate")
    max_epoch: int = param(400, range=(10, 5000), log=True, help="last checkpoint epoch")
    n_checkpoints: int = param(16, range=(2, 40), help="log-spaced checkpoint epochs")
    axis: str = param("raw", choices=("raw", "probit"),
                      help="axis of the live scatter (the fits are always on raw accuracy)")
    group_reweight: bool = param(False, help="group-balanced loss weights (the broken variant: "
                                             "the moon flattens)")

    def check_consistency(self) -> list[str]:
        try:
            r = _rhos(self.rho_list)
        except ValueError:
            r = []
        if not r or any(not 0.5 <= v <= 0.995 for v in r) or 0.5 not in r or 0.9 not in r:
            return [f"rho_list: expected values in [0.5, 0.995] including 0.5 and 0.9, got "
                    f"{self.rho_list!r}"]
        return []


def _epochs(p: AccuracyOnTheCurveParams) -> list[int]:
    from paramlab.engines.stats.subpop_curve import checkpoints

    return checkpoints(p.max_epoch, p.n_checkpoints)


def total_steps(p: AccuracyOnTheCurveParams) -> int:
    n_rho = len(_rhos(p.rho_list))
    return n_rho * (p.n_repeats * len(_epochs(p)) * p.n_lambdas + 1) - 1


def run(p: AccuracyOnTheCurveParams, ctx: RunContext) -> Iterator[Metric | Note | Table]:
    import numpy as np

    from paramlab.engines.stats import subpop_curve as sc

    rng = ctx.rng
    lambdas = np.logspace(-4, 0, p.n_lambdas)
    epochs = _epochs(p)
    rhos = _rhos(p.rho_list)
    yield Note(f"synthetic Waterbirds: core {p.core_mu}*y + {p.core_noise}*N, spurious "
               f"{p.spur_mu}*a + N, {p.n_noise_dims} noise dims; n_train {p.n_train}; zoo "
               f"{p.n_lambdas} lambdas x {len(epochs)} checkpoints (<= epoch {p.max_epoch})"
               + ("; group-balanced loss weights" if p.group_reweight else ""))
    step = 0
    fits = {}
    for rho in rhos:
        tag = _tag(rho)
        reps, lows = [], []
        for _ in range(p.n_repeats):
            train = sc.sample(rng, p.n_train, rho, p.core_mu, p.core_noise, p.spur_mu,
                              p.n_noise_dims)
            test = sc.sample(rng, p.n_test, 0.5, p.core_mu, p.core_noise, p.spur_mu,
                             p.n_noise_dims)
            w = sc.balanced_weights(train) if p.group_reweight else None
            maj_all, min_all = [], []
            for epoch, W, b in sc.train_zoo(train, lambdas, epochs, p.lr, w):
                maj, mino = sc.group_accuracy(W, b, test)
                maj_all.append(maj)
                min_all.append(mino)
                px, py = ((sc.probit(maj), sc.probit(mino)) if p.axis == "probit"
                          else (maj, mino))
                for k in range(p.n_lambdas):
                    yield Metric(step, {"majority_acc": float(px[k]),
                                        f"minority_r{tag}": float(py[k]),
                                        "epoch": float(epoch),
                                        "log10_lambda": math.log10(lambdas[k])})
                    step += 1
                if ctx.should_stop():
                    return
            M, m = np.concatenate(maj_all), np.concatenate(min_all)
            reps.append((sc.fit_curve(M, m), float(np.abs(m - M).mean())))
            lows.append((M.min(), M.max(), m.min(), m.max()))
        avg = {k: float(np.mean([getattr(f, k) for f, _ in reps]))
               for k in ("r2_lin", "r2_quad", "c2", "range_ratio", "r2_probit", "spearman")}
        avg["r2_gain"] = avg["r2_quad"] - avg["r2_lin"]
        avg["mean_gap"] = float(np.mean([g for _, g in reps]))
        fits[rho] = avg
        yield Metric(step, {"rho": rho, **avg})
        step += 1
        lo = np.array(lows)
        yield Note(f"rho {rho:g} (mean of {p.n_repeats} zoos): majority "
                   f"[{lo[:, 0].mean():.3f}, {lo[:, 1].mean():.3f}], minority "
                   f"[{lo[:, 2].mean():.3f}, {lo[:, 3].mean():.3f}]; R2 lin "
                   f"{avg['r2_lin']:.3f} quad {avg['r2_quad']:.3f} (gain {avg['r2_gain']:+.3f}), "
                   f"c2 {avg['c2']:+.4f}, range ratio {avg['range_ratio']:.2f}, mean gap "
                   f"{avg['mean_gap']:.3f}, probit-linear R2 {avg['r2_probit']:.3f}")
    cols = ["R2 lin", "R2 quad", "R2 gain", "c2", "range ratio", "mean gap", "R2 probit-lin"]
    keys = ["r2_lin", "r2_quad", "r2_gain", "c2", "range_ratio", "mean_gap", "r2_probit"]
    yield Table(FIT_TABLE, [f"rho {r:g}" for r in rhos], cols,
                [[a[k] for k in keys] for a in fits.values()])


def _at_rho(history: History, name: str, rho: float) -> float:
    for r, v in zip(*history.paired("rho", name)):
        if abs(r - rho) < 1e-9:
            return v
    return math.nan


def check(history: History, p: AccuracyOnTheCurveParams) -> Verdict:
    rhos = _rhos(p.rho_list)
    high = [r for r in rhos if r >= 0.9]
    criteria = [Criterion.at_least(CONVEX.format(f"{r:g}"), _at_rho(history, "c2", r), 1e-3)
                for r in high]
    gain = _at_rho(history, "r2_gain", 0.9)
    criteria.append(Criterion.at_least(GAIN, gain, 0.08))
    criteria += [Criterion.at_least(RATIO.format(f"{r:g}"), _at_rho(history, "range_ratio", r),
                                    5.0) for r in high]
    criteria.append(Criterion.at_most(TOGETHER, _at_rho(history, "mean_gap", 0.5), 0.15))
    criteria.append(Criterion.at_least("Spearman(majority, minority) at rho 0.9",
                                       _at_rho(history, "spearman", 0.9), 0.5, tier="mechanism"))
    ratio = _at_rho(history, "range_ratio", 0.9)
    return Verdict.of(criteria, f"rho 0.9: a moon, R2 {_at_rho(history, 'r2_lin', 0.9):.2f} "
                      f"linear -> {_at_rho(history, 'r2_quad', 0.9):.2f} quadratic, minority "
                      f"range {ratio:.1f}x the majority's; rho 0.5: the groups move together")


SCENARIO = Scenario(
    params=AccuracyOnTheCurveParams,
    run=run,
    check=check,
    panels=(
        Panel("minority vs majority accuracy over the zoo (colour: rho)",
              series=("minority_r*",), x="majority_acc", xlabel="majority-group accuracy",
              ylabel="minority-group accuracy"),
        Panel("R2 of the linear and quadratic fits vs rho", series=("r2_lin", "r2_quad",
                                                                     "r2_probit"),
              x="rho", xlabel="training spurious correlation rho", ylabel="R2"),
        Panel("disproportion: range(minority) / range(majority) vs rho",
              series=("range_ratio",), x="rho", xlabel="rho", ylabel="range ratio"),
        Panel("fits over the zoo", kind="bars", table=FIT_TABLE),
    ),
    presets={"quick": {"rho_list": "0.5,0.9", "n_lambdas": 6, "max_epoch": 150,
                       "n_checkpoints": 10}},
    watch=("majority_acc",),
    key_metric="majority_acc",
    total_steps=total_steps,
    notes=__doc__ or "",
    paper_reports="Across hundreds of models (architectures, hyper-parameters, epochs) on "
                  "Waterbirds, CelebA, MetaShift and others, minority-group accuracy plotted "
                  "against majority-group accuracy forms a 'moon': it stays low while majority "
                  "accuracy climbs and then rises steeply near the top, so a linear fit (the "
                  "'accuracy on the line') fails; the curve is more nonlinear under stronger "
                  "spurious correlation and linear without it (Figs. 1-3).",
    paper_rows=(
        PaperRow("shape of minority vs majority accuracy", "convex moon (no coefficient "
                 "reported)", "", "Figs. 1-2", CONVEX.format("0.9")),
        PaperRow("R2 gain of a quadratic over a linear fit", "not reported (linear fit is poor "
                 "under spurious correlation)", "R2", "Sec. 4, Figs. 2-3", GAIN),
        PaperRow("range ratio minority / majority", "not reported", "", "Figs. 1-2 (visual)",
                 RATIO.format("0.9")),
        PaperRow("no spurious correlation: groups on one line", "linear (no number)", "",
                 "Sec. 5, Fig. 5", TOGETHER),
    ),
    status="partly",
)
