"""Unified view of PEFT: prefix tuning as a gated parallel adapter (He, Zhou, Ma,
Berg-Kirkpatrick, Neubig, ICLR 2022, arXiv 2110.04366).

The paper re-frames prefix tuning, adapters and LoRA as modifications Δh added to hidden
states. Its derivation (§3.1): attention with l prefix key/value vectors P_k, P_v is exactly
a gated parallel adapter on attention,
    Attn([P_k; K], [P_v; V])(q) = (1 - λ(q)) Attn(q, K, V) + λ(q) softmax(q P_k^T) P_v,
with λ(q) the softmax mass on the prefix keys. Its headline result: Mix-and-Match (MAM:
prefix on attention + a scaled parallel adapter on the FFN) matches full fine-tuning with
~6.7 % of the parameters; parallel beats sequential placement.

The world (engines/peft). (A) The spec's probe: a random single-head attention in float32
(n = 10 tokens, d = 16, l = 4) computed directly and in the gated form; plus the same
comparison on the *trained* prefixes of the prefix and MAM runs (every block, every head,
on the test images). (B) A tiny pre-LN transformer (d = 32, 2 blocks, 4 heads, FFN 128,
16 tokens of 2x2 pixels, mean-pooled; 26,144 parameters) is pre-trained on scikit-learn's
digits of classes 0-4 (400 AdamW steps, batch 32, cosine; one fixed checkpoint,
`backbone_seed` 0, as the paper adapts one public checkpoint; built through ctx.cached).
Frozen, it is adapted to classes 5-9 (disjoint classes, so no image is shared): 40 % train,
30 % validation, 30 % test, a fresh head for every method (same init), Adam with lr 1e-2
(PEFT, head-only) and 1e-3 (full FT), batch 32, 300 steps, all methods trained in lock-step
on the same batches; `repeats` = 2 splits/inits averaged per method. Methods and their
trainable parameters (new head included, % of the backbone; each asserted equal to its
hand formula at run time): head-only 165 (0.63 %), LoRA r = 4 on W_q, W_v 1,189 (4.55 %),
sequential FFN adapter r = 8 1,269 (4.85 %), parallel FFN adapter r = 8, s = 4 1,269
(4.85 %), prefix l = 8 1,189 (4.55 %), MAM = prefix l = 4 + parallel FFN adapter r = 4,
s = 4 1,261 (4.82 %), full FT 26,309. The prefix length is 8 rather than the spec's 4 so
that its budget matches LoRA's; the spec's l = 4 is MAM's prefix.

Claim check (thresholds fixed before the judging seeds 0-19):
  paper  (A) max |direct - gated| <= 1e-5 in float32 (spec). An algebraic identity: it
         holds by construction up to rounding, so it shows the code computes the paper's
         two forms, not an empirical finding. The test file checks it to 1e-6 in float32
         and 1e-12 in float64 against a numpy reference.
  paper  (B) the best PEFT method (picked on validation among those <= 10 % of the
         backbone) is within 2 test-accuracy points of full FT (>= -2), and
  paper  (B) >= 3 points above head-only. Both are the spec's proposals, adopted as they
         stand: the paper reports MAM within a fraction of a ROUGE/BLEU point of full FT;
         2 points is that claim at the resolution of a ~270-image test set (binomial
         sd ~2 points per accuracy).
  mechanism  full FT >= 3 points above head-only (the target needs adaptation at all).
Reported, not asserted: parallel minus sequential adapter (the spec expects noise).

Measured again on 2026-12-05 (session 9), after the backbone was made thread-invariant
(its LayerNorm written as normalise-then-affine, the prefix softmax written out, MKL's
strict mode): the float rounding changed, so the one shared pre-trained backbone
(backbone_seed 0) is a slightly different network, and every seed's numbers moved.
bench/bench_results.py, seeds 0-19, one thread per run, 2 workers:
  default  FAIL 0/20 PASS (stable). (B) b-f -11.3 (-18.2..-3.4, sd 3.8): fails on 20/20;
           b-h +20.8 (+14.9..+27.9). Full FT - head-only +32.1. 19 s per run.
  quick    (100 steps, one repeat) UNSTABLE 6/20 PASS. (B) b-f -9.7 (-25.3..+6.3, sd
           9.6): within -2 on 6 seeds; b-h +16.9 (+4.1..+34.2). Full FT - head-only
           +26.5. 3.7 s per run. That world is too noisy for a stable verdict: with the
           previous rounding it read FAIL 20/20 (b-f -30.1..-3.0), and 2 of those 20
           seeds already flipped to PASS when only the thread count changed. Two quieter
           quick worlds, seeds 0-19 (`paramlab check`, 2 workers): repeats 2 (the average
           of two splits and inits): FAIL 19/20, b-f -20.1..-0.9 (PASS on seed 19 only),
           6.9 s per run; steps 200: FAIL 19/20, b-f -20.1..-1.1. SHIPPED as quick:
           repeats 2 (the default's averaging; 100 steps keep it cheap). Its bench
           (bench_results, 2 workers): FAIL 1/20 PASS (stable, at the 19/20 edge); b-f
           -11.6 (-20.1..-0.9, sd 6.4); b-h +15.7 (+9.3..+22.1); full FT - head-only
           +27.3; 7.0 s per run.
The numbers below are the previous measurement, kept for the comparison.
Measured (seeds 0-19, bench/bench_results.py, one core of a 2-core box loaded by other
jobs; means with min..max; "b-f" = best PEFT - full FT, "b-h" = best PEFT - head-only, in
test-accuracy points):
  default  FAIL 20/20 (stable). (A) PASS 20/20, max deviation 0.8e-6..1.9e-6 (trained
           prefixes; the random probe ~3e-7). (B) b-f -12.0 (-17.7..-6.3, sd 3.5): fails on
           20/20; b-h +21.3 (+16.5..+28.8): passes on 20/20. Full FT - head-only +33.2.
           Test accuracy (calibration seeds 0-8): head 55.7, full FT 89.4, LoRA 77.8, MAM
           73.2, parallel adapter 71.3, prefix 64.4, sequential adapter 57.5. Best PEFT by
           validation: LoRA on most seeds, MAM or the parallel adapter on the others.
           Median 43 s wall per run.
  quick    FAIL 20/20 (stable). (A) PASS 20/20 (<= 2.1e-6). (B) b-f -15.9 (-30.1..-3.0,
           sd 6.5): fails on 20/20; b-h +16.2 (+7.4..+26.0): passes on 20/20. Full FT 84.0
           (68..94), LoRA 67.6, MAM 66.7, parallel 63.6, prefix 59.7, sequential 54.0,
           head 52.0. Median 10.7 s wall per run.
  Parallel minus sequential adapter (reported, not asserted): +13.9 points (default,
  +8.7..+19.5, parallel ahead on every calibration seed), +9.6 (quick, ahead on 19/20):
  the paper's ordering holds here, by a wide margin, at equal budgets.
  CPU seconds (`paramlab check`, process total with ~2 s of imports): quick 10.7 with the
  backbone cached, 13.2 on a cold cache (pre-training ~3.5 s): slightly over the 10 s
  target; default ~40 (seven methods x 2 repeats x 300 steps, lock-step, one core).

So the paper tier FAILS at toy scale: part (A), the identity, holds exactly (as it must);
part (B), "PEFT matches full FT", does not. Every PEFT method beats head-only by far (the
frozen features do transfer and a few percent of parameters buy 15-25 points), but the
best one stays 6-17 points below full fine-tuning of this 26k-parameter backbone.
Budget diagnostic (default, seed 0, budgets x4: LoRA r 16 16.3 %, adapters r 32 16.8 %,
prefix l 16 8.5 %, MAM l 4 + r 16 10.8 %): LoRA 80.7, MAM 76.2, parallel 74.5 vs full FT
85.1 (4.5 % budgets on the same seed: LoRA 78.8, MAM 72.9): the gap narrows slowly with
budget; the paper's regime (a few % of a 400M-parameter model, i.e. tens of millions of
tuned parameters) is far from ~1,200 tuned parameters.

Worlds tried (seeds as stated; test accuracy in %):
  W0  the spec's world, a prototype with a per-seed backbone (600 pre-training steps,
      batch 128), PEFT lr 5e-3, 300 steps of batch 64, one repeat: seed 0 head 57.6, full
      93.1, LoRA 77.5, parallel 76.6, MAM 75.3, prefix 59.1, sequential 59.1; seed 1 head
      44.4, full 92.2, LoRA 68.6, MAM 67.7. PEFT lr 1e-2: LoRA 82.0 (seed 0); 600 steps:
      LoRA 86.2, MAM 79.2, full 93.9. PEFT under-fits (training loss 0.2-0.85 vs 0.03).
  W1  target = classes 0-4 transposed (seed 0; the images are transposes of pre-training
      images): head 49.0, full 92.4, MAM 72.5, parallel 69.9, LoRA 69.5.
  W2  backbone pre-trained on all 10 classes of every image, target 5-9 transposed /
      inverted (seed 0; leaky: the target images are transforms of pre-training images):
      transposed head 81.6, full 95.2, LoRA 91.4, prefix 86.8; inverted head 75.7, full
      96.7, LoRA 94.1, MAM 86.1 (best PEFT 3.8 / 2.6 points below full FT, closest seen).
  W3  the leak removed: 10 classes pre-trained on half of the images, target = the other
      half transposed / inverted (seed 0, budgets 8-14 %): full 84-90 / 79, LoRA 78-81 /
      75, head 64-68 / 46.
  W4  the scenario as shipped but with a per-seed backbone, one repeat, batch 64: quick
      (lr 1e-2 / 1e-3) FAIL 18/20, b-f -10.4 (-23.8..0.0); default seeds 0-7 b-f -12.6..
      +0.4 (one pass): unstable, since the noise of one 270-image test set, one backbone
      per seed and full FT's own spread (85-95) sum to an sd of ~4.5 points.
  W5  = W4 with one fixed checkpoint, 2 repeats averaged and batch 32 (the default now):
      default sd of b-f 3.1, all seeds FAIL. Its quick preset with the default's lrs
      (1e-2 / 1e-3 at a third of the steps) left full FT untrained (74.8, 64.7..88.9) and
      passed 6/20 by chance (b-f -5.3, -18.6..+4.8); quick now scales both lrs x3 for its
      x3 fewer steps (lr x steps as in the default; PEFT gains nothing from it: best PEFT
      69.3 vs 69.5 on seeds 0-5, full FT 74.8 -> 84.0). This was a change of the quick
      world, made after seeing seeds 0-19 of the old quick; thresholds unchanged.
  Robustness look after the judging seeds: quick seeds 20-29 FAIL 9/10 (b-f -16.5,
  -25.7..+4.5; seed 22 passes (B): LoRA 84.8 vs full FT 80.3, one split with a weak full
  FT run: quick's single repeat leaves b-f an sd of ~6.5 points, so an occasional pass on
  other seeds is expected); default seeds 20-24 FAIL 5/5 (b-f -12.5, -16.9..-7.4), 27-31 s
  wall each on a less loaded box.

Control (tests/test_unified_peft_prefix_adapter.py): `identity_form = ungated` compares
prefix attention with Attn + softmax(q P_k^T) P_v (no λ): (A) fails (deviation ~1, against
<= 1e-5), while the normal run passes it. Engine tests (tests/test_peft_engine.py):
trainable counts of every module and method equal the sum over trainable parameters and a
literal hand formula; zero-initialised LoRA and adapters leave the backbone's output
bitwise unchanged; the identity to 1e-6 (float32) and 1e-12 (float64) against a numpy
reference; the ungated form off by > 0.1; LoRA equals its merged dense layer.
Not tested: FFN vs attention placement at larger budgets, s = 4 vs s = 1, HF `peft`
cross-checks (not installed), the CUDA path (no GPU in this session).
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

METHODS = ("head", "full", "lora", "seq_adapter", "par_adapter", "prefix", "mam")
PEFT = ("lora", "seq_adapter", "par_adapter", "prefix", "mam")
LABELS = {"head": "head only", "full": "full FT", "lora": "LoRA (W_q, W_v)",
          "seq_adapter": "sequential adapter (FFN)", "par_adapter": "parallel adapter (FFN, s)",
          "prefix": "prefix tuning", "mam": "MAM (prefix + parallel FFN adapter)"}
IDENTITY = "(A) max |prefix attention - gated parallel adapter form| (float32; identity)"
VS_FULL = "(B) best PEFT (<= budget) test acc - full FT test acc (points)"
VS_HEAD = "(B) best PEFT (<= budget) test acc - head-only test acc (points)"
# thresholds, fixed before the judging seeds (see the notes for where they come from)
IDENTITY_TOL = 1e-5
WITHIN_FULL = -2.0
ABOVE_HEAD = 3.0


def _classes(text: str) -> list[int]:
    text = text.strip()
    if "-" in text and "," not in text:
        lo, hi = (int(v) for v in text.split("-"))
        return list(range(lo, hi + 1))
    return [int(v) for v in text.split(",") if v.strip()]


@dataclass(frozen=True)
class UnifiedPeftParams(Params):
    # backbone and its pre-training (cached by recipe)
    d_model: int = param(32, range=(8, 128), help="width d of the backbone")
    layers: int = param(2, range=(1, 4), help="pre-LN transformer blocks")
    heads: int = param(4, range=(1, 8), help="attention heads (must divide d_model)")
    ffn: int = param(128, range=(16, 512), help="FFN hidden width")
    source: str = param("0-4", help="pre-training classes ('0-4' or '0,1,2')")
    target: str = param("5-9", help="downstream classes")
    target_transform: str = param("none", choices=("none", "transpose", "invert", "rot90"),
                                  help="what the downstream images look like (a domain "
                                       "shift from the upright pre-training images)")
    corpus_fraction: float = param(1.0, range=(0.2, 1.0),
                                   help="share of the digits in the pre-training corpus; the "
                                        "downstream task reads only the rest when < 1 "
                                        "(needed when source and target classes overlap)")
    pretrain_steps: int = param(400, range=(50, 5000), log=True,
                                help="pre-training steps (AdamW, batch 32, cosine)")
    pretrain_lr: float = param(3e-3, range=(1e-4, 1e-1), log=True, help="pre-training lr")
    backbone_seed: int = param(0, range=(0, 10_000),
                               help="seed of the pre-trained checkpoint (one fixed backbone, "
                                    "as the paper adapts one public checkpoint; the run's "
                                    "seed draws the downstream splits and inits)")
    # downstream
    train_fraction: float = param(0.4, range=(0.1, 0.6),
                                  help="share of the downstream images used for training; "
                                       "the rest is cut in half: validation (selects the "
                                       "best PEFT method) and test")
    steps: int = param(300, range=(10, 5000), log=True, help="Adam steps per method")
    repeats: int = param(2, range=(1, 8), help="downstream repeats (own train/val/test split "
                                                "and inits) averaged per method")
    batch: int = param(32, range=(8, 1024), log=True, help="downstream mini-batch")
    lr: float = param(1e-2, range=(1e-4, 1e-1), log=True, help="Adam lr of the PEFT "
                                                                 "methods and head-only")
    lr_full: float = param(1e-3, range=(1e-5, 1e-1), log=True, help="Adam lr of full FT")
    evals: int = param(10, range=(1, 100), help="validation evaluations during training")
    # methods (budgets)
    lora_rank: int = param(4, range=(1, 16), help="LoRA rank r on W_q and W_v")
    bottleneck: int = param(8, range=(1, 32), help="adapter bottleneck r (sequential and "
                                                    "parallel FFN adapters)")
    scale: float = param(4.0, range=(0.5, 8.0), help="parallel adapter scale s")
    prefix_len: int = param(8, range=(1, 16), help="prefix length l of prefix tuning")
    mam_prefix_len: int = param(4, range=(1, 16), help="MAM's prefix length")
    mam_bottleneck: int = param(4, range=(1, 32), help="MAM's parallel FFN adapter bottleneck")
    budget_pct: float = param(10.0, range=(0.1, 100.0),
                              help="a PEFT method counts for (B) if its trainable "
                                   "parameters are at most this % of the backbone's")
    # (A)
    identity_form: str = param("gated", choices=("gated", "ungated"),
                               help="the adapter form compared with prefix attention in "
                                    "(A); 'ungated' (no λ) is the broken variant")

    def check_consistency(self) -> list[str]:
        out = []
        if self.d_model % self.heads:
            out.append(f"heads: must divide d_model ({self.d_model}), got {self.heads}")
        try:
            src, tgt = _classes(self.source), _classes(self.target)
        except ValueError:
            src, tgt = [], []
        if len(src) < 2 or len(tgt) < 2 or not all(0 <= c <= 9 for c in src + tgt):
            out.append(f"source/target: expected >= 2 digit classes each, got "
                       f"{self.source!r} / {self.target!r}")
        elif set(src) & set(tgt) and self.corpus_fraction >= 1.0:
            out.append("corpus_fraction: source and target classes overlap, so the "
                       "downstream images must be held out of pre-training (< 1)")
        return out


def total_steps(p: UnifiedPeftParams) -> int:
    return p.steps + len(METHODS)


def _recipe(p: UnifiedPeftParams, seed: int) -> dict:
    return {"d": p.d_model, "layers": p.layers, "heads": p.heads, "ffn": p.ffn, "patch": 2,
            "n_classes": len(_classes(p.source)), "source": _classes(p.source),
            "corpus_fraction": p.corpus_fraction, "steps": p.pretrain_steps,
            "lr": p.pretrain_lr, "batch": 32, "seed": seed}


def _target_images(X, name: str):
    from paramlab.engines.data import digits as D

    if name == "transpose":
        return X.reshape(-1, 8, 8).transpose(0, 2, 1).reshape(-1, 64).copy()
    return {"none": lambda a: a, "invert": D.invert, "rot90": D.rot90}[name](X)


def identity_probe(rng, form: str, n: int = 10, d: int = 16, length: int = 4
                   ) -> tuple[float, float]:
    """The spec's part (A): a random single-head attention (float32, n tokens, width d, l
    prefix vectors); max |direct - form| and the mean gate λ."""
    import torch

    from paramlab.engines.peft import modules as M

    Wq, Wk, Wv = (torch.from_numpy(rng.standard_normal((d, d)) / math.sqrt(d)).float()
                  for _ in range(3))
    x = torch.from_numpy(rng.standard_normal((n, d))).float()
    pk, pv = (torch.from_numpy(rng.standard_normal((length, d))).float() for _ in range(2))
    q, k, v = (x @ Wq) / math.sqrt(d), x @ Wk, x @ Wv
    direct = M.prefix_attention(q, k, v, pk, pv)
    other = M.gated_prefix_attention(q, k, v, pk, pv, gated=form == "gated")
    return (direct - other).abs().max().item(), M.prefix_gate(q, k, pk).mean().item()


def run(p: UnifiedPeftParams, ctx: RunContext) -> Iterator[Metric | Note | Table]:
    import torch

    from paramlab.engines.data import digits as D
    from paramlab.engines.peft import backbones as B
    from paramlab.engines.peft import methods as Me

    # --- (A) on a random single-head attention
    gap_rand, lam_rand = identity_probe(ctx.rng, p.identity_form)

    # --- the pre-trained backbone (cached; seeded from its recipe)
    recipe = _recipe(p, p.backbone_seed)
    arrays = ctx.cached("peft-patch-transformer", recipe, lambda: B.pretrain(recipe))
    cfg = B.BackboneConfig(d=p.d_model, layers=p.layers, heads=p.heads, ffn=p.ffn, patch=2,
                           n_classes=len(_classes(p.source)))
    base = B.load(cfg, arrays, ctx.device)
    n_backbone = B.backbone_count(cfg)

    # --- the downstream task: target classes, held-out images when the classes overlap
    held = B.corpus_split(recipe)[1] if p.corpus_fraction < 1.0 else None
    X, y = B.digits_subset(_classes(p.target), held)
    X = _target_images(X, p.target_transform)
    Xt, yt = torch.from_numpy(X).to(ctx.device), torch.from_numpy(y).to(ctx.device)
    n_cls = len(_classes(p.target))
    rest = (1 - p.train_fraction) / 2
    splits = [D.split(len(y), [p.train_fraction, rest, 1 - p.train_fraction - rest], ctx.rng)
              for _ in range(p.repeats)]
    train_sets = [(Xt[tr], yt[tr]) for tr, _, _ in splits]

    pc = Me.PEFTConfig(lora_rank=p.lora_rank, bottleneck=p.bottleneck, scale=p.scale,
                       prefix_len=p.prefix_len, mam_prefix_len=p.mam_prefix_len,
                       mam_bottleneck=p.mam_bottleneck)
    # models[r][i]: repeat r, method METHODS[i]; one init seed per repeat, shared by methods
    init_seeds = [int(v) for v in ctx.rng.integers(0, 2**31 - 1, p.repeats)]
    models = [[Me.attach(base, m, pc, n_cls, seed=s) for m in METHODS] for s in init_seeds]
    counts = [Me.n_trainable(m) for m in models[0]]
    for name, c in zip(METHODS, counts):  # budgets matched by construction: say so
        assert c == Me.expected_trainable(cfg, name, pc, n_cls), name
    pct = [100.0 * c / n_backbone for c in counts]
    tr0, va0, te0 = splits[0]
    yield Note(f"backbone: {n_backbone} parameters (d={p.d_model}, {p.layers} blocks, "
               f"{p.heads} heads, FFN {p.ffn}), pre-trained on digits {p.source} "
               f"(seed {p.backbone_seed}; held-out source acc "
               f"{float(arrays['meta.source_acc'][0]):.3f}); target digits {p.target} "
               f"({p.target_transform}), {len(tr0)}/{len(va0)}/{len(te0)} train/val/test "
               f"images, {p.repeats} repeat(s)")
    yield Note("trainable parameters (incl. the new head, % of the backbone): " + ", ".join(
        f"{m} {c} ({q:.2f}%)" for m, c, q in zip(METHODS, counts, pct)))
    yield Note(f"(A) random single-head attention (float32, n=10, d=16, l=4): "
               f"max|direct - {p.identity_form}| = {gap_rand:.2e}, mean λ = {lam_rand:.3f}")

    def mean_acc(part: int) -> dict[str, float]:
        """Per method: accuracy on split part (1 val, 2 test), averaged over repeats."""
        out = {}
        for i, m in enumerate(METHODS):
            accs = [Me.accuracy(models[r][i], Xt[splits[r][part]], yt[splits[r][part]])
                    for r in range(p.repeats)]
            out[m] = sum(accs) / len(accs)
        return out

    def evaluate(_t: int) -> dict[str, float]:
        return {f"val_{m}": v for m, v in mean_acc(1).items()}

    g = torch.Generator().manual_seed(ctx.seed)
    flat = [mdl for row in models for mdl in row]
    for mdl in flat:
        mdl.eval()
    yield Metric(0, evaluate(0))
    eval_every = max(1, p.steps // p.evals)
    lrs = [p.lr_full if m == "full" else p.lr for m in METHODS] * p.repeats
    data = [train_sets[r] for r in range(p.repeats) for _ in METHODS]
    val_last: dict[str, float] = {}
    for rec in Me.train_lockstep(flat, lrs, data, p.steps, batch=p.batch, generator=g,
                                 evaluate=evaluate, eval_every=eval_every):
        t = int(rec["step"])
        losses = rec["loss"]
        values = {f"loss_{m}": sum(losses[r * len(METHODS) + i] for r in range(p.repeats))
                  / p.repeats for i, m in enumerate(METHODS)}
        values |= {k: v for k, v in rec.items() if k.startswith("val_")}
        val_last |= {k: v for k, v in values.items() if k.startswith("val_")}
        yield Metric(t, values)
        if ctx.should_stop():
            return

    test = {m: 100.0 * v for m, v in mean_acc(2).items()}
    # (A) on the trained prefixes (first repeat), every block, multi-head, on test images
    gaps = {m: Me.identity_gap(models[0][METHODS.index(m)], Xt[te0], p.identity_form)
            for m in ("prefix", "mam")}
    gap = max(gap_rand, *(gv for gv, _ in gaps.values()))
    eligible = [m for m in PEFT if pct[METHODS.index(m)] <= p.budget_pct]
    best = max(eligible, key=lambda m: (val_last[f"val_{m}"], -METHODS.index(m)),
               default=None)
    best_test = test[best] if best else math.nan
    order = sorted(range(len(METHODS)), key=lambda i: pct[i])
    for j, i in enumerate(order):
        m = METHODS[i]
        yield Metric(p.steps + 1 + j, {
            "param_pct": pct[i], f"test_{m}": test[m], "full_ft": test["full"],
            **({"identity_gap": gap, "identity_gap_random": gap_rand,
                "identity_gap_prefix": gaps["prefix"][0], "identity_gap_mam": gaps["mam"][0],
                "gate_mean_prefix": gaps["prefix"][1], "best_peft_test": best_test,
                "best_minus_full": best_test - test["full"],
                "best_minus_head": best_test - test["head"],
                "parallel_minus_sequential": test["par_adapter"] - test["seq_adapter"]}
               if j == len(order) - 1 else {})})
    yield Table("test_accuracy", [LABELS[m] for m in METHODS], ["test acc (%)", "params (%)"],
                [[test[m], q] for m, q in zip(METHODS, pct)])
    yield Table("identity_gap", ["random single head", "trained prefix", "trained MAM"],
                [f"max |direct - {p.identity_form}|"],
                [[gap_rand], [gaps["prefix"][0]], [gaps["mam"][0]]])
    yield Note(f"(A) trained prefixes (every block and head, test images): prefix "
               f"{gaps['prefix'][0]:.2e} (mean λ {gaps['prefix'][1]:.3f}), MAM "
               f"{gaps['mam'][0]:.2e} (mean λ {gaps['mam'][1]:.3f})")
    yield Note(f"test accuracy (%, mean of {p.repeats} repeat(s)): "
               + ", ".join(f"{m} {test[m]:.1f}" for m in METHODS)
               + f"; best PEFT by validation: {best} ({best_test:.1f}); parallel - "
               f"sequential adapter: {test['par_adapter'] - test['seq_adapter']:+.1f} "
               "(reported, not asserted)")


def check(history: History, p: UnifiedPeftParams) -> Verdict:
    def last(name: str) -> float:
        return history.last(name) if name in history else math.nan

    gap = last("identity_gap")
    criteria = [
        Criterion.at_most(IDENTITY, gap, IDENTITY_TOL),
        Criterion.at_least(VS_FULL, last("best_minus_full"), WITHIN_FULL),
        Criterion.at_least(VS_HEAD, last("best_minus_head"), ABOVE_HEAD),
        Criterion.at_least("full FT test acc - head-only test acc (points; the target needs "
                           "adaptation)", last("test_full") - last("test_head"), ABOVE_HEAD,
                           tier="mechanism"),
    ]
    return Verdict.of(criteria, f"prefix attention = gated parallel adapter (max dev "
                      f"{gap:.1e}); best PEFT {last('best_peft_test'):.1f} vs full FT "
                      f"{last('test_full'):.1f} vs head {last('test_head'):.1f}")


SCENARIO = Scenario(
    params=UnifiedPeftParams,
    run=run,
    check=check,
    panels=(
        Panel("target validation accuracy vs step", series=("val_*",),
              xlabel="Adam step", ylabel="val accuracy"),
        Panel("final test accuracy vs % of parameters tuned (log)",
              series=("test_*", "full_ft"), x="param_pct", logx=True,
              xlabel="trainable parameters, % of the backbone (log)",
              ylabel="test accuracy (%)", labels={"full_ft": "full FT (line)"}),
        Panel("test accuracy per method", kind="bars", table="test_accuracy"),
        Panel("training loss vs step", series=("loss_*",), logy=True,
              xlabel="Adam step", ylabel="cross-entropy"),
        Panel("(A) max |prefix attention - adapter form|", kind="bars",
              table="identity_gap"),
    ),
    presets={"quick": {"steps": 100, "repeats": 2, "evals": 5, "lr": 3e-2, "lr_full": 3e-3}},
    watch=("loss_full",),
    key_metric="val_mam",
    total_steps=total_steps,
    uses_torch=True,
    notes=__doc__ or "",
    paper_reports="Prefix tuning equals a parallel adapter on attention gated by the softmax "
                  "mass on the prefix (an exact derivation, §3.1); on XSum, WMT en-ro, MNLI "
                  "and SST-2 the Mix-and-Match adapter (prefix + scaled parallel FFN "
                  "adapter) tuning ~6.7 % of the parameters matches full fine-tuning, and "
                  "parallel adapters beat sequential ones.",
    paper_rows=(
        PaperRow("max |prefix attention - gated parallel adapter form|",
                 "0 (exact identity)", "abs. deviation", "§3.1 derivation", IDENTITY),
        PaperRow("MAM's share of tuned parameters", "6.7", "%", "spec (paper's MAM)"),
        PaperRow("best PEFT minus full FT", "about 0 (MAM matches full FT; the accuracy "
                 "numbers are not in spec)", "points", "paper's main results", VS_FULL),
        PaperRow("best PEFT minus head-only", "not reported (head-only is this toy's "
                 "contrast)", "points", "-", VS_HEAD),
        PaperRow("parallel minus sequential adapter", "> 0 (direction; numbers not in "
                 "spec)", "points", "paper's placement study"),
    ),
    threads=2,  # 1.16x on 2 idle cores; values bitwise at 1 vs 2 threads (split LayerNorm,
    # written-out prefix softmax, strict MKL)
    status="partly",
)
