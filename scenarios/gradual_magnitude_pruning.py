"""Large-sparse beats small-dense at equal non-zeros (Zhu & Gupta 2017, gradual magnitude
pruning).

Task (the spec's second, width-limited design): teacher-student regression, x in R^64 ~
N(0, I), y = a random ReLU teacher with 256 units each reading only `teacher_fan_in` = 4
random inputs (bias 0.3 N(0,1), output weights N(0, 1/256)), standardized; 8k train / 4k
test. Students (the shared MLP and torch loop), all trained with Adam (lr 3e-3, batch
256), learning rate constant until pruning ends, then cosine to 0:

    large-sparse   64 -> 512 -> 1, input layer pruned with the cubic schedule
                   s_t = s_f (1 - (1 - (t - t0)/(n dt))^3) (Zhu & Gupta eq. 1), from 5% to
                   50% of training in 20 events, per-layer magnitude threshold, masks on
                   weights and gradients; the output layer stays dense (counted in nnz)
    small-dense    64 -> h -> 1 with h (64 + 1) = nnz of the large-sparse model (contrast)
    one-shot       the large dense model pruned to s_f at the end, without retraining
    large-dense    64 -> 512 -> 1, never pruned (reference)

for s_f in {0.5, 0.75, 0.9}. Claim check (spec update, calibrated on seeds 0-2): paper
tier, test MSE ratio large-sparse / small-dense <= 1.00 at s = 0.5, <= 0.90 at 0.75,
<= 0.75 at 0.9; mechanism tier, one-shot MSE >= 1.5x gradual at every checked s.
(Sparsities outside this set are shown but not checked.)

Tier change (issue 11): "one-shot / gradual >= 1.5" was a paper criterion and made the
default 17/20 PASS on seeds 0-19 (at s = 0.5 the ratio is 1.36-1.77, median 1.58; every
other paper criterion 20/20). Zhu & Gupta report no one-shot-without-retraining
comparison: their claim is large-sparse vs small-dense at equal memory (the paper row
for one-shot reads "not reported"). The one-shot model is the spec's naive variant,
i.e. a control of the mechanism (pruning has to be gradual, with training in between),
so it now sits in the mechanism tier at the same 1.5 threshold, shown beside the
verdict. The large-sparse / small-dense thresholds are unchanged.

Measured (seeds 0-2, default, 30-36 one-thread CPU s on a loaded 2-core box): ratio
0.92/0.91/0.90 at s = 0.5, 0.79/0.83/0.81 at 0.75, 0.51/0.50/0.49 at 0.9 (the spec's
0.58/0.49/0.50); one-shot / gradual 1.63/1.61/1.50 at 0.5, 3.3-4.2 at 0.75, 9-13 at 0.9.
One-shot pruning of half the input weights costs only 1.3-1.8x here, so the mechanism
read at s = 0.5 has no margin (a first version moved it to the mechanism tier on seeds 0-2
alone and was reverted; it moved for good on the paper's own content, see above); at
s >= 0.75 it holds with a wide margin. The quick preset (400 steps,
sparsities 0.75 and 0.9 only, to fit 10 s: the 64 x 512 networks dominate the time, plus
about 2 s of fixed cost, mostly torch.optim's first-use import of torch._dynamo) keeps the
default thresholds; seeds 0-2 at 400 steps (7.6-8.1 s run time in `paramlab check` on one
thread; 500 steps took 8.4-9.1 s, 800 steps 12.0-12.5 s): ratio 0.80/0.78/0.87 at 0.75
and 0.56/0.62/0.54 at 0.9, one-shot 2.2-6.3x (at 500 steps: 0.82/0.77/0.87,
0.59/0.63/0.58, 2.4-6.8x; at 800: 0.80/0.80/0.85, 0.60/0.64/0.59, 2.8-8.9x); seed 2's
0.87 at 0.75 is close to the 0.90 threshold at every step count. Each model draws its
init and batches from its own generator, so its numbers do not depend on which other
sparsities run beside it. Controls (quick at 800 steps, seed 0): prune_output=true
gives ratio 1.00 at 0.75 and 1.35 at 0.9 (fails, as the spec's 1.23-1.29);
teacher_fan_in=64 gives 0.91 and 0.99 (fails: the effect needs a width-limited teacher).

Broken variants that must fail: `prune_output=true` (the output layer is pruned too: live
hidden units are capped near the small-dense width; the spec measured ratio 1.23-1.29 at
s = 0.9), and the one-shot model itself. `teacher_fan_in` is the knob that sets the effect
size: with a dense-fan-in teacher (64) the spec measured ratios 0.98/0.85/0.95, i.e. the
claim does not hold there. The first calibration with a dense 16-512 teacher and every
layer pruned also did not reproduce (small-dense won); the effect needs a width-limited
target.
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

RATIO_LIMITS = {0.5: 1.00, 0.75: 0.90, 0.9: 0.75}
SPARSITY_SETS = {"0.5,0.75,0.9": (0.5, 0.75, 0.9), "0.75,0.9": (0.75, 0.9), "0.9": (0.9,),
                 "0.5,0.75,0.9,0.95": (0.5, 0.75, 0.9, 0.95)}
LOG_EVERY = 10


@dataclass(frozen=True)
class PruningParams(Params):
    sparsities: str = param("0.5,0.75,0.9", choices=tuple(SPARSITY_SETS),
                            help="final sparsities s_f of the input layer")
    width: int = param(512, range=(64, 1024), help="hidden width W of the large model")
    d: int = param(64, range=(8, 256), help="input dimension")
    teacher_width: int = param(256, range=(16, 2048), help="teacher hidden units")
    teacher_fan_in: int = param(4, range=(1, 256),
                                help="inputs per teacher unit (d = dense control)")
    n_train: int = param(8000, range=(500, 50000), help="training examples")
    steps: int = param(2000, range=(100, 20000), help="optimizer steps of every model")
    batch_size: int = param(256, range=(16, 4096), help="mini-batch size")
    lr: float = param(3e-3, range=(1e-4, 1e-1), log=True, help="Adam learning rate")
    prune_start: float = param(0.05, range=(0.0, 0.9), help="first pruning step / steps")
    prune_end: float = param(0.5, range=(0.05, 1.0), help="last pruning step / steps")
    events: int = param(20, range=(1, 200), help="number of pruning events")
    power: float = param(3.0, range=(1.0, 6.0), help="exponent of the sparsity schedule")
    prune_output: bool = param(False, help="also prune the output layer (broken variant)")

    def check_consistency(self) -> list[str]:
        out = []
        if self.teacher_fan_in > self.d:
            out.append(f"teacher_fan_in: must be <= d ({self.d}), got {self.teacher_fan_in}")
        if self.prune_end <= self.prune_start:
            out.append(f"prune_end: must be > prune_start ({self.prune_start}), "
                       f"got {self.prune_end}")
        return out


def run(p: PruningParams, ctx: RunContext) -> Iterator[Metric | Note | Table]:
    import copy
    import math

    import torch

    from paramlab.engines.nn import models, teachers
    from paramlab.engines.nn import pruning as pr
    from paramlab.engines.nn import torch_train as tt

    rng = ctx.rng
    teacher = teachers.SparseReLUTeacher.draw(rng, p.d, p.teacher_width, p.teacher_fan_in)
    X_tr, y_tr, X_te, y_te = teachers.teacher_regression(rng, teacher, p.n_train, 4000)
    X_tr, y_tr, X_te, y_te = tt.to_device(ctx.device, X_tr, y_tr[:, None], X_te, y_te[:, None])
    sparsities = SPARSITY_SETS[p.sparsities]
    t_start, t_end = int(p.prune_start * p.steps), int(p.prune_end * p.steps)
    mse = torch.nn.functional.mse_loss

    # one generator per model (init and batches): a model trains the same whichever
    # other sparsities run beside it
    gens = {}

    def make(name: str, width: int, code: int):
        gens[name] = tt.generator(ctx.seed * 100_003 + code)
        m = models.init_normal_(models.MLP(p.d, [width], 1),
                                [p.d**-0.5, width**-0.5], generator=gens[name])
        nets[name] = m.to(ctx.device)

    def lr_factor(t: int) -> float:  # constant while pruning, then cosine to 0
        if t <= t_end:
            return 1.0
        return 0.5 * (1 + math.cos(math.pi * (t - t_end) / max(1, p.steps - t_end)))

    def nnz_large(s: float) -> int:
        first = round((1 - s) * p.d * p.width)
        return first + (round((1 - s) * p.width) if p.prune_output else p.width)

    nets, pruners, runs = {}, {}, {}
    make("dense", p.width, 0)
    for s in sparsities:
        make(f"sparse{s}", p.width, 1 + round(1000 * s))
        layers = nets[f"sparse{s}"].layers if p.prune_output else nets[f"sparse{s}"].layers[:1]
        schedule = pr.CubicSchedule.spanning(s, t_start, t_end, p.events, power=p.power)
        pruners[s] = pr.GradualPruner(layers, schedule)
        h = max(1, round(nnz_large(s) / (p.d + 1)))
        make(f"small{s}", h, 5000 + round(1000 * s))
    yield Note("models: " + ", ".join(f"{k} ({models.param_count(v)} params)"
                                      for k, v in nets.items()))

    for name, net in nets.items():
        opt = torch.optim.Adam(net.parameters(), lr=p.lr, fused=True)  # fused: ~20% faster
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: lr_factor(i + 1))
        pruner = pruners.get(float(name[6:])) if name.startswith("sparse") else None

        def after(t: int, pruner=pruner, sched=sched) -> None:
            if pruner is not None:
                pruner.after_step(t)
            sched.step()

        runs[name] = tt.train(net, mse, X_tr, y_tr, opt, p.steps, batch_size=p.batch_size,
                              gen=gens[name], after_step=after, eval_every=p.steps // 10,
                              evaluate=lambda t, m=net: {"test": float(mse(m(X_te), y_te))})

    s_show = max(sparsities)
    for t in range(1, p.steps + 1):
        outs = {name: next(r) for name, r in runs.items()}
        if t % LOG_EVERY == 0 or t == p.steps or "test" in outs["dense"]:
            values = {f"loss_{k}": o["loss"] for k, o in outs.items()}
            values[f"sparsity_s{s_show}"] = pruners[s_show].sparsity()
            values[f"schedule_s{s_show}"] = pruners[s_show].schedule.sparsity(t)
            values[f"nnz_sparse{s_show}"] = float(pr.nonzeros(nets[f"sparse{s_show}"].layers))
            for k, o in outs.items():
                if "test" in o:
                    values[f"test_{k}"] = o["test"]
            yield Metric(t, values)
        if ctx.should_stop():
            return

    with torch.no_grad():
        final = {k: float(mse(v(X_te), y_te)) for k, v in nets.items()}
        cells = [[], [], [], []]
        for i, s in enumerate(sparsities):
            one_shot = copy.deepcopy(nets["dense"])
            for layer in (one_shot.layers if p.prune_output else one_shot.layers[:1]):
                layer.weight.mul_(pr.magnitude_mask(layer.weight, s))
            final[f"oneshot{s}"] = float(mse(one_shot(X_te), y_te))
            small = nets[f"small{s}"]
            yield Metric(p.steps + 1 + i, {
                "nnz": float(pr.nonzeros(nets[f"sparse{s}"].layers)),
                "nnz_small": float(pr.nonzeros(small.layers)),
                "s_f": s,
                "mse_sparse": final[f"sparse{s}"], "mse_small": final[f"small{s}"],
                "mse_oneshot": final[f"oneshot{s}"], "mse_dense": final["dense"],
                "ratio_sparse_small": final[f"sparse{s}"] / final[f"small{s}"],
                "ratio_oneshot_sparse": final[f"oneshot{s}"] / final[f"sparse{s}"]})
            for row, key in zip(cells, ("sparse", "small", "oneshot", "dense")):
                row.append(final[f"{key}{s}" if key != "dense" else "dense"])
    yield Table("test_mse", ["large-sparse (gradual)", "small-dense", "one-shot, no retrain",
                             "large-dense"], [f"s={s:g}" for s in sparsities], cells)


def check(history: History, p: PruningParams) -> Verdict:
    rows = {round(s, 4): (r, o) for s, r, o in zip(history.series("s_f")[1],
                                                   history.series("ratio_sparse_small")[1],
                                                   history.series("ratio_oneshot_sparse")[1])}
    criteria = []
    for s in SPARSITY_SETS[p.sparsities]:
        r, o = rows.get(round(s, 4), (float("nan"), float("nan")))
        limit = RATIO_LIMITS.get(s)
        tier = "paper" if limit is not None else "mechanism"
        criteria.append(Criterion.at_most(f"s={s:g}: MSE large-sparse / small-dense", r,
                                          limit if limit is not None else 1.0, tier=tier))
        # the paper reports no one-shot comparison: the spec's naive variant, a mechanism read
        criteria.append(Criterion.at_least(f"s={s:g}: MSE one-shot / gradual", o, 1.5,
                                           tier="mechanism"))
    s_top = max(SPARSITY_SETS[p.sparsities])
    criteria.append(Criterion.at_least(f"sparsity reached at s_f={s_top:g}",
                                       history.last(f"sparsity_s{s_top}"), s_top - 0.005,
                                       tier="mechanism"))
    r = rows.get(round(s_top, 4), (float("nan"),) * 2)[0]
    return Verdict.of(criteria, f"large-sparse beats small-dense at equal nnz, more so at "
                      f"higher sparsity (ratio {r:.2f} at s={s_top:g}); one-shot without "
                      f"retraining fails")


_ALL_S = sorted({s for v in SPARSITY_SETS.values() for s in v})
_NAMES = {"dense": "large-dense", **{f"sparse{s}": f"large-sparse s={s:g}" for s in _ALL_S},
          **{f"small{s}": f"small-dense s={s:g}" for s in _ALL_S}}

SCENARIO = Scenario(
    params=PruningParams,
    run=run,
    check=check,
    panels=(
        Panel("test MSE vs non-zero weights (final)", series=("mse_sparse", "mse_small",
                                                               "mse_oneshot"),
              x="nnz", logy=True, xlabel="non-zero weights (large-sparse; small-dense within 1%)",
              labels={"mse_sparse": "large-sparse (gradual)", "mse_small": "small-dense",
                      "mse_oneshot": "one-shot, no retrain"}),
        Panel("train loss per step", series=("loss_dense", "loss_sparse*", "loss_small*"),
              logy=True, xlabel="step", labels={f"loss_{k}": v for k, v in _NAMES.items()}),
        Panel("test MSE during training", series=("test_dense", "test_sparse*", "test_small*"),
              logy=True, xlabel="step", labels={f"test_{k}": v for k, v in _NAMES.items()}),
        Panel("sparsity of the most pruned model (cubic schedule)",
              series=("schedule_s*", "sparsity_s*"), xlabel="step",
              labels={**{f"schedule_s{s}": f"schedule s_t (s_f={s:g})" for s in _ALL_S},
                      **{f"sparsity_s{s}": "measured mask sparsity" for s in _ALL_S}}),
        Panel("final test MSE", kind="bars", table="test_mse"),
    ),
    presets={"quick": {"steps": 400, "sparsities": "0.75,0.9"}},
    watch=("loss_dense",),
    key_metric="loss_dense",
    total_steps=lambda p: p.steps + len(SPARSITY_SETS[p.sparsities]),
    uses_torch=True,
    threads=2,  # 1.33x faster on 2 idle cores than on 1 (bench_threads, quick)
    notes=__doc__ or "",
    paper_reports="Across Inception V3, MobileNet, a Penn Treebank LSTM and GNMT, "
                  "large-sparse models consistently outperform small-dense ones of equal "
                  "memory footprint, with up to 10x fewer non-zero parameters at minimal "
                  "loss in accuracy.",
    paper_rows=(
        PaperRow('large-sparse vs small-dense at equal non-zeros',
                 'large-sparse consistently better',
                 unit='', source='abstract',
                 criterion='s=0.75: MSE large-sparse / small-dense'),
        PaperRow('the same at 90% sparsity',
                 'up to 10x fewer non-zeros at minimal accuracy loss',
                 unit='', source='abstract',
                 criterion='s=0.9: MSE large-sparse / small-dense'),
        PaperRow('one-shot pruning without retraining',
                 'not reported',
                 unit='', source='',
                 criterion='s=0.9: MSE one-shot / gradual'),
    ),
    status="reproduces",
)
