"""OpenELM layer-wise scaling: per-layer heads and FFN widths (Mehta et al. 2024).

The paper's claim: instead of identical transformer blocks, OpenELM lets the number of
attention heads and the FFN width grow linearly with depth (attention multiplier alpha
0.5 -> 1.0, FFN multiplier beta 0.5 -> 4.0, interpolated over the layers); with it,
OpenELM-1.1B is 2.36 % more accurate than OLMo-1.2B with 2x fewer pre-training tokens.

(a) Configuration arithmetic, the falsifiable core (spec P11, deterministic, < 0.01 s).
engines/lm/layerwise.py implements corenet's rule: m_i = round(linspace(lo, hi, L)_i, 2);
query_dim_i = make_divisible(d m_qkv,i, head_dim x gqa_groups), kv heads = q heads / 4;
ffn_i = make_divisible(d m_ffn,i, 256). It is compared element-wise with the per-layer
lists of the released config.json files (270M: L 16, d 1280; 450M: 20, 1536; 1.1B: 28, 2048,
head_dim 64; 3B: 36, 3072, head_dim 128). Result: query and KV head lists equal the
published ones for 4/4 sizes, FFN lists for 3/3 sizes with a published list (the 1.1B
duplicate 4608, 4608 at layers 13-14 included; no 270M FFN list was found, its computed
list 768 -> 5120 is shown, not judged). Exact totals (tied 32k embeddings, no biases, q/k
norms, GLU): 271.53M / 457.18M / 1079.89M / 3036.65M = +0.57 / +1.60 / -1.83 / +1.22 %
of the nominal size.

(b) Toy training (informational; spec P11 "Update: calibration", the world it lists).
MQAR associative recall, V = 32: 4 (key, value) pairs, then the 4 keys in shuffled order
each followed by its value (T = 16); CE read only at the 4 recall positions (chance ln 16 =
2.77). Model: 4-layer pre-RMSNorm causal transformer, d 64, head_dim 16, MHA, GLU-SiLU,
learned positions, tied embeddings. Allocations by the same rule at toy scale (divisor 16):
    layer-wise heads [2, 3, 3, 4], FFN [32, 112, 176, 256]
    uniform    heads [3, 3, 3, 3], FFN [144 x 4]                (contrast baseline)
    inverted   heads [4, 3, 3, 2], FFN [256, 176, 112, 32]      (allocation-order probe)
all with exactly 160,256 block parameters. All arms x replicates train as one stacked
program (each layer at the widest arm's size, unused heads / FFN units masked to zero, so
they get no gradient); replicate r of every arm reads the same batches. AdamW lr 3e-3,
betas (0.9, 0.95), wd 0.1, 5 % warm-up, cosine to 10 %. Presets: quick 100 steps, 1
replicate, batch 16; default 200 steps, 2 replicates (averaged), batch 32.

Claim check (thresholds from the spec's calibration, fixed before seeds 0-19):
  paper     query-head lists equal the published ones on 4/4 sizes; KV-head lists 4/4;
            FFN lists 3/3; max |total / nominal - 1| <= 2.5 % (the spec's first proposal,
            1 %, fails 3 of 4 sizes against rounded names; replaced in the spec before
            this module was written)
  mechanism toy block parameters layer-wise / uniform in [0.98, 1.02] (exact: 1.000,
            holds by construction)
            toy val CE layer-wise - uniform <= 0.3 nats (the spec's soft band: no win is
            asserted, only "not much worse"; one-sided)
Control: variant = "head_dim_divisor" (the head divisor forgets the GQA groups) or
"floor" (floor rounding instead of make_divisible) fail the list-match criteria on 4/4
sizes (tests/test_openelm_layerwise_scaling.py); "unrounded" (multipliers not rounded to 2
decimals) fails on 2 of 4 (270M, 1.1B). The subtle variants stay within 2.5 % in total
size, so exact list equality is the real gate.

Worlds tried for (b) (val CE at recall positions unless said otherwise)
0. The spec's calibrations (separately trained models): MQAR 300 steps, 3 seeds: LW - U
   +0.03 ... +0.17 (quick 150 steps +0.04 ... +0.27); a second calibration +0.09 ... +0.16 at
   100 steps and +0.013 ... +0.030 at 300 steps. npairs = 8 barely learns (acc 0.21-0.23).
1. Markov LM (engines/lm/markov), order 2, V 32, Dirichlet 0.1 (1024 contexts), T 16, 200
   steps, 2 replicates, seed 0: excess CE over the entropy rate (1.747) U 1.625 / 1.591,
   LW 1.694 / 1.616, INV 1.604 / 1.581 (LW - U +0.069 / +0.024, INV - U -0.020 / -0.010):
   the table is far from learnt and allocation moves CE by < 0.07 nats. Dropped.
2. MQAR, 400 steps, 2 replicates, batch 32, seed 0: U 1.130 / 1.313, LW 1.339 / 1.315,
   INV 1.131 / 1.289 (LW - U +0.209 / +0.002, INV - U +0.001 / -0.024): replicate noise
   (the recall phase transition comes at a random step) is as large as any effect.
3. Shipped (MQAR, presets above), seeds 0-19:
   quick:   U 2.424, LW 2.486, INV 2.265 (means); LW - U +0.062 +- 0.196 (min -0.272,
            max +0.399; LW < U on 9/20); INV - U -0.159 +- 0.218 (INV < U on 16/20);
            LW - INV +0.221 +- 0.182 (LW < INV on 2/20). Recall accuracy U 0.207, LW
            0.186, INV 0.261.
   default: U 1.608, LW 1.786, INV 1.439 (means); LW - U +0.177 +- 0.244 (min -0.188,
            max +0.671; LW < U on 6/20); INV - U -0.169 +- 0.145 (INV < U on 17/20);
            LW - INV +0.347 +- 0.211 (LW < INV on 1/20). Recall accuracy U 0.337, LW
            0.310, INV 0.351.
Per-layer allocation does matter in this toy - but the wide-early (inverted) order is the
better one. A plausible reason, not tested here: recall binds keys to values in the
first layer, which layer-wise scaling starves (2 heads, FFN 32).

Pass rates, seeds 0-19: quick 20/20 PASS, default 20/20 PASS (the verdict is the
deterministic arithmetic). The mechanism soft band holds on 16/20 quick seeds (one
replicate, 100 steps: the gap's seed sd is 0.20) and on 13/20 default seeds: it is
the spec's threshold, kept; its failures are the not-reproduced result itself (layer-wise
is worse than uniform by +0.18 nats on average at 200 steps), not a defect of the check.
One-core wall on the shared 2-core box (4 helpers): quick 6.6 / 7.0 / 8.8 s (min / median /
max), default 25 / 37 / 60 s (25 s CPU; the 60 s seed ran under contention).

Not reproduced: any gain of layer-wise over uniform allocation at matched parameters
(the paper's +2.36 % is at ~1B parameters and billions of tokens, against OLMo, not an
ablation at matched parameters). Not modelled: GQA, RoPE and q/k norms in the toy.
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
    threads=2,  # 1.27x faster on 2 idle cores than on 1 (bench_threads, quick, 1 run)
    notes=__doc__ or "",
    paper_reports="OpenELM's layer-wise scaling (alpha 0.5 -> 1.0, beta 0.5 -> 4.0) defines "
                  "the released 270M / 450M / 1.1B / 3B configs; OpenELM-1.1B is 2.36 % "
                  "more accurate on average than OLMo-1.2B with 2x fewer pre-training "
                  "tokens (the paper does not isolate layer-wise scaling at matched "
                  "parameters).",
    paper_rows=(
        PaperRow("per-layer query-head lists (released config.json)", "4 of 4 sizes",
                 "sizes", "config.json of OpenELM-270M/450M/1_1B/3B", CRIT_Q),
        PaperRow("per-layer KV-head lists (GQA groups 4)", "4 of 4 sizes", "sizes",
                 "config.json", CRIT_KV),
        PaperRow("per-layer FFN widths (GLU, divisor 256)", "3 published lists", "sizes",
                 "config.json (450M, 1.1B, 3B; 270M list not found)", CRIT_FFN),
        PaperRow("total parameters vs the size in the name", "270M / 450M / 1.1B / 3B",
                 "% off", "model names, Table 1", CRIT_TOTAL),
        PaperRow("accuracy gain of OpenELM-1.1B over OLMo-1.2B", "+2.36 % (2x fewer tokens)",
                 "avg. accuracy", "Abstract, Table 3", ""),
        PaperRow("layer-wise vs uniform at matched parameters", "not reported", "nats",
                 "(toy only)", CRIT_GAP),
    ),
    status="partly",
)
