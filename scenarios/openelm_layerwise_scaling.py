"""OpenELM layer-wise scaling: per-layer heads and FFN widths (Mehta et al. 2024).

TODO notes filled below after calibration.
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

ARMS = ("uniform", "layerwise", "inverted")
CONFIG_TABLE = "openelm configs"
LAYER_TABLE = "block parameters per layer (thousands)"
FINAL_TABLE = "final val CE on recall positions (per replicate)"
CRIT_Q = "sizes whose query-head list equals the published one (of 4)"
CRIT_KV = "sizes whose KV-head list equals the published one (of 4)"
CRIT_FFN = "sizes whose FFN list equals the published one (of 3 published)"
CRIT_TOTAL = "max |computed total / nominal size - 1| (%)"
CRIT_MATCH = "toy: layer-wise / uniform block parameters"
CRIT_GAP = "toy: val CE layer-wise - uniform (nats; soft band, no win asserted)"


@dataclass(frozen=True)
class OpenelmLayerwiseScalingParams(Params):
    variant: str = param("openelm", choices=("openelm", "head_dim_divisor", "floor",
                                              "unrounded"),
                         help="config arithmetic: openelm, or a broken variant (control)")
    layers: int = param(4, range=(2, 8), help="toy: transformer layers")
    d_model: int = param(64, range=(32, 128), help="toy: model width")
    head_dim: int = param(16, range=(8, 32), help="toy: head size")
    alpha_lo: float = param(0.5, range=(0.25, 1.0), help="attention multiplier, first layer")
    alpha_hi: float = param(1.0, range=(0.25, 1.0), help="attention multiplier, last layer")
    beta_lo: float = param(0.5, range=(0.25, 4.0), help="FFN multiplier, first layer")
    beta_hi: float = param(4.0, range=(0.25, 4.0), help="FFN multiplier, last layer")
    npairs: int = param(4, range=(2, 8), help="toy task: key-value pairs (T = 4 npairs)")
    steps: int = param(200, range=(20, 5000), log=True, help="toy: AdamW steps")
    batch: int = param(32, range=(8, 256), log=True, help="toy: sequences per step")
    lr: float = param(3e-3, range=(1e-4, 3e-2), log=True, help="toy: peak learning rate")
    reps: int = param(2, range=(1, 8), help="toy: replicate inits per arm (averaged)")
    eval_every: int = param(25, range=(1, 500), help="toy: steps between validations")


def run(p: OpenelmLayerwiseScalingParams, ctx: RunContext) -> Iterator[object]:
    import torch

    from paramlab.engines.lm import layerwise as LW
    from paramlab.engines.lm.stacked_train import StackedAdamW

    # (a) the configuration arithmetic against the published OpenELM configs
    rows, cells = [], []
    for s in LW.PUBLISHED:
        cfg = LW.layerwise_config(s.layers, s.d_model, s.head_dim, variant=p.variant)
        n = LW.openelm_params(cfg, s.d_model, s.head_dim)
        ffn_ok = float("nan") if s.ffn is None else float(cfg.ffn == s.ffn)
        rows.append(s.name)
        cells.append([float(cfg.q_heads == s.q_heads), float(cfg.kv_heads == s.kv_heads),
                      ffn_ok, n / 1e6, 100 * (n / s.nominal - 1)])
        yield Note(f"OpenELM-{s.name} ({p.variant}): query heads {list(cfg.q_heads)}; "
                   f"FFN {list(cfg.ffn)}; {n / 1e6:.2f}M parameters")
    yield Table(CONFIG_TABLE, rows, ["q heads match", "kv heads match", "ffn match",
                                     "params (M)", "vs nominal (%)"], cells)

    # (b) the toy: uniform vs layer-wise (vs inverted) at exactly matched block parameters
    dev = ctx.device
    heads_lw, ffn_lw = LW.toy_allocation(p.layers, p.d_model, p.head_dim,
                                         (p.alpha_lo, p.alpha_hi), (p.beta_lo, p.beta_hi))
    heads_u, ffn_u = LW.matched_uniform(heads_lw, ffn_lw, p.d_model, p.head_dim)
    alloc = {"uniform": (heads_u, ffn_u), "layerwise": (heads_lw, ffn_lw),
             "inverted": (heads_lw[::-1], ffn_lw[::-1])}
    counts = {a: LW.block_params(*alloc[a], p.d_model, p.head_dim) for a in ARMS}
    for a in ARMS:
        yield Note(f"toy {a}: heads {alloc[a][0]}, FFN {alloc[a][1]}, "
                   f"{counts[a]:,} block parameters")
    yield Table(LAYER_TABLE, [f"layer {i}" for i in range(p.layers)], list(ARMS),
                [[(4 * p.d_model * alloc[a][0][i] * p.head_dim
                   + 3 * p.d_model * alloc[a][1][i] + 2 * p.d_model) / 1e3 for a in ARMS]
                 for i in range(p.layers)])
    yield Table("toy block parameters", ["block parameters"], list(ARMS),
                [[float(counts[a]) for a in ARMS]])

    vocab, T = 32, 4 * p.npairs
    A, R = len(ARMS), p.reps
    seed = int(ctx.rng.integers(2**31 - 1))
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    heads = [alloc[a][0] for a in ARMS for _ in range(R)]
    ffn = [alloc[a][1] for a in ARMS for _ in range(R)]
    model = LW.StackedLayerwiseLM(heads, ffn, vocab=vocab, d_model=p.d_model,
                                  head_dim=p.head_dim, max_len=T, generator=g).to(dev)
    opt = StackedAdamW(model.parameters(), lr=p.lr, betas=(0.9, 0.95), weight_decay=0.1)
    vseq, vmask = LW.recall_batch(256, p.npairs, vocab, g)
    vseq, vmask = vseq.to(dev), vmask.to(dev)

    def arm_means(x: torch.Tensor) -> list[float]:
        return [float(v) for v in x.reshape(A, R).mean(1)]

    def evaluate() -> tuple[torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            vs = vseq.expand(A * R, -1, -1)
            return LW.recall_loss(model(vs[..., :-1]), vs, vmask)

    ce, acc = evaluate()
    yield Metric(0, {**{f"val_ce_{a}": v for a, v in zip(ARMS, arm_means(ce))},
                     **{f"val_acc_{a}": v for a, v in zip(ARMS, arm_means(acc))}})
    for t in range(1, p.steps + 1):
        # replicate r of every arm reads the same batch (a paired comparison)
        seq, mask = LW.recall_batch(R * p.batch, p.npairs, vocab, g)
        seq = seq.reshape(R, p.batch, T).repeat(A, 1, 1).to(dev)
        mask = mask.reshape(R, p.batch, T - 1).repeat(A, 1, 1).to(dev)
        opt.lr = LW.lr_at(t - 1, p.steps, p.lr)
        opt.zero_grad()
        loss, _ = LW.recall_loss(model(seq[..., :-1]), seq, mask)
        loss.sum().backward()
        opt.step()
        row = {f"train_ce_{a}": v for a, v in zip(ARMS, arm_means(loss.detach()))}
        if t % p.eval_every == 0 or t == p.steps:
            ce, acc = evaluate()
            row.update({f"val_ce_{a}": v for a, v in zip(ARMS, arm_means(ce))})
            row.update({f"val_acc_{a}": v for a, v in zip(ARMS, arm_means(acc))})
        yield Metric(t, row)
        if ctx.should_stop():
            return
    yield Table(FINAL_TABLE, list(ARMS), [f"rep {r}" for r in range(R)],
                [[float(v) for v in ce.reshape(A, R)[i]] for i in range(A)])


def check(history: History, p: OpenelmLayerwiseScalingParams) -> Verdict:
    import math

    cells = history.tables[CONFIG_TABLE].cells
    n_q = sum(r[0] for r in cells)
    n_kv = sum(r[1] for r in cells)
    n_ffn = sum(r[2] for r in cells if not math.isnan(r[2]))
    dev = max(abs(r[4]) for r in cells)
    cc = history.tables["toy block parameters"].cells[0]
    match = cc[1] / cc[0]
    gap = history.last("val_ce_layerwise") - history.last("val_ce_uniform")
    criteria = (
        Criterion.at_least(CRIT_Q, n_q, 4),
        Criterion.at_least(CRIT_KV, n_kv, 4),
        Criterion.at_least(CRIT_FFN, n_ffn, 3),
        Criterion.at_most(CRIT_TOTAL, dev, 2.5),
        Criterion.between(CRIT_MATCH, match, 0.98, 1.02, tier="mechanism"),
        Criterion.at_most(CRIT_GAP, gap, 0.3, tier="mechanism"),
    )
    return Verdict.of(criteria, f"layer-wise arithmetic reproduces all published OpenELM "
                      f"head/FFN lists (totals within {dev:.2f}% of nominal); toy val CE "
                      f"layer-wise - uniform {gap:+.3f} nats at matched parameters")


SCENARIO = Scenario(
    params=OpenelmLayerwiseScalingParams,
    run=run,
    check=check,
    panels=(
        Panel("val CE on recall positions (uniform vs layer-wise vs inverted)",
              series=("val_ce_*",), logy=False),
        Panel("train CE per step", series=("train_ce_*",), logy=False),
        Panel("recall accuracy", series=("val_acc_*",), logy=False),
        Panel("block parameters per layer (thousands)", kind="bars", table=LAYER_TABLE),
    ),
    presets={"quick": {"steps": 100, "reps": 1, "batch": 16, "eval_every": 20}},
    watch=("train_ce_layerwise", "train_ce_uniform"),
    key_metric="val_ce_layerwise",
    total_steps=lambda p: p.steps,
    uses_torch=True,
    notes=__doc__ or "",
    paper_reports="TODO",
    paper_rows=(),
    status="partly",
)
