"""Structured FFN + self-guided training (Wei, Moalla, Pascanu, Gulcehre, NeurIPS 2024).

TODO notes
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
    opt = S.StackedAdam(net)
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
            opt, kinds, ends = opt.select([len(kinds) - 1]), kinds[-1:], ends[-1:]
            net = opt.model
            alpha = alpha[-1:]
        idx = torch.randint(0, p.n_train, (p.batch,), generator=order).to(dev)
        loss = S.per_model_mse(net(x_tr[idx], alpha), y_tr[idx]).sum()
        loss.backward()
        opt.step(torch.tensor([p.lr * S.lr_factor(t, n, p.warmup) for n in ends],
                              device=dev))
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
