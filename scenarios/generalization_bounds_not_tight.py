"""No (S, h)-generalization bound is uniformly tight when parameters outnumber samples
(Gastpar, Nachum, Shafer & Weinberger, ICLR 2024).

Construction (exact, no training curves): linear classifiers on x ~ N(0, I_d) with labels
from a random unit teacher w*. The learner h = A(S) is the hard-margin linear SVM (solved
exactly, via non-negative least squares) or the minimum-norm interpolator. Any teacher w
that is *consistent* with S (y_i w . x_i >= 0 for all i) gives S the same likelihood as
w*, so the populations D_w and D_w* are indistinguishable from (S, h) and every bound
computed from (S, h) returns the same number for both. But h's population error is
angle(h, w)/pi under D_w. Hence some population has slack at least Delta/2, with

    Delta = (max - min over consistent w of angle(h, w)) / pi.

Delta is found by SLSQP at every d/n, from feasible starts: w*, h (when consistent) and
`restarts` random feasible starts (a random direction moved toward w* until consistent);
it is a lower bound on the true maximum. When d > n the constraints leave a null-space
direction u orthogonal to h, and w = u + eps w* is consistent: Delta -> 0.5 in closed
form. That closed form is no longer the measurement (issue 11: "Delta >= 0.45 for d > n
held by construction"); it is the optimiser's reference there, a mechanism criterion.
For the hard-margin SVM Delta can never exceed 0.5: h is a
non-negative combination of the y_i x_i, so h . w >= 0 for every consistent w (the spec's
prototype measured 0.504-0.544 at d = n, which an exact SVM cannot give; we measure
0.500). The sweep runs over d/n in {0.01, ..., 8}: with n = n (default 40) where
d = ratio * n >= d_under, and with d = d_under (10), n = d_under / ratio below that
(so d/n = 0.01 is n = 1000 samples in 10 dimensions).

Claim check (spec thresholds, fixed in advance): Delta >= 0.45 at every d/n >= 1 (minimum
slack >= 0.22), Delta <= 0.06 at every d/n <= 0.02 (there uniform tightness is not ruled
out), and every adversarial teacher is consistent: min_i y_i w . x_i >= 0. The quick preset
drops d/n = 0.25 and 4 (and the thresholds are unchanged); both presets take well under
a second of CPU.
Re-calibration (issue 11, 2026-12). The old extra starts were LP vertices of the cone
"far from h"; on seeds 0-2 all of them converged to one vertex (12/12 identical), so
`restarts` had no effect, while random starts found Delta up to 3.8x larger at d/n = 0.01
(seed 1: 0.005 -> 0.019). Random starts replace them; default 3 -> 10 (range 1-10 ->
0-50). Measured on seeds 0-19 (default sizes, SVM): max Delta at d/n = 0.01 is 0.019 and
at 0.02 is 0.033 with 10 random starts, and the same with 30 (saturated), so the 0.06
threshold is tested against the optimiser's best, not against one vertex. At d >= n the
optimiser reaches 0.500 from every start (seeds 0-2; matches the closed form).
Measured on seeds 0-19: before 20/20 (quick) and 20/20 (default), with Delta = 0.5 at d > n
set by the closed form; after 20/20 and 20/20 with Delta from the optimiser: min Delta
over d/n >= 1 is 0.500 on every seed, its distance to the closed form <= 2.2e-7, and max
Delta over d/n <= 0.02 is 0.015-0.040 (threshold 0.06).
Broken variants that fail: adversary=unconstrained (w = -h, not consistent with S, so
distinguishable: Delta = 1 and the consistency check fails) and adversary=benign (only w*
is tried: Delta = h's true error, 0.2-0.4 in the over-parameterized regime, which would
wrongly suggest a tight bound is possible).
The margin bound R^2 |h|^2 / (gamma^2 n) is shown for comparison: vacuous (> 1) everywhere.
"""

from __future__ import annotations

import math
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
    Verdict,
    param,
)
from .history import History
from .measure import maximum, minimum

DEFAULT_RATIOS = "0.01,0.02,0.1,0.25,0.5,1,2,4,8"


def parse_ratios(text: str) -> list[float]:
    return sorted({float(t) for t in text.split(",") if t.strip()})


@dataclass(frozen=True)
class BoundsParams(Params):
    n: int = param(40, range=(10, 200), help="samples in the over-parameterized sweep")
    d_under: int = param(10, range=(2, 50),
                         help="dimension used where ratio * n < d_under (n = d_under / ratio)")
    ratios: str = param(DEFAULT_RATIOS, help="comma-separated d/n values (0.005..16)")
    teacher: str = param("isotropic", choices=("isotropic", "sparse"),
                         help="teacher w*: uniform on the sphere, or 5-sparse")
    learner: str = param("svm", choices=("svm", "minnorm"),
                         help="hard-margin linear SVM, or the minimum-norm interpolator X^+ y")
    adversary: str = param("consistent", choices=("consistent", "unconstrained", "benign"),
                           help="teachers searched: consistent with S (the argument), any "
                                "(broken), or only w* (broken)")
    restarts: int = param(10, range=(0, 50),
                          help="random feasible SLSQP starts per point (besides w* and h)")

    def check_consistency(self) -> list[str]:
        try:
            rs = parse_ratios(self.ratios)
        except ValueError:
            return [f"ratios: expected comma-separated numbers, got {self.ratios!r}"]
        if not rs or any(not 0.005 <= r <= 16 for r in rs):
            return [f"ratios: each value must be in [0.005, 16], got {self.ratios!r}"]
        if any(self.d_under / r > 4000 for r in rs if r * self.n < self.d_under):
            return ["ratios: d_under / ratio must stay <= 4000 samples"]
        return []


def sizes(p: BoundsParams, ratio: float) -> tuple[int, int]:
    """(n, d) of one sweep point."""
    if ratio * p.n >= p.d_under:
        return p.n, max(1, round(ratio * p.n))
    return max(2, round(p.d_under / ratio)), p.d_under


def run(p: BoundsParams, ctx: RunContext) -> Iterator[Metric | Note]:
    import numpy as np

    from paramlab.engines.stats import halfspaces as hs

    rng = ctx.rng
    for i, ratio in enumerate(parse_ratios(p.ratios)):
        n, d = sizes(p, ratio)
        X = hs.gaussian_sample(rng, n, d)
        w_star = hs.teacher(rng, d, p.teacher)
        y = hs.labels(X, w_star)
        h = hs.hard_margin_svm(X, y) if p.learner == "svm" else hs.min_norm_least_squares(X, y)
        A = y[:, None] * X
        extra = {}
        if p.adversary == "consistent":
            rngs = hs.consistent_angle_range(X, y, h, w_star, rng, p.restarts)
            delta, w_adv, method = rngs.delta, rngs.w_max, rngs.method
            w_cf = hs.closed_form_max_angle(A, h, w_star / np.linalg.norm(w_star))
            if w_cf is not None:
                extra["delta_closed_form"] = (hs.angle(h, w_cf) - rngs.theta_min) / np.pi
        elif p.adversary == "unconstrained":
            w_adv, method = -h / np.linalg.norm(h), "w = -h"
            delta = hs.angle(h, w_adv) / np.pi
        else:
            w_adv, method = w_star, "w = w*"
            delta = hs.population_error(h, w_star)
        values = {
            "d_over_n": d / n, "n": float(n), "d": float(d),
            "delta": float(delta), "min_slack": float(delta) / 2,
            "true_error": hs.population_error(h, w_star),
            "adv_error": hs.population_error(h, w_adv),
            "train_error": float(np.mean(np.sign(X @ h) != y)),
            "adv_min_margin": float(np.min(hs.normalized_margins(A, w_adv))),
            "vc_sqrt_d_over_n": math.sqrt(d / n),
            **extra,
        }
        mb = hs.margin_bound(X, y, h)
        if math.isfinite(mb):
            values["margin_bound"] = mb
        yield Metric(i, values)
        yield Note(f"d/n={d / n:g} (n={n}, d={d}): Delta={delta:.3f} [{method}], h error "
                   f"under w* {values['true_error']:.3f}, under adversary "
                   f"{values['adv_error']:.3f}")
        if ctx.should_stop():
            return


def check(history: History, p: BoundsParams) -> Verdict:
    ratio_x, deltas = history.paired("d_over_n", "delta")
    over = [dl for r, dl in zip(ratio_x, deltas) if r >= 1 - 1e-9]
    under = [dl for r, dl in zip(ratio_x, deltas) if r <= 0.02 + 1e-9]
    margins = history.series("adv_min_margin")[1]
    cf_x, cf = history.paired("d_over_n", "delta_closed_form") if (
        "delta_closed_form" in history) else ([], [])
    opt_at = dict(zip(ratio_x, deltas))
    cf_gap = maximum([abs(opt_at.get(r, math.nan) - c) for r, c in zip(cf_x, cf)])
    criteria = (
        Criterion.at_least("min Delta over d/n >= 1", minimum(over), 0.45),
        Criterion.at_most("max Delta over d/n <= 0.02", maximum(under), 0.06),
        Criterion.at_least("min_i y_i w.x_i / |x_i| of adversarial teachers",
                           minimum(margins), 0.0),
        Criterion.at_most("max train error of h", maximum(history.series("train_error")[1]),
                          0.0, tier="mechanism"),
        Criterion.at_most("max |Delta optimiser - Delta closed form| where d > n",
                          cf_gap, 0.01, tier="mechanism"),
    )
    return Verdict.of(criteria, f"over-parameterized Delta >= {minimum(over):.3f} (slack >= "
                      f"{minimum(over) / 2:.3f}); at d/n <= 0.02 Delta <= {maximum(under):.3f}")


SCENARIO = Scenario(
    params=BoundsParams,
    run=run,
    check=check,
    panels=(
        Panel("Delta = spread of h's error over indistinguishable teachers", x="d_over_n",
              logx=True, series=("delta", "delta_closed_form", "min_slack", "true_error"),
              xlabel="d/n (log); over-parameterized at d/n >= 1",
              labels={"delta": "Delta (optimiser)",
                      "delta_closed_form": "Delta (closed form, d > n)",
                      "min_slack": "min slack Delta/2",
                      "true_error": "h error under w*"}),
        Panel("classical bound values (vacuous above 1)", x="d_over_n", logx=True, logy=True,
              series=("margin_bound", "vc_sqrt_d_over_n"), xlabel="d/n (log)",
              labels={"margin_bound": "margin bound R^2|h|^2/(g^2 n)",
                      "vc_sqrt_d_over_n": "sqrt(d/n)"}),
    ),
    presets={"quick": {"ratios": "0.01,0.02,0.1,0.5,1,2,8"}},
    key_metric="delta",
    total_steps=lambda p: len(parse_ratios(p.ratios)) - 1,
    notes=__doc__ or "",
    paper_reports="A theorem, no experiments: no bound that depends only on (S, h) can be "
                  "uniformly tight in the over-parameterized setting; for algorithm-dependent "
                  "bounds, a trade-off between the algorithm's accuracy and the bound's "
                  "tightness.",
    paper_rows=(
        PaperRow("spread of h's error over indistinguishable populations, d > n",
                 "not reported", "Delta (error units)", "main theorem (over-parameterized)",
                 "min Delta over d/n >= 1"),
        PaperRow("the same spread when samples far outnumber parameters", "not reported",
                 "Delta (error units)", "discussion (tightness not ruled out)",
                 "max Delta over d/n <= 0.02"),
    ),
    status="reproduces",
)
