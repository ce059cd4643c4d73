"""Structured FFN + self-guided training (Wei, Moalla, Pascanu, Gulcehre, NeurIPS 2024).

The paper's claim: FFNs with low-rank (or block-diagonal) weights cut parameters and FLOPs
but train poorly from initialisation; self-guided training (SGT) fixes this by blending in
a dense guide, W_eff = alpha M + (1 - alpha) W_struct, with alpha annealed 1 -> 0 over the
first part of training (M then dropped). Paper-tier claim checked here: at EQUAL STEPS,
SGT lowers the low-rank network's loss.

Toy world (spec P34, "Update: calibration", calibration 1, as built;
engines/nn/structured_ffn.py). Regression teacher: a random dense residual MLP on
x ~ N(0, I_32), 4 blocks h <- h + W2 gelu(W1 LN(h) + b1), hidden 128, weights
N(0, 4/fan_in) (gain 2), b1 ~ N(0, 0.25), readout 32 -> 16; targets standardised per
output, no noise; 16,384 training inputs (batches drawn with replacement), 4,096 fresh
validation inputs (quick: 2,048). Student: Linear 32 -> d = 32, 4 blocks
h <- h + W2 gelu(W1 LN(h) + b1), LN, Linear 32 -> 16. Variants, trained side by side in
one stacked program (one (K, P) parameter, per-model Adam) on the same batches; the
low-rank ones from one shared init (a paired comparison):
    dense      hidden 4d = 128: 8,320 FFN params/block (W1, W2, b1), 8,192 MACs/sample
    low-rank   hidden 8d = 256, W1 = B1 A1 and W2 = B2 A2 of rank 14: 8,320 params
               (equal), 8,064 MACs; factors from the SVD of a N(0, 1/fan_in) matrix
               (B = U sqrt(S), A = sqrt(S) Vh, the repo's init)
    + SGT      guide M per matrix initialised to B A; alpha = (1 + cos(pi t / T)) / 2 for
               t < T = 0.3 steps, then 0 (the loss is read at alpha = 0: a purely low-rank
               model). alpha M + (1 - alpha) B A is materialised per step; it equals the
               repo's two-branch form and its gradients (tested)
    + step     alpha = 1 for 0.3 steps, then a hard switch to 0 (contrast)
    FLOP-match plain low-rank trained for steps * (1 + 0.3 d h / (r (d + h))) = 1.61x steps
               (966 / 483): SGT's guide phase computes x M^T beside the factored product
               (24,448 vs 8,064 MACs, 3.03x) - the repo's two-branch cost
Adam lr 3e-3, 50-step linear warm-up then cosine to 0, batch 128; default 600 steps, quick
300. Loss = val MSE on standardised targets.

Claim check (thresholds fixed from the spec's calibration before seeds 0-19):
  paper     SGT gain = 1 - L(low-rank + SGT) / L(low-rank) >= 0.04 at equal steps (the
            spec's common threshold for <= 600 steps; its measured 0.055-0.084 default,
            0.076-0.079 quick, cal. 1, seeds 0-2)
  mechanism train-loss gain >= 0.02 (SGT is an optimisation effect, not regularisation)
            L(low-rank) / L(dense) >= 1 at equal params (the pathology SGT addresses)
            L(step) / L(SGT) >= 1.02 (the gradual hand-over matters, not just a dense start)
  reported  L(plain low-rank at SGT's FLOPs) / L(SGT) >= 1 - the FLOP-matched comparison,
            mechanism tier so it does not decide the verdict; it FAILS on every seed (did
            not reproduce, as in both spec calibrations)
Control: schedule = "step" (alpha 1 then a hard switch to 0 at 0.3 steps) as the SGT run:
the gain is negative and the paper criterion fails (tests/test_structured_ffn_sgt.py);
schedule = "none" gives gain exactly 0 (the guide gets no gradient; tested).

Worlds tried (seeds 0-19 unless said otherwise; L = val MSE on standardised targets)
1. Shipped world above (the spec's calibration 1 design, d = 32), quick (300 steps):
   20/20 PASS. Gain 0.090-0.132 (median 0.108; spec cal. 1 seeds 0-2: 0.076-0.079);
   train-loss gain 0.096-0.146; step / SGT 1.114-1.174 (the step schedule is also worse
   than plain low-rank, as in the spec); L(low-rank) / L(dense) 0.980-1.122 (median 1.041;
   17/20 >= 1: at 300 steps the structured-vs-dense gap is small, spec 1.03-1.09);
   FLOP-matched low-rank / SGT 0.939-0.978 (0/20 >= 1: plain low-rank with SGT's FLOPs wins
   by 2-6 %). Seed 0: dense 0.276, low-rank 0.296, SGT 0.265, step 0.299, FLOP-matched
   0.255 (n_val 4,096 in that read-out).
   Default (600 steps): 20/20 PASS. Gain 0.079-0.134 (median 0.100; spec cal. 1
   0.055-0.084); train-loss gain 0.100-0.141; step / SGT 1.136-1.212; L(low-rank) /
   L(dense) 1.035-1.197 (median 1.103, 20/20 >= 1); FLOP-matched low-rank / SGT
   0.939-0.984 (median 0.952, 0/20 >= 1). Seed 0: dense 0.211, low-rank 0.236, SGT 0.213,
   step 0.246, FLOP-matched 0.201 (SGT nearly closes the gap to dense at equal steps).
2. Implementation, not a world: a first version trained the FLOP-matched run as a second
   stack and used torch.optim.Adam over 13 tensors (about 11 ms per 4-model step plus
   6.5 ms per 1-model step on the loaded box); one (K, P) parameter with a per-model-lr Adam
   (checked against torch.optim.Adam in the tests) and the FLOP-matched run inside the same
   stack brought quick to about 6.5-7.5 s CPU per seed (wall 17 s median on the 2-core box
   under a load of 6-7), default about 13-15 s CPU. The d = 64 redesign of the spec was not
   repeated (the spec measured the same picture at 4-8x the CPU).
The spec's calibration 2 world (teacher with a 32 -> 64 input map, hidden 256, 1,500 steps)
was not rebuilt: its numbers are in the spec (gain 0.037-0.072 at 1,500 steps: the gain
shrinks with training length, so the 0.04 threshold is for <= 600 steps only).

What did not reproduce (reported, not decided):
- SGT is not FLOP-free: plain low-rank trained for SGT's FLOPs (1.61x steps) beats SGT on
  every seed (quick 2-6 %, default 2-6 %, median 4.8 %), as in both spec calibrations (6.7-9.2 %
  and 5.8-16 %). The paper's own comparison is structured + SGT vs dense at equal FLOPs.
- "Wide low-rank <= 1.10 x dense at equal params" (spec claim 2): here L(low-rank)/L(dense)
  is 1.035-1.197 (median 1.10) at 600 steps (spec 1.12-1.13), so it fails; shown as a mechanism read
  (>= 1, the pathology SGT addresses), not asserted as <= 1.10.
- Block-diagonal FFNs (spec variant (c)) are not built: they need a 16d-wide hidden layer
  (2x this stack's cost) and the spec's two calibrations disagree on their SGT gain
  (+0.9 ... +8.7 % depending on a channel shuffle). The paper's LM setting, perplexities and
  the scaling-law claim ("steeper scaling curves") are out of reach at this scale.
"""

from __future__ import annotations

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
from paramlab.scenarios.measure import last, ratio

GAIN_MIN = 0.04  # spec calibration: min over both calibrations at <= 600 steps (measured 0.055)
TRAIN_GAIN_MIN = 0.02
STEP_RATIO_MIN = 1.02
VARIANTS = ("dense", "lowrank", "sgt", "step")  # the equal-steps stack; "long" trains apart
LABELS = {"dense": "dense (hidden 4d)", "lowrank": "low-rank (plain)",
          "sgt": "low-rank + SGT", "step": "low-rank + step schedule",
          "long": "low-rank, FLOP-matched steps"}
CRIT_GAIN = "SGT gain at equal steps, 1 - L(low-rank + SGT) / L(low-rank)"
CRIT_TRAIN = "SGT train-loss gain at equal steps (optimisation, not regularisation)"
CRIT_GAP = "L(low-rank) / L(dense) at equal params (structured trains worse)"
CRIT_STEP = "L(step schedule) / L(SGT): the gradual hand-over matters"
CRIT_FLOP = ("L(low-rank, SGT's FLOPs) / L(SGT) >= 1: SGT beats plain low-rank at equal "
             "FLOPs (reported; did not reproduce)")


@dataclass(frozen=True)
class StructuredFfnSgtParams(Params):
    steps: int = param(600, range=(50, 5_000), log=True, help="Adam steps (equal for all "
                       "variants except the FLOP-matched low-rank run)")
    schedule: str = param("cosine", choices=("cosine", "linear", "step", "none"),
                          help="SGT schedule of alpha (step / none: broken variants)")
    sgt_frac: float = param(0.3, range=(0.05, 0.8), help="guide phase T_sgt / steps")
    d: int = param(32, range=(8, 64), help="model dimension d (also input dimension)")
    depth: int = param(4, range=(1, 8), help="FFN blocks")
    width: int = param(8, range=(2, 16), help="low-rank hidden width h = width * d "
                       "(dense hidden is 4d)")
    rank: int = param(14, range=(1, 64), help="rank r of both low-rank FFN matrices")
    lr: float = param(3e-3, range=(1e-4, 3e-2), log=True, help="Adam learning rate")
    warmup: int = param(50, range=(0, 1_000), help="linear warm-up steps, then cosine to 0")
    batch: int = param(128, range=(16, 1024), log=True, help="batch size")
    n_train: int = param(16_384, range=(1_024, 131_072), log=True, help="training pool")
    n_val: int = param(4_096, range=(512, 32_768), log=True, help="validation samples")
    teacher_hidden: int = param(128, range=(16, 1_024), log=True,
                                help="teacher FFN hidden width")
    teacher_gain: float = param(2.0, range=(0.5, 4.0), help="teacher weight gain")
    evals: int = param(12, range=(2, 200), help="evaluations along training")

    def check_consistency(self) -> list[str]:
        if self.warmup >= self.steps:
            return [f"warmup: must be below steps ({self.steps}), got {self.warmup}"]
        return []


def run(p: StructuredFfnSgtParams, ctx: RunContext) -> Iterator[Metric | Table | Note]:
    import numpy as np
    import torch

    from paramlab.engines.lm.stacked_train import StackedAdamW
    from paramlab.engines.nn import structured_ffn as S

    dev = ctx.device
    seeds = ctx.rng.integers(0, 2**31 - 1, size=3)
    d, d_out, h = p.d, 16, p.width * p.d
    t_sgt = p.sgt_frac * p.steps
    long_steps = S.flop_matched_steps(p.steps, d, h, p.rank, p.sgt_frac)

    teacher = S.Teacher.draw(torch.Generator().manual_seed(int(seeds[0])), d, d_out,
                             p.depth, p.teacher_hidden, gain=p.teacher_gain)
    x_tr, y_tr, x_va, y_va = S.teacher_data(torch.Generator().manual_seed(int(seeds[1])),
                                            teacher, p.n_train, p.n_val)
    x_tr, y_tr, x_va, y_va = (t.to(dev) for t in (x_tr, y_tr, x_va, y_va))
    x_fit, y_fit = x_tr[:p.n_val], y_tr[:p.n_val]

    # one stack: dense, plain, SGT, step, long (the structured ones share one init and all
    # read the same batches); after `steps` only the long (FLOP-matched) run goes on
    gen = torch.Generator().manual_seed(int(seeds[2]))
    net = S.StackedFFN(gen, dense=[True, False, False, False, False],
                       hidden_k=[4 * d, h, h, h, h], d_in=d, d=d, d_out=d_out,
                       depth=p.depth, hidden=h, rank=p.rank)
    S.tie_init(net, source=1, targets=[2, 3, 4])
    net = net.to(dev)
    opt = StackedAdamW([net.flat], weight_decay=0.0)  # Adam, one lr per model (set per step)
    kinds = ["dense", "none", p.schedule, "step", "none"]
    ends = [p.steps] * 4 + [long_steps]
    budget = {"dense": S.ffn_params(d, 4 * d, None), "lowrank": S.ffn_params(d, h, p.rank)}
    macs = {"dense": S.ffn_macs(d, 4 * d, None), "lowrank": S.ffn_macs(d, h, p.rank),
            "guide": S.ffn_macs(d, h, None) + S.ffn_macs(d, h, p.rank)}
    yield Note(f"per FFN block: dense (hidden {4 * d}) {budget['dense']} params, "
               f"{macs['dense']} MACs/sample; low-rank (hidden {h}, rank {p.rank}) "
               f"{budget['lowrank']} params, {macs['lowrank']} MACs; guide phase "
               f"{macs['guide']} MACs ({macs['guide'] / macs['lowrank']:.2f}x low-rank)")
    yield Note(f"SGT schedule {p.schedule}, T_sgt = {t_sgt:.0f} of {p.steps} steps; "
               f"FLOP-matched plain low-rank: {long_steps} steps")

    order = torch.Generator().manual_seed(int(seeds[2]) + 1)
    # one grid for both (every steps / evals steps), so no extra 5-model evaluations
    every = p.steps / p.evals
    eval_main = set(np.unique(np.linspace(0, p.steps, p.evals + 1).round().astype(int)))
    eval_long = {int(round(j * every)) for j in range(int(long_steps / every) + 1)}
    eval_long = {t for t in eval_long if t <= long_steps} | {long_steps}
    final: dict[str, float] = {}
    for t in range(long_steps + 1):
        alpha = torch.tensor([S.sgt_alpha(k, t, t_sgt) for k in kinds], device=dev)
        vals: dict[str, float] = {}
        if t in eval_main | eval_long:
            va = S.evaluate(net, alpha, x_va, y_va).tolist()
            if t in eval_long:
                vals["val_long"] = final["long"] = va[-1]
        if t in eval_main:
            vals |= {f"val_{v}": x for v, x in zip(VARIANTS, va)}
            vals["alpha_sgt"] = float(alpha[2])
            if t == p.steps:  # alpha = 0 here: the SGT model is purely low-rank
                final |= dict(zip(VARIANTS, va))
                fit = S.evaluate(net, alpha, x_fit, y_fit).tolist()
                vals |= {"train_lowrank": fit[1], "train_sgt": fit[2]}
        if vals:
            yield Metric(t, vals)
        if t == long_steps or ctx.should_stop():
            break
        if t == p.steps:  # the equal-steps runs are done: keep the long run alone
            keep = [len(kinds) - 1]
            net = S.select(net, keep)
            opt, kinds, ends = opt.select([net.flat], keep), kinds[-1:], ends[-1:]
            alpha = alpha[-1:]
        idx = torch.randint(0, p.n_train, (p.batch,), generator=order).to(dev)
        loss = S.per_model_mse(net(x_tr[idx], alpha), y_tr[idx]).sum()
        loss.backward()
        opt.lr = torch.tensor([p.lr * S.lr_factor(t, n, p.warmup) for n in ends], device=dev)
        opt.step()
        opt.zero_grad()
    if len(final) == 5:
        rows = [*VARIANTS, "long"]
        yield Table("final validation loss", [LABELS[r] for r in rows], ["val MSE"],
                    [[final[r]] for r in rows])


def _last(h: History, name: str) -> float:
    try:
        return last(h.series(name)[1])
    except KeyError:
        return float("nan")


def _at_steps(h: History, name: str, p: StructuredFfnSgtParams) -> float:
    try:
        return h.at(name, p.steps)
    except KeyError:
        return float("nan")


def check(history: History, p: StructuredFfnSgtParams) -> Verdict:
    L = {v: _at_steps(history, f"val_{v}", p) for v in VARIANTS}
    L["long"] = _last(history, "val_long")
    gain = 1.0 - ratio(L["sgt"], L["lowrank"])
    train_gain = 1.0 - ratio(_last(history, "train_sgt"), _last(history, "train_lowrank"))
    gap = ratio(L["lowrank"], L["dense"])
    criteria = (
        Criterion.at_least(CRIT_GAIN, gain, GAIN_MIN),
        Criterion.at_least(CRIT_TRAIN, train_gain, TRAIN_GAIN_MIN, tier="mechanism"),
        Criterion.at_least(CRIT_GAP, gap, 1.0, tier="mechanism"),
        Criterion.at_least(CRIT_STEP, ratio(L["step"], L["sgt"]), STEP_RATIO_MIN,
                           tier="mechanism"),
        Criterion.at_least(CRIT_FLOP, ratio(L["long"], L["sgt"]), 1.0, tier="mechanism"),
    )
    return Verdict.of(criteria, f"at equal steps SGT lowers the low-rank FFN's val loss by "
                      f"{100 * gain:.1f}% (L {L['lowrank']:.4f} -> {L['sgt']:.4f}; dense "
                      f"{L['dense']:.4f}); plain low-rank given SGT's FLOPs reaches "
                      f"{L['long']:.4f}")


def _total_steps(p: StructuredFfnSgtParams) -> int:
    """The last Metric's step: the end of the FLOP-matched low-rank run."""
    from paramlab.engines.nn.structured_ffn import flop_matched_steps

    return flop_matched_steps(p.steps, p.d, p.width * p.d, p.rank, p.sgt_frac)


SCENARIO = Scenario(
    params=StructuredFfnSgtParams,
    run=run,
    check=check,
    panels=(
        Panel("validation MSE (equal steps; low-rank long = SGT's FLOPs)",
              series=("val_dense", "val_lowrank", "val_sgt", "val_step", "val_long"),
              logy=True, ylabel="MSE (standardised targets)",
              labels={f"val_{k}": v for k, v in LABELS.items()}),
        Panel("guide weight alpha(t) of the SGT run", series=("alpha_sgt",)),
        Panel("final validation loss per variant", kind="bars",
              table="final validation loss"),
    ),
    presets={"quick": {"steps": 300, "evals": 6, "n_val": 2048}},
    watch=("val_lowrank", "val_sgt"),
    key_metric="val_sgt",
    total_steps=_total_steps,
    uses_torch=True,
    threads=2,  # 1.43x faster on 2 idle cores than on 1 (bench_threads, quick)
    notes=__doc__ or "",
    paper_reports="GPT-style LMs (up to 1.3B) on RefinedWeb: structured (low-rank, block) FFNs "
                  "train poorly from initialisation; self-guided training lowers their "
                  "perplexity, and with SGT structured FFNs at 32% FFN params (2.5x faster) "
                  "cost only +0.4 PPL vs dense at the same training FLOPs.",
    paper_rows=(
        PaperRow("SGT gain for a low-rank FFN at equal training tokens",
                 "not reported as one number (lower PPL for every structure)", "rel. loss",
                 "Sec. 4, Table 3 / Fig. 5", CRIT_GAIN),
        PaperRow("structured (equal params here) vs dense loss", "+0.4 PPL with SGT at 32% "
                 "FFN params, same FLOPs", "ratio", "abstract", CRIT_GAP),
        PaperRow("SGT vs plain low-rank at equal FLOPs (guide overhead counted)",
                 "not reported (guide overhead called small)", "ratio", "Sec. 4",
                 CRIT_FLOP),
    ),
    status="partly",
)
