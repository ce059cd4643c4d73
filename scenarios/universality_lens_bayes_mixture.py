"""A Bayes mixture's regret is set by the target's prior weight, not by width
(Feder, Urbanke & Fogel 2025, "The Universality Lens", arXiv 2506.07661).

NOTES PLACEHOLDER
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
from .measure import maximum, minimum, ratio

WIDTHS = ("narrow", "wide")
CLASSES = ("simple", "complex")


@dataclass(frozen=True)
class UniversalityLensParams(Params):
    M: int = param(20_000, range=(500, 100_000), log=True,
                   help="hypotheses in the Monte-Carlo class (uniform prior over the draws)")
    h_narrow: int = param(16, range=(1, 256), log=True, help="hidden width of the narrow class")
    h_wide: int = param(128, range=(1, 256), log=True,
                        help="hidden width of the wide class (same M: more parameters each)")
    d: int = param(7, range=(3, 9), help="input dimension: x ranges over all 2^d points")
    beta: float = param(4.0, range=(0.25, 10.0), help="p(y=1 | x) = sigmoid(beta f(x))")
    readout: str = param("uniform", choices=("uniform", "fixed"),
                         help="readout scale s ~ U(0, scale_max), or s = scale_max/2 fixed "
                              "(the control: no spread of prior volume)")
    scale_max: float = param(2.0, range=(0.1, 10.0), help="largest readout scale")
    eps: float = param(0.05, range=(0.005, 0.5), log=True,
                       help="KL radius of the ball whose prior weight w_eps defines simplicity")
    candidates: int = param(300, range=(10, 5000), log=True,
                            help="random class members scored by w_eps to pick the targets")
    targets: int = param(4, range=(1, 20),
                         help="targets per kind: the largest-weight (simple) and the "
                              "smallest-weight (complex) candidates")
    reps: int = param(50, range=(1, 500), log=True,
                      help="training draws per target (nested sets: one draw gives every n)")
    n_min: int = param(8, range=(1, 4096), log=True, help="smallest training-set size")
    n_max: int = param(512, range=(1, 8192), log=True, help="largest training-set size")
    n_factor: int = param(4, range=(2, 16), help="training sizes n_min * n_factor^k")

    def check_consistency(self) -> list[str]:
        errors = []
        if self.n_min > self.n_max:
            errors.append(f"n_min: must be <= n_max ({self.n_max}), got {self.n_min}")
        if self.candidates > self.M:
            errors.append(f"candidates: must be <= M ({self.M}), got {self.candidates}")
        if 2 * self.targets > self.candidates:
            errors.append(f"targets: must be <= candidates / 2 ({self.candidates // 2}), "
                          f"got {self.targets}")
        return errors


def n_grid(p: UniversalityLensParams) -> list[int]:
    out, n = [], p.n_min
    while n <= p.n_max:
        out.append(n)
        n *= p.n_factor
    return out


def _measure(rng, p: UniversalityLensParams, h: int, noise) -> dict:
    """One class of width h: pick the simple and complex targets, label the shared training
    inputs with them and measure, per target kind and n (means over targets and draws): the
    mixture's and ERM's regret, the weight bound, the mixture's cumulative regret per
    sample, its posterior mass on the eps-ball, and the worst per-target regret / bound."""
    import numpy as np

    from paramlab.engines.stats import bayes_mixture as bm

    ns = np.array(n_grid(p))
    xs, u = noise                                   # (targets, reps, n_max) each
    X = 2**p.d
    F = bm.tanh_network_outputs(rng, p.M, h, p.d, p.readout, p.scale_max)
    log_p1, log_p0 = bm.bernoulli_logits_to_logprobs(p.beta * F)
    P1 = np.exp(log_p1)
    w = np.full(p.M, 1.0 / p.M)
    log_w = np.log(w)
    cand = rng.choice(p.M, size=p.candidates, replace=False)
    kl = bm.kl_to_class(P1[cand], log_p1, log_p0)
    w_eps = bm.eps_weight(kl, w, p.eps)
    order = np.argsort(-w_eps, kind="stable")
    picks = {"simple": order[:p.targets], "complex": order[::-1][:p.targets]}
    out: dict = {"n": ns}
    for kind, idx in picks.items():
        t = cand[idx]
        p0 = P1[t]                                                        # (T, X)
        ys = np.take_along_axis(p0[:, None, :], xs, axis=-1) > u         # y = [u < p0(x)]
        c1, c0 = bm.prefix_counts(xs, ys, list(ns), X)                    # (T, reps, G, X)
        ll = bm.log_likelihoods(c1, c0, log_p1, log_p0)                   # (T, reps, G, M)
        post = bm.posterior(log_w, ll)
        q1, q0 = bm.predictive(post, P1)
        mix = bm.regret(p0[:, None, None, :], q1, q0).mean(axis=1)        # (T, G)
        e = bm.erm_index(ll)
        erm = bm.regret(p0[:, None, None, :], P1[e], 1.0 - P1[e]).mean(axis=1)
        ll_true = np.einsum("trgx,tx->trg", c1, log_p1[t]) + np.einsum("trgx,tx->trg", c0,
                                                                        log_p0[t])
        cum = bm.cumulative_regret(ll_true, log_w, ll).mean(axis=1) / ns
        ball = np.einsum("trgm,tm->tg", post, (kl[idx] <= p.eps).astype(float)) / p.reps
        bound = bm.weight_bound(w_eps[idx, None], ns[None, :], p.eps)     # (T, G)
        out[kind] = {"mix": mix.mean(0), "erm": erm.mean(0), "bound": bound.mean(0),
                     "cum": cum.mean(0), "ball": ball.mean(0),
                     "ratio": (mix / bound).max(0), "cum_ratio": (cum / bound).max(0),
                     "w_eps": float(np.mean(w_eps[idx])),
                     "neg_log_w": float(np.mean(-np.log(w_eps[idx]))),
                     "f_range": float(np.mean(np.ptp(F[t], axis=1)))}
    return out


def run(p: UniversalityLensParams, ctx: RunContext) -> Iterator[Metric | Note | Table]:
    ns = n_grid(p)
    yield Note(f"M={p.M} random tanh networks on {{-1,1}}^{p.d}, widths {p.h_narrow} and "
               f"{p.h_wide}, beta={p.beta}, readout {p.readout} (scale_max {p.scale_max}), "
               f"eps={p.eps}; {p.targets} simple + {p.targets} complex targets from "
               f"{p.candidates} candidates, {p.reps} draws each, n in {ns}")
    from paramlab.engines.stats.bayes_mixture import draw_sequences

    # one noise stream (inputs x_t, uniforms u_t with y_t = [u_t < p0(x_t)]) for every
    # target and width: the widths and the target kinds are compared on the same draws
    noise = draw_sequences(ctx.rng, 2**p.d, ns[-1], (p.targets, p.reps))
    step = 0
    weights = []
    for wname, h in zip(WIDTHS, (p.h_narrow, p.h_wide)):
        res = _measure(ctx.rng, p, h, noise)
        for kind in CLASSES:
            r = res[kind]
            weights.append([r["w_eps"], r["neg_log_w"], r["f_range"]])
            yield Note(f"{wname} (h={h}) {kind}: w_eps {r['w_eps']:.3g} (1/M = {1 / p.M:.3g}), "
                       f"-log w_eps {r['neg_log_w']:.2f}, range of f {r['f_range']:.2f}; "
                       "mixture regret " + ", ".join(f"{v:.3g}" for v in r["mix"])
                       + "; ERM " + ", ".join(f"{v:.3g}" for v in r["erm"]))
        for g, n in enumerate(ns):
            values = {"n": float(n)}
            for kind in CLASSES:
                r = res[kind]
                values |= {f"{wname}_mix_{kind}": r["mix"][g], f"{wname}_erm_{kind}": r["erm"][g],
                           f"{wname}_bound_{kind}": r["bound"][g],
                           f"{wname}_cum_{kind}": r["cum"][g],
                           f"{wname}_ball_{kind}": r["ball"][g],
                           f"{wname}_ratio_bound_{kind}": r["ratio"][g],
                           f"{wname}_cum_ratio_bound_{kind}": r["cum_ratio"][g]}
            yield Metric(step, values)
            step += 1
        if ctx.should_stop():
            return
    yield Table("prior weight", rows=[f"{w} {k}" for w in WIDTHS for k in CLASSES],
                columns=["w_eps", "-log w_eps", "range of f"], cells=weights)


def _rows(history: History, name: str, width: str) -> list[tuple[int, float]]:
    """(n, value) of series `width_name` (the steps of that width only)."""
    key = f"{width}_{name}"
    if key not in history:
        return []
    ns, vs = history.paired("n", key)
    return [(int(n), v) for n, v in zip(ns, vs)]


def check(history: History, p: UniversalityLensParams) -> Verdict:
    ns = n_grid(p)
    small = [n for n in ns if n <= 32]
    read = [n for n in ns if n in (8, 32)] or ns[:1]

    def val(width: str, name: str, n: int) -> float:
        return dict(_rows(history, name, width)).get(n, float("nan"))

    to_bound = [v for w in WIDTHS for k in CLASSES
                for _, v in _rows(history, f"ratio_bound_{k}", w)]
    cum_to_bound = [v for w in WIDTHS for k in CLASSES
                    for _, v in _rows(history, f"cum_ratio_bound_{k}", w)]
    mix_vs_erm = [ratio(val(w, f"mix_{k}", n), val(w, f"erm_{k}", n))
                  for w in WIDTHS for k in CLASSES for n in small]
    simple_vs_complex = [ratio(val(w, "mix_simple", n), val(w, "mix_complex", n))
                         for w in WIDTHS for n in read]
    wide_vs_narrow = [ratio(val("wide", "mix_simple", n), val("narrow", "mix_simple", n))
                      for n in read]
    width_spread = maximum([max(r, 1.0 / r) if r > 0 else float("inf") for r in wide_vs_narrow])
    table = history.tables.get("prior weight")
    neg_log_w = dict(zip(table.rows, (row[1] for row in table.cells))) if table else {}
    weight_gap = maximum([ratio(neg_log_w.get(f"{w} simple", float("nan")),
                                neg_log_w.get(f"{w} complex", float("nan"))) for w in WIDTHS])
    ball_end = minimum([val(w, "ball_simple", ns[-1]) for w in WIDTHS])
    criteria = (
        Criterion.at_most("(1) mixture regret / bound (-log w_eps/n + eps), worst n, target, "
                          "width", maximum(to_bound), 1.0),
        Criterion.at_most("(2) mixture / ERM regret, worst over n <= 32, targets, widths",
                          maximum(mix_vs_erm), 1.0),
        Criterion.at_most("(3) simple / complex mixture regret, worst of n = 8, 32 and widths",
                          maximum(simple_vs_complex), 0.5),
        Criterion.at_most("(4) simple-target regret, wide vs narrow (larger / smaller), "
                          "worst of n = 8, 32", width_spread, 2.0),
        Criterion.at_most("theorem: cumulative regret per sample / bound, worst (holds in "
                          "expectation by construction)", maximum(cum_to_bound), 1.0,
                          tier="mechanism"),
        Criterion.at_most("-log w_eps simple / complex, worse width (weights separate)",
                          weight_gap, 0.5, tier="mechanism"),
        Criterion.at_least("posterior mass on the simple target's eps-ball at the largest n",
                           ball_end, 0.9, tier="mechanism"),
    )
    return Verdict.of(criteria, (
        f"mixture regret within the weight bound; simple/complex regret <= "
        f"{maximum(simple_vs_complex):.2f} at n = 8, 32; the mixture beats ERM at n <= 32 "
        f"(worst ratio {maximum(mix_vs_erm):.2f}); widths {p.h_narrow} vs {p.h_wide} differ "
        f"by {width_spread:.2f}x on the simple target"))


def _series(width: str) -> tuple[str, ...]:
    return tuple(f"{width}_{a}_{k}" for a in ("mix", "erm", "bound") for k in CLASSES)


def _labels() -> dict[str, str]:
    names = {"mix": "mixture", "erm": "ERM", "bound": "bound", "ball": "eps-ball mass",
             "cum": "cumulative/n"}
    return {f"{w}_{a}_{k}": f"{names[a]}, {k}" for w in WIDTHS for a in names for k in CLASSES}


SCENARIO = Scenario(
    params=UniversalityLensParams,
    run=run,
    check=check,
    panels=(
        Panel("regret vs n, narrow class", series=_series("narrow"), x="n", logx=True,
              logy=True, xlabel="training samples n", ylabel="KL(P0 || Q), nats",
              labels=_labels()),
        Panel("regret vs n, wide class", series=_series("wide"), x="n", logx=True,
              logy=True, xlabel="training samples n", ylabel="KL(P0 || Q), nats",
              labels=_labels()),
        Panel("posterior mass on the eps-ball vs n",
              series=tuple(f"{w}_ball_{k}" for w in WIDTHS for k in CLASSES), x="n",
              logx=True, xlabel="training samples n", labels=_labels()),
        Panel("prior weight of the targets (-log w_eps)", kind="bars", table="prior weight"),
    ),
    presets={"quick": {"M": 5000, "reps": 40}},
    watch=("narrow_mix_simple",),
    key_metric="narrow_mix_simple",
    total_steps=lambda p: 2 * len(n_grid(p)) - 1,
    notes=__doc__ or "",
    paper_reports="Theory (no experiments): for a Bayes mixture with an (almost) uniform prior, "
                  "regret <= -log w_eps(theta0)/n + eps, where w_eps is the prior weight of the "
                  "hypotheses within KL eps of the truth; it does not grow with the class size "
                  "or parameter count, so simple (heavy) truths are learned from few samples.",
    paper_rows=(
        PaperRow("mixture regret vs the weight bound", "<= -log w_eps/n + eps", "ratio",
                 "main theorem (regret bound)",
                 "(1) mixture regret / bound (-log w_eps/n + eps), worst n, target, width"),
        PaperRow("mixture vs ERM at small n", "not reported (mixture does not overfit)",
                 "ratio", "discussion",
                 "(2) mixture / ERM regret, worst over n <= 32, targets, widths"),
        PaperRow("simple vs complex target regret", "not reported (simple needs fewer samples)",
                 "ratio", "discussion of model simplicity",
                 "(3) simple / complex mixture regret, worst of n = 8, 32 and widths"),
        PaperRow("effect of over-parametrisation", "not reported (none: weight, not size)",
                 "ratio", "abstract",
                 "(4) simple-target regret, wide vs narrow (larger / smaller), worst of n = 8, 32"),
    ),
    status="reproduces",
)
