"""KIND: learngene transfer in a tiny class-conditional diffusion model (Xie et al. 2024,
"KIND: Knowledge Integration and Diversion in Diffusion Models", arXiv 2408.07337).

The paper's claim: pre-train a class-conditional diffusion model whose weights are split
SVD-style into "learngene" components shared by all classes (common knowledge) and
"tailor" components switched on per class by a gate (class-specific knowledge); transfer
only the learngene to new classes, with new tailors. This beats PEFT (LoRA, ...) on a
normally pre-trained backbone at a comparable trainable budget (DiT-L/2: FID -6.54,
sFID -1.07 with 45.4M trainable parameters).

World (engines/nn/kind_ddpm.py; the spec's re-calibrated "V3"). sklearn digits in [-1, 1];
a class-conditional DDPM (T = 50, cosine schedule) whose denoiser is an MLP
[x_t, 16 time features, 5-slot class one-hot] -> 128 -> 128 -> 128 -> 64 (SiLU), eps-loss.
Pre-training on classes 0-4 (all their images), side by side: (a) the plain model, (b) the
KIND model, every one of the four linear layers = a full-rank learngene W_g + per-class
rank-2 tailors B_c A_c (disjoint per class: the class gate switches on its own tailor).
Transfer to classes 5-9 (same one-hot slots; 50 images per class), all methods trained
side by side on the same minibatches (one batched program; a frozen part is a zero
learning rate in an element-wise Adam, so each model follows its own trajectory):
    LoRA rank 10 on the frozen plain model (9,170 trainable)            lr 1e-2
    per-class LoRA, rank 2 per class, plain model (9,170; KIND's routing) lr 1e-2
    full fine-tuning of the plain model (52,288)                        lr 1e-3
    scratch, a fresh network (52,288)                                   lr 3e-3
    KIND: learngene frozen as its exact SVD U diag(s) V^T with s trainable, new tailors
          warm-started from the top-2 SVD of the mean source tailor (9,575)  lr 1e-2
Learning rates are the spec's (chosen there on a separate seed); Adam with a cosine decay.
Metric: eps-MSE on held-out target images (650 default, 300 quick) at 10 fixed noise
levels with fixed noise, the same for all methods. Default also draws 50 DDPM samples per
class (x0-clipped ancestral sampling) and reports their pixel Frechet distance to the
held-out images and their class accuracy by nearest real class mean.
Presets: default = 1,500 pre-training + 600 transfer steps, batch 64, all five methods;
quick = 400 + 200 steps, 300 test images, LoRA / KIND / scratch only, no samples.

Claim check (thresholds = the spec's candidate checks, fixed before seeds 0-19):
  paper     KIND eps-MSE / LoRA eps-MSE <= 0.995
            trainable params KIND / LoRA <= 1.05 (9,575 / 9,170 = 1.044: the s of the
                learngene, 384 values, is KIND's only extra)
            KIND eps-MSE / scratch eps-MSE <= 0.92
  mechanism (shown, not deciding) the paper's margin as the spec proposed it, KIND / LoRA
            <= 0.95; KIND <= full FT; KIND <= per-class LoRA on the plain model (same
            routing and budget: isolates the learngene from the routing); default only:
            sample pixel FD KIND / LoRA <= 1 and class accuracy KIND - LoRA >= -0.05.
Control: learngene = "random" replaces the transferred learngene (weights and biases) by
a fresh random network of the same shape, everything else unchanged (same tailors, same
budget). It fails KIND / LoRA and KIND / scratch (tests/test_kind_diffusion_learngene.py).

Results, seeds 0-19 (CPU, one thread; numbers are the final eps-MSE ratios):
  default 20/20 PASS. KIND / LoRA 0.944-0.961 (median 0.949; eps-MSE 0.279-0.284 vs
    0.294-0.301); KIND / scratch 0.856-0.884; KIND / full FT 0.934-0.949 (20/20 <= 1);
    KIND / per-class LoRA 0.966-0.980 (20/20 <= 1); the paper's-margin row (<= 0.95)
    holds on 11/20 only. Samples (seeds 0-9 of the calibration run; results.json has
    all 20 for the two sample rows): pixel FD KIND 2.33-2.57 vs LoRA 2.88-3.29 (ratio
    0.77-0.85), per-class LoRA 2.45-2.72, full FT 3.14-3.37, scratch 4.7-10.7, real
    training images 0.51-0.64; class accuracy KIND 0.94-0.98 vs LoRA 0.91-0.94 (real
    images 0.92-0.96: KIND's samples are prototypical), per-class LoRA 0.92-0.95, full FT
    0.57-0.69, scratch 0.38-0.59.
  quick 20/20 PASS. KIND / LoRA 0.873-0.923 (median 0.891); KIND / scratch 0.658-0.680;
    the paper's-margin row holds 20/20 (everything is under-trained at 400 + 200 steps,
    and the edge is larger there).
  Control (learngene = random): default seeds 0-2 KIND / LoRA 2.94-2.97, KIND / scratch
    2.66-2.73, FD ratio 15.7-16.3, accuracy -0.76..-0.68; quick seeds 0-4 KIND / LoRA
    2.55-2.61, KIND / scratch 1.89-1.95: both deciding eps-MSE criteria fail.
  Wall time on the shared 2-core box (load 4-8): quick 4-7 s (CPU ~5 s with start-up),
  default 14-30 s (CPU ~19 s).

Worlds tried (all with the stacked engine; earlier worlds in the spec, V0-V3, not
repeated)
1. Spec scale (width 128, batch 128, 1,500 + 600 steps), seed 0: KIND / LoRA 0.960,
   / per-class LoRA 0.980, / scratch 0.911; random learngene 2.76x scratch; zero-init
   tailors (V1) equal to V3 to four digits. 27 s CPU per seed for all methods.
2. Width 64, batch 64, 1,500 + 600, seeds 0-4: KIND / LoRA 0.956-0.970, / per-class LoRA
   0.885-0.917, / scratch 0.766-0.789, but the model is capacity-starved (source eps-MSE
   0.44-0.46 vs 0.28 at width 128: 64-wide hidden layers for 64 output pixels, the spec's
   V0 failure mode). Rejected.
3. Width 128, batch 64, 1,000 + 400, seeds 0-4: KIND / LoRA 0.947-0.959, / per-class LoRA
   0.940-0.954, / scratch 0.786-0.797; random learngene 2.46-2.50x scratch.
4. Quick candidate (shipped): 400 + 200 steps, 300 test images, seeds 0-4: KIND / LoRA
   0.869-0.891, / scratch 0.652-0.672. V1 (zero-init new tailors) on the same seeds:
   0.881-0.913 vs V3 0.873-0.903: the warm start adds ~1 %.
5. Longer training (3,000 + 1,200, batch 64), seeds 0-1: KIND / LoRA 0.968, 0.972; KIND
   / per-class LoRA 0.994, 0.998; KIND / scratch 0.930, 0.934 (fails the 0.92 check).
   The default (1,500 + 600, batch 64) is the spec's step budget.
What does not reproduce / caveats: the edge over LoRA shrinks as both are trained longer
(0.89 quick -> 0.95 default -> 0.97 at twice the default budget; the spec measured
0.973-0.994 at batch 128), and KIND's edge over per-class LoRA on the plain backbone (same
routing, same budget) nearly vanishes with long training (0.994-0.998), so most of the
long-run gain is the class routing, not the learngene; the spec found per-class LoRA ahead
on 4/5 seeds at its setting. Against scratch the 0.92 check holds only up to about the
default budget. The paper's FID gain on DiT-L/2 is not comparable; here the pixel FD
(mechanism row) points the same way. KIND's pre-trained model also has more parameters
during pre-training (the source tailors, 9.2k on 52k) and a lower source eps-MSE.
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

CORE = ("lora", "kind", "scratch")
ALL = ("lora", "pc_lora", "full_ft", "scratch", "kind")
LABELS = {"lora": "LoRA", "pc_lora": "per-class LoRA", "full_ft": "full FT",
          "scratch": "scratch", "kind": "KIND"}
CRIT_LORA = "KIND eps-MSE / LoRA eps-MSE (target classes)"
CRIT_PARAMS = "trainable params KIND / LoRA"
CRIT_SCRATCH = "KIND eps-MSE / scratch eps-MSE"
CRIT_MARGIN = "paper's margin: KIND / LoRA eps-MSE (not deciding)"
CRIT_FULL = "KIND eps-MSE / full fine-tuning eps-MSE"
CRIT_PCLORA = "KIND eps-MSE / per-class LoRA eps-MSE (same routing, plain backbone)"
CRIT_FD = "pixel Frechet distance of samples, KIND / LoRA"
CRIT_ACC = "sample class accuracy, KIND - LoRA"


@dataclass(frozen=True)
class KindParams(Params):
    width: int = param(128, range=(16, 512), log=True, help="denoiser MLP width")
    T: int = param(50, range=(10, 1000), log=True, help="diffusion steps (cosine schedule)")
    pre_steps: int = param(1500, range=(10, 20_000), log=True,
                           help="pre-training steps on source classes 0-4")
    steps: int = param(600, range=(10, 10_000), log=True,
                       help="transfer steps on target classes 5-9")
    batch: int = param(64, range=(8, 1024), log=True, help="minibatch (shared by all models)")
    tailor_rank: int = param(2, range=(1, 16), help="KIND tailor components per class per layer")
    lora_rank: int = param(10, range=(1, 64),
                           help="LoRA rank (10 = 5 classes x 2 tailors: equal budget)")
    pre_lr: float = param(2e-3, range=(1e-5, 1e-1), log=True, help="pre-training Adam lr")
    lr_adapter: float = param(1e-2, range=(1e-5, 1e-1), log=True,
                              help="lr of LoRA, per-class LoRA and KIND")
    lr_full: float = param(1e-3, range=(1e-5, 1e-1), log=True, help="full fine-tuning lr")
    lr_scratch: float = param(3e-3, range=(1e-5, 1e-1), log=True, help="scratch lr")
    n_per_class: int = param(50, range=(5, 150), log=True,
                             help="training images per target class")
    n_test: int = param(650, range=(50, 1000), log=True, help="held-out target images")
    n_levels: int = param(10, range=(2, 50), help="fixed noise levels of the eps-MSE")
    evals: int = param(5, range=(1, 50), help="evaluations along the transfer")
    samples: int = param(50, range=(0, 500),
                         help="DDPM samples per target class for the pixel Frechet distance "
                              "(0: none)")
    methods: str = param("all", choices=("all", "core"),
                         help="core: LoRA, KIND, scratch; all: + per-class LoRA, full FT")
    learngene: str = param("transferred", choices=("transferred", "random"),
                           help="KIND's learngene: the pre-trained one, or a random network "
                                "of the same shape (the control)")
    tailor_init: str = param("warm", choices=("warm", "zero"),
                             help="new tailors from the mean source tailor (warm, spec V3) "
                                  "or LoRA-style zero (spec V1)")

    def method_list(self) -> tuple[str, ...]:
        return ALL if self.methods == "all" else CORE

    def config(self):
        from paramlab.engines.nn.kind_ddpm import Config

        return Config(width=self.width, T=self.T, tailor_rank=self.tailor_rank,
                      lora_rank=self.lora_rank, batch=self.batch, pre_steps=self.pre_steps,
                      pre_lr=self.pre_lr, steps=self.steps, lr_adapter=self.lr_adapter,
                      lr_full=self.lr_full, lr_scratch=self.lr_scratch,
                      n_per_class=self.n_per_class, n_levels=self.n_levels,
                      n_test=self.n_test)


def run(p: KindParams, ctx: RunContext) -> Iterator[Metric | Note | Table]:
    import torch

    from paramlab.engines.nn import kind_ddpm as K

    cfg = p.config()
    seed = int(ctx.rng.integers(2**31 - 1))
    # only what decides the pre-trained arrays, so transfer settings share the cache
    recipe = {"seed": seed, "cfg": {"width": cfg.width, "T": cfg.T, "batch": cfg.batch,
                                    "tailor_rank": cfg.tailor_rank, "lora_rank": cfg.lora_rank,
                                    "pre_steps": cfg.pre_steps, "pre_lr": cfg.pre_lr,
                                    "n_levels": cfg.n_levels}}
    arrays = ctx.cached("kind_ddpm_pretrained", recipe, lambda: K.pretrain(recipe))
    src_plain, src_kind = (float(v) for v in arrays["mse"])
    yield Note(f"pre-training on classes 0-4 ({p.pre_steps} steps): source eps-MSE plain "
               f"{src_plain:.4f}, KIND (learngene + tailors) {src_kind:.4f}")

    g = torch.Generator().manual_seed(seed + 1)
    w = K.digits_world(seed, cfg.n_per_class, cfg.n_test)
    X, s = torch.from_numpy(w["X_tr"]), torch.from_numpy(w["s_tr"])
    rows, slot, eps = K.eval_set(torch.from_numpy(w["X_te"]), torch.from_numpy(w["s_te"]),
                                 cfg, g)
    methods = p.method_list()
    members = K.transfer_members(arrays, list(methods), cfg, g, learngene=p.learngene,
                                 tailor_init=p.tailor_init)
    counts = {m.name: m.n_trainable() for m in members}
    yield Note("trainable parameters: " + ", ".join(f"{LABELS[n]} {c:,}"
                                                     for n, c in counts.items()))
    yield Note(f"transfer: {p.n_per_class} images per class 5-9, {p.steps} steps; eps-MSE on "
               f"{len(w['X_te'])} held-out images x {p.n_levels} noise levels; KIND learngene "
               f"{p.learngene}, tailors {p.tailor_init}")
    yield Table("trainable parameters", rows=[LABELS[n] for n in methods],
                columns=["trainable params"], cells=[[counts[n]] for n in methods])
    stack = K.Stack(members, cfg)
    every = max(1, p.steps // p.evals)
    final: dict[str, float] = {}
    for step, mse in K.train(stack, X, s, p.steps, g, every=every,
                             evaluate=lambda st: K.eps_mse(st, rows, slot, eps)):
        vals = {f"mse_{n}": v for n, v in zip(methods, mse)}
        vals["kind_over_lora"] = vals["mse_kind"] / vals["mse_lora"]
        if step == 0:
            vals |= {"params_kind": counts["kind"], "params_lora": counts["lora"]}
        if step == p.steps and p.samples:
            gen, gslot = K.sample(stack, p.samples, cfg, g)
            for n, x in zip(methods, gen):
                vals[f"fd_{n}"] = K.frechet(x.numpy(), w["X_te"])
                vals[f"acc_{n}"] = K.centroid_accuracy(x.numpy(), gslot.numpy(), w["X_te"],
                                                       w["s_te"])
            vals["fd_real_train"] = K.frechet(w["X_tr"], w["X_te"])
            vals["acc_real_train"] = K.centroid_accuracy(w["X_tr"], w["s_tr"], w["X_te"],
                                                         w["s_te"])
        yield Metric(step, vals)
        final = vals
        if ctx.should_stop():
            return
    yield Table("target eps-MSE after transfer", rows=[LABELS[n] for n in methods],
                columns=["eps-MSE"], cells=[[final[f"mse_{n}"]] for n in methods])
    if p.samples:
        yield Table("samples", rows=[LABELS[n] for n in methods] + ["real training images"],
                    columns=["pixel FD to held-out", "class accuracy (nearest mean)"],
                    cells=[[final[f"fd_{n}"], final[f"acc_{n}"]]
                           for n in (*methods, "real_train")])


def _final(h: History, name: str) -> float:
    try:
        return last(h.series(name)[1])
    except KeyError:
        return float("nan")


def check(history: History, p: KindParams) -> Verdict:
    kind, lora = _final(history, "mse_kind"), _final(history, "mse_lora")
    r_lora = ratio(kind, lora)
    r_params = ratio(_final(history, "params_kind"), _final(history, "params_lora"))
    r_scratch = ratio(kind, _final(history, "mse_scratch"))
    criteria = [
        Criterion.at_most(CRIT_LORA, r_lora, 0.995),
        Criterion.at_most(CRIT_PARAMS, r_params, 1.05),
        Criterion.at_most(CRIT_SCRATCH, r_scratch, 0.92),
        Criterion.at_most(CRIT_MARGIN, r_lora, 0.95, tier="mechanism"),
    ]
    if "mse_full_ft" in history:
        criteria.append(Criterion.at_most(CRIT_FULL, ratio(kind, _final(history, "mse_full_ft")),
                                          1.0, tier="mechanism"))
        criteria.append(Criterion.at_most(CRIT_PCLORA,
                                          ratio(kind, _final(history, "mse_pc_lora")),
                                          1.0, tier="mechanism"))
    if "fd_kind" in history:
        criteria.append(Criterion.at_most(CRIT_FD, ratio(_final(history, "fd_kind"),
                                                         _final(history, "fd_lora")),
                                          1.0, tier="mechanism"))
        criteria.append(Criterion.at_least(CRIT_ACC, _final(history, "acc_kind")
                                           - _final(history, "acc_lora"), -0.05,
                                           tier="mechanism"))
    return Verdict.of(tuple(criteria),
                      f"KIND eps-MSE {kind:.4f} vs LoRA {lora:.4f} (ratio {r_lora:.3f}) at "
                      f"{r_params:.3f}x its parameters; {r_scratch:.3f}x scratch")


SCENARIO = Scenario(
    params=KindParams,
    run=run,
    check=check,
    panels=(
        Panel("target eps-MSE vs transfer step", series=("mse_*",),
              labels={f"mse_{k}": v for k, v in LABELS.items()}),
        Panel("KIND / LoRA eps-MSE", series=("kind_over_lora",)),
        Panel("trainable parameters", kind="bars", table="trainable parameters"),
        Panel("target eps-MSE after transfer", kind="bars",
              table="target eps-MSE after transfer"),
    ),
    presets={"quick": {"pre_steps": 400, "steps": 200, "n_test": 300, "methods": "core",
                       "samples": 0}},
    watch=("mse_kind", "mse_lora"),
    key_metric="mse_kind",
    total_steps=lambda p: p.steps,
    uses_torch=True,
    threads=2,  # 1.14-1.15x faster on 2 idle cores than on 1 (bench_threads, quick, 2 runs)
    notes=__doc__ or "",
    paper_reports="KIND on DiT-L/2 (ImageNet) beats PEFT on a normally pre-trained "
                  "backbone: FID -6.54 and sFID -1.07 with 45.4M trainable parameters and "
                  ">= 35.4 GFLOPs saved.",
    paper_rows=(
        PaperRow("KIND vs PEFT (LoRA) generation quality", "FID -6.54, sFID -1.07 (better)",
                 "FID", "abstract / main table (DiT-L/2)", CRIT_FD),
        PaperRow("KIND vs LoRA denoising loss on the new classes",
                 "not reported (the paper reports FID)", "ratio", "-", CRIT_LORA),
        PaperRow("KIND vs LoRA margin (spec's proposal: <= 0.95x)",
                 "not reported as a loss ratio", "ratio", "spec P24 claim check", CRIT_MARGIN),
        PaperRow("trainable parameters, KIND vs PEFT", "45.4M (comparable budget)", "params",
                 "abstract", CRIT_PARAMS),
        PaperRow("KIND vs training from scratch", "not reported", "ratio", "-", CRIT_SCRATCH),
    ),
    status="partly",
)
