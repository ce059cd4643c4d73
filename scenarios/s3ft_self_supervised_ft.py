"""S3FT: fine-tune on the model's own correct answers (Gupta et al. 2025, "Selective
Self-to-Supervised Fine-Tuning for Generalization in Large Language Models", arXiv 2502.08130).

World (engines/peft/self_ft.py): a toy "LM" = MLP 64-128-128-20 over a 20-token vocabulary;
class c has two valid forms, token c (style A, the model's own) and c + 10 (style B, the
annotator's gold). Per replica, sklearn digits are split 50/25/12.5/12.5 (pretrain / general
eval / ft train / ft test); the ft domain is a 1-px right shift plus noise sigma 0.05.
Pre-training: style-A targets, 150 full-batch Adam steps, lr 2e-3 (ctx.cached). Judge: the
pre-trained model's answer mod 10 == label (45-50% of the ft set). SFT trains on the gold
(style B) everywhere; S3FT on the own answer where judged correct, gold elsewhere (option
`fallback=paraphrase`: the gold in style A). Fine-tuning: 200 full-batch Adam steps, lr 1e-3.
Each seed averages `replicas` independent worlds (own split, own init; quick 4, default 12),
all stacked into one batched program. General accuracy counts any valid form.

Claim check (thresholds from the spec, fixed before the runs that judge it):
  paper      general drop ratio S3FT / SFT <= 0.75 (spec's 2nd calibration; paper 0.57)
  paper      ft accuracy(S3FT) - ft accuracy(SFT) >= -1 pt
  mechanism  general drop of SFT >= 20 pt (the world forgets); KL(pre||ft) ratio <= 0.35
Control (test): judge = never (S3FT = SFT): drop ratio 1.00 and KL ratio 1.00, fails
"general drop: S3FT / SFT" (quick seeds 0-4: 0/5).

Measured, seeds 0-19: quick PASS 20/20 (ratio 0.45-0.70, median 0.56; ft gap +1.1..+5.3 pt;
SFT drop 38-45 pt; KL ratio 0.15-0.24; 5.6-10.5 s wall on the loaded 2-core box);
default PASS 20/20 (ratio 0.49-0.68, median 0.56; ft gap +1.5..+4.8; SFT drop 40-44;
KL ratio 0.16-0.24; 13-28 s wall loaded).

Worlds tried (proto of the same engine; seeds 0-19 unless noted):
  W1 one world per seed, shared split, R=4 inits, 200 steps, pretrain 300 @ 1e-3: ratio
     0.44-0.87, <= 0.75 on 18/20 (s12 0.87, s14 0.78); ft gap -1.1..+4.5 (s12 fails).
  W2 as W1 with R=8 inits: ratio 0.44-0.90, <= 0.75 on 17/20: the seed-to-seed spread
     comes from the data split, not the init.
  W3 as W1, 100 ft steps (seeds 0-4): ratio 0.29-0.43 but ft gap +7.6..+13.7 because SFT
     has not yet learnt the new style (under-trained; not shipped).
  W4 one split per replica (shipped), R=4, pretrain 300 @ 1e-3 (seeds 0-18): ratio
     0.41-0.68, ft gap +0.6..+3.8, KL ratio 0.14-0.26. Shipped with pretrain 150 @ 2e-3
     (the same pre-trained accuracy, half the time): numbers above.
  W5 the paper's mild regime, no shift, sigma 0.5, lr 3e-3 (quick, seeds 0-4): SFT drop
     only 7-10 pt, ratio 0.77-1.00 (0/5 pass), ft gap -3.7..+3.4, while KL ratio stays
     0.04-0.05. The spec's calibrations saw the same (sigma 0.3-0.7 without shift: ratio ~1).
Not reproduced: the paper's few-point regime. Here S3FT's accuracy benefit needs a large
domain shift (forgetting of 40 pt, not the paper's 4.4); without it S3FT forgets as much as
SFT, and only the KL drift (partly inflated by the style-B tokens SFT must learn) stays
lower. The spec's 600-step default was replaced by more replicas at 200 steps (the spec saw
ratio up to 0.91 at 600 steps). No GPU run in this session.
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
from paramlab.scenarios.measure import ratio

ARMS = ("sft", "s3ft")
DROP_RATIO = "general drop: S3FT / SFT"
FT_GAP = "ft accuracy: S3FT - SFT (points)"
SFT_DROP = "general drop of SFT (points)"
KL_RATIO = "KL(pre || ft) on general inputs: S3FT / SFT"
RATIO_MAX = 0.75  # the spec's second calibration; the paper's 2.5 / 4.4 = 0.57 "halves"
GAP_MIN = -1.0  # the spec: ft accuracy(S3FT) >= ft accuracy(SFT) - 1 pt
SFT_DROP_MIN = 20.0  # the spec: the world must forget (calibrated drops 37-55 pt)
KL_MAX = 0.35  # the spec's primary mechanism criterion (calibrated 0.12-0.31)


@dataclass(frozen=True)
class S3ftParams(Params):
    replicas: int = param(4, range=(1, 32), log=True,
                          help="independent worlds per seed (own split, own init), averaged")
    steps: int = param(200, range=(10, 2000), log=True, help="fine-tuning steps (full-batch Adam)")
    lr: float = param(1e-3, range=(1e-4, 1e-1), log=True, help="fine-tuning learning rate")
    sigma: float = param(0.05, range=(0.0, 1.0), help="noise on the fine-tuning domain")
    shift: int = param(1, range=(0, 3), help="pixel shift of the fine-tuning domain")
    width: int = param(128, range=(16, 512), log=True, help="width of both hidden layers")
    pretrain_steps: int = param(150, range=(50, 2000), log=True,
                                help="pre-training steps (style-A targets, full-batch Adam)")
    pretrain_lr: float = param(2e-3, range=(1e-4, 1e-1), log=True, help="pre-training lr")
    judge: str = param("pretrained", choices=("pretrained", "never"),
                       help="the judge: own answer means the gold (pretrained) or always "
                            "wrong (never: S3FT = SFT, the control)")
    fallback: str = param("gold", choices=("gold", "paraphrase"),
                          help="S3FT target where the own answer is wrong: the gold (style B) "
                               "or the gold in the model's style A")
    style_shift: str = param("on", choices=("on", "off"),
                             help="gold in the annotator's style B (on) or the model's style A")
    every: int = param(10, range=(1, 100), help="evaluate every this many steps")


def run(p: S3ftParams, ctx: RunContext) -> Iterator[Metric | Note | Table]:
    import torch

    from paramlab.engines.peft import self_ft as sf

    seed = int(ctx.rng.integers(2**31 - 1))
    recipe = {"seed": seed, "shift": p.shift, "sigma": p.sigma, "replicas": p.replicas,
              "width": p.width, "steps": p.pretrain_steps, "lr": p.pretrain_lr}
    arr = ctx.cached("s3ft_pretrained", recipe, lambda: sf.pretrain(recipe))
    dev = ctx.device
    pre = [torch.from_numpy(arr[k]).to(dev) for k in sf.NAMES]
    w = sf.worlds(seed, p.replicas, p.shift, p.sigma)
    t = {k: torch.from_numpy(v).to(dev) for k, v in w.items()}
    R, V = p.replicas, len(ARMS)

    def rep(x: torch.Tensor) -> torch.Tensor:
        return x.repeat(V, *([1] * (x.dim() - 1)))

    with torch.no_grad():
        own, correct = sf.judge(sf.forward(pre, t["X_ft"]), t["y_ft"])
        if p.judge == "never":
            correct = torch.zeros_like(correct)
        shift_on = p.style_shift == "on"
        rule = "s3ft" if p.fallback == "gold" else "para"
        tg = torch.cat([sf.targets("sft", own, correct, t["y_ft"], shift_on),
                        sf.targets(rule, own, correct, t["y_ft"], shift_on)])
        pre_gen = sf.forward(pre, t["X_gen"])
        gen0 = sf.valid_acc(pre_gen, t["y_gen"]).mean().item()
        ft0 = sf.valid_acc(sf.forward(pre, t["X_test"]), t["y_test"]).mean().item()
    yield Note(f"pre-trained: general accuracy {gen0:.3f}, ft-test accuracy {ft0:.3f}; judge "
               f"keeps the own answer on {correct.float().mean().item():.1%} of the ft set")
    Xg, yg, Xt, yt, pg = rep(t["X_gen"]), rep(t["y_gen"]), rep(t["X_test"]), rep(t["y_test"]), \
        rep(pre_gen)
    rows: list[Metric] = []

    def evaluate(step: int, ps: list[torch.Tensor]) -> None:
        lg = sf.forward(ps, Xg)
        g = sf.valid_acc(lg, yg).reshape(V, R).mean(1)
        f = sf.valid_acc(sf.forward(ps, Xt), yt).reshape(V, R).mean(1)
        k = sf.kl(pg, lg).reshape(V, R).mean(1)
        vals: dict[str, float] = {}
        for i, a in enumerate(ARMS):
            vals[f"gen_acc_{a}"] = g[i].item()
            vals[f"ft_acc_{a}"] = f[i].item()
            vals[f"drop_{a}"] = 100 * (gen0 - g[i].item())
            vals[f"kl_{a}"] = k[i].item()
        rows.append(Metric(step, vals))

    ps = sf.train([rep(x) for x in pre], rep(t["X_ft"]), tg, p.steps, p.lr, p.every, evaluate)
    del ps
    yield from rows
    last = rows[-1].values
    yield Table("drop vs gain", rows=ARMS, columns=("general drop (pt)", "ft gain (pt)"),
                cells=[[last[f"drop_{a}"], 100 * (last[f"ft_acc_{a}"] - ft0)] for a in ARMS])


def check(history: History, p: S3ftParams) -> Verdict:
    d_sft, d_s3 = history.last("drop_sft"), history.last("drop_s3ft")
    gap = 100 * (history.last("ft_acc_s3ft") - history.last("ft_acc_sft"))
    kl = ratio(history.last("kl_s3ft"), history.last("kl_sft"))
    dr = ratio(d_s3, d_sft)
    criteria = (
        Criterion.at_most(DROP_RATIO, dr, RATIO_MAX),
        Criterion.at_least(FT_GAP, gap, GAP_MIN),
        Criterion.at_least(SFT_DROP, d_sft, SFT_DROP_MIN, tier="mechanism"),
        Criterion.at_most(KL_RATIO, kl, KL_MAX, tier="mechanism"),
    )
    return Verdict.of(criteria, f"S3FT loses {d_s3:.1f} pt of general accuracy vs SFT's "
                                f"{d_sft:.1f} (ratio {dr:.2f}) at ft accuracy {gap:+.1f} pt")


SCENARIO = Scenario(
    params=S3ftParams,
    run=run,
    check=check,
    panels=(
        Panel("general accuracy", series=("gen_acc_*",)),
        Panel("ft-task accuracy", series=("ft_acc_*",)),
        Panel("KL(pre || current) on general inputs", series=("kl_*",)),
        Panel("general drop vs ft gain", kind="bars", table="drop vs gain"),
    ),
    presets={"quick": {"replicas": 4}, "default": {"replicas": 12}},
    watch=("kl_sft", "kl_s3ft"),
    key_metric="drop_s3ft",
    total_steps=lambda p: p.steps,
    threads=2,  # 1.15x faster on 2 idle cores than on 1 (bench_threads, quick)
    notes=__doc__ or "",
    paper_reports="SFT loses up to 4.4 points on general benchmarks (MMLU, TruthfulQA, ...); "
                  "S3FT halves the drop to 2.5 points while scoring higher on the fine-tuning "
                  "task.",
    paper_rows=(
        PaperRow("general drop, S3FT / SFT", "2.5 / 4.4 = 0.57", "ratio", "abstract",
                 DROP_RATIO),
        PaperRow("ft-task accuracy, S3FT - SFT", "> 0 (higher)", "points", "abstract", FT_GAP),
        PaperRow("general drop of SFT", "up to 4.4", "points", "abstract", SFT_DROP),
        PaperRow("KL drift, S3FT / SFT", "not reported", "ratio", "", KL_RATIO),
    ),
    status="partly",
)
