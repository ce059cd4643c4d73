"""Data diet: prune the easy examples by early EL2N scores (Paul, Ganguli, Dziugaite 2021,
"Deep Learning on a Data Diet", arXiv 2107.07075).

NOTES-PLACEHOLDER
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

CHECK_FRAC = 0.5  # the paper's headline pruning fraction (CIFAR-10, Fig. 1)
N_BINS = 20  # bins of the score histograms
KEEPS = ("hard", "random", "easy")
VS_RANDOM = "acc(keep-hard, 50% pruned) - acc(random, 50% pruned)"
VS_FULL = "acc(keep-hard, 50% pruned) - acc(full data)"
AUROC = "AUROC of the score for the flipped labels"
RARE = "rare-cluster share of the kept 50% / base rate"
GRAND = "Spearman(GraNd, EL2N) at the scoring epoch"
EASY = "acc(random, 50%) - acc(keep-easy, 50%)"


def _fracs(text: str) -> list[float]:
    return sorted({float(v) for v in text.replace(" ", "").split(",") if v})


def _tag(f: float) -> str:
    return f"{round(100 * f)}"


@dataclass(frozen=True)
class DataDietParams(Params):
    n_train: int = param(3000, range=(500, 20000), log=True, help="training examples")
    n_test: int = param(4000, range=(500, 20000), log=True, help="test examples")
    n_classes: int = param(10, range=(2, 20), help="classes")
    dim: int = param(20, range=(2, 100), help="input dimension")
    rare_clusters: int = param(3, range=(0, 6),
                               help="rare sub-clusters per class besides the big one (0: no "
                                    "rare structure)")
    rare_weight: float = param(0.05, range=(0.01, 0.15),
                               help="share of its class each rare sub-cluster holds")
    cluster_noise: float = param(0.8, range=(0.3, 1.2),
                                 help="within-cluster std (centres are N(0, I))")
    hidden: int = param(128, range=(16, 512), log=True, help="width of both hidden layers")
    lr: float = param(0.05, range=(1e-3, 0.5), log=True, help="SGD learning rate (peak)")
    batch: int = param(128, range=(16, 1024), log=True, help="examples per SGD step")
    score: str = param("el2n", choices=("el2n", "grand"),
                       help="the score that ranks the examples: EL2N or GraNd")
    score_epoch: int = param(2, range=(0, 20),
                             help="epochs of training before scoring (0: untrained nets, the "
                                  "control)")
    score_inits: int = param(4, range=(1, 10), help="independent inits the scores average over")
    prune_fracs: str = param("0.3,0.5,0.7,0.8",
                             help="fractions of the training set pruned (comma-separated, in "
                                  "(0, 1), must include 0.5)")
    balance: str = param("global", choices=("global", "class"),
                         help="rank the whole training set (the paper's code) or keep the "
                              "same share of every class")
    offset: float = param(0.0, range=(0.0, 0.5),
                          help="keep-hard skips this fraction of the highest scores first "
                               "(the paper's offset, Sec. 5)")
    label_noise: float = param(0.1, range=(0.0, 0.3),
                               help="labels flipped in the noisy-label detection experiment "
                                    "(0: no such experiment)")
    retrain_epochs: int = param(15, range=(1, 100),
                                help="retraining length, in epochs of the FULL training set: "
                                     "every arm takes the same number of SGD steps")
    reps: int = param(4, range=(1, 10),
                      help="retraining runs per arm (new init, new random subset), averaged")

    def check_consistency(self) -> list[str]:
        out = []
        try:
            fr = _fracs(self.prune_fracs)
        except ValueError:
            fr = []
        if not fr or any(not 0 < f < 1 for f in fr) or CHECK_FRAC not in fr:
            out.append(f"prune_fracs: expected fractions in (0, 1) including {CHECK_FRAC}, "
                       f"got {self.prune_fracs!r}")
        if self.rare_clusters * self.rare_weight >= 0.9:
            out.append(f"rare_weight: rare_clusters * rare_weight must be < 0.9, got "
                       f"{self.rare_clusters} * {self.rare_weight}")
        return out


def _spe(p: DataDietParams) -> int:
    return -(-p.n_train // p.batch)


def total_steps(p: DataDietParams) -> int:
    # scoring steps 0..S1, retraining S1+1..S1+S2, one row per fraction (0 included),
    # N_BINS histogram rows, one summary row
    return (p.score_epoch + p.retrain_epochs) * _spe(p) + len(_fracs(p.prune_fracs)) + 1 \
        + N_BINS + 1


def run(p: DataDietParams, ctx: RunContext) -> Iterator[Metric | Note | Table]:
    import numpy as np
    import torch
    from scipy.stats import spearmanr
    from sklearn.metrics import roc_auc_score

    from paramlab.engines.nn import data_diet as dd
    from paramlab.engines.nn import torch_train as tt

    rng = ctx.rng
    g = tt.generator(ctx.seed)
    dev = ctx.device
    K, spe = p.n_classes, _spe(p)
    fracs = _fracs(p.prune_fracs)
    mix = dd.cluster_mixture(rng, K, p.dim, p.rare_clusters, p.rare_weight, p.cluster_noise)
    X_np, y_np, sub = mix.sample(rng, p.n_train)
    Xt_np, yt_np, _ = mix.sample(rng, p.n_test)
    noisy = p.label_noise > 0
    yn_np, flipped = dd.flip_labels(rng, y_np, p.label_noise, K)
    rare = sub > 0
    X, y, Xt, yt, yn = tt.to_device(dev, X_np, y_np, Xt_np, yt_np, yn_np)
    widths = [p.hidden, p.hidden]
    yield Note(f"{K} classes x (1 big + {p.rare_clusters} rare sub-clusters) in R^{p.dim}, "
               f"noise {p.cluster_noise}; {p.n_train} train ({rare.mean():.1%} rare), "
               f"{p.n_test} test; MLP {p.dim}-{p.hidden}-{p.hidden}-{K}")

    # ---- scoring: S clean-label nets (+ S on the noisy labels), score_epoch epochs
    S = p.score_inits
    n_nets = 2 * S if noisy else S
    scorer = dd.stacked_mlp(n_nets, p.dim, widths, K, g).to(dev)
    labels = torch.stack([y] * S + ([yn] * S if noisy else []))
    steps1 = p.score_epoch * spe
    sched = dd.subset_schedule([torch.arange(p.n_train)] * n_nets, steps1, p.batch, g).to(dev)

    def read_scores() -> dict[str, torch.Tensor]:
        logits = dd.forward(scorer, X)
        out = {"el2n": dd.el2n(logits[:S], y).mean(0),
               "loss": dd.per_model_ce(logits[:S], y).mean()}
        if noisy:
            out["el2n_noisy"] = dd.el2n(logits[S:], yn).mean(0)
        return out

    rare_t = torch.as_tensor(rare, device=dev)
    flip_t = torch.as_tensor(flipped, device=dev)

    def score_row(sc: dict[str, torch.Tensor], t: int) -> dict[str, float]:
        e = sc["el2n"]
        row = {"score_epoch_x": t / spe, "score_loss": float(sc["loss"]),
               "el2n_big": float(e[~rare_t].mean())}
        if rare.any():
            row["el2n_rare"] = float(e[rare_t].mean())
        if noisy:
            row["el2n_flipped"] = float(sc["el2n_noisy"][flip_t].mean())
            row["el2n_unflipped"] = float(sc["el2n_noisy"][~flip_t].mean())
        return row

    with torch.no_grad():
        sc = read_scores()
    yield Metric(0, score_row(sc, 0))
    for out in dd.train_stacked(scorer, X, labels, sched, lr=p.lr, cosine=False):
        t = out["step"]
        row = {"score_batch_loss": float(out["loss"][:S].mean())}
        if t % spe == 0:
            with torch.no_grad():
                sc = read_scores()
            row |= score_row(sc, t)
        yield Metric(t, row)
        if ctx.should_stop():
            return
    with torch.no_grad():
        sc = read_scores()
    el2n = sc["el2n"].cpu().numpy()
    grand = dd.grand(scorer, X, y)[:S].mean(0).detach().cpu().numpy()
    scores = el2n if p.score == "el2n" else grand
    rho_grand = float(spearmanr(grand, el2n)[0])
    auroc = (float(roc_auc_score(flipped, sc["el2n_noisy"].cpu().numpy())) if noisy
             else math.nan)

    # ---- the pruned data sets: every fraction x keep-hard / random / keep-easy, reps each
    def choose(keep: str, f: float) -> np.ndarray:
        off = p.offset if keep == "hard" else 0.0
        if p.balance == "class":
            return dd.select_per_class(scores, y_np, 1 - f, keep, rng, off)
        return dd.select(scores, round((1 - f) * p.n_train), keep, rng,
                         offset=round(off * p.n_train))

    arms = [("full", 0.0)] + [(k, f) for f in fracs for k in KEEPS]
    names, subsets = [], []
    for _ in range(p.reps):
        for keep, f in arms:
            idx = np.arange(p.n_train) if keep == "full" else choose(keep, f)
            names.append(keep if keep == "full" else f"{keep}{_tag(f)}")
            subsets.append(torch.as_tensor(idx))
    hard_half = choose("hard", CHECK_FRAC)
    enrichment = (float(rare[hard_half].mean() / rare.mean()) if rare.any() else math.nan)

    # ---- retraining from scratch, all arms side by side, the same number of SGD steps
    steps2 = p.retrain_epochs * spe
    model = dd.stacked_mlp(len(subsets), p.dim, widths, K, g).to(dev)
    sched = dd.subset_schedule(subsets, steps2, p.batch, g).to(dev)
    full_rows = [i for i, n in enumerate(names) if n == "full"]
    arm_names = list(dict.fromkeys(names))
    arm_of = torch.tensor([arm_names.index(n) for n in names])

    def arm_means(v: torch.Tensor) -> dict[str, float]:
        sums = torch.zeros(len(arm_names)).index_add_(0, arm_of, v.cpu())
        return {n: float(s) / p.reps for n, s in zip(arm_names, sums)}

    acc: dict[str, float] = {}
    for out in dd.train_stacked(model, X, y, sched, lr=p.lr):
        t = out["step"]
        row = {"retrain_loss": float(out["loss"].mean())}
        if t % spe == 0:
            acc = arm_means(dd.accuracy(model, Xt, yt))
            row |= {f"acc_{n}": a for n, a in acc.items()}
            row["retrain_epoch"] = t / spe
            with torch.no_grad():
                late = dd.el2n(dd.forward(model, X)[full_rows], y).mean(0).cpu().numpy()
            row["spearman_early_late"] = float(spearmanr(scores, late)[0])
        yield Metric(steps1 + t, row)
        if ctx.should_stop():
            return

    # ---- summaries: the Fig. 1 curve, the score histograms, the scalars the check reads
    base = steps1 + steps2 + 1
    for i, f in enumerate([0.0, *fracs]):
        row = {"frac_pruned": f}
        for keep in KEEPS:
            row[f"acc_keep_{keep}"] = acc["full"] if f == 0 else acc[f"{keep}{_tag(f)}"]
        yield Metric(base + i, row)
    base += len(fracs) + 1
    top = float(max(el2n.max(), sc["el2n_noisy"].max() if noisy else 0.0))
    edges = np.linspace(0.0, max(top, 1e-6) * (1 + 1e-9), N_BINS + 1)
    noisy_scores = sc["el2n_noisy"].cpu().numpy() if noisy else None
    for b in range(N_BINS):
        lo, hi = edges[b], edges[b + 1]
        row = {"el2n_bin": 0.5 * (lo + hi)}
        inb = (el2n >= lo) & (el2n < hi)
        row["hist_big"] = float((inb & ~rare).sum())
        row["hist_rare"] = float((inb & rare).sum())
        if noisy_scores is not None:
            inb_n = (noisy_scores >= lo) & (noisy_scores < hi)
            row["hist_unflipped"] = float((inb_n & ~flipped).sum())
            row["hist_flipped"] = float((inb_n & flipped).sum())
        yield Metric(base + b, row)
    summary = {"auroc_flipped": auroc, "rare_enrichment": enrichment,
               "spearman_grand_el2n": rho_grand,
               "rare_base_rate": float(rare.mean())}
    yield Metric(base + N_BINS, summary)
    yield Table("test accuracy by fraction pruned", [f"{_tag(f)}% pruned" for f in fracs],
                ["keep hard", "random", "keep easy"],
                [[acc[f"{k}{_tag(f)}"] for k in KEEPS] for f in fracs])
    yield Note(f"full data {acc['full']:.4f}; " + "; ".join(
        f"{_tag(f)}% pruned: hard {acc[f'hard{_tag(f)}']:.4f} random "
        f"{acc[f'random{_tag(f)}']:.4f} easy {acc[f'easy{_tag(f)}']:.4f}" for f in fracs))
    yield Note(f"scores at epoch {p.score_epoch} over {S} inits: rare share of the kept half "
               f"{enrichment:.2f}x base; AUROC(flipped) {auroc:.3f}; Spearman(GraNd, EL2N) "
               f"{rho_grand:.3f}")


def _acc(history: History, name: str) -> float:
    key = f"acc_{name}"
    return history.last(key) if key in history else math.nan


def check(history: History, p: DataDietParams) -> Verdict:
    h = _tag(CHECK_FRAC)
    hard, rand, easy = (_acc(history, f"{k}{h}") for k in KEEPS)
    full = _acc(history, "full")

    def last(name: str) -> float:
        return history.last(name) if name in history else math.nan

    criteria = [
        Criterion.at_least(VS_RANDOM, hard - rand, 0.01),
        Criterion.at_least(VS_FULL, hard - full, -0.01),
    ]
    if p.label_noise > 0:
        criteria.append(Criterion.at_least(AUROC, last("auroc_flipped"), 0.85))
    criteria += [
        Criterion.at_least(RARE, last("rare_enrichment"), 1.5, tier="mechanism"),
        Criterion.at_least(GRAND, last("spearman_grand_el2n"), 0.9, tier="mechanism"),
        Criterion.at_least(EASY, rand - easy, 0.0, tier="mechanism"),
    ]
    return Verdict.of(criteria, f"keeping the hardest half by {p.score.upper()} at epoch "
                      f"{p.score_epoch}: {hard:.3f} vs random {rand:.3f}, full {full:.3f}"
                      + (f"; AUROC(flipped) {last('auroc_flipped'):.3f}"
                         if p.label_noise > 0 else ""))


SCENARIO = Scenario(
    params=DataDietParams,
    run=run,
    check=check,
    panels=(
        Panel("test accuracy vs fraction pruned (Fig. 1)",
              series=("acc_keep_hard", "acc_keep_random", "acc_keep_easy"), x="frac_pruned",
              xlabel="fraction of the training set pruned", ylabel="test accuracy",
              labels={"acc_keep_hard": "keep hardest (score)", "acc_keep_random": "random",
                      "acc_keep_easy": "keep easiest"}),
        Panel("score histogram: big vs rare sub-clusters", series=("hist_big", "hist_rare"),
              x="el2n_bin", xlabel="EL2N at the scoring epoch", ylabel="examples"),
        Panel("score histogram (noisy-label run): clean vs flipped",
              series=("hist_unflipped", "hist_flipped"), x="el2n_bin",
              xlabel="EL2N against the noisy labels", ylabel="examples"),
        Panel("Spearman(early score, EL2N of the full-data model) vs retraining epoch",
              series=("spearman_early_late",), x="retrain_epoch", xlabel="retraining epoch",
              ylabel="Spearman rho"),
        Panel("retraining: test accuracy per arm", series=("acc_*",), x="retrain_epoch",
              xlabel="retraining epoch", ylabel="test accuracy"),
        Panel("scoring: mean EL2N by sub-cluster / label", series=(
            "el2n_big", "el2n_rare", "el2n_unflipped", "el2n_flipped"), x="score_epoch_x",
              xlabel="scoring epoch", ylabel="mean EL2N"),
    ),
    presets={"quick": {"score_inits": 3, "retrain_epochs": 10, "reps": 2,
                       "prune_fracs": "0.5,0.8"}},
    watch=("retrain_loss",),
    key_metric="acc_full",
    total_steps=total_steps,
    uses_torch=True,
    notes=__doc__ or "",
    paper_reports="On CIFAR-10 (ResNet-18), keeping the 50% of examples with the highest "
                  "EL2N scores, computed 20 epochs into training and averaged over 10 inits, "
                  "loses no test accuracy (a slight gain) and beats random pruning; GraNd at "
                  "initialisation does nearly as well; the highest scores are enriched in "
                  "noisy labels, and at high pruning fractions skipping the very hardest "
                  "examples (an offset) helps (Fig. 1, 4, 5).",
    paper_rows=(
        PaperRow("acc(EL2N, 50% pruned) - acc(random, 50% pruned)",
                 "> 0 (Fig. 1 curves; no number in the spec)", "accuracy",
                 "Fig. 1, CIFAR-10 ResNet-18", VS_RANDOM),
        PaperRow("acc(EL2N, 50% pruned) - acc(full data)",
                 ">= 0 (a slight gain; no number in the spec)", "accuracy",
                 "Fig. 1 / abstract, CIFAR-10", VS_FULL),
        PaperRow("AUROC of EL2N for randomly flipped labels",
                 "not in spec (the paper: highest scores enriched in noisy labels)", "",
                 "Sec. 5 / Fig. 5", AUROC),
    ),
    status="partly",
)
