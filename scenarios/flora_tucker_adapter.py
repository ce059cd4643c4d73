"""FLoRA: Tucker core-space adapter vs LoRA on a conv weight (Si et al., ICLR 2025).

The paper's claim: for an N-D weight (here a 4-D conv kernel C_out x C_in x k x k) model the
change as a Tucker product dW = G x1 U_out x2 U_in x3 U_h x4 U_w (FLoRA) instead of LoRA on
the reshaped C_out x (C_in k k) matrix; it keeps the spatial structure and is more accurate
at the same parameter budget.

Toy world (spec P43 (a), teacher-student on one conv layer). Frozen W0 (32 x 32 x 3 x 3,
N(0, 1/(C_in 9))); a ground-truth change dW* rescaled to ||dW*|| = 0.5 ||W0|| with 5 %
dense noise; fresh N(0, 1) inputs (32 samples x 32 channels x 8 x 8, padding 1) every step;
loss = MSE of conv(x, W0 + dW) against conv(x, W0 + dW*); Adam lr 3e-3. Adapters
(engines/peft/tucker.py, counts exact and printed): FLoRA ranks (r, r, 3, 3) with a zero core
and kaiming factors, LoRA (HF peft Conv2d semantics, B = 0) at the smallest rank with at
least FLoRA's parameter count, so LoRA never has fewer parameters:
    r = 4: FLoRA 418 vs LoRA rank 2 640;  r = 8: 1,106 vs rank 4 1,280;  r = 12: 2,082 vs
    rank 7 2,240 (default only; shown, not judged).
Presets: quick 300 steps, r in {4, 8}; default 600 steps, r in {4, 8, 12}.
Two truths are trained side by side in one grouped convolution (same inputs for all):
    tucker  dW* with Tucker ranks (8, 8, 3, 3) (the world the paper's argument names)
    matrix  dW* a rank-4 matrix on the reshape (LoRA's family: the fair contrast, issue 15)
rel_MSE = output MSE / MSE with no adapter, on 256 fresh inputs; relative weight error
||dW - dW*|| / ||dW*||.

Claim check (thresholds from the spec's calibration section, fixed before seeds 0-19):
  paper     (a) Tucker truth, r = 8: rel_MSE(FLoRA) / rel_MSE(LoRA) <= 0.05
                (true by construction: the truth lies in FLoRA's r = 8 family; a sanity check)
            (a) Tucker truth, r = 4 (both under-parameterised): ratio <= 0.95
  mechanism matrix truth, r = 8: rel_MSE(LoRA) / rel_MSE(FLoRA) <= 0.05 (LoRA wins on its
                own family: the advantage is structure match, not the optimiser)
            FLoRA r = 8 relative weight error on the Tucker truth <= 0.10 (twice the 5 %
                noise floor: it recovers the change, not just the outputs)
            zero-init identity: max |adapted conv - frozen conv| at step 0 <= 1e-6 (identity)
Control: truth = "matrix" puts the primary comparison on the matrix-low-rank truth; both
paper criteria fail (LoRA wins by two orders of magnitude), see the test.

Digits (spec (b)) is not part of this scenario. The spec's calibration found no signal with a
trainable head (head alone 0.975-0.993, FLoRA - LoRA within +-1 pt) and a win only after a
redesign (frozen head, inverted digits) whose mechanism is optimisation speed, not
expressiveness (FLoRA (1,1,3,3) on a 32 x 144 reshape is a strict subset of LoRA rank 1);
issue 15 asked for the fair target above instead.

Worlds tried (seeds 0-19 unless said otherwise)
1. Tucker truth (8, 8, 3, 3) vs matrix truth built as orthonormal factors with singular
   values s^2 + 0.5 (first version of the contrast): seed 0 quick, LoRA/FLoRA on the matrix
   truth 0.0043 / 0.0768 = 0.056 (> 0.05): one dominant singular direction let FLoRA fit
   most of it. Replaced by the spec's plain "rank-4 matrix" (Gaussian B (32 x 4) times
   Gaussian A (4 x 288), balanced spectrum) after seeing seed 0; no threshold changed.
2. Shipped world (Tucker truth + Gaussian rank-4 matrix contrast), quick (300 steps):
   20/20 PASS. r = 8 FLoRA/LoRA 0.0059-0.0078 (median 0.0064; FLoRA 1,106 params vs LoRA
   1,280); r = 4 0.793-0.941 (median 0.874; the spec's seeds 0-2: 0.83-0.88); matrix truth
   LoRA/FLoRA 0.0053-0.0065 (spec: 1/177-1/166); FLoRA r = 8 weight error 0.047-0.051
   (the 5 % noise floor); identity gap 0 exactly.
   Seeds 20-29 (quick): 10/10 PASS; r = 8 ratio 0.0058-0.028 and FLoRA weight error
   0.047-0.099: on one seed FLoRA had not quite converged by step 300 (the weight-error
   mechanism check sits at 0.099 vs 0.10 there); r = 4 0.837-0.938.
   Default (600 steps): 20/20 PASS. r = 8 0.0058-0.0068 (median 0.0063); r = 4
   0.786-0.924 (median 0.847); matrix truth LoRA/FLoRA 0.0054-0.0066; weight error
   0.0472-0.0476; identity 0. One-core wall on the loaded 2-core box: quick 5-9 s
   (up to 19 s while other jobs ran), default 11-19 s (one outlier 37 s under load).
3. Implementation, not a world: the first version trained all models in one grouped
   conv2d (7.8 s quick, 32 s default at 1,000 steps on one core); now one im2col matmul
   on the weight errors (W0 cancels, the conv is linear in its weight), same numbers
   (seed 0 r = 8 FLoRA rel_MSE 0.00223 both ways). Default steps 1,000 -> 600 for the
   30 s budget (r = 8 has converged by 300 steps: 0.0022 at 300, 600 and 1,000).
   The identity was first read as im2col output vs torch conv (float32 roundoff 3.1e-6
   > 1e-6); it is now read as max |dW| at step 0 (exactly 0) together with torch's conv of
   W0 + dW against the frozen conv, both exact.
Control (truth = "matrix"; the criteria keep their "Tucker truth" names but read the
primary truth): both paper criteria fail, quick seeds 0-1: FLoRA/LoRA 162-171 at r = 8 and
1.78-1.90 at r = 4 (spec: 166-177 and 1.85-2.10), and FLoRA's weight error is 0.60-0.61
(> 0.10) - tests/test_flora_tucker_adapter.py asserts the failure and that the normal run
passes the same criteria.

Not reproduced / not run: the digits task (see above); the r = 4 criterion's worst seed
(0.941) sits close to its 0.95 threshold, so a rare seed may fail it - the spec's threshold
is kept. The paper's own numbers are not in the spec; paper_rows say so.
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
    Verdict,
    param,
)
from paramlab.scenarios.history import History
from paramlab.scenarios.measure import last, ratio

SHAPE = (32, 32, 3, 3)
TRUTH_RANKS = (8, 8, 3, 3)
BATCH, SIDE, N_EVAL = 32, 8, 256
CRIT_R8 = "(a) Tucker truth, r = 8: rel_MSE(FLoRA) / rel_MSE(LoRA) (by construction)"
CRIT_R4 = "(a) Tucker truth, r = 4: rel_MSE(FLoRA) / rel_MSE(LoRA)"
CRIT_MATRIX = "matrix-low-rank truth, r = 8: rel_MSE(LoRA) / rel_MSE(FLoRA)"
CRIT_WERR = "FLoRA r = 8 relative weight error, Tucker truth"
CRIT_ID = "zero-init identity: max |adapted - frozen conv| at step 0"


@dataclass(frozen=True)
class FloraTuckerAdapterParams(Params):
    steps: int = param(600, range=(10, 10_000), log=True, help="Adam steps")
    lr: float = param(3e-3, range=(1e-4, 1e-1), log=True, help="Adam learning rate")
    ranks: str = param("4,8,12",
                       help="FLoRA ranks r (Tucker ranks (r, r, 3, 3)); must hold 4 and 8")
    truth: str = param("tucker", choices=("tucker", "matrix"),
                       help="primary ground truth (matrix: the control, LoRA's family)")
    matrix_rank: int = param(4, range=(1, 32), help="rank of the matrix-low-rank truth")
    noise: float = param(0.05, range=(0.0, 1.0), help="relative dense noise in dW*")
    delta_norm: float = param(0.5, range=(0.01, 2.0), help="||dW*|| / ||W0||")
    scale: float = param(1.0, range=(0.1, 10.0), help="adapter scale s")
    evals: int = param(10, range=(2, 100), help="evaluations along training")

    def rank_list(self) -> list[int]:
        return sorted({int(r) for r in self.ranks.split(",") if r.strip()})

    def check_consistency(self) -> list[str]:
        try:
            rs = self.rank_list()
        except ValueError:
            return [f"ranks: comma-separated integers, got {self.ranks!r}"]
        if not {4, 8} <= set(rs):
            return [f"ranks: must include 4 and 8 (the claim check reads them), got {rs}"]
        return []


def _truth(rng, kind: str, p: FloraTuckerAdapterParams, w0_norm: float):
    import numpy as np

    from paramlab.engines.peft import tucker as T

    base = T.tucker_truth(rng, SHAPE, TRUTH_RANKS) if kind == "tucker" \
        else T.matrix_truth(rng, SHAPE, p.matrix_rank)
    noise = rng.standard_normal(SHAPE)
    d = base + p.noise * noise / np.linalg.norm(noise)
    return d * (p.delta_norm * w0_norm / np.linalg.norm(d))


def run(p: FloraTuckerAdapterParams, ctx: RunContext) -> Iterator[Metric | Note]:
    import numpy as np
    import torch
    from torch.nn import functional as F

    from paramlab.engines.peft import tucker as T

    dev = ctx.device
    rng = ctx.rng
    g = torch.Generator().manual_seed(int(ctx.seed))
    w0_np = rng.standard_normal(SHAPE) / np.sqrt(SHAPE[1] * 9)
    truths = {"primary": _truth(rng, p.truth, p, np.linalg.norm(w0_np)),
              "contrast": _truth(rng, "matrix", p, np.linalg.norm(w0_np))}
    W0 = torch.tensor(w0_np, dtype=torch.float32, device=dev)
    # models: (world, r, method)
    specs = [("primary", r, m) for r in p.rank_list() for m in ("flora", "lora")]
    specs += [("contrast", 8, m) for m in ("flora", "lora")]
    mods, counts = [], []
    for _world, r, m in specs:
        if m == "flora":
            mod = T.TuckerDelta(SHAPE, (r, r, 3, 3), p.scale, generator=g)
        else:
            rank = T.matched_lora_rank(SHAPE, T.tucker_count(SHAPE, (r, r, 3, 3)))
            mod = T.LoRAConvDelta(SHAPE, rank, p.scale, generator=g)
        mod = mod.to(dev)
        n = sum(q.numel() for q in mod.parameters() if q.requires_grad)
        assert n == mod.n_trainable()
        mods.append(mod)
        counts.append(n)
    yield Note("trainable parameters (exact, LoRA rank = smallest with >= FLoRA's count): "
               + "; ".join(f"r={r}: FLoRA {counts[i]} vs LoRA rank "
                           f"{mods[i + 1].rank} {counts[i + 1]}"
                           for i, (w, r, m) in enumerate(specs) if w == "primary"
                           and m == "flora"))
    yield Note(f"primary truth: {p.truth}; contrast truth: matrix rank {p.matrix_rank}; "
               f"noise {p.noise}, ||dW*||/||W0|| = {p.delta_norm}; {p.steps} steps")
    M = len(mods)
    tgt = torch.cat([torch.tensor(truths[w], dtype=torch.float32, device=dev)
                     for w, _, _ in specs])  # (M*32, 32, 3, 3)
    W0flat = W0.reshape(SHAPE[0], -1)
    tgt_flat = tgt.reshape(M * SHAPE[0], -1)

    def im2col(x: torch.Tensor) -> torch.Tensor:
        """(N, C_in, 8, 8) -> (N * 64, C_in * 9) patches (padding 1)."""
        return F.unfold(x, 3, padding=1).transpose(1, 2).reshape(-1, W0flat.shape[1])

    def per_model_mse(cols: torch.Tensor, deltas: torch.Tensor) -> torch.Tensor:
        """Every model's MSE of conv(x, W0 + dW_m) against conv(x, W0 + dW*_m): W0 cancels
        (the conv is linear in the weight), so one matmul of the patches with the stacked
        weight errors."""
        err = cols @ (deltas.reshape(M * SHAPE[0], -1) - tgt_flat).T
        return (err ** 2).reshape(-1, M, SHAPE[0]).mean(dim=(0, 2))

    x_eval = torch.randn(N_EVAL, SHAPE[1], SIDE, SIDE, generator=g).to(dev)
    cols_eval = im2col(x_eval)
    with torch.no_grad():
        base_mse = per_model_mse(cols_eval, torch.zeros_like(tgt))
        d0 = torch.cat([mod() for mod in mods])
        # zero-init identity: dW = 0 exactly, so conv(x, W0 + dW) is the frozen conv; read
        # on the outputs (torch's conv of the adapted weight vs the frozen layer)
        adapted = F.conv2d(x_eval[:32], W0 + d0[:SHAPE[0]], padding=1)
        ident = max(d0.abs().max().item(),
                    (adapted - F.conv2d(x_eval[:32], W0, padding=1)).abs().max().item())
    params = [q for mod in mods for q in mod.parameters()]
    opt = torch.optim.Adam(params, lr=p.lr)
    eval_at = set(np.unique(np.linspace(0, p.steps, p.evals + 1).round().astype(int)))
    names = [f"{m}_r{r}" if w == "primary" else f"{m}_matrix_r{r}" for w, r, m in specs]
    for t in range(p.steps + 1):
        if t in eval_at:
            with torch.no_grad():
                deltas = torch.cat([mod() for mod in mods])
                rel = (per_model_mse(cols_eval, deltas) / base_mse).tolist()
                werr = ((deltas - tgt).reshape(M, -1).norm(dim=1)
                        / tgt.reshape(M, -1).norm(dim=1)).tolist()
            vals = {f"relmse_{n}": v for n, v in zip(names, rel)}
            vals |= {f"werr_{n}": v for n, v in zip(names, werr)}
            if t == 0:
                vals["identity_gap"] = ident
            yield Metric(t, vals)
        if t == p.steps or ctx.should_stop():
            return
        x = torch.randn(BATCH, SHAPE[1], SIDE, SIDE, generator=g).to(dev)
        loss = per_model_mse(im2col(x), torch.cat([mod() for mod in mods])).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


def _final(h: History, name: str) -> float:
    try:
        return last(h.series(name)[1])
    except KeyError:
        return float("nan")


def check(history: History, p: FloraTuckerAdapterParams) -> Verdict:
    r8 = ratio(_final(history, "relmse_flora_r8"), _final(history, "relmse_lora_r8"))
    r4 = ratio(_final(history, "relmse_flora_r4"), _final(history, "relmse_lora_r4"))
    mx = ratio(_final(history, "relmse_lora_matrix_r8"),
               _final(history, "relmse_flora_matrix_r8"))
    werr = _final(history, "werr_flora_r8")
    ident = _final(history, "identity_gap")
    criteria = (
        Criterion.at_most(CRIT_R8, r8, 0.05),
        Criterion.at_most(CRIT_R4, r4, 0.95),
        Criterion.at_most(CRIT_MATRIX, mx, 0.05, tier="mechanism"),
        Criterion.at_most(CRIT_WERR, werr, 0.10, tier="mechanism"),
        Criterion.at_most(CRIT_ID, ident, 1e-6, tier="mechanism"),
    )
    return Verdict.of(criteria, f"{p.truth} truth: FLoRA/LoRA rel_MSE {r8:.3g} at r = 8 "
                      f"(fewer params), {r4:.3g} at r = 4; on a matrix-low-rank truth "
                      f"LoRA/FLoRA {mx:.3g}")


SCENARIO = Scenario(
    params=FloraTuckerAdapterParams,
    run=run,
    check=check,
    panels=(
        Panel("rel. output MSE, primary truth (FLoRA vs LoRA per budget)",
              series=("relmse_flora_r*", "relmse_lora_r*"), logy=True,
              ylabel="MSE / MSE(no adapter)"),
        Panel("rel. output MSE, matrix-low-rank truth (contrast, r = 8)",
              series=("relmse_flora_matrix_r8", "relmse_lora_matrix_r8"), logy=True),
        Panel("relative weight error ||dW - dW*|| / ||dW*||",
              series=("werr_flora_r*", "werr_lora_r*"), logy=True),
    ),
    presets={"quick": {"steps": 300, "ranks": "4,8"}},
    watch=("relmse_flora_r8", "relmse_lora_r8"),
    key_metric="relmse_flora_r8",
    total_steps=lambda p: p.steps,
    uses_torch=True,
    threads=2,  # 1.12-1.35x faster on 2 idle cores than on 1 (bench_threads, quick)
    notes=__doc__ or "",
    paper_reports="FLoRA (Tucker core-space adapter) beats LoRA at a matched parameter "
                  "budget on conv (vision), linear and multimodal fine-tuning; exact "
                  "numbers not in spec.",
    paper_rows=(
        PaperRow("FLoRA vs LoRA error at a matched budget (conv weights)",
                 "not in spec (FLoRA better)", "ratio", "paper's vision experiments",
                 CRIT_R8),
        PaperRow("FLoRA vs LoRA at a small budget", "not in spec", "ratio",
                 "paper's parameter-budget ablation", CRIT_R4),
    ),
    status="reproduces",
)
