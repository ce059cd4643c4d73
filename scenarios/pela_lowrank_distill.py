"""PELA: low-rank compression with distillation (Guo, Wang, Kankanhalli, CVPR 2024,
arXiv 2310.10700).

World (engines/nn/pela.py). sklearn digits (no download): 1000 upright digits upstream,
the other 797 rotated by 90 degrees downstream (ft_labels 200 for fine-tuning, the rest for
test). Teacher MLP 64-H-H-H-10 (H 512; quick 256), full-batch Adam 600 steps (quick 300),
input noise 0.1. The two H x H layers become SVD-initialised low-rank pairs, rank
in*out/(ratio*(in+out)) with the sqrt(S) split of the PELA repo. Arms, each fine-tuned
150 Adam steps (quick 100) on the rotated digits: full teacher, naive truncation (no
intermediate stage), PELA (distill_steps of feature MSE + KL(logits) + wpr*||theta -
theta0||^2, a stand-in for the weight-perturbation regulariser, not verified against the
repo), and at contrast_ratio 24 PELA vs a same-size low-rank model from scratch.

Claim check (thresholds from the spec, fixed before any run):
  paper      acc(PELA) - acc(full) >= -2.0 pts;  PELA params / full <= 0.40
  paper      acc(PELA) - acc(scratch low-rank) >= +3 pts at ratio 24
  mechanism  acc(PELA) - acc(naive truncation) >= -0.5 pt
The quick preset uses ratio 4 because at H 256 ratio 3 keeps 41.6% of the params (the
first and last dense layers weigh more at small width); at H 512 ratio 3 keeps 38%.

Control (tests): ratio 2 keeps more than 40% of the params and fails that criterion.

Measured (quick, seeds 0-2 only -- the deadline left no time for seeds 0-19; ~30 s a
quick run wall-clock on the loaded shared box, ~11 s CPU; the 10 s budget is NOT met):
  W1 quick, ratio 3: PELA - full -0.50..+0.17 pts (median -0.34); PELA - naive
     -0.17..+0.34; params 41.6%; PELA(ratio 24) - scratch -11.9..-5.5 pts (median -8.7).
     Seed 0: full .863, naive .861, PELA .864; ratio 24: PELA .740, scratch .859;
     upstream accuracy right after truncation 1.000 (the teacher is effectively
     low-rank, as the spec found), upstream acc of the ratio-24 student after the
     PELA stage .997.
Verdict: FAIL on every seed tried, because the contrast does not reproduce: a
low-rank model trained from scratch on the 200 rotated digits reaches the full
teacher's accuracy (.859 vs .863), so pre-training buys nothing on rot90 here, and the
rank-5 PELA student (ratio 24) fine-tunes worse than scratch. The spec's prototype had
scratch 81.9/86.6 vs PELA 93.1/91.3; this implementation (scratch init N(0, 1/fan_in),
full-batch Adam lr 1e-3) does not. What does reproduce: at ratio 3-4 PELA stays within
0.5 pt of the full model and of naive truncation (distillation adds nothing: the
truncated teacher is already at 100% upstream).
  W2 default (H 512, ratio 3), seed 0 only: full .958, naive .941, PELA .945 (-1.3 pts
     vs full, +0.4 vs naive, 38% params); ratio 24: PELA .930 vs scratch .910 (+2.0 pts,
     below the +3 threshold): FAIL on the contrast criterion only. 2m04s wall (52 s CPU)
     on the loaded box: over the 60 s default budget.
  W3 (p06 helper 2, resized, teacher through ctx.cached): default H 256 ratio 4, teacher
     400 / distill 200 / FT 100 steps; quick H 256 ratio 4, 300 / 100 / 80.
     Quick seeds 0-1: 7-8.5 s a seed cold (teacher cached after), PELA - full -2.2 / +0.3,
     params 34.8%, PELA - naive 0 / +0.8, PELA(24) - scratch -15.2 / -6.7: FAIL 0/2.
     Tried quick H 128 ratio 5 (200/80/60): 1.2-2.4 s but PELA - full -6.4 / -3.5 (too
     few FT steps at that width), scratch contrast -34.5 / -22.5: rejected.
     The deadline passed before seeds 0-19 could be run on either preset.
Not done: seeds 0-19 on both presets, the default preset, the stability rule, the
label-noise / larger input-noise teacher the spec suggests to make distillation matter,
ctx.cached for the teacher, the GPU path.
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

VS_FULL = "acc(PELA) - acc(full teacher FT), pts"
PARAMS = "PELA params / full params"
VS_NAIVE = "acc(PELA) - acc(naive SVD truncation), pts"
VS_DOWN = "acc(PELA) - acc(same-size low-rank from scratch, same FT) at the contrast ratio, pts"
TRANSFER = "acc(full teacher FT) - acc(full-size MLP from scratch on the downstream data), pts"
CORE = ("full", "naive", "pela", "pela_c", "down_c", "dense_down")
EXTRA = ("rand_c", "eq_c")  # the two stricter from-scratch baselines, shown, not judged


def arms(p) -> tuple[str, ...]:
    return CORE + EXTRA if p.extra_baselines else CORE


def stage2(p) -> tuple[str, ...]:
    return ("pela", "pela_c", "rand_c") if p.extra_baselines else ("pela", "pela_c")


@dataclass(frozen=True)
class PelaParams(Params):
    hidden: int = param(512, range=(64, 1024), log=True, help="hidden width (3 layers)")
    ratio: float = param(3.0, range=(2.0, 32.0), log=True,
                         help="compression ratio of the two hidden x hidden layers")
    contrast_ratio: float = param(24.0, range=(2.0, 64.0), log=True,
                                  help="ratio at which PELA meets the from-scratch models")
    teacher_steps: int = param(400, range=(50, 5000), log=True, help="teacher Adam steps")
    teacher_batch: int = param(250, range=(0, 1000), help="teacher minibatch (0: full batch)")
    distill_steps: int = param(200, range=(0, 2000), help="PELA stage Adam steps")
    ce_w: float = param(1.0, range=(0.0, 10.0), help="stage-2 cross-entropy weight")
    feat_w: float = param(1.0, range=(0.0, 10.0), help="stage-2 feature-MSE weight")
    kd_w: float = param(0.0, range=(0.0, 10.0), help="stage-2 logit-MSE weight (repo: 0)")
    wpr: float = param(1e-2, range=(0.0, 1.0),
                       help="weight-perturbation regulariser (max|BA - W| - eps)^2")
    init: str = param("svd", choices=("svd", "random"),
                      help="low-rank init of PELA (random: the control)")
    shift: str = param("noise", choices=("noise", "rot90"),
                       help="downstream shift of the held-out digits")
    noise_std: float = param(0.35, range=(0.0, 1.0), help="downstream pixel noise (shift noise)")
    ft_labels: int = param(200, range=(50, 597), help="downstream labelled examples")
    ft_steps: int = param(150, range=(10, 2000), log=True, help="downstream FT Adam steps")
    extra_baselines: bool = param(True, help="also run the random-init low-rank model with "
                                  "the same stage 2 and the upstream-trained one (shown)")


def total_steps(p: PelaParams) -> int:
    return p.teacher_steps + len(stage2(p)) * p.distill_steps + len(arms(p)) * p.ft_steps \
        + len(arms(p)) + 1


def run(p: PelaParams, ctx: RunContext) -> Iterator[Metric | Note | Table]:
    import torch

    # denormal floats in Adam's moments slow the rank-5 students ~3x on CPU; flushing
    # them to zero is deterministic. Restored (torch's default: off) when the run ends.
    torch.set_flush_denormal(True)
    try:
        yield from _run(p, ctx)
    finally:
        torch.set_flush_denormal(False)


def _run(p: PelaParams, ctx: RunContext) -> Iterator[Metric | Note | Table]:
    import numpy as np
    import torch

    from paramlab.engines.data import digits
    from paramlab.engines.nn import pela

    s_init, s_g = int(ctx.rng.integers(2**31)), int(ctx.rng.integers(2**31))
    g = torch.Generator().manual_seed(s_g)
    X, y = digits.load_digits()
    perm = ctx.rng.permutation(len(y))
    s_noise = int(ctx.rng.integers(2**31))
    up, down = perm[:1000], perm[1000:]
    if p.shift == "rot90":
        Xd = digits.rot90(X[down])
    else:  # the same pixel noise on the fine-tuning and the test images, drawn once
        nz = np.random.default_rng(s_noise).standard_normal(X[down].shape)
        Xd = (X[down] + p.noise_std * nz).astype(np.float32)
    Xu, yu = torch.as_tensor(X[up]), torch.as_tensor(y[up])
    Xf, yf = torch.as_tensor(Xd[:p.ft_labels]), torch.as_tensor(y[down][:p.ft_labels])
    Xt, yt = torch.as_tensor(Xd[p.ft_labels:]), torch.as_tensor(y[down][p.ft_labels:])
    H = p.hidden
    which = [2, 4]  # the two H x H Linear layers of 64-H-H-H-10
    dims = [64, H, H, H, 10]

    def build() -> dict:  # stage 1, cached: same seeds and split => same teacher
        torch.manual_seed(s_init)
        t_net = pela.mlp(dims)
        tg = torch.Generator().manual_seed(s_g + 1)
        curve = [(t, loss, acc) for t, loss, acc in pela.train(
            t_net, Xu, yu, p.teacher_steps, 1e-3, noise=0.1, gen=tg, batch=p.teacher_batch,
            eval_fn=lambda: pela.accuracy(t_net, Xu, yu))]
        out = {k: v.detach().numpy().copy() for k, v in t_net.state_dict().items()}
        out["curve"] = np.array(curve, dtype=np.float64)
        return out

    arrays = ctx.cached("pela_teacher", {"seeds": [s_init, s_g], "perm": perm[:1000].tolist(),
                                         "hidden": H, "steps": p.teacher_steps,
                                         "batch": p.teacher_batch}, build)
    teacher = pela.mlp(dims)
    teacher.load_state_dict({k: torch.as_tensor(v) for k, v in arrays.items() if k != "curve"})
    for t, loss, acc in arrays["curve"]:
        yield Metric(int(t), {"teacher_loss": float(loss), "teacher_acc": float(acc)})
    step = p.teacher_steps
    teacher.eval()
    for q in teacher.parameters():
        q.requires_grad_(False)

    naive = pela.compress(teacher, p.ratio, which, "svd")
    up_naive = pela.accuracy(naive, Xu, yu)
    pela_init = "random" if p.init == "random" else "svd"
    models = {"full": pela.compress(teacher, 1.0, [], "svd"), "naive": naive,
              "pela": pela.compress(teacher, p.ratio, which, pela_init, gen=g),
              "pela_c": pela.compress(teacher, p.contrast_ratio, which, pela_init, gen=g)}
    if p.extra_baselines:  # the repo's is_approximate=False: random factors, same stage 2
        models["rand_c"] = pela.compress(teacher, p.contrast_ratio, which, "random", gen=g)
    for tag in stage2(p):
        s = models[tag]
        for t, loss in pela.distill(s, teacher, Xu, yu, p.distill_steps, 1e-3, which,
                                    p.ce_w, p.feat_w, p.kd_w, p.wpr):
            yield Metric(step + t, {f"distill_loss_{tag}": loss,
                                    f"upstream_acc_{tag}": pela.accuracy(s, Xu, yu)})
        step += p.distill_steps
    models["down_c"] = pela.compress(teacher, p.contrast_ratio, which, "scratch", gen=g)
    models["dense_down"] = pela.compress(teacher, 1.0, [], "scratch", gen=g)
    if p.extra_baselines:
        eq = pela.compress(teacher, p.contrast_ratio, which, "scratch", gen=g)
        for _ in pela.train(eq, Xu, yu, p.teacher_steps + p.distill_steps, 1e-3, noise=0.1,
                            gen=g, batch=p.teacher_batch, every=10**9):
            pass  # as many upstream steps as teacher + stage 2, cross-entropy only
        models["eq_c"] = eq
    tags = arms(p)
    acc, size = {}, {}
    for tag in tags:
        m = models[tag]
        size[tag] = pela.n_params(m)
        for t, loss, a in pela.train(m, Xf, yf, p.ft_steps, 1e-3, gen=g,
                                     eval_fn=lambda m=m: pela.accuracy(m, Xt, yt)):
            yield Metric(step + t, {f"ft_loss_{tag}": loss, f"acc_{tag}": a})
            acc[tag] = a
        step += p.ft_steps
    for i, tag in enumerate(tags):
        yield Metric(step + 1 + i, {"bar_params": float(size[tag]), "bar_acc": acc[tag]})
    step += len(tags) + 1
    yield Metric(step, {"param_frac": size["pela"] / size["full"],
                        "upstream_acc_naive": up_naive,
                        "d_full": 100 * (acc["pela"] - acc["full"]),
                        "d_naive": 100 * (acc["pela"] - acc["naive"]),
                        "d_down": 100 * (acc["pela_c"] - acc["down_c"]),
                        "transfer": 100 * (acc["full"] - acc["dense_down"]),
                        **({"d_rand": 100 * (acc["pela_c"] - acc["rand_c"]),
                            "d_eq": 100 * (acc["pela_c"] - acc["eq_c"])}
                           if p.extra_baselines else {})})
    yield Table(f"downstream ({p.shift}) test accuracy", list(tags), ["params", "accuracy"],
                [[float(size[k]), acc[k]] for k in tags])
    extra = (f", random-init low-rank with the same stage 2 {acc['rand_c']:.3f}, low-rank "
             f"trained upstream for as many steps {acc['eq_c']:.3f}"
             if p.extra_baselines else "")
    yield Note(f"teacher {size['full']} params; ratio {p.ratio:g}: naive {acc['naive']:.3f} "
               f"PELA {acc['pela']:.3f} vs full {acc['full']:.3f}; ratio "
               f"{p.contrast_ratio:g}: PELA {acc['pela_c']:.3f}, low-rank from scratch on the "
               f"downstream data {acc['down_c']:.3f}{extra}; full-size MLP from scratch "
               f"{acc['dense_down']:.3f}; upstream acc after truncation {up_naive:.3f}")


def check(history: History, p: PelaParams) -> Verdict:
    def last(k: str) -> float:
        return history.last(k) if k in history else math.nan

    criteria = [
        Criterion.at_least(VS_FULL, last("d_full"), -2.0),
        Criterion.at_most(PARAMS, last("param_frac"), 0.40),
        Criterion.at_least(VS_DOWN, last("d_down"), 3.0),
        Criterion.at_least(VS_NAIVE, last("d_naive"), -0.5, tier="mechanism"),
        Criterion.at_least(TRANSFER, last("transfer"), 0.0, tier="mechanism"),
    ]
    shown = (f"; shown: {last('d_rand'):+.1f} vs random-init low-rank with the same stage 2, "
             f"{last('d_eq'):+.1f} vs low-rank trained upstream" if "d_rand" in history else "")
    return Verdict.of(criteria, f"PELA at {last('param_frac'):.0%} params: "
                      f"{last('d_full'):+.1f} pts vs full, {last('d_naive'):+.1f} vs naive; "
                      f"ratio {p.contrast_ratio:g}: {last('d_down'):+.1f} vs low-rank from "
                      f"scratch{shown}")


SCENARIO = Scenario(
    params=PelaParams,
    run=run,
    check=check,
    panels=(
        Panel("stage 1: teacher loss / accuracy", series=("teacher_loss", "teacher_acc"),
              xlabel="step", ylabel="value"),
        Panel("stage 2: distillation loss", series=("distill_loss_*",), xlabel="step",
              ylabel="loss"),
        Panel("stage 2: upstream accuracy of the student", series=("upstream_acc_*",),
              xlabel="step", ylabel="accuracy"),
        Panel("stage 3: downstream test accuracy per FT step", series=("acc_*",),
              xlabel="step", ylabel="test accuracy"),
        Panel("downstream accuracy vs #params", series=("bar_acc",), x="bar_params",
              xlabel="parameters", ylabel="test accuracy"),
    ),
    presets={"quick": {"hidden": 256, "ratio": 4.0, "teacher_steps": 300, "distill_steps": 100,
                       "ft_steps": 80, "extra_baselines": False}},
    watch=("teacher_loss",),
    key_metric="acc_pela",
    total_steps=total_steps,
    uses_torch=True,
    notes=__doc__ or "",
    paper_reports="Replacing every Linear of a pre-trained ViT/Swin/DeiT by an SVD-initialised "
                  "low-rank pair, distilling features from the original with weight-"
                  "perturbation regularisation, then fine-tuning, loses ~0.6 pt on downstream "
                  "tasks with 1/3-2/3 of the parameters.",
    paper_rows=(
        PaperRow("accuracy drop of PELA vs the full model", "~ -0.6 pt", "pts",
                 "abstract / Tab. 1", VS_FULL),
        PaperRow("parameters kept", "1/3 - 2/3", "fraction", "abstract", PARAMS),
        PaperRow("PELA vs plain SVD truncation (no distillation)",
                 "better (ablation; no number in the spec)", "pts", "ablation", VS_NAIVE),
    ),
    status="partly",
)
