"""Parameter Competition Balancing for model merging (Du et al., NeurIPS 2024).

Setup (one backbone, several tasks, merge the task vectors):
- sklearn digits scaled to [0, 1]; 40% of the samples pretrain a 64 -> 128 -> 128 ReLU
  backbone (24,832 parameters) with a 10-way head (full-batch Adam); the other 60% are
  split train / val / test 50/20/30 and shared by all tasks.
- Task i = the digits seen through one transform (rot90, flip-LR, inverted intensity,
  Gaussian noise sd 0.35, 2-px shift, 2x2-block permutation; the first n_tasks). Each task
  fine-tunes a copy of the whole backbone with its own fresh head; heads stay
  task-specific, as in the vision merging setting. tau_i = theta_i - theta_0 (backbone).
- Merges (engines/merging/): weight average; Task Arithmetic lam * sum tau; TIES
  (top-k, sign election, disjoint mean) x lam; DARE (drop p, rescale 1/(1-p)) + sum x lam;
  PCB (the public code line by line: clip |tau| at 1e-4 quantiles, intra
  exp(n * minmax_row(|tau|)^2), inter tanh(tau * sum tau), keep the top `ratio` of the
  score, scale = minmax_row(score), merged = sum tau*scale / sum scale) x lam.
  lam in {0, lam_step, ..., lam_max} is chosen per method on the validation split;
  "tuned" rows also choose TIES's k / PCB's ratio in {0.1, 0.2, 0.3, 0.5} on validation.
  base = lam 0 (pretrained backbone with the fine-tuned heads).
- Metric: mean over tasks of merged test accuracy / fine-tuned test accuracy x 100.

Claim check, two tiers (thresholds from the spec, fixed before these runs):
- paper (decides PASS/FAIL): PCB-tuned >= TA + 2 pt, >= TIES-tuned, >= DARE.
- mechanism (must hold): TA >= base + 15 pt; PCB-tuned >= base + 10 pt; PCB-tuned >=
  TIES-tuned - 2 pt. Quick (150 fine-tuning steps, lambda step 0.1 to save CPU time)
  uses the same thresholds: the spec's calibration covered 150 steps.

Init: He-normal hidden layers and a 1/sqrt(fan_in) head (init_normal_). With torch's
uniform default init the diagnostics did not match the spec's calibration (base 42-54,
|tau|/|theta0| 0.38-0.50, cos 0.05-0.06); He-normal reproduces them (base 28-44,
|tau|/|theta0| 0.31-0.32, cos 0.02-0.03 at default), so the calibrated thresholds apply.

What we measure (default, seeds 0/1/2; avg normalized test acc): base 35.6/28.4/44.1,
weight average 57.5/53.7/61.8, TA 59.9/63.9/62.5, TIES (k 0.2) 44.5/51.3/54.8, TIES-tuned
53.1/64.3/61.0, DARE 49.2/52.9/53.8, PCB (ratio 0.1) 43.6/53.5/51.4, PCB-tuned
54.9/65.7/63.4. So PCB-tuned beats TIES-tuned (+1.3..+2.4) and DARE (+5.7..+12.8) on every
seed, as the paper says, but it only ties Task Arithmetic (-5.0/+1.8/+0.9 pt), never the
+2 pt margin: the paper tier FAILS at default on all three seeds (quick: PASS on seed 1 at
+2.2, FAIL on seeds 0 and 2). Mechanism checks pass on all of them. Untuned at the paper's
density (ratio 0.1, TIES k 0.2) both sparse methods lose 8-16 pt to TA. Why: the task
vectors of a 25k-parameter MLP are dense and nearly orthogonal (pairwise cosine
0.02-0.03), so keeping 10-20% of each tau throws information away rather than
redundancy; validation picks the densest ratios (0.3-0.5). The paper's models (ViT / T5,
~1e8 parameters) have far more redundant task vectors. The spec's own calibration found
TA ahead by 7 pt on average; ours by 0.8 pt, within its seed spread.

Broken variant (tests): `pcb_inter_sign=-1` rewards conflicting entries; validation then
picks lam = 0 for PCB, which equals base and fails the mechanism check "PCB >= base + 10".
`pcb_activation=softmax` follows the paper's text (sum_j softmax(norm(tau_i * tau_j)))
instead of the public code's tanh.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .base import (
    Criterion,
    Metric,
    Note,
    Panel,
    Params,
    RunContext,
    Scenario,
    Table,
    Verdict,
    param,
)
from .history import History

TASK_ORDER = ("rot90", "flip_lr", "invert", "noise", "shift", "block_perm")
DENSITY_GRID = (0.1, 0.2, 0.3, 0.5)  # k of TIES-tuned and ratio of PCB-tuned
SWEPT = ("TA", "TIES", "DARE", "PCB")  # one lambda curve per method
ROWS = ("base", "avg", "TA", "TIES", "TIES_tuned", "DARE", "PCB", "PCB_tuned")
LABELS = {"base": "base (lam=0)", "avg": "weight avg", "TA": "task arithmetic",
          "TIES": "TIES", "TIES_tuned": "TIES tuned", "DARE": "DARE", "PCB": "PCB",
          "PCB_tuned": "PCB tuned"}
SHORT = {"base": "base", "avg": "avg", "TA": "TA", "TIES": "TIES", "TIES_tuned": "TIES-t",
         "DARE": "DARE", "PCB": "PCB", "PCB_tuned": "PCB-t"}


@dataclass(frozen=True)
class PCBParams(Params):
    n_tasks: int = param(4, range=(2, 6), help="number of tasks (transforms, in the order "
                         "rot90, flip_lr, invert, noise, shift, block_perm)")
    width: int = param(128, range=(16, 512), help="backbone width (64 -> w -> w)")
    pretrain_steps: int = param(300, range=(10, 3000), help="full-batch Adam steps of "
                                "the backbone's pretraining")
    pretrain_lr: float = param(3e-3, range=(1e-5, 0.1), log=True, help="pretraining lr")
    ft_steps: int = param(300, range=(10, 3000), help="full-batch Adam steps per task")
    ft_lr: float = param(1e-3, range=(1e-5, 0.1), log=True, help="fine-tuning lr")
    pcb_ratio: float = param(0.1, range=(0.02, 0.5), help="PCB: fraction of each task "
                             "vector kept by score (untuned PCB row)")
    pcb_activation: str = param("tanh", choices=("tanh", "softmax"), help="PCB "
                                "inter-balancing: tanh (public code) or softmax (paper text)")
    pcb_inter_sign: int = param(1, choices=(1, -1), help="PCB inter-balancing sign; -1 "
                                "is the broken variant (rewards conflict)")
    ties_k: float = param(0.2, range=(0.01, 1.0), help="TIES: fraction of each task "
                          "vector kept (untuned TIES row)")
    dare_p: float = param(0.9, range=(0.0, 0.99), help="DARE drop probability")
    lam_max: float = param(2.0, range=(0.5, 10.0), help="largest lambda of the grid")
    lam_step: float = param(0.05, range=(0.01, 0.5), help="lambda grid step (grid starts "
                            "at 0)")


def run(p: PCBParams, ctx: RunContext) -> Iterator[Metric | Table | Note]:
    import torch
    from torch.nn.functional import cross_entropy

    from paramlab.engines import merging
    from paramlab.engines.data import digits
    from paramlab.engines.nn import models, torch_train

    dev, rng = ctx.device, ctx.rng
    gen = torch_train.generator(ctx.seed)
    tasks = TASK_ORDER[:p.n_tasks]

    # ------------------------------------------------------------------ data
    X, y = digits.load_digits()
    pre_idx, rest = digits.split(len(y), (0.4, 0.6), rng)
    tr, va, te = (rest[i] for i in digits.split(len(rest), (0.5, 0.2, 0.3), rng))
    Xp, yp = torch_train.to_device(dev, X[pre_idx], y[pre_idx])
    task_data = []
    for name in tasks:
        f = digits.make_transform(name, rng)
        task_data.append(torch_train.to_device(
            dev, f(X[tr]), y[tr], f(X[va]), y[va], f(X[te]), y[te]))
    yield Note(f"digits: pretrain {len(pre_idx)}, task train/val/test {len(tr)}/{len(va)}/"
               f"{len(te)}; tasks {', '.join(tasks)}")

    # ------------------------------------------------------------------ pretraining
    def new_model() -> torch.nn.Module:
        # He-normal hidden layers, 1/sqrt(fan_in) head (see the module docstring)
        m = models.MLP(64, [p.width, p.width], 10)
        stds = [(2 / 64) ** 0.5, (2 / p.width) ** 0.5, (1 / p.width) ** 0.5]
        return models.init_normal_(m, stds, generator=gen).to(dev)

    base_model = new_model()
    opt = torch.optim.Adam(base_model.parameters(), lr=p.pretrain_lr)
    for rec in torch_train.train(base_model, cross_entropy, Xp, yp, opt, p.pretrain_steps,
                                 should_stop=ctx.should_stop):
        yield Metric(rec["step"], {"pretrain_loss": rec["loss"]})
    if ctx.should_stop():
        return
    backbone_keys = [k for k in base_model.state_dict() if not k.startswith("layers.2.")]
    theta0 = {k: v.detach().clone() for k, v in base_model.state_dict().items()
              if k in backbone_keys}

    # ------------------------------------------------------------------ fine-tuning
    heads, taus, ft_acc = [], [], []
    for name, (Xtr, ytr, Xva, yva, Xte, yte) in zip(tasks, task_data):
        model = new_model()  # fresh head
        model.load_state_dict(theta0, strict=False)
        opt = torch.optim.Adam(model.parameters(), lr=p.ft_lr)
        for rec in torch_train.train(model, cross_entropy, Xtr, ytr, opt, p.ft_steps,
                                     should_stop=ctx.should_stop):
            # "ft_loss" (the task being fine-tuned) is what `watch` checks: the tasks
            # run depend on n_tasks, a watched name must exist in every run
            yield Metric(rec["step"], {f"ft_loss_{name}": rec["loss"], "ft_loss": rec["loss"]})
        if ctx.should_stop():
            return
        model.eval()
        sd = {k: v.detach().clone() for k, v in model.state_dict().items()}
        heads.append({k: v for k, v in sd.items() if k not in backbone_keys})
        taus.append(merging.task_vector(sd, theta0, backbone_keys))
        ft_acc.append((torch_train.accuracy(model, Xva, yva),
                       torch_train.accuracy(model, Xte, yte)))
    T, layout = merging.stack(taus)
    flat0, _ = merging.stack([theta0])
    flat0 = flat0[0]
    norms = T.norm(dim=1)
    cos = (T @ T.T) / (norms[:, None] * norms[None, :])
    off = cos[~torch.eye(len(tasks), dtype=torch.bool, device=T.device)]
    yield Note("fine-tuned acc (test): " + ", ".join(
        f"{n} {a[1]:.3f}" for n, a in zip(tasks, ft_acc)) +
        f"; |tau|/|theta0| {float(norms.mean() / flat0.norm()):.2f}, mean pairwise "
        f"cos(tau_i, tau_j) {float(off.mean()):.3f}")

    # ------------------------------------------------------------------ merging
    # every task's val (and test) inputs in one batch: one backbone forward per merge
    X_val = torch.cat([d[2] for d in task_data])
    X_all = torch.cat([X_val, *(d[4] for d in task_data)])
    n_va, n_te = len(va), len(te)
    probe = new_model()
    head_w, head_b = "layers.2.weight", "layers.2.bias"

    @torch.no_grad()
    def evaluate(delta: torch.Tensor, test: bool = True) -> tuple[list[float], list[float]]:
        """Per-task normalized accuracy x 100 of theta0 + delta: (val, test or [])."""
        probe.load_state_dict(merging.unstack(flat0 + delta, layout), strict=False)
        feats = probe.features(X_all if test else X_val)
        val, tst = [], []
        for i, (_, _, _, yva, _, yte) in enumerate(task_data):
            parts = [(val, feats[i * n_va:(i + 1) * n_va], yva, ft_acc[i][0])]
            if test:
                lo = len(tasks) * n_va + i * n_te
                parts.append((tst, feats[lo:lo + n_te], yte, ft_acc[i][1]))
            for out, f, target, ref in parts:
                pred = torch.nn.functional.linear(f, heads[i][head_w], heads[i][head_b])
                out.append(100 * float((pred.argmax(-1) == target).float().mean()) / ref)
        return val, tst

    def mean(xs: list[float]) -> float:
        return sum(xs) / len(xs)

    n_lam = int(round(p.lam_max / p.lam_step)) + 1
    lams = [i * p.lam_step for i in range(n_lam)]
    pcb_kw = {"activation": p.pcb_activation, "inter_sign": p.pcb_inter_sign}
    # the merged direction at lam = 1 (every method is linear in lam); TIES@k and PCB@r
    # for the untuned rows and for the density grid of the tuned rows
    directions = {"TA": merging.merge("task_arithmetic", T),
                  "DARE": merging.merge("dare", T, gen=gen, p=p.dare_p)}
    for k in sorted({*DENSITY_GRID, p.ties_k}):
        directions[f"TIES@{k:g}"] = merging.merge("ties", T, k=k)
    for r in sorted({*DENSITY_GRID, p.pcb_ratio}):
        directions[f"PCB@{r:g}"] = merging.merge("pcb", T, ratio=r, **pcb_kw)
    alias = {"TA": "TA", "DARE": "DARE", "TIES": f"TIES@{p.ties_k:g}",
             "PCB": f"PCB@{p.pcb_ratio:g}"}
    plotted = set(alias.values())

    # val accuracy on the whole grid (test too for the plotted curves)
    curves: dict[str, list[tuple[float, list[float], list[float]]]] = {
        key: [] for key in directions}
    for i, lam in enumerate(lams):
        values = {"lambda": lam}
        for key, direction in directions.items():
            val, test = evaluate(lam * direction, test=key in plotted)
            curves[key].append((lam, val, test))
        for name in SWEPT:
            values[f"sweep_{name}"] = mean(curves[alias[name]][-1][2])
        yield Metric(i, values)
        if ctx.should_stop():
            return

    def best(keys: list[str]) -> tuple[str, float, list[float]]:
        """(key, lam, per-task test) with the best mean val over keys x lambda grid
        (ties go to the earlier key, then the smaller lambda)."""
        cands = [(mean(v), key, lam) for key in keys for lam, v, _ in curves[key]]
        top = max(c[0] for c in cands)
        _, key, lam = next(c for c in cands if c[0] == top)
        return key, lam, evaluate(lam * directions[key])[1]

    results: dict[str, list[float]] = {}
    chosen: dict[str, float] = {}
    results["base"] = evaluate(torch.zeros_like(flat0))[1]
    results["avg"] = evaluate(merging.merge("weight_average", T))[1]
    for name in SWEPT:
        _, chosen[f"lam_{name}"], results[name] = best([alias[name]])
    for name, prefix in (("TIES_tuned", "TIES@"), ("PCB_tuned", "PCB@")):
        key, chosen[f"lam_{name}"], results[name] = best(
            [f"{prefix}{k:g}" for k in DENSITY_GRID])
        chosen[f"density_{name}"] = float(key.split("@")[1])

    yield Table("per_task", [LABELS[r] for r in ROWS], list(tasks),
                [results[r] for r in ROWS])
    yield Table("average", ["avg normalized acc"], [SHORT[r] for r in ROWS],
                [[mean(results[r]) for r in ROWS]])
    summary = {f"avg_{r}": mean(results[r]) for r in ROWS}
    summary.update(chosen)
    summary["tau_cos_mean"] = float(off.mean())
    yield Metric(n_lam, summary)
    yield Note("avg normalized test acc: " + ", ".join(
        f"{r} {summary[f'avg_{r}']:.1f}" for r in ROWS) + "; chosen: " + ", ".join(
        f"{k} {v:g}" for k, v in chosen.items()))


def check(history: History, p: PCBParams) -> Verdict:
    a = {r: history.last(f"avg_{r}") for r in ROWS}
    pcb = a["PCB_tuned"]
    criteria = (
        Criterion.at_least("paper: PCB tuned - TA (pt)", pcb - a["TA"], 2.0),
        Criterion.at_least("paper: PCB tuned - TIES tuned (pt)", pcb - a["TIES_tuned"], 0.0),
        Criterion.at_least("paper: PCB tuned - DARE (pt)", pcb - a["DARE"], 0.0),
        Criterion.at_least("merging works: TA - base (pt)", a["TA"] - a["base"], 15.0,
                           tier="mechanism"),
        Criterion.at_least("merging works: PCB tuned - base (pt)", pcb - a["base"], 10.0,
                           tier="mechanism"),
        Criterion.at_least("PCB tuned - TIES tuned (pt)", pcb - a["TIES_tuned"], -2.0,
                           tier="mechanism"),
    )
    mech_ok = all(c.passed for c in criteria if c.tier == "mechanism")
    return Verdict.of(criteria, f"paper's PCB > TA/TIES/DARE reproduces (PCB tuned {pcb:.1f} vs "
                      f"TA {a['TA']:.1f}, TIES tuned {a['TIES_tuned']:.1f}, DARE "
                      f"{a['DARE']:.1f}, base {a['base']:.1f}); "
                      + ("mechanism checks hold" if mech_ok else "a mechanism check FAILED"))


SCENARIO = Scenario(
    params=PCBParams,
    run=run,
    check=check,
    panels=(
        Panel("fine-tuning loss per task", series=("ft_loss_*",), logy=True,
              xlabel="fine-tuning step",
              labels={f"ft_loss_{t}": t for t in TASK_ORDER}),
        Panel("avg normalized test acc vs lambda", series=tuple(f"sweep_{k}" for k in SWEPT),
              x="lambda", xlabel="lambda", ylabel="% of fine-tuned",
              labels={f"sweep_{k}": LABELS[k] for k in SWEPT}),
        Panel("normalized test acc per task (method x task)", kind="bars", table="per_task"),
        Panel("avg normalized test acc per method", kind="bars", table="average"),
    ),
    presets={"quick": {"ft_steps": 150, "lam_step": 0.1}},
    watch=("pretrain_loss", "ft_loss"),
    key_metric="avg_PCB_tuned",
    uses_torch=True,
    notes=__doc__ or "",
    paper_reports="PCB-Merging outperforms Task Arithmetic, TIES and DARE by about 1-4 points "
                  "of average accuracy across T5, ViT and LLM merging benchmarks (NeurIPS "
                  "2024).",
    status="partly",
)
