"""SFT recipe: larger batch with lower learning rate; early training signals predict the
final model (Pareja et al. 2024, "Unveiling the Secret Recipe: A Guide For Supervised
Fine-Tuning Small LLMs", arXiv 2412.13337). An ANALOGY at toy scale, not a reproduction.

World (engines/lm/sft_grid.py on the engines/lm Markov languages and stacked trainer).
Base: an MLP LM (2-token context, embedding 16, two GELU layers of width 64, V = 16) pre-
trained with AdamW (lr 3e-3, batch 128, 2000 steps, cosine to 10 %) on language A, a
2nd-order Markov chain with Dirichlet(0.1) rows; one checkpoint (`base_seed` 0, built
through ctx.cached), as the paper fine-tunes fixed released bases. Its loss on A is 1.266
nats against A's entropy rate 1.227. SFT task: language B = A with 25 % of its 256 rows
redrawn (new behaviour on those contexts, A's behaviour on the rest, so the score mixes
new skill and retention as MMLU / MTBench do); the SFT set is `n_train` B windows with 20 %
of the next tokens replaced by uniform ones (noisy instruction data), read for 10 epochs
by every run. Grid: batch {8, 32, 128} x lr {1e-4, 3e-4, 1e-3, 3e-3, 1e-2}, AdamW (no
weight decay), constant lr, no warm-up (the paper's simplified schedule); each batch size
is one stacked program of 5 models (one per lr) from the base weights, one reading order.
Per run: mean full-gradient L2 norm and mean batch loss over its first 10 % of steps (the
early signals) and the final loss on fresh B windows (the score; lower is better).

Claim check (thresholds fixed before the judging seeds 0-19, from the spec):
  paper      corner: val(bs 8, lr 1e-2) - val(bs 128, lr 1e-3) >= 0.05 nats ("larger batch
             with lower lr" against the TULU-like small batch / high lr; the spec's
             calibrated (a), +0.02 in accuracy, here in nats);
  paper      Spearman over all 15 runs of (early grad norm, final val loss) >= +0.5 (lower
             early grad norm -> better) and of (early loss, final val loss) <= -0.3 (higher
             early loss -> better): the spec's original proposal, kept as the paper's
             literal claim (the spec notes pooled rho was weak in its digits prototype);
  mechanism  tuned lr: best-over-lr val(bs 8) - best-over-lr val(bs 128) >= 0 (large batch
             better once lr is tuned); within bs 8, Spearman over lr of (early grad norm,
             final val loss) >= +0.5 (the spec's within-batch (b)); at one lr, Spearman
             over the 3 batch sizes of the same pair, mean over the 5 lrs >= +0.5.

Result, seeds 0-19 (both presets: stable FAIL, 0/20 PASS; the corner passes 20/20, the
early-signal criteria fail):
  quick    (n_train 512, 2048 val windows) corner +0.83 (0.71-1.03); rho(gn) -0.12
           (-0.25..-0.04), 0/20; rho(loss) +0.13 (-0.36..+0.74), 1/20; tuned-lr diff
           -0.016 (-0.031..+0.0001), 1/20; within-bs-8 rho -0.9 (-0.9..-0.7); at-one-lr
           rho 0.2 (0.1-0.3). 1.8-8.1 s, median 2.2-3.8
           (5.8 s with a cold base cache: pre-training ~3.5 s).
  default  (n_train 1024, 4096 val windows) corner +0.48 (0.37-0.71); rho(gn) -0.12
           (-0.18..-0.06), 0/20; rho(loss) +0.09 (-0.22..+0.56), 0/20; tuned-lr diff
           -0.014 (-0.025..-0.001), 0/20; within-bs-8 rho -0.7 (-0.9..-0.7); at-one-lr
           rho 0.1 (0.1-0.2). 3.8-10.6 s (median 6.4-7.6) on a loaded 2-core box.
What reproduces: small batch + high lr is far worse than large batch + lower lr (the
corner, by 0.4-1.0 nats: it memorises the noisy SFT windows and forgets A). What does not:
(1) once lr is tuned per batch size the batch sizes tie (within 0.03 nats; the small batch
is slightly better on 19-20/20 seeds): at a fixed epoch budget the best lr grows with the
batch (about 1e-4-3e-4 at bs 8, 3e-4-1e-3 at bs 128), the "lr x steps" trade-off, and
theory gives no large-batch advantage at fixed epochs (Adam's update size is set by lr,
so more small steps average the noise better); (2) the early gradient norm is set by the
batch size (gradient noise: bs 8 about 5, bs 32 about 2.8, bs 128 about 1.6 at low lr)
and, within a batch size, FALLS as lr rises (the fast-fitting runs shrink their gradient
within the early window), so it ranks runs opposite to the paper within a batch size; at
one lr it ranks the batch sizes with the paper's sign only where that lr over-fits the
small batch (lr >= 1e-3: rho +0.5..+1; lr <= 3e-4: rho -1, hence the mean 0.1-0.2); pooled it
ranks nothing; (3) the early loss ranks runs with the paper's sign only where every
run over-fits (10 epochs of noisy data at high lr: rho about -0.4) and with the opposite
sign where runs are under-trained (3 epochs: rho +0.6..+0.8); pooled over this grid it is
about 0.

Worlds tried (seeds 0-2 unless said; rho = Spearman with the final val loss):
  W1 V 32, 4-token context, hid 128, base 1024 steps (base 2.63 vs H 1.75: undertrained),
     n 1024, 10 epochs, bs {8,32,128} x lr {1e-4..1e-2}: lr >= 1e-3 destroys the base (val
     4.5-7.3); rho(gn) -0.10, rho(loss) +0.44-0.46; best bs 32, lr 1e-4.
  W2 V 16, 2-token context, hid 128, base 2000 steps (1.266 vs 1.227), n 2048, 5 epochs,
     bs {16,64,256} x lr {3e-5..3e-3}: under-trained regime; rho(gn) +0.01/+0.05,
     rho(loss) +0.85/+0.89 (opposite sign); best bs 64 / 16.
  W3 as W2, n 1024, 20 epochs: rho(gn) -0.14, rho(loss) -0.29; noise 0.4, lr {1e-5..1e-3}:
     rho(gn) +0.09, rho(loss) +0.40; per-bs optima 1.67/1.67/1.71 (tie, small bs ahead).
  W4 the spec's grid bs {8,32,128} x lr {3e-4,1e-3,3e-3,1e-2}, n 1024, 10 epochs:
     rho(gn) -0.04/-0.18, rho(loss) -0.44/-0.41; with lr 1e-4 added: rho(gn) -0.14/-0.24,
     rho(loss) -0.40/-0.38; per-bs optima 1.69/1.67/1.68 and 1.75/1.77/1.76.
  W5 (the shipped base, hid 64) spec grid, n 512: early window 2 % of steps rho(gn)
     +0.21/+0.14/-0.23, 10 %: -0.09/-0.07/-0.10; rho(loss) -0.13..+0.20.
  W6 label noise 0: rho(gn) -0.26..-0.10, rho(loss) -0.15..+0.18, per-bs optima within
     0.04 (bs 8 best on 3/3); noise 0 + 50 % rows shifted: rho(gn) -0.11..0.00, rho(loss)
     +0.20..+0.39, bs 128 best on 2/3 by <= 0.02; n 2048, 3 epochs: rho(gn) -0.06..+0.14,
     rho(loss) +0.56..+0.80, per-bs optima within 0.02.
  The shipped world is W4's grid with 5 lrs on the smaller, faster base (quick <= 7 s).

Control (tests/test_sft_recipe_batch_lr.py): `eval_on_train = true` scores every run on
its own noisy SFT windows (the spec's broken variant): the small-batch / high-lr run
memorises them and looks best, so the corner flips to -0.70 (-0.75..-0.69, seeds 0-2) and
fails its criterion, which passes 20/20 on fresh windows.
Not tested: the paper's warm-up / schedule finding (iii) and phased vs stacked training
(iv); `warmup` and `schedule` are params for exploration only. The CUDA path was not run
in this session (the code moves data and models to ctx.device; masks and orders are drawn
on CPU generators).
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

CORNER = "corner: val(small bs, top lr) - val(large bs, lr/10) (nats)"
RHO_GN = "Spearman(early grad norm, final val loss), all runs"
RHO_LOSS = "Spearman(early train loss, final val loss), all runs"
TABLE = "final val loss on language B (nats): batch size x lr"


def _floats(text: str) -> list[float]:
    return [float(v) for v in text.replace(" ", "").split(",") if v]


def _ints(text: str) -> list[int]:
    return [int(v) for v in text.replace(" ", "").split(",") if v]


@dataclass(frozen=True)
class SftParams(Params):
    batch_sizes: str = param("8,32,128", help="SFT batch sizes (comma-separated, increasing, "
                                             "each a multiple of the smallest)")
    lrs: str = param("1e-4,3e-4,1e-3,3e-3,1e-2",
                     help="peak AdamW learning rates (comma-separated, increasing)")
    epochs: int = param(10, range=(1, 50), help="epochs over the SFT set (every run)")
    n_train: int = param(1024, range=(128, 8192), log=True,
                         help="SFT windows (a multiple of the largest batch)")
    label_noise: float = param(0.2, range=(0.0, 0.5),
                               help="share of SFT next tokens replaced by uniform tokens")
    shift_share: float = param(0.25, range=(0.0, 1.0),
                               help="share of language A's transition rows redrawn in B "
                                    "(the new behaviour SFT teaches)")
    early_fraction: float = param(0.1, range=(0.02, 0.3),
                                  help="early window: this share of each run's steps")
    warmup: int = param(0, range=(0, 100), help="linear warm-up steps")
    schedule: str = param("constant", choices=("constant", "cosine"),
                          help="lr schedule after warm-up")
    n_val: int = param(4096, range=(512, 20000), log=True, help="fresh B validation windows")
    evals: int = param(10, range=(1, 50), help="validation evaluations over training")
    eval_on_train: bool = param(False, help="control: score every run on its own noisy SFT "
                                            "windows instead of fresh B windows")
    # the pre-trained base (cached by recipe; one checkpoint, like the paper's base model)
    vocab: int = param(16, range=(4, 64), help="vocabulary V of the languages")
    alpha: float = param(0.1, range=(0.02, 1.0), log=True,
                         help="Dirichlet concentration of the transition rows")
    hidden: int = param(64, range=(16, 512), log=True, help="hidden width of the MLP LM")
    d_emb: int = param(16, range=(4, 64), help="embedding width per token")
    pre_steps: int = param(2000, range=(100, 10000), log=True,
                           help="pre-training steps of the base (batch 128)")
    base_seed: int = param(0, range=(0, 10_000), help="seed of language A and of the base")

    def check_consistency(self) -> list[str]:
        out = []
        try:
            bs = _ints(self.batch_sizes)
        except ValueError:
            bs = []
        if len(bs) < 2 or bs != sorted(set(bs)) or bs[0] < 1 or any(b % bs[0] for b in bs):
            out.append(f"batch_sizes: expected >= 2 increasing integers, each a multiple of "
                       f"the smallest, got {self.batch_sizes!r}")
        elif self.n_train % bs[-1]:
            out.append(f"n_train: must be a multiple of the largest batch ({bs[-1]}), got "
                       f"{self.n_train}")
        try:
            lrs = _floats(self.lrs)
        except ValueError:
            lrs = []
        if len(lrs) < 2 or lrs != sorted(set(lrs)) or lrs[0] <= 0 or lrs[-1] > 0.1:
            out.append(f"lrs: expected >= 2 increasing rates in (0, 0.1], got {self.lrs!r}")
        if self.vocab ** 2 > 4096:
            out.append(f"vocab: vocab^2 must be <= 4096 (order-2 table), got {self.vocab}")
        return out


def _base_recipe(p: SftParams) -> dict:
    return {"seed": p.base_seed, "vocab": p.vocab, "order": 2, "alpha": p.alpha,
            "context": 2, "d_emb": p.d_emb, "hidden": p.hidden, "steps": p.pre_steps,
            "batch": 128, "lr": 3e-3}


def master_steps(p: SftParams) -> int:
    return p.epochs * p.n_train // _ints(p.batch_sizes)[0]


def total_steps(p: SftParams) -> int:
    return master_steps(p) + len(_ints(p.batch_sizes)) * len(_floats(p.lrs))


def _run_name(b: int, lr: float) -> str:
    return f"b{b}_lr{lr:.0e}"


def run(p: SftParams, ctx: RunContext) -> Iterator[Metric | Note | Table]:
    import numpy as np
    import torch

    from paramlab.engines.lm import markov
    from paramlab.engines.lm import sft_grid as sg
    from paramlab.engines.nn import torch_train as tt

    recipe = _base_recipe(p)
    base = ctx.cached("sft-base-mlplm", recipe, lambda: sg.pretrain_base(recipe))
    chain_a = sg.base_chain(recipe)
    rng = ctx.rng
    g = tt.generator(ctx.seed)
    chain_b, _ = sg.shifted_chain(chain_a, rng, p.shift_share, p.alpha)
    X, Y = markov.sample_windows(chain_b, rng, p.n_train, 2)
    Y = sg.noisy_labels(Y, rng, p.label_noise, p.vocab)
    Xv, Yv = markov.sample_windows(chain_b, rng, p.n_val, 2)
    if p.eval_on_train:
        Xv, Yv = X, Y
    X, Y, Xv, Yv = tt.to_device(ctx.device, X, Y, Xv, Yv)
    bss, lrs = _ints(p.batch_sizes), _floats(p.lrs)
    programs = [sg.build_program(base, lrs, b, p.n_train, p.epochs, g,
                                 warmup=p.warmup, cosine=p.schedule == "cosine",
                                 device=ctx.device) for b in bss]
    base_val = float(sg.eval_loss(programs[0].model, Xv, Yv)[0])
    yield Note(f"base: val loss on A {float(base['val_loss'][0]):.3f} (entropy rate "
               f"{float(base['entropy_rate'][0]):.3f}); on B {base_val:.3f} (B's entropy rate "
               f"{chain_b.entropy_rate():.3f}); SFT: {p.n_train} windows, noise "
               f"{p.label_noise}, {p.epochs} epochs; steps per run "
               + ", ".join(f"bs {b}: {pr.steps}" for b, pr in zip(bss, programs))
               + ("; control: scored on the noisy SFT windows" if p.eval_on_train else ""))

    T = master_steps(p)
    eval_every = max(1, T // p.evals)
    early_gn = {b: [] for b in bss}
    early_loss = {b: [] for b in bss}
    n_early = {b: max(1, math.ceil(p.early_fraction * pr.steps)) for b, pr in zip(bss, programs)}

    def evaluate() -> dict[str, float]:
        out = {}
        for b, pr in zip(bss, programs):
            for lr, v in zip(lrs, sg.eval_loss(pr.model, Xv, Yv).tolist()):
                out[f"val_{_run_name(b, lr)}"] = v
        return out

    yield Metric(0, {"epoch": 0.0, "base_val": base_val, **evaluate()})
    finals: dict[str, float] = {}
    for t in range(1, T + 1):
        values: dict[str, float] = {"epoch": t * bss[0] / p.n_train}
        for b, pr in zip(bss, programs):
            ratio = b // bss[0]
            if t % ratio:
                continue
            s = t // ratio
            loss, gn = pr.step(s, X, Y)
            if s <= n_early[b]:
                early_gn[b].append(gn)
                early_loss[b].append(loss)
            for lr, lv, gv in zip(lrs, loss.tolist(), gn.tolist()):
                values[f"loss_{_run_name(b, lr)}"] = lv
                values[f"gn_{_run_name(b, lr)}"] = gv
        if t % eval_every == 0 or t == T:
            values |= evaluate()
            finals = values
        if not all(math.isfinite(v) for v in values.values()):
            values["train_loss"] = math.nan
        else:
            values["train_loss"] = values.get(f"loss_{_run_name(bss[0], lrs[0])}", math.nan)
        yield Metric(t, values)
        if ctx.should_stop():
            return

    cells = []
    i = 0
    for b in bss:
        gn0 = torch.stack(early_gn[b]).mean(0).tolist()
        l0 = torch.stack(early_loss[b]).mean(0).tolist()
        row = []
        for j, lr in enumerate(lrs):
            v = finals[f"val_{_run_name(b, lr)}"]
            row.append(v)
            i += 1
            yield Metric(T + i, {"early_gn": gn0[j], "early_loss": l0[j], "final_val": v,
                                 "batch": float(b), "log10_lr": float(np.log10(lr))})
        cells.append(row)
    yield Table(TABLE, [f"bs {b}" for b in bss], [f"lr {lr:g}" for lr in lrs], cells)


def spearman(a: list[float], b: list[float]) -> float:
    """Spearman rank correlation (average ranks for ties); NaN when undefined."""
    def ranks(v: list[float]) -> list[float]:
        order = sorted(range(len(v)), key=v.__getitem__)
        r = [0.0] * len(v)
        i = 0
        while i < len(order):
            j = i
            while j + 1 < len(order) and v[order[j + 1]] == v[order[i]]:
                j += 1
            for k in range(i, j + 1):
                r[order[k]] = (i + j) / 2
            i = j + 1
        return r
    if len(a) != len(b) or len(a) < 3 or not all(map(math.isfinite, [*a, *b])):
        return math.nan
    ra, rb = ranks(a), ranks(b)
    ma, mb = sum(ra) / len(ra), sum(rb) / len(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    va = sum((x - ma) ** 2 for x in ra)
    vb = sum((y - mb) ** 2 for y in rb)
    return cov / math.sqrt(va * vb) if va > 0 and vb > 0 else math.nan


def check(history: History, p: SftParams) -> Verdict:
    bss, lrs = _ints(p.batch_sizes), _floats(p.lrs)
    nan = math.nan
    table = history.tables.get(TABLE)
    grid = {(b, lr): table.cells[i][j] for i, b in enumerate(bss)
            for j, lr in enumerate(lrs)} if table else {}
    low = min(lrs, key=lambda lr: abs(math.log10(lr) - math.log10(lrs[-1] / 10)))
    corner = grid.get((bss[0], lrs[-1]), nan) - grid.get((bss[-1], low), nan)
    _, gn = history.paired("batch", "early_gn")
    _, el = history.paired("batch", "early_loss")
    _, fv = history.paired("batch", "final_val")
    rho_gn, rho_loss = spearman(gn, fv), spearman(el, fv)
    k = len(lrs)
    best = {b: min((grid.get((b, lr), nan) for lr in lrs), default=nan) for b in bss}
    within = spearman(gn[:k], fv[:k]) if len(gn) >= k else nan
    # across batch sizes at one lr (runs are stored bs-major): the mean over the lrs
    n_b = len(bss)
    across = ([spearman(gn[j::k], fv[j::k]) for j in range(k)]
              if len(gn) == n_b * k and n_b >= 3 else [nan])
    criteria = [
        Criterion.at_least(CORNER, corner, 0.05),
        Criterion.at_least(RHO_GN, rho_gn, 0.5),
        Criterion.at_most(RHO_LOSS, rho_loss, -0.3),
        Criterion.at_least("tuned lr: best val(smallest bs) - best val(largest bs) (nats)",
                           best.get(bss[0], nan) - best.get(bss[-1], nan), 0.0,
                           tier="mechanism"),
        Criterion.at_least(f"within bs {bss[0]}: Spearman(early grad norm, final val) over lr",
                           within, 0.5, tier="mechanism"),
        Criterion.at_least("at one lr: Spearman(early grad norm, final val) over batch "
                           "sizes, mean over lrs", sum(across) / len(across), 0.5,
                           tier="mechanism"),
    ]
    return Verdict.of(criteria, f"large batch + lower lr beats small batch + top lr by "
                      f"{corner:.2f} nats; early grad norm and loss rank the runs "
                      f"(rho {rho_gn:+.2f}, {rho_loss:+.2f})")


SCENARIO = Scenario(
    params=SftParams,
    run=run,
    check=check,
    panels=(
        Panel("gradient norm per step (one line per bs, lr)", series=("gn_*",), x="epoch",
              logy=True, xlabel="epoch", ylabel="grad norm"),
        Panel("validation loss on B", series=("val_*", "base_val"), x="epoch",
              xlabel="epoch", ylabel="nats"),
        Panel("final val loss vs early grad norm (one point per run)",
              series=("final_val",), x="early_gn", xlabel="early grad norm",
              ylabel="final val loss (nats)"),
        Panel("final val loss vs early train loss", series=("final_val",), x="early_loss",
              xlabel="early train loss (nats)", ylabel="final val loss (nats)"),
        Panel("final val loss, batch size x lr", kind="bars", table=TABLE),
    ),
    presets={"quick": {"n_train": 512, "n_val": 2048}},
    watch=("train_loss",),
    key_metric="train_loss",
    total_steps=total_steps,
    uses_torch=True,
    notes=__doc__ or "",
    paper_reports="SFT of 3B-7B LLMs (Granite, Llama, Mistral) on instruction data: larger "
                  "batch sizes with lower learning rates give better MMLU / MTBench; runs "
                  "with lower early gradient norms and higher early loss end better, which "
                  "allows early termination; warm-up and lr schedule simplifications do not "
                  "hurt; phased and stacked training perform the same (abstract).",
    paper_rows=(
        PaperRow("final score, large batch + low lr minus small batch + high lr",
                 "> 0 (better MMLU / MTBench; figures)", "nats (toy: val loss)",
                 "abstract; batch-size / lr study", CORNER),
        PaperRow("rank correlation, early grad norm vs final quality",
                 "lower early grad norm -> better (figures, no rho)", "Spearman",
                 "abstract; training-dynamics section", RHO_GN),
        PaperRow("rank correlation, early loss vs final quality",
                 "higher early loss -> better (figures, no rho)", "Spearman",
                 "abstract; training-dynamics section", RHO_LOSS),
    ),
    status="partly",
)
