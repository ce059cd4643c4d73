"""SFT recipe: larger batch with lower learning rate; early training signals predict the
final model (Pareja et al. 2024, "Unveiling the Secret Recipe: A Guide For Supervised
Fine-Tuning Small LLMs", arXiv 2412.13337). An analogy at toy scale, not a reproduction.

TODO notes (filled in after calibration).
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
    criteria = [
        Criterion.at_least(CORNER, corner, 0.05),
        Criterion.at_least(RHO_GN, rho_gn, 0.5),
        Criterion.at_most(RHO_LOSS, rho_loss, -0.3),
        Criterion.at_least("tuned lr: best val(smallest bs) - best val(largest bs) (nats)",
                           best.get(bss[0], nan) - best.get(bss[-1], nan), 0.0,
                           tier="mechanism"),
        Criterion.at_least(f"within bs {bss[0]}: Spearman(early grad norm, final val) over lr",
                           within, 0.5, tier="mechanism"),
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
