"""More features, more data and (near-)interpolation are better in random-feature ridge
regression (Simon, Karkada, Ghosh & Belkin 2023, arXiv 2311.14646).

Task: a Gaussian design in an M-dimensional eigenbasis, z ~ N(0, diag(i^-alpha)), target
y = z.v + eps with v_i^2 lambda_i ~ i^-beta (unit signal variance) and noise sd sigma.
Model: linear Gaussian random features phi(z) = F z / sqrt(N) (F iid N(0, 1); nested, so the
N-feature model uses the first N rows of one F), fitted by ridge regression

    min_w (1/n) ||Phi w - y||^2 + lambda ||w||^2       (lambda per sample: the paper's
                                                        ridge delta = n lambda, K + delta I)

for every lambda on a log grid at once (one SVD of Phi per N, engines.linalg.linear.RidgePath).
The test risk is exact: sum_i lambda_i (b_i - v_i)^2 + sigma^2 with b = F^T w / sqrt(N).
For N = 16, 32, ..., N_max each step reports the optimal (tuned-ridge) test risk, the
optimal lambda, and the fitting ratio R_train / R_test at that lambda, for

    the power-law task  (alpha, beta, sigma) = (1.5, 1.5, 0)  -> overfitting obligatory
    a contrast task     (2, 3, 0.5): fast-decaying target + strong noise -> needs a ridge.

Then the tuned risk against the sample size n' = n/8 .. n (nested subsamples, N = N_max),
and risk-vs-lambda curves for a few N. The N -> infinity limit (ridge regression on z, the
RF kernel's limit) is drawn as a reference line.

Claim check (thresholds from the spec, fixed before running):
  1. tuned risk non-increasing in N, for both tasks (1 % tolerance per step);
  2. power-law task: risk*(N_max) <= 0.5 x risk*(N=16);
  3. power-law task at N_max: fitting ratio <= 0.15 and optimal lambda <= 1e-3;
  4. contrast task at N_max: fitting ratio >= 0.5 (so the check separates the regimes);
  5. (added from the claim "and in n") tuned risk non-increasing in n, 1 % tolerance.
The quick preset (M=500, N_max=512) keeps the same thresholds.

Ridge units. The spec gives "optimal ridge <= 1e-3" and a grid [1e-8, 10] without a
normalization. The grid is laid out in per-sample lambda (the regularization competes
with the per-sample loss, so one grid means the same thing across n in [64, 1024]), but
criterion 3 is measured in the paper's own units, K + delta I with delta = n lambda. A
first version measured it in lambda units, chosen after a run in delta units had failed
it; the lead reverted that, because a unit picked after seeing a failure is a retuned
threshold. Measured: delta* at N=2048 = 8e-3..1.4e-2 (seeds 0-2), so criterion 3 FAILS
and with it the default verdict; in lambda units the optimum is 3e-5..6e-5. The risk
curve is flat below the optimum on this task (ridgeless risk within 0.8-1.2 % of the
tuned risk at N=2048), so the argmin itself is noisy; what is robust, and what the
paper's claim is about, is that ridge ~ 0 is near-optimal and that the fitting ratio at
the optimum is ~0.01 (criteria 2-3 pass on every seed we ran). Read the FAIL as "the
spec's fixed ridge threshold is not met in the paper's units", not as "more is worse".

Measured, default (M=1000, n=256, N=16..2048, seeds 0 / 1 / 2): tuned risk
0.358 -> 0.057, 0.395 -> 0.060, 0.320 -> 0.053 (ratio 0.15-0.16, monotone in N and n);
fitting ratio at N=2048 0.013 / 0.009 / 0.006, optimal lambda 5.6e-5 / 5.6e-5 / 3.2e-5;
contrast: tuned risk plateaus at 0.26 (largest rise +0.4 %), fitting ratio
0.93 / 1.05 / 0.67, ridgeless risk 0.64 / 0.62 / 0.51 vs tuned 0.26 (x2.0-2.5). Seeds 3-9
also pass. The spec's calibration reported larger risks (0.75 -> 0.21) from a prototype
whose normalization we could not recover; the claim-level picture is the same.

Quick (M=500, N_max=512), seeds 0 / 1 / 2: fitting ratio at N=512 0.126 / 0.026 / 0.064
(closer to 0.15: at N = 2n finite width still rewards a ridge, and the mechanism check
"ridgeless / tuned <= 1.1" fails there, 1.12-1.44); contrast fitting ratio 0.85-0.91. On
seeds 3-9 the quick check fails once (seed 6: the contrast task's tuned risk rises 1.1 %
from N=32 to N=64, a single-draw fluctuation on its plateau, present with a 100-point
ridge grid too; the default preset passes on seed 6).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from .base import Criterion, Metric, Note, Panel, Params, RunContext, Scenario, Verdict, param
from .history import History
from .measure import ratio

N_MIN = 16


def _n_grid(N_max: int) -> list[int]:
    grid = [N_MIN * 2**k for k in range(20) if N_MIN * 2**k <= N_max]
    return grid if grid[-1] == N_max else [*grid, N_max]


def _sample_grid(n: int) -> list[int]:
    return [n // 8, n // 4, n // 2, n]


@dataclass(frozen=True)
class MoreIsBetterParams(Params):
    n: int = param(256, range=(64, 1024), help="number of training samples")
    M: int = param(1000, range=(100, 4000), help="dimension of the task's eigenbasis")
    alpha: float = param(1.5, range=(1.1, 3.0), help="covariance decay lambda_i = i^-alpha")
    beta: float = param(1.5, range=(1.0, 4.0), help="target power decay v_i^2 lambda_i ~ i^-beta")
    sigma: float = param(0.0, range=(0.0, 1.0), help="label-noise standard deviation")
    N_max: int = param(2048, range=(32, 8192), log=True,
                       help="largest #features (grid 16, 32, ..., N_max)")
    n_ridges: int = param(37, range=(10, 100), help="number of ridge values on the log grid")
    ridge_min: float = param(1e-8, range=(1e-12, 1.0), log=True,
                             help="smallest per-sample ridge lambda")
    ridge_max: float = param(10.0, range=(1e-10, 100.0), log=True,
                             help="largest per-sample ridge lambda")
    contrast_alpha: float = param(2.0, range=(1.1, 3.0), help="contrast task: alpha")
    contrast_beta: float = param(3.0, range=(1.0, 4.0), help="contrast task: beta")
    contrast_sigma: float = param(0.5, range=(0.0, 1.0), help="contrast task: noise sd")

    def check_consistency(self) -> list[str]:
        if self.ridge_min > self.ridge_max:
            return [f"ridge_min: must be <= ridge_max ({self.ridge_max:g}), "
                    f"got {self.ridge_min:g}"]
        return []


def _best(risk, train, lams) -> dict[str, float]:
    k = int(risk.argmin())
    return {"risk_opt": float(risk[k]), "train_at_opt": float(train[k]),
            "ridge_opt": float(lams[k]), "fit_ratio": float(train[k] / risk[k]),
            "risk_ridgeless": float(risk[0])}


def run(p: MoreIsBetterParams, ctx: RunContext) -> Iterator[Metric | Note]:
    import numpy as np

    from paramlab.engines.linalg import random_features as rf

    rng = ctx.rng
    lams = np.logspace(math.log10(p.ridge_min), math.log10(p.ridge_max), p.n_ridges)
    Ns = _n_grid(p.N_max)
    tasks = {"": rf.EigenTask.power_law(p.M, p.alpha, p.beta, p.sigma),
             "c_": rf.EigenTask.power_law(p.M, p.contrast_alpha, p.contrast_beta,
                                          p.contrast_sigma)}
    data = {key: task.sample(rng, p.n) for key, task in tasks.items()}
    F = rf.gaussian_projection(rng, p.N_max, p.M)
    yield Note(f"power-law task alpha={p.alpha:g} beta={p.beta:g} sigma={p.sigma:g}; "
               f"contrast alpha={p.contrast_alpha:g} beta={p.contrast_beta:g} "
               f"sigma={p.contrast_sigma:g}; n={p.n}, M={p.M}, N={Ns[0]}..{Ns[-1]}, "
               f"{p.n_ridges} ridges (per-sample lambda)")

    kernel_risk = {}
    for key, task in tasks.items():
        Z, y = data[key]
        risk, _ = rf.kernel_limit_ridge_risks(task, Z, y, p.n * lams)
        kernel_risk[key] = float(risk.min())

    shown = sorted({Ns[0], min(Ns, key=lambda N: abs(N - p.n)), Ns[-1]})
    curves: dict[str, np.ndarray] = {}
    for i, N in enumerate(Ns):
        if ctx.should_stop():
            return
        values: dict[str, float] = {"N": float(N)}
        for key, task in tasks.items():
            Z, y = data[key]
            risk, train = rf.linear_rf_ridge_risks(task, Z, y, F[:N], p.n * lams)
            values.update({key + k: v for k, v in _best(risk, train, lams).items()})
            values[key + "risk_kernel"] = kernel_risk[key]
            if N in shown and (key == "" or N == Ns[-1]):
                curves[f"{key}risk_N{N}"] = risk
        yield Metric(i, values)

    step = len(Ns)
    Z, y = data[""]
    for n_sub in _sample_grid(p.n):
        if ctx.should_stop():
            return
        risk, _ = rf.linear_rf_ridge_risks(tasks[""], Z[:n_sub], y[:n_sub], F, n_sub * lams)
        yield Metric(step, {"n": float(n_sub), "risk_opt_n": float(risk.min())})
        step += 1

    for j, lam in enumerate(lams):
        yield Metric(step + j, {"ridge": float(lam),
                                **{k: float(v[j]) for k, v in curves.items()}})


def _sorted_pairs(history: History, x: str, y: str) -> list[tuple[float, float]]:
    return sorted(zip(*history.paired(x, y)))


def _max_rise(pairs: list[tuple[float, float]]) -> float:
    """Largest relative increase between consecutive points (<= 0: non-increasing)."""
    ys = [v for _, v in pairs]
    if len(ys) < 2:
        return math.nan
    return max(b / a - 1.0 if a > 0 else math.inf for a, b in zip(ys, ys[1:]))


def check(history: History, p: MoreIsBetterParams) -> Verdict:
    nan = math.nan
    main = _sorted_pairs(history, "N", "risk_opt")
    contrast = _sorted_pairs(history, "N", "c_risk_opt")
    by_n = _sorted_pairs(history, "n", "risk_opt_n")
    N_top = max((N for N, _ in main), default=nan)

    def at_top(name: str) -> float:
        return dict(_sorted_pairs(history, "N", name)).get(N_top, nan)

    first = dict(main).get(float(N_MIN), nan)
    shrink = ratio(at_top("risk_opt"), first)
    ridgeless_gap = ratio(at_top("risk_ridgeless"), at_top("risk_opt"))
    c_ridgeless_gap = ratio(at_top("c_risk_ridgeless"), at_top("c_risk_opt"))
    top = f"N={N_top:g}"
    criteria = (
        Criterion.at_most("power-law task: max rise of tuned risk between N steps",
                          _max_rise(main), 0.01),
        Criterion.at_most("contrast task: max rise of tuned risk between N steps",
                          _max_rise(contrast), 0.01),
        Criterion.at_most(f"power-law task: risk*({top}) / risk*(N={N_MIN})", shrink, 0.5),
        Criterion.at_most(f"power-law task: fitting ratio at optimum, {top}",
                          at_top("fit_ratio"), 0.15),
        # the paper's units: K + delta I with delta = n * lambda (see "Ridge units")
        Criterion.at_most(f"power-law task: optimal ridge delta = n*lambda, {top}",
                          p.n * at_top("ridge_opt"), 1e-3),
        Criterion.at_least(f"contrast task: fitting ratio at optimum, {top}",
                           at_top("c_fit_ratio"), 0.5),
        Criterion.at_most("power-law task: max rise of tuned risk between n steps",
                          _max_rise(by_n), 0.01),
        Criterion.at_most(f"power-law task: ridgeless / tuned risk, {top}",
                          ridgeless_gap, 1.1, tier="mechanism"),
        Criterion.at_least(f"contrast task: ridgeless / tuned risk, {top}",
                           c_ridgeless_gap, 1.5, tier="mechanism"),
        Criterion.at_least(f"power-law task: risk*({top}) / risk*(N=inf)",
                           ratio(at_top("risk_opt"), at_top("risk_kernel")), 0.99,
                           tier="mechanism"),
    )
    return Verdict.of(criteria, f"tuned risk falls {first:.3g} -> {at_top('risk_opt'):.3g} over "
                      f"N; fitting ratio at the optimum {at_top('fit_ratio'):.3g} (power law) "
                      f"vs {at_top('c_fit_ratio'):.3g} (contrast)")


_LABELS = {"risk_opt": "power law", "c_risk_opt": "contrast",
           "risk_kernel": "power law, N=inf", "c_risk_kernel": "contrast, N=inf",
           "fit_ratio": "power law", "c_fit_ratio": "contrast",
           "ridge_opt": "power law", "c_ridge_opt": "contrast",
           "risk_opt_n": "power law"}


# legend labels of the risk-vs-ridge curves (an N_max off the doubling grid shows its name)
_LABELS.update({f"{pre}risk_N{N_MIN * 2**k}": f"{task} N={N_MIN * 2**k}"
                for k in range(10) for pre, task in (("", "power law"), ("c_", "contrast"))})


SCENARIO = Scenario(
    params=MoreIsBetterParams,
    run=run,
    check=check,
    panels=(
        Panel("tuned test risk vs #features N", x="N", logx=True, logy=True,
              series=("risk_opt", "c_risk_opt", "risk_kernel", "c_risk_kernel"),
              xlabel="#features N (log)", labels=_LABELS),
        Panel("fitting ratio R_train / R_test at the optimal ridge", x="N", logx=True,
              logy=True, series=("fit_ratio", "c_fit_ratio"), xlabel="#features N (log)",
              labels=_LABELS),
        Panel("optimal ridge lambda vs N", x="N", logx=True, logy=True,
              series=("ridge_opt", "c_ridge_opt"), xlabel="#features N (log)",
              labels=_LABELS),
        Panel("test risk vs ridge lambda", x="ridge", logx=True, logy=True,
              series=("risk_N*", "c_risk_N*"), xlabel="per-sample ridge lambda (log)",
              labels=_LABELS),
        Panel("tuned test risk vs #samples n (N = N_max)", x="n", logx=True, logy=True,
              series=("risk_opt_n",), xlabel="#samples n (log)", labels=_LABELS),
    ),
    presets={"quick": {"M": 500, "N_max": 512}},
    watch=("risk_opt", "c_risk_opt"),
    key_metric="risk_opt",
    # steps count from 0: the last one is the number of metric rows minus one
    total_steps=lambda p: len(_n_grid(p.N_max)) + len(_sample_grid(p.n)) + p.n_ridges - 1,
    notes=__doc__ or "",
    paper_reports="Test risk of RF regression decreases monotonically with both the number "
                  "of features and the number of samples when the ridge is tuned; for "
                  "powerlaw tasks near-optimal performance is only reached when the training "
                  "error is much smaller than the test error; CNTK tasks on standard vision "
                  "data fall in that class.",
    status="partly",
)
