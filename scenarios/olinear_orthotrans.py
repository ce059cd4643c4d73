"""OLinear / OrthoTrans (Yue et al. 2025, arXiv 2505.08550): forecast in the eigenbasis of
the lookback window's temporal Pearson correlation. At toy scale: partly (beats the time
domain by ~2%, does not beat a fixed DCT basis by the spec's 0.5% margin).

World (engines/linalg/orthotrans.py). C = 8 channels of length T (default 4000, quick
2000); each is 3 sinusoids (periods 24, 60, 7.3, random phases, amplitudes in [0.5, 1.5])
+ AR(1, phi 0.9) noise (innovation std 0.3) + a small linear trend, standardised.
Channel-independent windows, lookback L = 96, horizon H = 48, the lookback mean removed
(instance normalisation), 70/30 temporal split. OrthoTrans: Q_L, Q_H = eigenvectors
(descending eigenvalue) of the Pearson correlation of the training lookback / target
windows; input x Q_L, output z Q_H^T. The same forecaster is fit in three domains: time
(the contrast), DCT-II (the fixed orthonormal basis) and OrthoTrans:
  model = mlp (default, the spec's): MLP L-128-H (ReLU), minibatch Adam lr 1e-3, batch
     256, 8 epochs (the spec's budget-fitting default; quick: T 2000, 10 epochs); every
     basis starts from the same init and sees the same minibatches; 2 inits per basis;
     the read is the test MSE averaged over the inits and the last 3 epochs.
     Torch, on CPU or ctx.device.
  model = linear: a linear map L -> H by full-batch Adam (numpy; `steps`, lr 1e-3).
  Closed form (ridge, lam 1e-4, time domain) is the dashed reference. An orthogonal change
     of the input and output bases leaves least squares and the ridge penalty invariant,
     so the three closed-form fits are the same map (a theorem; checked, by construction).
Only the optimiser (Adam's per-coordinate scaling, and the MLP's ReLU coordinates) sees
the basis: whatever OrthoTrans gains here is an optimisation effect.

Claim check (thresholds from the spec's proposed check, fixed before any run):
  paper      MSE(OrthoTrans) <= 0.995 x MSE(time) after the training budget
  mechanism  max |off-diagonal| of Q_L^T R Q_L <= 1e-6 (exact decorrelation; by
             construction of an eigenbasis, not evidence)
  mechanism  MSE(OrthoTrans) <= 0.995 x MSE(DCT) (the fixed-basis half of the claim; the
             spec proposes no DCT threshold, so it is reported, not judged: see below)
  mechanism  closed form: |MSE(OrthoTrans) / MSE(time) - 1| <= 1e-6 (the invariance
             theorem; by construction)
  mechanism  DCT leaves correlation: max |off-diagonal| of its normalised coefficient
             correlation >= 0.1 (measured 0.97-0.98: the trend and the non-integer periods
             spread over several DCT coefficients; OrthoTrans removes this, DCT does not)
Control (tests): `basis = random` replaces Q_L, Q_H by Haar-random orthogonal matrices: no
decorrelation (max off-diagonal of Q^T R Q 1.45-1.79) and no gain, MSE ratio to time
0.999-1.003 (quick, seeds 0-2): the paper criterion fails. So the gain comes from the
eigenbasis, not from rotating per se.

Pass rates, seeds 0-19 (shipped code):
  quick    PASS 20/20: OrthoTrans / time 0.975-0.988 (median 0.982); / DCT 0.992-1.000
           (median 0.996; <= 0.995 on 5/20); decorrelation 7e-15..2e-14.
  default  PASS 20/20: OrthoTrans / time 0.984-0.994 (median 0.989); / DCT 0.996-1.004
           (median 0.998; 0/20); decorrelation 7e-15..2e-14. 5-7 s per run (quick 2-4 s)
           on the shared 2-core box. Seeds 20-29 (robustness look): PASS 10/10, / time
           0.985-0.993, / DCT 0.995-0.999.
  The gain over time shrinks with the training budget (W9): at 15 epochs the default
  passes only 11/20 (median 0.995). It is an early-training (optimisation) effect; the
  spec itself suggests 8 epochs for the default to fit the time budget.

Worlds tried (test MSE on standardised series; seeds 0-5 unless said):
  W1  closed-form ridge in each full basis (T 4000, noise 0.3): time = OrthoTrans to 4
      decimals on every seed (0.2698, 0.2444, 0.3027, 0.2694, 0.2603, 0.2972): the
      invariance theorem, no gain possible.
  W2  W1 + truncation to the top k = 16 of 96 eigen-components (the spec's denoising
      idea), output all 48: OrthoTrans / time 1.022-1.026 (worse); / DCT top-16 by
      energy 0.991-0.997; DCT low-pass first 16: MSE 0.44-0.51 (far worse).
  W3  short training data (T 600), k 16: / time 1.005-1.034, / DCT-16 0.992-1.013.
  W4  T 600, noise 1.0: k 16: / time 1.007-1.035, / DCT 0.999-1.012; k 8: / time
      0.980-1.064 (beats time on 1/6), / DCT 0.889-0.989 (beats DCT on 6/6: the
      eigenbasis compacts energy optimally, Eckart-Young, so it wins at heavy truncation
      over a fixed basis, but truncation itself costs more than it denoises here).
  W5  linear map, full-batch Adam lr 1e-3 (model = linear), seeds 0-19: quick (T 2000,
      600 steps) / time 1.013-1.121 (0/20), / DCT 0.945-1.032 (16/20); default (T 4000,
      1200 steps) / time 0.9965-1.000 (0/20), / DCT 0.976-0.998 (19/20). At 300 steps
      (seed 0) time 0.276 / DCT 0.364 / OrthoTrans 0.391: the eigenbasis puts the signal
      in a few large weights that Adam's ~lr-sized steps reach last.
  W6  linear, Adam lr 1e-2 / 3e-2: all bases reach the ridge MSE by step 100-200; at step
      100 (lr 1e-2) OrthoTrans 0.270 vs time 0.271: transient and < 0.5%.
  W7  the spec's MLP (one init, read at the last epoch), T 2000, 15 epochs, seeds 0-3:
      / time 0.975-0.985, / DCT 0.998-1.008 (the spec's own prototype: / time 0.990-0.995,
      DCT tied). Quick (10 epochs), seeds 0-19: / time 0.975-0.993 (20/20), / DCT
      0.993-1.002 (4/20).
  W8  W7 with 2 inits and the last 3 epochs averaged (shipped): numbers above. Averaging
      does not settle the DCT comparison: its mean gain, ~0.4%, sits at the 0.5% margin.
  W9  default world at the spec's 15 epochs (T 4000, 2 inits, last 3 epochs averaged),
      seeds 0-19: / time 0.9886-1.003 (median 0.9947; PASS 11/20, unstable), / DCT
      0.998-1.008 (0/20): with more training all bases converge to the same map.
What did not reproduce: OrthoTrans beating a fixed basis (DCT) by a clear margin (a
~0.4% edge, within the 0.5% threshold on 15/20 seeds), and any gain for a closed-form or
truncated linear forecaster (W1-W5). The 2% gain over the time domain is an optimisation
effect of the MLP under Adam; the paper's larger gains come from its full architecture
(NormLin, embeddings) on real data. NormLin vs attention (the spec's extension) is not
built.
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

BASES = ("time", "dct", "ortho")
EVERY = 20  # Adam steps between test-MSE readings
AVG_LAST = 3  # MLP: the read is the mean test MSE of the last 3 epochs
VS_TIME = "MSE(OrthoTrans) / MSE(time), Adam at budget"
VS_DCT = "MSE(OrthoTrans) / MSE(DCT), Adam at budget"
DECOR = "max |off-diag| of Q_L^T R Q_L (by construction)"
INVAR = "closed form: |MSE(OrthoTrans) / MSE(time) - 1| (by construction)"
DCT_CORR = "max |off-diag| of the DCT coefficients' correlation"


@dataclass(frozen=True)
class OlinearOrthotransParams(Params):
    channels: int = param(8, range=(1, 32), help="channels C")
    length: int = param(4000, range=(1000, 20000), log=True, help="series length T")
    lookback: int = param(96, range=(24, 336), help="lookback window L")
    horizon: int = param(48, range=(12, 192), help="forecast horizon H")
    noise: float = param(0.3, range=(0.0, 2.0), help="AR(1) innovation std")
    phi: float = param(0.9, range=(0.0, 0.99), help="AR(1) coefficient")
    trend: float = param(1.0, range=(0.0, 10.0), help="trend rise over the series (pre-scaling)")
    model: str = param("mlp", choices=("mlp", "linear"),
                       help="forecaster: the spec's MLP (minibatch Adam) or a linear map "
                            "(full-batch Adam, numpy)")
    hidden: int = param(128, range=(8, 1024), log=True, help="MLP hidden width")
    epochs: int = param(8, range=(1, 100), help="MLP training epochs")
    batch: int = param(256, range=(16, 4096), log=True, help="MLP minibatch size")
    reps: int = param(2, range=(1, 10), help="MLP inits per basis, averaged")
    steps: int = param(1200, range=(20, 20000), log=True,
                       help="full-batch Adam steps (model = linear)")
    lr: float = param(1e-3, range=(1e-5, 1e-1), log=True, help="Adam learning rate")
    lam: float = param(1e-4, range=(0.0, 10.0), help="ridge penalty of the closed-form fits")
    basis: str = param("pearson", choices=("pearson", "random"),
                       help="OrthoTrans basis: Pearson eigenvectors (the paper) or a random "
                            "orthogonal matrix (the control)")

    def check_consistency(self) -> list[str]:
        need = (self.lookback + self.horizon) * 2
        if 0.3 * self.length < need:
            return [f"length: the 30% test split needs >= {need} points, got "
                    f"{0.3 * self.length:.0f}"]
        return []


def _train_steps(p: OlinearOrthotransParams) -> int:
    if p.model == "linear":
        return p.steps
    from paramlab.engines.linalg.orthotrans import train_windows

    n = train_windows(p.channels, p.length, p.lookback, p.horizon)
    return p.epochs * -(-n // p.batch)


def total_steps(p: OlinearOrthotransParams) -> int:
    # training readings up to the last Adam step; L correlation rows; L + H forecast rows
    return _train_steps(p) + p.lookback + p.lookback + p.horizon


def run(p: OlinearOrthotransParams, ctx: RunContext) -> Iterator[Metric | Note | Table]:
    import numpy as np

    from paramlab.engines.linalg import orthotrans as ot

    rng = ctx.rng
    L, H = p.lookback, p.horizon
    s = ot.synthetic_series(rng, p.channels, p.length, (24.0, 60.0, 7.3), p.phi, p.noise,
                            p.trend)
    n_tr = int(0.7 * p.length)
    Xtr, Ytr = ot.windows(s[:, :n_tr], L, H)
    Xte, Yte = ot.windows(s[:, n_tr:], L, H)
    if p.basis == "pearson":
        _, QL = ot.pearson_basis(Xtr)
        _, QH = ot.pearson_basis(Ytr)
    else:
        QL, QH = ot.random_orthogonal(rng, L), ot.random_orthogonal(rng, H)
    bases = {"time": (np.eye(L), np.eye(H)), "dct": (ot.dct_basis(L), ot.dct_basis(H)),
             "ortho": (QL, QH)}
    yield Note(f"{p.channels} channels x {p.length}; {len(Xtr)} train / {len(Xte)} test "
               f"windows, L {L}, H {H}; OrthoTrans basis: {p.basis}")

    # closed form (the reference; basis-invariant by theorem)
    closed = {b: ot.mse(Xte, Yte, ot.fit_in_basis(Xtr, Ytr, A, B, L, H, p.lam))
              for b, (A, B) in bases.items()}

    test = {b: (Xte @ A, Yte @ B) for b, (A, B) in bases.items()}
    if p.model == "linear":
        # full-batch Adam on a linear map in each basis, side by side
        runs = {b: ot.adam_linear(Xtr @ A, Ytr @ B, p.steps, p.lr)
                for b, (A, B) in bases.items()}
        yield Metric(0, {f"mse_{b}": float(np.mean(Yte ** 2)) for b in BASES}
                     | {"mse_ridge": closed["time"]})
        final_W = {}
        for t in range(1, p.steps + 1):
            row = {}
            for b in BASES:
                _, W = next(runs[b])
                if t % EVERY == 0 or t == p.steps:
                    Zt, Yt = test[b]
                    row[f"mse_{b}"] = float(np.mean((Zt @ W - Yt) ** 2))
                final_W[b] = W
            if row:
                row["mse_ridge"] = closed["time"]
                yield Metric(t, row)
            if ctx.should_stop():
                return
        adam = {b: float(np.mean((test[b][0] @ final_W[b] - test[b][1]) ** 2)) for b in BASES}

        def predict(b: str, x: np.ndarray) -> np.ndarray:
            A, B = bases[b]
            return x @ A @ final_W[b] @ B.T
    else:
        # the spec's MLP in each basis, same init and minibatches, minibatch Adam
        import torch

        stack = [(Xtr @ A, Ytr @ B) for A, B in bases.values()]
        seed = int(rng.integers(2 ** 31))
        forward, tail = None, []
        for ep, step, mses, fwd in ot.mlp_in_bases(
                np.stack([z for z, _ in stack]), np.stack([y for _, y in stack]),
                np.stack([test[b][0] for b in BASES]), np.stack([test[b][1] for b in BASES]),
                p.hidden, p.epochs, p.lr, p.batch, seed, ctx.device, p.reps):
            yield Metric(step, {f"mse_{b}": float(m) for b, m in zip(BASES, mses)}
                         | {"mse_ridge": closed["time"], "epoch": float(ep)})
            tail.append(mses)
            forward = fwd
            if ctx.should_stop():
                return
        # the read: mean test MSE over the last AVG_LAST epochs (and the reps)
        tail_mean = np.mean(tail[-AVG_LAST:], axis=0)
        adam = {b: float(m) for b, m in zip(BASES, tail_mean)}

        def predict(b: str, x: np.ndarray) -> np.ndarray:
            A, B = bases[b]
            i = BASES.index(b)
            z = torch.as_tensor(np.stack([x @ bases[c][0] for c in BASES]),
                                dtype=torch.float32, device=ctx.device)
            with torch.no_grad():
                out = forward(z.repeat(p.reps, 1, 1))[i].cpu().numpy().astype(float)
            return out @ B.T

    # decorrelation: the correlation matrix before and after each transform
    R = np.corrcoef(Xtr, rowvar=False)
    after = QL.T @ R @ QL
    Dc = ot.transformed_correlation(Xtr, bases["dct"][0])
    d = np.sqrt(np.diag(Dc))
    dct_norm = Dc / np.outer(d, d)
    off_ortho = ot.max_offdiag(after)
    off_dct = ot.max_offdiag(dct_norm)
    off_time = ot.max_offdiag(R)
    base = _train_steps(p) + 1
    for i in range(L):
        yield Metric(base + i, {"lag": float(i), "corr_time_row0": float(R[0, i]),
                                "corr_ortho_row0": float(after[0, i] / after[0, 0]),
                                "corr_dct_row1": float(dct_norm[1, i])})
    # one forecast example: the first test window of channel 0
    x0, y0 = Xte[:1], Yte[:1]
    pred = {b: predict(b, x0)[0] for b in BASES}
    base += L
    for i in range(L + H):
        row = {"t_rel": float(i - L + 1)}
        if i < L:
            row["history"] = float(x0[0, i])
        else:
            j = i - L
            row["truth"] = float(y0[0, j])
            row |= {f"pred_{b}": float(pred[b][j]) for b in BASES}
        yield Metric(base + i, row)
    yield Metric(base + L + H - 1, {
        "adam_ratio_time": adam["ortho"] / adam["time"],
        "adam_ratio_dct": adam["ortho"] / adam["dct"],
        "closed_ratio_dev": abs(closed["ortho"] / closed["time"] - 1.0),
        "offdiag_ortho": off_ortho, "offdiag_dct": off_dct, "offdiag_time": off_time})
    yield Table("test MSE by basis", list(BASES), [f"Adam, {p.steps} steps", "closed form"],
                [[adam[b], closed[b]] for b in BASES])
    yield Note("test MSE, Adam at budget: " + ", ".join(f"{b} {adam[b]:.4f}" for b in BASES)
               + "; closed form: " + ", ".join(f"{b} {closed[b]:.4f}" for b in BASES))
    yield Note(f"max |off-diag| correlation: time {off_time:.3f}, DCT {off_dct:.3f}, "
               f"OrthoTrans {off_ortho:.2e}")


def check(history: History, p: OlinearOrthotransParams) -> Verdict:
    def last(name: str) -> float:
        return history.last(name) if name in history else math.nan

    r_time, r_dct = last("adam_ratio_time"), last("adam_ratio_dct")
    criteria = [
        Criterion.at_most(VS_TIME, r_time, 0.995),
        Criterion.at_most(VS_DCT, r_dct, 0.995, tier="mechanism"),
        Criterion.at_most(DECOR, last("offdiag_ortho"), 1e-6, tier="mechanism"),
        Criterion.at_most(INVAR, last("closed_ratio_dev"), 1e-6, tier="mechanism"),
        Criterion.at_least(DCT_CORR, last("offdiag_dct"), 0.1, tier="mechanism"),
    ]
    return Verdict.of(criteria, f"OrthoTrans / time {r_time:.3f}, / DCT {r_dct:.3f} after "
                      f"{p.steps} Adam steps")


SCENARIO = Scenario(
    params=OlinearOrthotransParams,
    run=run,
    check=check,
    panels=(
        Panel("test MSE vs Adam step (ridge dashed reference)",
              series=("mse_time", "mse_dct", "mse_ortho", "mse_ridge"), logy=True,
              xlabel="full-batch Adam step", ylabel="test MSE",
              labels={"mse_time": "time", "mse_dct": "DCT", "mse_ortho": "OrthoTrans",
                      "mse_ridge": "ridge (closed form)"}),
        Panel("lookback correlation, one row: before vs after OrthoTrans",
              series=("corr_time_row0", "corr_ortho_row0", "corr_dct_row1"), x="lag",
              xlabel="coordinate", ylabel="correlation with coordinate 0 (DCT: 1)",
              labels={"corr_time_row0": "time", "corr_ortho_row0": "OrthoTrans",
                      "corr_dct_row1": "DCT"}),
        Panel("one forecast (channel 0, first test window)",
              series=("history", "truth", "pred_time", "pred_dct", "pred_ortho"), x="t_rel",
              xlabel="time step relative to the forecast origin", ylabel="value"),
        Panel("test MSE by basis", kind="bars", table="test MSE by basis"),
    ),
    presets={"quick": {"length": 2000, "epochs": 10, "steps": 600}},
    uses_torch=True,
    threads=2,  # 1.04-1.28x faster on 2 idle cores than on 1 (bench_threads, quick, 4 runs)
    watch=("mse_ortho",),
    key_metric="mse_ortho",
    total_steps=total_steps,
    notes=__doc__ or "",
    paper_reports="OLinear (OrthoTrans + NormLin) is state of the art on 24 forecasting "
                  "benchmarks; OrthoTrans as a plug-in improves time-domain forecasters and "
                  "beats fixed bases (DFT/DCT); the transformed correlation is diagonal.",
    paper_rows=(
        PaperRow("MSE(OrthoTrans) / MSE(time)", "< 1 (gains on real benchmarks; the spec's "
                 "toy MLP: 0.990-0.995)", "ratio", "paper's ablation tables; spec calibration",
                 VS_TIME),
        PaperRow("MSE(OrthoTrans) / MSE(fixed basis)", "< 1 (DFT/DCT ablation; no toy number)",
                 "ratio", "paper's ablation tables", VS_DCT),
        PaperRow("off-diagonal correlation after OrthoTrans", "0 (diagonal by construction)",
                 "", "method section", DECOR),
    ),
    status="partly",
)
