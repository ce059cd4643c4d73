"""Arbitrary few parameters (APET): random sparse tuning vs scale (Su et al. 2023,
"Arbitrary Few Parameters are Good Enough for Adapting Large-scale Pre-trained Language
Models", arXiv 2306.02320). Status at toy scale: does not reproduce; the one clean
learning-rate mechanism is shown instead.

World (engines/peft/apet.py). sklearn digits, split 60/20/20 per seed (adaptation /
validation / test). Backbone MLP 64-w-w-10 (ReLU, nn.Linear init), pre-trained per width
and seed on the 10 digits (full-batch Adam 6e-3, 150 steps, through ctx.cached; test
accuracy 0.95-0.98 at every width). Target: the same images with labels cyclically
relabelled y -> (y + 1) mod 10, the pre-trained head frozen (as PET keeps the LM head),
so accuracy is 0 before adapting. APET: k entries of the last hidden layer's weight W2,
drawn uniformly at random, are the only trainable weights (n_masks masks per (w, k)),
full-batch Adam; every (k, mask, lr) of a width trains as ONE sparse program (a CSR
matrix holding all models' entries: one sparse-dense product forward, one SDDMM for the
gradient, the head one GEMM over all models; tested against autograd on dense masked
weights). Full FT: all backbone weights, head frozen. lr chosen on validation per (w, k)
(per method: full FT has its own grid); accuracies are on the test split.
  default  widths 64, 256; k 64, 256, 1024; 3 masks; sparse lrs 0.1..10 (x ~3); 120 steps
           on 600 adaptation images; full FT lrs 0.003, 0.01.
  quick    2 masks; sparse lrs 0.1, 0.5, 3; 80 steps on 400 images; full FT lr 0.01.
Why 64 and 256 rather than the spec's 32 and 512: the masks live in W2 (w x w), and at
w = 32 k = 1024 is the whole layer (the pool saturates: W2-only tuning of the 32-wide net
stops at 0.87-0.95, so "k to reach 90%" measures the pool, not the model); w = 512
pre-training and full FT do not fit the one-core budget. Why W2 only: entries of W1
change h1 and force a dense w x w product per model (no fit in the budget); the spec's
recalibration found the last layer behaves like the whole backbone (1 seed).

Claim check (thresholds from the spec, fixed before the judging runs):
  paper      k90(widest) / k90(narrowest) <= 0.5, k90 = the k (log-interpolated on the
             k grid) where the tuned accuracy reaches 90% of that width's full FT
             ("fewer tunable parameters needed with scale"; a k never reached is infinite)
  paper      k20 spread: max/min over widths of the k that exceeds 2x chance (20%) <= 4
             (the paper's "about the same number to beat random guess")
  paper      std across masks at k_mid = 256: widest / narrowest <= 1 (the spec's
             "position matters less with scale")
  mechanism  fixed-lr inversion: at ONE lr (0.1) for both widths, acc(narrowest) -
             acc(widest) at k_mid >= 0.2 (the spec's 0.2)
  mechanism  lr ratio: the validation-best lr at k_mid (refined by a parabola in log lr
             through the best grid point and its neighbours), widest / narrowest >=
             0.75 sqrt(width ratio) = 1.5 (theory: one random entry's effect on the
             logits scales as 1/sqrt(w) through the 1/sqrt(w) head, so Adam's step must
             grow as sqrt(w); the spec's ">= 3x" was the same 0.75 sqrt(16) for 32 -> 512)
  mechanism  tuned-lr gap at the largest k: |acc(widest) - acc(narrowest)| <= 0.05
The verdict is decided by the paper tier; it FAILS (the claim does not reproduce).

Control (tests/test_arbitrary_few_params_apet.py): `lr_tuning = shared`, every width
adapts with the lr the narrowest width picked at that k (the fixed-lr protocol of the
spec's first calibration): the lr-ratio row measures 1 and fails (>= 1.5); in quick it
also fails the tuned-lr gap on seed 7 (0.128) and leaves the wide model short of 90% of
full FT.

Worlds tried (tuned accuracies "w_narrow / w_wide" at k = 256 and k = 1024; seeds 0-4
unless said; k90 ratio = widest / narrowest):
  W0  spec, recalibration (2026-12): 64-w-w-10, k over ALL backbone weights, w 32 vs 512,
      fixed lr: inversion; tuned lr: k=1024 flat (0.93/0.93 ...), k=256 inverted (4/4).
  W1  W2-only masks, w 32 vs 256, 6 lrs 0.03-10, 150 steps, full data (seeds 0-1): k=256
      0.70/0.65, 0.86/0.79; k=1024 0.87/0.96 (the whole W2 at w 32), 0.95/0.94; best
      lr 0.3 vs 10 (x33); fixed-lr (0.1) gap at k=256 0.59 / 0.75.
  W2  one hidden layer 64-w-10, masks over the WHOLE backbone (W1), w 32/128/512, default
      settings, seed 0: k=256 0.67/0.55/0.31, k=1024 0.92/0.94/0.87; k90 601/781/1011
      (ratio 1.68); here the best lr does NOT grow with width (1 at k=256 for all
      widths): the inversion in this world is not a pure lr effect.
  W3  = shipped world at quick with 6 lrs (0.03-10): k90 ratio 2.42, 1.49, 0.74, 2.32,
      2.17; fixed-lr inversion 0.46-0.73; lr ratio 5.5-21; tuned gap at k=1024 0.006-0.033.
  W4  the untried avenue, a harder pre-training: digits + a second head on k-means
      sub-classes (5 per digit, trained jointly; pretrain_task = fine): k90 ratio 2.04,
      1.59, 0.75, 2.17, 2.60; 20 sub-classes per digit (200-way): 1.69, 2.29, 0.80, 2.36,
      1.64. Narrow nets still pre-train to 0.94-0.97 and the tuned k=256 accuracy stays
      higher for w 64 (0.78-0.85 vs 0.65-0.83): no scale benefit.
Why it does not reproduce: every width pre-trains to the same ~0.97, so the wider model
has no features better aligned with the target; a random entry of a wider layer carries
a smaller share of the needed change, and tuning its lr (x sqrt(w)) only brings it back
to parity (k=1024) or short of it (k=256). The paper's large PLMs have a low intrinsic
dimension that grows smaller with scale; nothing at this scale imitates that. k as a
fraction of the parameters would "pass" trivially and is not tested.

Measured (seeds 0-19, scenario as shipped; bench/bench_results.py, one worker):
  quick    FAIL 20/20 (stable). k90 ratio 0.84..3.56 (median 2.35): the wide model
           needs MORE random weights; k20 spread 1.01..1.55 (passes 20/20: the k that
           beats chance is about width-independent, the paper's third finding holds
           here); mask-std ratio 0.03..55 (median 3.4, passes 6/20: noise with 2 masks).
           Mechanism: fixed-lr (0.1) inversion 0.45..0.73 (20/20 >= 0.2); lr ratio
           1.0..8.3 (median 4.4; 19/20 >= 1.5, the odd seed picks the same grid lr on
           the 3-value quick grid); tuned gap at k = 1024 0.001..0.046 (20/20 <= 0.05).
           Median 19 s wall on the shared 2-core box under load 5-8 (~7-8 s CPU).
  default  FAIL 20/20 (stable). k90 ratio 1.16..3.18 (median 2.36); k20 spread
           1.01..1.42 (20/20); mask-std ratio 0.30..23.9 (median 1.4, 6/20).
           Mechanism: fixed-lr inversion 0.38..0.80 (20/20); lr ratio 7.5..21.4
           (median 15.6, 20/20; theory for 4x width: 2, the grid's top end, 10, often
           wins at w 256); tuned gap at k = 1024 0.001..0.039 (20/20).
           Median 65 s wall under load 5-8 (~12 s CPU on one core; over the 60 s
           budget only because of the shared box).
What did not reproduce: (1) fewer random parameters with scale (k90 ratio ~2.3, the
wrong way, on every seed, in every world tried, with lr tuned per width); (2) smaller
spread across random positions with scale. Reproduced: (3) about the same k to beat
random guessing across widths; and the spec's explanation of the original inversion
(a fixed lr starves the wide model; its best lr is ~sqrt(w) larger; tuned, the gap at
k = 1024 closes). Not tested: LoRA / BitFit baselines (the spec's designed-PET arm),
other target transforms, the CUDA path (no GPU drawn for this task).
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

K90 = "k to reach 90% of full FT: widest / narrowest width"
K20 = "k to exceed 2x chance (20%): largest / smallest across widths"
SPREAD = "std across masks at k_mid: widest / narrowest width"
INVERSION = "one fixed lr, k_mid: acc(narrowest) - acc(widest)"
LR_RATIO = "lr adapted with at k_mid: widest / narrowest (>= 0.75 sqrt(width ratio))"
GAP = "tuned lr, largest k: |acc(widest) - acc(narrowest)|"


def _ints(text: str) -> list[int]:
    return sorted({int(v) for v in text.replace(" ", "").split(",") if v})


def _floats(text: str) -> list[float]:
    return sorted({float(v) for v in text.replace(" ", "").split(",") if v})


@dataclass(frozen=True)
class ApetParams(Params):
    widths: str = param("64,256", help="hidden widths w of the pre-trained MLPs "
                                              "(comma-separated)")
    depth: int = param(2, range=(1, 2),
                       help="hidden layers: 1 (64-w-10: the random weights range over the "
                            "whole backbone) or 2 (64-w-w-10: over the last hidden layer)")
    ks: str = param("64,256,1024",
                    help="numbers k of randomly placed trainable weights (comma-separated, "
                         "each <= the narrowest model's pool of weights)")
    k_mid: int = param(256, range=(1, 1 << 20), help="the mid k the spread and lr rows read "
                                                      "(must be in ks)")
    n_masks: int = param(3, range=(1, 10), help="random masks per (width, k)")
    lrs: str = param("0.1,0.3,1,3,10",
                     help="Adam learning rates tried for the sparse weights (comma-separated); "
                          "the validation-best is kept per (width, k)")
    lr_tuning: str = param("per_width", choices=("per_width", "shared"),
                           help="'per_width': each (width, k) keeps its validation-best lr; "
                                "'shared' (the control): every width uses the lr the "
                                "narrowest width picked at that k")
    fixed_lr: float = param(0.1, range=(1e-4, 100.0), log=True,
                            help="the one lr shared by all widths in the fixed-lr "
                                 "inversion row (must be in lrs)")
    ft_lrs: str = param("0.003,0.01", help="Adam learning rates tried for full fine-tuning")
    steps: int = param(120, range=(10, 2000), log=True,
                       help="full-batch Adam steps of every adaptation")
    n_adapt: int = param(600, range=(0, 1078),
                         help="training examples used for adaptation (0: the whole split)")
    pretrain_task: str = param("digits", choices=("digits", "fine"),
                               help="pre-training task: the 10 digits, or the digits plus a "
                                    "head on k-means sub-classes (the harder task)")
    n_sub: int = param(5, range=(2, 20), help="k-means sub-classes per digit ('fine' task)")
    pretrain_steps: int = param(150, range=(10, 5000), log=True,
                                help="full-batch Adam steps of pre-training")
    pretrain_lr: float = param(6e-3, range=(1e-4, 0.1), log=True,
                               help="Adam learning rate of pre-training")
    eval_every: int = param(20, range=(1, 1000), help="steps between accuracy readings")

    def check_consistency(self) -> list[str]:
        out = []
        try:
            ws, ks = _ints(self.widths), _ints(self.ks)
            lrs, fts = _floats(self.lrs), _floats(self.ft_lrs)
        except ValueError:
            return ["widths/ks/lrs/ft_lrs: expected comma-separated numbers"]
        if len(ws) < 2 or min(ws) < 4 or max(ws) > 1024:
            out.append(f"widths: expected at least two widths in [4, 1024], got {self.widths!r}")
        elif not ks or min(ks) < 1 or max(ks) > _pool(self, min(ws)):
            out.append(f"ks: expected values in [1, {_pool(self, min(ws))}] (the narrowest "
                       f"model's pool of weights), got {self.ks!r}")
        if self.k_mid not in ks:
            out.append(f"k_mid: expected one of ks {ks}, got {self.k_mid}")
        if self.fixed_lr not in lrs:
            out.append(f"fixed_lr: expected one of lrs {lrs}, got {self.fixed_lr}")
        if not lrs or min(lrs) <= 0 or not fts or min(fts) <= 0:
            out.append("lrs/ft_lrs: expected positive learning rates")
        return out


def _shape(p: ApetParams, w: int) -> tuple[int, int]:
    """Shape of the weight matrix the random entries are drawn from."""
    return (w, 64) if p.depth == 1 else (w, w)


def _pool(p: ApetParams, w: int) -> int:
    a, b = _shape(p, w)
    return a * b


def total_steps(p: ApetParams) -> int:
    # per width: steps 1..S of its adaptation (offset by width); then one row per k, one
    # per width, and one summary row
    return len(_ints(p.widths)) * p.steps + len(_ints(p.ks)) + len(_ints(p.widths)) + 1


def run(p: ApetParams, ctx: RunContext) -> Iterator[Metric | Note | Table]:
    import numpy as np
    import torch

    from paramlab.engines.data.digits import load_digits
    from paramlab.engines.peft import apet

    widths, ks, lrs, ft_lrs = _ints(p.widths), _ints(p.ks), _floats(p.lrs), _floats(p.ft_lrs)
    dev = ctx.device
    rng = ctx.rng
    X_np, y_np = load_digits()
    tr, va, te = apet.split_indices(ctx.seed, len(y_np))
    if p.n_adapt:
        tr = tr[: p.n_adapt]
    y_target = (y_np + 1) % 10  # the cyclic relabelling: every pre-trained answer is wrong
    X, Xv, Xt = (torch.from_numpy(X_np[i]).to(dev) for i in (tr, va, te))
    y, yv, yt = (torch.from_numpy(y_target[i]).to(dev) for i in (tr, va, te))
    yield Note(f"digits: {len(tr)} adaptation / {len(va)} validation / {len(te)} test; "
               f"target y -> (y + 1) mod 10 with the pre-trained head frozen; widths {widths}, "
               f"k {ks}, {p.n_masks} masks, sparse lrs {lrs} ({p.lr_tuning}), full-FT lrs "
               f"{ft_lrs}; pre-training '{p.pretrain_task}'")

    res: dict[int, dict] = {}
    shared = p.lr_tuning == "shared"
    for wi, w in enumerate(widths):
        recipe = {"width": w, "depth": p.depth, "seed": int(ctx.seed), "steps": p.pretrain_steps,
                  "lr": p.pretrain_lr, "task": p.pretrain_task,
                  "n_sub": p.n_sub if p.pretrain_task == "fine" else 0}
        arrays = ctx.cached(f"apet-mlp-w{w}", recipe, lambda r=recipe: apet.pretrain(r))
        pre_acc = float(np.asarray(arrays["test_acc"]).reshape(-1)[0])
        P = {k: torch.as_tensor(np.asarray(v)).to(dev) for k, v in arrays.items()
             if k != "test_acc"}
        ft_val, ft_test = {}, {}
        for lr in ft_lrs:
            Q = apet.full_finetune(P, X, y, lr, p.steps)
            ft_val[lr], ft_test[lr] = apet.accuracy(Q, Xv, yv), apet.accuracy(Q, Xt, yt)
        ft_lr = max(ft_lrs, key=lambda v: ft_val[v])
        masks, model_lr, keys = [], [], []
        for k in ks:
            for m in range(p.n_masks):
                mask = apet.random_entries(rng, _shape(p, w), k)
                for lr in lrs:
                    masks.append(mask)
                    model_lr.append(lr)
                    keys.append((k, m, lr))
        layer = apet.SparseLastLayer.build(P, masks, model_lr)
        fv, ft = layer.features(Xv), layer.features(Xt)
        idx = {(k, lr): [i for i, key in enumerate(keys) if key[0] == k and key[2] == lr]
               for k in ks for lr in lrs}
        acc_v = acc_t = None
        for t, loss, delta in layer.train(X, y, p.steps):
            row = {"adapt_step": t, "loss": float(loss.mean()), f"loss_w{w}": float(loss.mean())}
            if t % p.eval_every == 0 or t == p.steps:
                acc_v = layer.accuracy(fv, delta, yv).cpu().numpy()
                acc_t = layer.accuracy(ft, delta, yt).cpu().numpy()
                for k in ks:
                    best = (res[widths[0]]["cells"][k]["lr"] if shared and wi else
                            max(lrs, key=lambda v: acc_v[idx[k, v]].mean()))
                    row[f"acc_w{w}_k{k}"] = float(acc_t[idx[k, best]].mean())
                row[f"fullft_w{w}"] = ft_test[ft_lr]
            yield Metric(wi * p.steps + t, row)
            if ctx.should_stop():
                return
        cell = {}
        for k in ks:
            per = {lr: (float(acc_v[idx[k, lr]].mean()), float(acc_t[idx[k, lr]].mean()),
                        float(acc_t[idx[k, lr]].std())) for lr in lrs}
            best = (res[widths[0]]["cells"][k]["lr"] if shared and wi else
                    max(lrs, key=lambda v: per[v][0]))
            cell[k] = {"lr": best, "acc": per[best][1], "std": per[best][2],
                       "by_lr": {lr: per[lr][1] for lr in lrs},
                       "lr_used": best if shared else
                       apet.argmax_log(lrs, [per[lr][0] for lr in lrs])}
        res[w] = {"pre": pre_acc, "ft": ft_test[ft_lr], "ft_lr": ft_lr, "cells": cell}
        yield Note(f"w {w}: pre-trained test acc {pre_acc:.3f}; full FT {ft_test[ft_lr]:.3f} "
                   f"(lr {ft_lr:g}); " + "; ".join(
                       f"k {k}: {c['acc']:.3f} +- {c['std']:.3f} (lr {c['lr']:g})"
                       for k, c in cell.items()))

    # ---- summaries: accuracy vs k, per-width k90 / k20, the scalars the check reads
    base = len(widths) * p.steps + 1
    for i, k in enumerate(ks):
        row = {"k": k}
        for w in widths:
            row[f"tuned_w{w}"] = res[w]["cells"][k]["acc"]
            row[f"fullft_line_w{w}"] = res[w]["ft"]
        yield Metric(base + i, row)
    base += len(ks)
    k90, k20 = {}, {}
    for j, w in enumerate(widths):
        accs = [res[w]["cells"][k]["acc"] for k in ks]
        k90[w] = apet.interp_log_k(ks, accs, 0.9 * res[w]["ft"])
        k20[w] = apet.interp_log_k(ks, accs, 0.2)
        yield Metric(base + j, {"width": w, "k90": k90[w], "k20": k20[w],
                                "mask_std_kmid": res[w]["cells"][p.k_mid]["std"],
                                "lr_used_kmid": res[w]["cells"][p.k_mid]["lr_used"],
                                "full_ft": res[w]["ft"], "pretrain_acc": res[w]["pre"]})
    base += len(widths)
    lo, hi = widths[0], widths[-1]
    k20s = [v if math.isfinite(v) else math.inf for v in k20.values()]
    summary = {
        "k90_ratio": _k_ratio(k90[hi], k90[lo]),
        "k20_spread": _k_ratio(max(k20s), min(k20s)),
        "std_ratio": (res[hi]["cells"][p.k_mid]["std"] / res[lo]["cells"][p.k_mid]["std"]
                      if res[lo]["cells"][p.k_mid]["std"] > 0 else math.nan),
        "fixed_lr_inversion": (res[lo]["cells"][p.k_mid]["by_lr"][p.fixed_lr]
                               - res[hi]["cells"][p.k_mid]["by_lr"][p.fixed_lr]),
        "lr_ratio": (res[hi]["cells"][p.k_mid]["lr_used"]
                     / res[lo]["cells"][p.k_mid]["lr_used"]),
        "width_ratio": hi / lo,
        "tuned_gap_kmax": abs(res[hi]["cells"][ks[-1]]["acc"] - res[lo]["cells"][ks[-1]]["acc"]),
    }
    yield Metric(base, summary)
    yield Table("tuned accuracy (test) by k and width", [f"k={k}" for k in ks] + ["full FT"],
                [f"w={w}" for w in widths],
                [[res[w]["cells"][k]["acc"] for w in widths] for k in ks]
                + [[res[w]["ft"] for w in widths]])
    yield Table("validation-best sparse lr by k and width", [f"k={k}" for k in ks],
                [f"w={w}" for w in widths],
                [[res[w]["cells"][k]["lr"] for w in widths] for k in ks])
    yield Note("k to reach 90% of full FT: " + ", ".join(
        f"w {w}: {k90[w]:.0f}" for w in widths) + "; k to exceed 20%: " + ", ".join(
        f"w {w}: {k20[w]:.0f}" for w in widths) + "; " + ", ".join(
        f"{n} {v:.3g}" for n, v in summary.items()))


def _k_ratio(k_hi: float, k_lo: float) -> float:
    """k90(widest) / k90(narrowest); a k never reached (NaN) counts as infinite."""
    hi = k_hi if math.isfinite(k_hi) else math.inf
    lo = k_lo if math.isfinite(k_lo) else math.inf
    return math.nan if math.isinf(hi) and math.isinf(lo) else hi / lo


def _last(history: History, name: str) -> float:
    return history.last(name) if name in history else math.nan


def check(history: History, p: ApetParams) -> Verdict:
    k90 = _last(history, "k90_ratio")
    criteria = [
        Criterion.at_most(K90, k90, 0.5),
        Criterion.at_most(K20, _last(history, "k20_spread"), 4.0),
        Criterion.at_least(INVERSION, _last(history, "fixed_lr_inversion"), 0.2,
                           tier="mechanism"),
        Criterion.at_most(SPREAD, _last(history, "std_ratio"), 1.0),
        Criterion.at_least(LR_RATIO, _last(history, "lr_ratio"),
                           0.75 * math.sqrt(_last(history, "width_ratio")), tier="mechanism"),
        Criterion.at_most(GAP, _last(history, "tuned_gap_kmax"), 0.05, tier="mechanism"),
    ]
    return Verdict.of(criteria, f"the widest model needs {k90:.2f}x the random weights of "
                      "the narrowest to reach 90% of full FT")


SCENARIO = Scenario(
    params=ApetParams,
    run=run,
    check=check,
    panels=(
        Panel("tuned target accuracy vs k (full-FT lines)", series=("tuned_w*", "fullft_line_w*"),
              x="k", logx=True, xlabel="randomly placed trainable weights k",
              ylabel="test accuracy"),
        Panel("k to reach 90% of full FT vs width", series=("k90", "k20"), x="width",
              logx=True, logy=True, xlabel="width", ylabel="k"),
        Panel("spread across masks at k_mid vs width", series=("mask_std_kmid",), x="width",
              logx=True, xlabel="width", ylabel="std of test accuracy"),
        Panel("target accuracy vs step (val-best lr) per (w, k)", series=("acc_w*",),
              x="adapt_step", xlabel="adaptation step", ylabel="test accuracy"),
    ),
    presets={"quick": {"n_masks": 2, "lrs": "0.1,0.5,3", "ft_lrs": "0.01", "steps": 80,
                       "n_adapt": 400, "eval_every": 20}},
    watch=("loss",),
    key_metric="k90_ratio",
    total_steps=total_steps,
    uses_torch=True,
    notes=__doc__ or "",
    paper_reports="On T5/BERT-family PLMs across many tasks, randomly placed trainable "
                  "parameters (APET) match designed PET methods as the model grows, the "
                  "number of tunable parameters needed to reach full fine-tuning shrinks "
                  "with scale, and about the same number of tunable parameters is needed "
                  "to exceed random-guess performance whatever the task or PET method "
                  "(no numbers in the spec).",
    paper_rows=(
        PaperRow("k to reach ~full-FT performance: larger / smaller model", "< 1, shrinks "
                 "with scale (no number in the spec; spec threshold <= 0.5)", "ratio",
                 "scaling figures (per the spec)", K90),
        PaperRow("k to exceed random guess: spread across models / tasks",
                 "about the same (no number in the spec; spec threshold <= 4x)", "ratio",
                 "threshold-to-beat-random finding (per the spec)", K20),
        PaperRow("spread across random positions: larger / smaller model",
                 "smaller with scale (not reported as a number)", "ratio",
                 "per the spec", SPREAD),
    ),
    threads=2,  # 1.20x on 2 idle cores; values bitwise at 1 vs 2 threads (strict MKL)
    status="does not reproduce",
)
