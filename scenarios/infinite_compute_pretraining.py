"""Pre-training under infinite compute: with fixed data, default weight decay overfits as
the model grows; a ~30x larger tuned weight decay restores a monotone loss curve in
parameter count; ensembles lower the loss further (Kim, Kotha, Liang, Hashimoto 2025,
arXiv 2509.14786).

The paper's set-up at toy scale (spec P10). A synthetic language: a 2nd-order Markov
chain over V = 16 tokens whose 256 next-token rows are Dirichlet(0.3) draws, drawn afresh
per seed (engines/lm/markov.py); entropy rate H ~ 1.85 nats. Fixed data: one stream of
1500 training tokens (windows), trained full-batch for 300 epochs (AdamW, lr 3e-3; the
"infinite compute" regime: every model is trained far past the point where it fits its
data). Model: one hidden GELU layer on the one-hot 2-token context, widths 16/64/256
(800 / 3,152 / 12,560 parameters: 0.5x to 8x the 1500 tokens). Every (width, weight
decay, member) trains at once: one stacked program per width, AdamW with a weight decay
per model on the weights (biases not decayed); K members per cell differ only in their
init (full batch: no data-order noise). Because all 256 contexts are enumerated, one
forward pass gives the exact training loss (count-weighted, = the mean cross-entropy over
the 1500 windows) and the exact validation loss sum_s pi(s) sum_y P(y|s) (-log q(y|s))
(engines/lm/ensemble_grid.py; tested against scipy.stats.entropy and a direct
cross-entropy over the windows). Single-model loss of a cell = the mean of its K
members' own losses; an ensemble mixes the members' probabilities. Tuned wd = the argmin
over the grid, per width (an oracle on the exact validation loss, as the paper tunes on
validation loss). Reference line: the Bayes posterior mean under the true Dirichlet
prior, the best any learner can do with these 1500 tokens in expectation (~2.3 nats).

Claim check (paper tier; thresholds from the spec, fixed before the judging seeds):
  1. default wd (0.1, the standard value) overfits: val(256) - val(16) >= 0.05 nats (spec:
     "higher"; a margin above 0 so a tie does not pass; calibration read +0.75);
  2. tuned wd: val loss falls monotonically with width (largest rise between consecutive
     widths <= 0);
  3. tuned wd at the largest width / default >= 10 (spec; the paper: ~30x);
  4. an ensemble of K members (K = 4 quick, 8 default) at the largest width and its tuned
     wd beats its members: mean member loss - ensemble loss >= 0.005 nats. The gap is >= 0
     by Jensen (a mixture never loses to its mean member), so only its size is evidence;
     0.005 is a third of the spec's calibration (0.013), set before the judging seeds.
Mechanism / informational (do not decide the verdict):
  - parameter-matched ensemble: (256/64 = 4) members of width 64, member wd re-tuned for
    the ensemble, minus one tuned width-256 model (paper direction: < 0). Does NOT
    reproduce (see below); reported as measured;
  - ensemble-tuned member wd / single-tuned wd at the middle width <= 1 (bias-variance:
    averaging removes member variance, so members want less regularisation);
  - sanity: no loss below the entropy rate (holds by construction).
Control (tests/test_infinite_compute_pretraining.py): the naive recipe, weight_decays =
"0.1" (default wd only): "tuned" = default, so the monotone check (2) fails (the
largest width overfits by ~0.8 nats) and so does the wd ratio (3).

Presets. default: wd grid {0.1, 1, 2, 3, 5, 10}, K = 8 members per cell (3 x 6 x 8 =
144 models), 300 epochs. quick: wd grid {0.1, 1, 3, 10}, K = 4 (48 models), ~3 s on an
idle core (the spec's world, which it measured at 23-35 s before the models were
batched). Default ~15 s of CPU; 40-50 s wall on the shared box under load.

Measured, seeds 0-19 (min / median / max):
  quick    PASS 20/20. overfit (default wd, 256 - 16) 0.73 / 0.86 / 0.98 nats; largest
           rise of the tuned curve -0.10 / -0.087 / -0.051 (monotone on 20/20); tuned wd
           at width 256 = 3 on 20/20 (30x the default, as the paper's ~30x); ensemble
           gain (K = 4, width 256, wd 3) 0.012 / 0.014 / 0.017 nats. Seeds 0-4: default
           wd 2.69-2.73 / 2.77-2.86 / 3.53-3.66 for widths 16/64/256; tuned 2.66-2.69 /
           2.56-2.61 / 2.46-2.51; Bayes posterior-mean loss ~2.3, H ~1.85.
  default  PASS 20/20. overfit 0.72 / 0.86 / 0.98 nats; largest rise of the tuned curve
           -0.070 / -0.050 / -0.033 (monotone on 20/20); tuned wd at width 256 = 3 on
           20/20 (30x); ensemble gain (K = 8) 0.016 / 0.017 / 0.018 nats. Seeds 0-1: tuned
           2.68-2.69 (wd 1) / 2.55 (wd 2) / 2.50-2.51 (wd 3); 8-member ensembles with
           member wd re-tuned 2.58-2.60 / 2.50 / 2.48-2.49. 40-55 s wall per seed on the
           loaded shared box (~15 s of CPU).

Worlds tried for the paper's third claim (ensembles reach a lower loss than parameter
scaling), each with its numbers:
  A. spec world, parameter-matched: 4 members of width 64 vs one tuned width-256 model
     (equal parameters), member wd re-tuned for the ensemble: the ensemble is WORSE on
     20/20 quick seeds, by +0.002 / +0.016 / +0.026 nats (spec calibration: 2.527 vs
     2.498). Default (finer grid): -0.007 / +0.010 / +0.019, the ensemble better on
     2/20 seeds only.
  B. re-tuning member wd for the ensemble (the paper re-tunes members): the ensemble's
     best member wd is <= the single model's at width 64 on 20/20 quick seeds (ratio
     1/3 on some, equal on the others, median 1; default: 0.5 / 0.5 / 1, member wd 1
     vs single 2 on most seeds: ensembles want the same or weaker
     regularisation, as bias-variance predicts); world A already uses it; it narrows
     the gap but does not close it.
  C. saturation (probe script, seeds 0-2, fine wd grid {2, 3, 4, 5, 7, 10}, K = 8 at
     width 256, one model at width 1024): with lr and epochs fixed, the tuned single
     curve is flat from 256 to 1024 (2.485 / 2.480 / 2.503 at width 256, wd 4, vs
     2.483 / 2.481 / 2.502 at width 1024, wd 7), while the 8-member ensemble of width
     256 reaches 2.474 / 2.469 / 2.493: below every single model, by ~0.01 nats. This is
     the paper's picture (parameter scaling levels off, ensembles go lower) but only
     because width 1024 at a fixed lr does not improve (the paper also re-tunes lr and
     epochs), the margin is small, and a width-1024 grid costs ~4x the whole default
     preset; so it stays a note, not a criterion.
  Asymptote fits: a 3-point power-law fit (Aitken) over widths 16/64/256 is not
  identifiable here (the tuned curve is still nearly linear in log width, so the fitted
  asymptote falls to ~H); the spec's risk note holds, so no fitted asymptote is reported.
Not reproduced / not tested: a lower ensemble asymptote at equal parameters (world A);
the paper's 5.17x data efficiency (needs data scaling laws) and the 83% distillation
retention (no distillation here); lr and epoch tuning (fixed at the spec's values).
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
from paramlab.scenarios.measure import maximum, ratio

OVERFIT = "default wd overfits: val(largest width) - val(smallest width) (nats)"
MONOTONE = "tuned wd: largest rise of val loss from one width to the next (nats)"
WD_RATIO = "tuned wd at the largest width / default wd"
ENSEMBLE = "ensemble gain at the largest width, tuned wd: mean member - K-ensemble (nats)"
MATCHED = ("param-matched: ensemble of (largest/middle) x middle width - tuned single "
           "largest width (nats)")
RETUNED = "ensemble-tuned member wd / single-tuned wd, middle width"
FLOOR = "sanity: lowest val loss - entropy rate (nats)"

OVERFIT_MIN = 0.05  # nats; spec: "higher" (calibration +0.75); a margin above zero
ENSEMBLE_MIN = 0.005  # nats; the Jensen gap is >= 0 by construction, only its size counts
WD_RATIO_MIN = 10.0  # spec: tuned >= 10x default (the paper: ~30x)


def _floats(text: str) -> list[float]:
    return [float(v) for v in text.replace(" ", "").split(",") if v]


def _ints(text: str) -> list[int]:
    return [int(v) for v in text.replace(" ", "").split(",") if v]


@dataclass(frozen=True)
class InfiniteComputePretrainingParams(Params):
    tokens: int = param(1500, range=(300, 20000), log=True,
                        help="training tokens (windows), fixed; trained full-batch for "
                             "`steps` epochs")
    widths: str = param("16,64,256", help="hidden widths (comma-separated, increasing, "
                                          "8..2048, at least 3)")
    weight_decays: str = param("0.1,1,2,3,5,10",
                               help="AdamW weight-decay grid (comma-separated, increasing; "
                                    "must hold default_wd); the tuned wd is its argmin")
    default_wd: float = param(0.1, range=(0.0, 1.0),
                              help="the standard weight decay (the naive recipe)")
    members: int = param(8, range=(2, 16), help="ensemble members K per (width, wd)")
    steps: int = param(300, range=(50, 3000), log=True,
                       help="full-batch AdamW steps (= epochs over the fixed data)")
    lr: float = param(3e-3, range=(1e-4, 3e-2), log=True, help="AdamW learning rate")
    vocab: int = param(16, range=(4, 32), help="vocabulary size V")
    context: int = param(2, range=(1, 3), help="context tokens c (the Markov order)")
    alpha: float = param(0.3, range=(0.05, 3.0), log=True,
                         help="Dirichlet concentration of the true next-token rows")
    evals: int = param(20, range=(2, 100), help="evaluations of the loss curves")

    def check_consistency(self) -> list[str]:
        out = []
        try:
            ws = _ints(self.widths)
        except ValueError:
            ws = []
        if len(ws) < 3 or ws != sorted(set(ws)) or ws[0] < 8 or ws[-1] > 2048:
            out.append(f"widths: expected >= 3 increasing integers in [8, 2048], got "
                       f"{self.widths!r}")
        try:
            wds = _floats(self.weight_decays)
        except ValueError:
            wds = []
        if not wds or wds != sorted(set(wds)) or wds[0] < 0 or self.default_wd not in wds:
            out.append(f"weight_decays: expected increasing values >= 0 that include "
                       f"default_wd ({self.default_wd:g}), got {self.weight_decays!r}")
        if self.vocab ** self.context > 4096:
            out.append(f"vocab: vocab ** context must be <= 4096, got "
                       f"{self.vocab}^{self.context}")
        return out


def _eval_steps(p: InfiniteComputePretrainingParams) -> list[int]:
    every = max(1, p.steps // p.evals)
    return sorted({0, *range(every, p.steps + 1, every), p.steps})


def _ks(p: InfiniteComputePretrainingParams) -> list[int]:
    return [k for k in (1, 2, 4, 8, 16) if k <= p.members]


def total_steps(p: InfiniteComputePretrainingParams) -> int:
    return p.steps + len(_ints(p.widths)) + len(_ks(p))


def _wd_name(wd: float) -> str:
    return f"{wd:g}"


def n_params(V: int, c: int, h: int) -> int:
    """One hidden layer on one-hot contexts: (cV + 1) h + (h + 1) V."""
    return (c * V + 1) * h + (h + 1) * V


def run(p: InfiniteComputePretrainingParams, ctx: RunContext) -> Iterator[Metric | Note | Table]:
    import numpy as np
    import torch

    from paramlab.engines.lm import ensemble_grid as eg
    from paramlab.engines.lm import markov
    from paramlab.engines.nn import torch_train as tt

    rng = ctx.rng
    widths, wds, K = _ints(p.widths), _floats(p.weight_decays), p.members
    chain = markov.MarkovChain.dirichlet(rng, p.vocab, p.context, p.alpha)
    pi = chain.stationary()
    X, Y = markov.sample_windows(chain, rng, p.tokens, p.context, seq_windows=p.tokens)
    table = eg.context_table(chain.P, pi, chain.tokens_of(np.arange(chain.n_states)),
                             chain.state_of(X), Y)
    # the best any learner can do with these tokens, in expectation over languages: the
    # Bayes posterior mean under the true Dirichlet(alpha) prior (a reference, not a target)
    post = (table.counts + p.alpha) / (table.counts.sum(1, keepdims=True) + p.vocab * p.alpha)
    bayes_post = float(-(table.target * np.log(post)).sum())
    yield Note(f"V={p.vocab}, context {p.context}, Dirichlet({p.alpha:g}) rows: entropy rate "
               f"{table.entropy:.4f} nats; {p.tokens} training tokens cover "
               f"{int((table.counts.sum(1) > 0).sum())}/{chain.n_states} contexts; Bayes "
               f"posterior-mean loss on them {bayes_post:.4f}")

    g = tt.generator(ctx.seed)
    groups = eg.build_grid(widths, wds, K, p.vocab, p.context, p.lr, g, device=ctx.device)
    target = torch.as_tensor(table.target, dtype=torch.float64, device=ctx.device)
    every = max(1, p.steps // p.evals)
    last = None
    for rec in eg.train_grid(groups, table, p.steps, device=ctx.device, eval_every=every,
                             should_stop=ctx.should_stop):
        values: dict[str, float] = {"epoch": float(rec["step"])}
        for h, tr, va in zip(widths, rec["train"], rec["val"]):
            tr, va = tr.reshape(len(wds), K).mean(1), va.reshape(len(wds), K).mean(1)
            for i, wd in enumerate(wds):
                values[f"train_w{h}_wd{_wd_name(wd)}"] = float(tr[i])
                values[f"val_w{h}_wd{_wd_name(wd)}"] = float(va[i])
        values["entropy"] = table.entropy
        values["train_mean"] = float(np.mean([float(t.mean()) for t in rec["train"]]))
        values["val_best"] = min(v for k, v in values.items() if k.startswith("val_w"))
        yield Metric(int(rec["step"]), values)
        last = rec
    if last is None or int(last["step"]) != p.steps:
        return

    # single model = the mean over the K members' own losses; ensembles mix probabilities
    single = np.array([v.reshape(len(wds), K).mean(1).cpu().numpy() for v in last["val"]])
    ks = _ks(p)
    ens = np.empty((len(widths), len(wds), len(ks)))
    for a, lq in enumerate(last["logq"]):
        lq = lq.reshape(len(wds), K, *lq.shape[1:])
        for j, k in enumerate(ks):
            # every disjoint block of k members is one ensemble; average their losses
            blocks = lq[:, : (K // k) * k].reshape(len(wds), K // k, k, *lq.shape[2:])
            ens[a, :, j] = eg.exact_loss(eg.ensemble_logq(blocks), target).mean(1).cpu().numpy()
    kK = len(ks) - 1  # the largest K that fits
    i_def = wds.index(p.default_wd)
    best = single.argmin(1)
    best_ens = ens[:, :, kK].argmin(1)
    for a, h in enumerate(widths):
        row = {"width": float(h), "params": float(n_params(p.vocab, p.context, h)),
               "val_default": float(single[a, i_def]), "val_tuned": float(single[a, best[a]]),
               "best_wd": wds[best[a]], "best_wd_ens": wds[best_ens[a]],
               "val_ens_same_wd": float(ens[a, best[a], kK]),
               "val_ens_retuned": float(ens[a, best_ens[a], kK]),
               "bayes_posterior": bayes_post, "entropy_rate": table.entropy}
        row |= {f"val_at_wd{_wd_name(wd)}": float(single[a, i]) for i, wd in enumerate(wds)}
        yield Metric(p.steps + 1 + a, row)
    mid = len(widths) // 2
    # parameter-matched: (largest / middle width) members of the middle width, member wd
    # re-tuned for that ensemble, against one tuned model of the largest width
    k_m = widths[-1] // widths[mid]
    j_m = ks.index(k_m) if k_m in ks else None
    matched = {}
    if j_m is not None:
        w_m = int(ens[mid, :, j_m].argmin())
        matched = {"matched_ens": float(ens[mid, w_m, j_m]), "matched_members": float(k_m),
                   "matched_wd": wds[w_m]}
    for j, k in enumerate(ks):
        yield Metric(p.steps + 1 + len(widths) + j, {
            **(matched if j == 0 else {}),
            "K": float(k),
            "ens_largest_tuned": float(ens[-1, best[-1], j]),
            "ens_largest_retuned": float(ens[-1, best_ens[-1], j]),
            "ens_middle_retuned": float(ens[mid, best_ens[mid], j]),
            "single_largest_tuned": float(single[-1, best[-1]])})
    yield Table("val loss (single model, mean over members)",
                rows=[f"width {h}" for h in widths],
                columns=[f"wd {_wd_name(wd)}" for wd in wds],
                cells=[[float(v) for v in r] for r in single])
    yield Table(f"val loss (ensemble of {ks[kK]})", rows=[f"width {h}" for h in widths],
                columns=[f"wd {_wd_name(wd)}" for wd in wds],
                cells=[[float(v) for v in r] for r in ens[:, :, kK]])
    yield Note("val loss by width " + ", ".join(str(h) for h in widths) + ": default wd "
               + "/".join(f"{single[a, i_def]:.3f}" for a in range(len(widths)))
               + "; tuned " + "/".join(f"{single[a, best[a]]:.3f} (wd {wds[best[a]]:g})"
                                       for a in range(len(widths)))
               + f"; ensemble of {ks[kK]}, member wd re-tuned "
               + "/".join(f"{ens[a, best_ens[a], kK]:.3f} (wd {wds[best_ens[a]]:g})"
                          for a in range(len(widths))))


def _by_width(history: History, name: str) -> dict[float, float]:
    if "width" not in history or name not in history:
        return {}
    return dict(zip(*history.paired("width", name)))


def check(history: History, p: InfiniteComputePretrainingParams) -> Verdict:
    widths = [float(h) for h in _ints(p.widths)]
    default = _by_width(history, "val_default")
    tuned = _by_width(history, "val_tuned")
    best_wd = _by_width(history, "best_wd")
    best_wd_ens = _by_width(history, "best_wd_ens")
    ens_same = _by_width(history, "val_ens_same_wd")
    ens_re = _by_width(history, "val_ens_retuned")
    nan = math.nan
    lo, hi, mid = widths[0], widths[-1], widths[len(widths) // 2]
    overfit = default.get(hi, nan) - default.get(lo, nan)
    curve = [tuned.get(h, nan) for h in widths]
    rise = maximum([b - a for a, b in zip(curve[:-1], curve[1:])]) if len(curve) > 1 else nan
    gain = tuned.get(hi, nan) - ens_same.get(hi, nan)
    matched = (history.last("matched_ens") - tuned.get(hi, nan)
               if "matched_ens" in history else nan)
    lows = [v for v in [*tuned.values(), *ens_re.values()]]
    H = history.last("entropy") if "entropy" in history else nan
    criteria = [
        Criterion.at_least(OVERFIT, overfit, OVERFIT_MIN),
        Criterion.at_most(MONOTONE, rise, 0.0),
        Criterion.at_least(WD_RATIO, ratio(best_wd.get(hi, nan), p.default_wd), WD_RATIO_MIN),
        Criterion.at_least(ENSEMBLE, gain, ENSEMBLE_MIN),
        # informational (the paper's lower ensemble asymptote; does not reproduce here)
        Criterion.at_most(MATCHED, matched, 0.0, tier="mechanism"),
        Criterion.at_most(RETUNED, ratio(best_wd_ens.get(mid, nan), best_wd.get(mid, nan)),
                          1.0, tier="mechanism"),
        Criterion.at_least(FLOOR, min(lows, default=nan) - H, 0.0, tier="mechanism"),
    ]
    return Verdict.of(criteria, f"default wd overfits (+{overfit:.2f} nats from width "
                      f"{lo:g} to {hi:g}); tuned wd ({best_wd.get(hi, nan):g}) gives a "
                      f"monotone curve; the ensemble lowers it by {gain:.3f} nats")


SCENARIO = Scenario(
    params=InfiniteComputePretrainingParams,
    run=run,
    check=check,
    panels=(
        Panel("validation loss vs width (log): default vs tuned wd", x="width", logx=True,
              series=("val_default", "val_tuned", "val_ens_retuned", "bayes_posterior",
                      "entropy_rate"),
              xlabel="hidden width (log)", ylabel="exact val loss (nats)",
              labels={"val_default": "default wd", "val_tuned": "tuned wd",
                      "val_ens_retuned": "ensemble, member wd re-tuned",
                      "bayes_posterior": "Bayes posterior mean (data floor)",
                      "entropy_rate": "entropy rate"}),
        Panel("validation loss vs width, each weight decay", x="width", logx=True,
              series=("val_at_wd*",), xlabel="hidden width (log)", ylabel="nats"),
        Panel("validation loss vs ensemble size K", x="K", logx=True,
              series=("ens_largest_tuned", "ens_largest_retuned", "ens_middle_retuned",
                      "single_largest_tuned"), xlabel="members K (log)", ylabel="nats"),
        Panel("optimal weight decay vs width", x="width", logx=True, logy=True,
              series=("best_wd", "best_wd_ens"), xlabel="hidden width (log)",
              ylabel="weight decay (log)",
              labels={"best_wd": "single model", "best_wd_ens": "ensemble members"}),
        Panel("validation loss over epochs (every width x wd)", x="epoch",
              series=("val_w*",), xlabel="epoch (full-batch step)", ylabel="nats"),
        Panel("training loss over epochs", x="epoch", series=("train_w*",),
              xlabel="epoch", ylabel="nats"),
        Panel("val loss, single models", kind="bars",
              table="val loss (single model, mean over members)"),
    ),
    presets={"quick": {"weight_decays": "0.1,1,3,10", "members": 4, "evals": 10}},
    watch=("train_mean",),
    key_metric="val_best",
    total_steps=total_steps,
    uses_torch=True,
    threads=2,  # 1.48x faster on 2 idle cores than on 1 (bench_threads, quick)
    notes=__doc__ or "",
    paper_reports="With 200M tokens and unlimited compute, epoching and parameter scaling "
                  "at the standard weight decay 0.1 overfit; the optimal weight decay is "
                  "~30x larger and restores a monotone power law in parameter count; "
                  "ensembling independently trained models reaches a lower loss asymptote; "
                  "all combined give 5.17x data efficiency; distilling into an 8x smaller "
                  "student keeps 83% of the ensemble gain (abstract).",
    paper_rows=(
        PaperRow("val loss rise with params at wd 0.1", "> 0 (loss rises: overfitting)",
                 "nats", "Sec. 2, Fig. 2", OVERFIT),
        PaperRow("tuned-wd val loss vs params", "monotone power law", "", "Sec. 3, Fig. 3",
                 MONOTONE),
        PaperRow("optimal wd / standard 0.1", "~30", "x", "abstract; Sec. 3", WD_RATIO),
        PaperRow("ensemble gain over one member", "> 0 (lower asymptote)", "nats",
                 "Sec. 4", ENSEMBLE),
        PaperRow("ensemble - tuned parameter scaling (paper: asymptotes; here: equal "
                 "parameters, 4 x width 64 vs width 256)",
                 "< 0 (significantly lower asymptote)", "nats", "abstract; Sec. 4", MATCHED),
        PaperRow("data efficiency of the combined recipe", "5.17", "x", "abstract", ""),
        PaperRow("ensemble gain kept by an 8x smaller distilled student", "83", "%",
                 "abstract; Sec. 5", ""),
    ),
    status="partly",
)
