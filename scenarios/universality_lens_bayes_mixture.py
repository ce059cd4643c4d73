"""A Bayes mixture's regret is set by the target's prior weight, not by width
(Feder, Urbanke & Fogel 2025, "The Universality Lens", arXiv 2506.07661).

The paper (theory, no experiments): a Bayes mixture learner with log-loss and an (almost)
uniform prior over a huge hypothesis class has regret <= -log w_eps(theta0)/n + eps, where
w_eps(theta0) is the prior weight of the hypotheses within KL eps of the truth. The class
size and the parameter count do not enter: simple truths (large weight) are learned from
few samples, complex ones (small weight) need more, and the mixture does not overfit.

World (the spec's second calibration version). A finite Monte-Carlo class of M random
one-hidden-layer tanh networks on all 2^7 = 128 points of {-1, 1}^7,
    f(x) = s / sqrt(h) * sum_j a_j tanh(w_j . x / sqrt(7) + b_j),  w, b, a ~ N(0, 1),
    readout scale s ~ U(0, 2),  p(y = 1 | x) = sigmoid(4 f(x)),
with the uniform prior 1/M over the draws. The spread of s is what gives the class a wide
spread of prior volumes: near-constant functions (s near 0) fill a large share of it. Two
classes of the same M are built, width h = 16 ("narrow") and h = 128 ("wide", 8x the
parameters per hypothesis); the 1/sqrt(h) keeps the law of f nearly width-free, so the
widths differ in parameter count, not in where the prior puts its mass. In each class 300
random members are scored by w_eps (eps = 0.05 nats, KL averaged over uniform x): the 4
heaviest are the "simple" targets (near-constant, w_eps ~ 0.13), the 4 lightest the
"complex" ones (w_eps = 1/M: no other member within eps). Training sets: x uniform,
y ~ p_theta0, nested sizes n in {8, 32, 128, 512}, `reps` draws per target. Learners: the
exact Bayes mixture over the M draws (posterior predictive) and ERM (the maximum-likelihood
member), the spec's contrast. Regret = E_x KL(p_theta0(.|x) || q(.|x)), exact over the 128
inputs (no test sample), averaged over targets and draws. Also recorded: the mixture's
cumulative log-loss regret per sample (log p0(y^n|x^n) - log Q(y^n|x^n), over n) and its
posterior mass on the eps-ball.

Engine: engines/stats/bayes_mixture.py. Since x takes 128 values, a training set enters
every likelihood through its label counts, so all draws x all n x all M hypotheses are
one (draws*n, 256) @ (256, M) product; the predictive is one more. The class is built in
float32 chunks (the M*h*128 tanh activations are the cost). Unit tests compare it with
sequential Bayes updates (the mixture's cumulative log loss = -log of its marginal
likelihood), scipy, a per-network loop and exact enumeration of every training sequence
(the expected cumulative regret is the sum of the instantaneous ones and obeys
-log w_eps + n eps for every eps, and -log w(theta0) at eps = 0).

Common random numbers: the training inputs x_t and uniforms u_t (y_t = [u_t < p0(x_t)])
are drawn once per (target slot, draw) and shared by both widths and both target kinds,
so criteria (3) and (4) compare learners on the same noise.

Claim check (the spec's thresholds, fixed before the judging seeds):
  (1) mixture regret <= -log w_eps/n + eps at every n, for every target and width (worst
      per-target ratio <= 1). The theorem bounds the mean over the first n predictions;
      (1) reads the regret after n samples (the spec's reading), which lies below it as
      regret falls with n. The theorem's own quantity (cumulative regret / n) is the
      mechanism row "theorem: ...": it holds by construction (in expectation), so it is a
      consistency check of the implementation, not evidence.
  (2) mixture regret <= ERM regret at every n <= 32, both kinds and widths (ratio <= 1).
  (3) simple / complex mixture regret <= 0.5 at n = 8 and n = 32, both widths.
  (4) simple-target regret of the wide vs the narrow class differs by < 2x at n = 8, 32.
  Mechanism rows: -log w_eps simple / complex <= 0.5 (the weights separate: the bound's
  leading term is 2x apart, as (3) asks of the regret), and the posterior mass on the
  simple target's eps-ball at the largest n >= 0.9.

Control: readout = "fixed" (s = 1 for every network, the same mean scale; the spec's first
version). No function fills a large share of the prior: the heaviest of 300 candidates
has w_eps 0.003-0.015 instead of 0.13, its regret at n = 8 is 0.11-0.14 instead of 0.05,
and (3) fails (simple / complex 0.59-0.84) together with the weight-gap row (0.50-0.69).
(2) fails as well on 18/20 seeds (ERM beats the mixture on those heavy targets at n <= 32:
with many near-duplicates of the target, the ML member is close to it, while the
mixture's small-n predictive is still spread over the prior). (1) and (4) still hold.
Measured on quick, seeds 0-19: FAIL 20/20 (test: quick seed 0).

Measured, seeds 0-19 (2-core box shared with other jobs; wall s per run in brackets):
  quick   (M = 5000, reps = 40)  20/20 PASS [1.4-3.4 s]. (1) worst regret/bound
          0.34-0.43; (2) worst mixture/ERM 0.50-0.74; (3) 0.24-0.39; (4) 1.00-1.33.
          Mixture regret simple n = 8 / 32: 0.043-0.061 / 0.019-0.032; complex 0.17-0.30 /
          0.073-0.108; ERM on the simple target 1.21-1.49 / 0.19-0.26.
  default (M = 20000, reps = 50) 20/20 PASS [6.4-13.1 s; peak memory ~470 MB].
          (1) 0.35-0.43; (2) 0.44-0.63; (3) 0.19-0.35; (4) 1.00-1.15; theorem row
          0.61-0.80; -log w simple/complex 0.20-0.21; eps-ball mass at n = 512: 1.00.
          w_eps simple 0.125-0.138 (both widths), complex 5e-5 = 1/M. Mixture regret,
          narrow / wide, simple n = 8: 0.046-0.062 / 0.046-0.062, n = 32: 0.019-0.030 /
          0.018-0.032; complex n = 8: 0.16-0.30, n = 32: 0.087-0.135; ERM simple n = 8:
          1.37-1.81, n = 32: 0.24-0.34 (the mixture 30x / 10x better); bound simple
          0.30 / 0.11, complex 1.29 / 0.36 (the spec's numbers).
  quick, seeds 20-39 (not used for any choice): 20/20 PASS; (2) 0.44-0.69, (3) 0.21-0.39,
          (4) 1.02-1.39.

Worlds tried (all with the world above unless said):
  - spec prototype, 1 simple + 1 complex target, 20 independent draws, M = 20000, seeds
    0-1: simple n = 8 0.041-0.066 vs complex 0.19-0.37, as in the spec; the single
    complex target's regret varied 2x between seeds.
  - 4 + 4 targets, 20 draws each, independent noise per width (quick, seeds 0-19): 19/20;
    (4) failed on seed 18 (1 of 20): simple-target regret at n = 32 0.0144 (narrow) vs
    0.0318 (wide), sampling noise of a heavy-tailed regret (n = 32 values spread
    0.014-0.037 over seeds for both widths alike). Fixed by design, not by threshold: the
    shared noise stream above and more draws (quick 40, default 50); no threshold changed.
  - readout fixed: the control above.

Caveats. The claim holds in the small-n regime the weight governs: by n = 128 the sharp
complex targets are identified as fast as the simple ones (regret 0.005 both) and by
n = 512 exactly (regret ~1e-9 < the simple target's 0.0013), since a sharp target's
neighbours are far in KL. "Class size does not matter" is seen across presets only
(M = 5000 vs 20000: simple-target regret 0.052 vs 0.053 at n = 8), not checked in-run.
The SGLD / ensemble approximation of the mixture (the paper's practical bridge, the
spec's optional variant) is not built.
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
        per_target = []
        for k in range(len(t)):  # one target at a time: (reps, G, M) arrays, not (T, ...)
            ll = bm.log_likelihoods(c1[k], c0[k], log_p1, log_p0)        # (reps, G, M)
            post = bm.posterior(log_w, ll)
            q1, q0 = bm.predictive(post, P1)
            e = bm.erm_index(ll)
            ll_true = c1[k] @ log_p1[t[k]] + c0[k] @ log_p0[t[k]]
            per_target.append((
                bm.regret(p0[k], q1, q0).mean(axis=0),
                bm.regret(p0[k], P1[e], 1.0 - P1[e]).mean(axis=0),
                bm.cumulative_regret(ll_true, log_w, ll).mean(axis=0) / ns,
                (post @ (kl[idx[k]] <= p.eps)).mean(axis=0)))
        mix, erm, cum, ball = (np.array(v) for v in zip(*per_target))   # each (T, G)
        bound = bm.weight_bound(w_eps[idx, None], ns[None, :], p.eps)     # (T, G)
        out[kind] = {"mix": mix.mean(0), "erm": erm.mean(0), "bound": bound.mean(0),
                     "cum": cum.mean(0), "ball": ball.mean(0),
                     "ratio": (mix / bound).max(0), "cum_ratio": (cum / bound).max(0),
                     "w_eps": float(np.mean(w_eps[idx])),
                     "neg_log_w": float(np.mean(-np.log(w_eps[idx]))),
                     "f_range": float(np.mean(np.ptp(F[t], axis=1)))}
    return out


def run(p: UniversalityLensParams, ctx: RunContext) -> Iterator[Metric | Note | Table]:
    from paramlab.engines.stats.bayes_mixture import draw_sequences

    ns = n_grid(p)
    yield Note(f"M={p.M} random tanh networks on {{-1,1}}^{p.d}, widths {p.h_narrow} and "
               f"{p.h_wide}, beta={p.beta}, readout {p.readout} (scale_max {p.scale_max}), "
               f"eps={p.eps}; {p.targets} simple + {p.targets} complex targets from "
               f"{p.candidates} candidates, {p.reps} draws each, n in {ns}")
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
    neg_log_w = {(wn, k): v[1] for (wn, k), v in zip(
        [(wn, k) for wn in WIDTHS for k in CLASSES], weights)}
    yield Table("prior weight", rows=list(CLASSES), columns=list(WIDTHS),
                cells=[[neg_log_w[(wn, k)] for wn in WIDTHS] for k in CLASSES])
    yield Table("targets", rows=[f"{wn} {k}" for wn in WIDTHS for k in CLASSES],
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
    table = history.tables.get("prior weight")  # -log w_eps, rows: kinds, columns: widths
    neg_log_w = ({(w, k): row[j] for k, row in zip(table.rows, table.cells)
                  for j, w in enumerate(table.columns)} if table else {})
    weight_gap = maximum([ratio(neg_log_w.get((w, "simple"), float("nan")),
                                neg_log_w.get((w, "complex"), float("nan"))) for w in WIDTHS])
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
        Panel("-log w_eps of the targets, per width", kind="bars", table="prior weight"),
    ),
    presets={"quick": {"M": 5000, "reps": 40}},
    watch=("narrow_mix_simple",),
    key_metric="narrow_mix_simple",
    threads=2,  # numpy BLAS: 1.16-1.22x on 2 idle cores (bench_threads, quick, 2 runs)
    total_steps=lambda p: 2 * len(n_grid(p)) - 1,
    notes=__doc__ or "",
    paper_reports="Theory (no experiments): for a Bayes mixture with an (almost) uniform prior, "
                  "regret <= -log w_eps(theta0)/n + eps, where w_eps is the prior weight of the "
                  "hypotheses within KL eps of the truth; it does not grow with the class size "
                  "or parameter count, so simple (heavy) truths are learned from few samples.",
    paper_rows=(
        PaperRow("mixture regret vs the weight bound -log w_eps(theta0)/n + eps",
                 "<= 1 (bound; no numbers reported)", "regret / bound",
                 "main result (non-uniform regret bound)",
                 "(1) mixture regret / bound (-log w_eps/n + eps), worst n, target, width"),
        PaperRow("cumulative regret per sample vs the bound", "<= 1 (theorem)",
                 "regret / bound", "main result (online / cumulative form)",
                 "theorem: cumulative regret per sample / bound, worst (holds in "
                 "expectation by construction)"),
        PaperRow("mixture vs ERM regret at small n", "not reported (the mixture does not "
                 "overfit)", "ratio", "discussion",
                 "(2) mixture / ERM regret, worst over n <= 32, targets, widths"),
        PaperRow("simple vs complex target regret", "not reported (simple = large weight "
                 "needs fewer samples)", "ratio", "discussion of model simplicity",
                 "(3) simple / complex mixture regret, worst of n = 8, 32 and widths"),
        PaperRow("effect of over-parametrisation on the regret", "not reported (none: the "
                 "weight, not the size, sets it)", "ratio (larger / smaller)", "abstract",
                 "(4) simple-target regret, wide vs narrow (larger / smaller), worst of "
                 "n = 8, 32"),
    ),
    status="reproduces",
)
