"""RFF interpolation for model-error discovery (Mojgani, Chattopadhyay, Hassanzadeh 2023,
arXiv 2309.13211: MEDIDA with a spectral-bias-reduced, random-Fourier-feature NN).

The paper: model error is discovered from one-step analysis increments (observed change
minus model-predicted change) by sparse regression (RVM) on a library of terms. With full
observations this recovers the missing terms of 2-layer QG; with sparse observations the
state must be interpolated first, a plain MLP interpolant gets the small scales wrong
(spectral bias, amplified by the library's derivatives) and discovery fails, while an
MLP with a random-Fourier-feature input layer (RFF-NN) fixes it.

Toy world (the spec's "design 1", engines/linalg/spectral1d.py, engines/nn/fourier_interp.py):
u(x) on N = 256 points of [0, 2 pi), u = sum_{k=1..16} k^-1 cos(k x + phi_k), std 1.
Model u_t = -u u_x + nu u_xx (nu = 0.02); the truth adds c u_xxxx, c = -1e-3. u(t + dt) is
one pseudo-spectral RK4 step of the truth (dt = 1e-4). A random 50% of the grid (128
points, the same at t and t + dt, noise-free) is observed. Interpolators of u(t), trained
on the observed points (Adam 3e-3, cosine to 3e-5, full batch, 1,500 steps, float32; 3
snapshots, one net each, batched): plain MLP with periodic input (cos x, sin x) then tanh
3 x 64; RFF-NN: [sin B x, cos B x] with 64 integer frequencies B = round(N(0, sigma_B = 4)),
then the same tanh 3 x 64. Each interpolant is evaluated on the grid in float64 and
projected onto the model's spectral truncation (modes k <= 16 kept: what a spectral model
of that resolution does with any state it is handed). Reference: full observations (u
itself). Increment at the observed points: d = [u_obs(t+dt) - u_obs(t)]/dt -
[M_RK4(u~) - u~](x_obs)/dt; library {u, u_x, u_xx, u_xxx, u_xxxx, u u_x, u^2} from spectral
derivatives of u~; STLSQ (column-normalised, threshold 0.05, 10 passes), with sklearn's
ARDRegression (the RVM analogue) as a cross-check.
rel = |xi_xxxx - c| / |c|; spur = largest spurious contribution
max_{j != xxxx} |xi_j| ||Theta_j|| / (|c| ||Theta_xxxx||).

Claim check (thresholds from the spec's calibrated design-1 proposal, fixed before the
seeds 0-19 runs; the spec's original "15% / 50% / 2%" proposal is superseded there):
  paper: full-obs rel <= 0.01 and spur <= 0.01; RFF-NN rel <= 0.05 and spur <= 0.05;
         the plain MLP fails: rel >= 0.15 or spur >= 0.10, i.e. max(rel/0.15, spur/0.10)
         >= 1; and rel(MLP) / rel(RFF) >= 10.
  mechanism: ARD cross-check RFF rel <= 0.05; grid error of u_xxxx RFF / MLP <= 0.5 (the
         spectral-bias diagnostic: the MLP's high-k content is wrong).
Presets: default 3 snapshots, 1,500 steps; quick 1 snapshot, 800 steps (same thresholds).

Control: kcut = 0 (no projection onto the model truncation). The interpolant then keeps
content at k = 17..128 (aliasing between observed points) that the fourth derivative
amplifies by k^4, and the RFF-NN's discovery fails too ("RFF-NN: rel. error of c";
tests/test_rff_model_error_discovery.py). sigma_B -> 0 (no RFF) is the MLP arm itself.

Measured, seeds 0-19, one thread on a loaded 2-core box (min / median / max):
  default 20/20 PASS (seeds 20-29: 10/10). full-obs rel 0.0024 / 0.0028 / 0.0030, spur 0;
          RFF-NN rel 0.00015 / 0.0021 / 0.011, spur 0 on every seed; plain MLP rel
          0.21 / 0.40 / 0.67, spur 0.10 / 0.20 / 0.42 (both MLP clauses hold on every
          seed); rel MLP / RFF 22.5 / 196 / 3211. Grid RMSE of u~: MLP 0.033-0.086, RFF
          0.0014-0.011; u_xxxx grid error MLP 0.22-0.57, RFF 0.005-0.037; energy of modes
          k = 9-16 relative to the truth: MLP 0.75-0.92, RFF 0.97-1.00 (spectral bias).
          ARD (RVM analogue): RFF rel <= 0.011, MLP rel 0.18-0.63. 5-15 s wall per run
          (about 10 s CPU with the 2 cores shared).
  quick   20/20 PASS (seeds 20-29: 10/10). full-obs rel 0.0023-0.0032; RFF-NN rel
          0.0002 / 0.0025 / 0.028, spur 0; plain MLP rel 0.33 / 0.65 / 1.78, spur 0.27-1.12
          (800 steps under-train it more); ratio 27.6 / 235 / 2029. About 3-6 s wall per run.

Worlds tried (spec calibration + this build; "rel / spur" of MLP vs RFF-NN):
  1. The spec as written (random 25% obs, sigma_B 10, no projection, k^-1 amplitude up
     to k = 32, u_xxxx): default preset, seeds 0-4: MLP rel 1.07-1.14 (spur 0.31-0.58),
     RFF rel 1.00-1.08 (spur 0.36-0.54), RFF grid RMSE 0.18-0.41 >= MLP 0.15-0.23 (RFF
     overfits/aliases between random points); even full obs only 0.035 (O(dt k^4) bias at
     k = 32). Same with band k <= 16, quick, seeds 0-9: MLP 1.05-1.38, RFF 0.99-1.08;
     0/10 PASS. Discovery fails for both interpolators (the spec's own record: rel ~ 1.0).
  2. Design 1 without the projection (the control, kcut 0), quick, seeds 0-19: 0/20 PASS;
     RFF rel 0.65 / 0.94 / 1.00, spur 0.50-0.77 although its grid RMSE is 0.002-0.020:
     the out-of-band residue (k = 17..128), times k^4, swamps c u_xxxx. MLP 0.41-1.29.
  3. Design 1 with 25% obs (projection on), quick, seeds 0-9: 1/10 PASS; RFF rel
     0.012 / 0.14 / 0.30, spur 0-0.26 (25% of 256 points = 64 samples is at the
     information limit of a 33-dof field for random sampling), MLP 0.21-2.24.
  4. Design 1 (shipped): see above; 20/20 on both presets.
  5. Design 2 of the spec (energy k^-3, regular 25% obs with a random offset, missing
     0.03 u_xx, nu_model 0, no projection, 2 snapshots, 2,000 steps) was not built here;
     its calibration (seeds 0-2, spec file): RFF rel 0.002-0.004, spur 0; MLP rel
     0.078-0.268, spur 0.18-0.28; derr(u_xx) RFF 0.05-0.10 vs MLP 0.43-0.73; ~8 s CPU
     per seed. It avoids the projection but needs regular sampling and a 2nd-order term.
  Further failed worlds from the spec's calibration (not re-run): obs 0.33 with
  projection (MLP/RFF ratio only 3.6x on seed 0); drag -mu u (trivial, spurious terms for
  both); extra viscosity u_xx on the k^-1 field (both fail); sigma_B 1 (RFF under-resolves)
  and 12 (aliasing between observations).

What did not reproduce: u_xxxx at 25% random coverage without a projection onto the
model's truncation fails for every interpolator; the contrast needs either that
projection (shipped) or design 2's steep spectrum and regular sampling. The paper's QG
numbers are not in the spec, so paper_rows say "not in spec".
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
from paramlab.scenarios.measure import ratio

KINDS = ("full", "mlp", "rff")
TRUE_TERM = "u_xxxx"
LOG_EVERY = 25


@dataclass(frozen=True)
class RffDiscoveryParams(Params):
    n_grid: int = param(256, range=(64, 512), help="grid points N on [0, 2 pi)")
    kmax: int = param(16, range=(4, 32), help="signal band: modes k = 1..kmax, amplitude k^-1")
    obs_frac: float = param(0.5, range=(0.1, 1.0),
                            help="fraction of grid points observed (random, same at t, t+dt)")
    coef: float = param(-1e-3, range=(-1e-2, -1e-5),
                        help="coefficient c of the missing term c u_xxxx in the truth")
    nu: float = param(0.02, range=(0.0, 0.1), help="model viscosity nu (-u u_x + nu u_xx)")
    dt: float = param(1e-4, range=(1e-5, 1e-3), log=True, help="RK4 step")
    snapshots: int = param(3, range=(1, 5), help="independent snapshots stacked in the fit")
    steps: int = param(1500, range=(100, 5000), help="Adam steps of each interpolator")
    lr: float = param(3e-3, range=(1e-4, 1e-1), log=True, help="Adam lr (cosine to lr/100)")
    width: int = param(64, range=(8, 256), help="hidden width (tanh)")
    depth: int = param(3, range=(1, 6), help="hidden layers")
    sigma_b: float = param(4.0, range=(0.5, 30.0), help="RFF frequency scale sigma_B")
    n_freq: int = param(64, range=(4, 256), help="RFF frequencies (2x features: sin, cos)")
    kcut: int = param(16, range=(0, 128),
                      help="project the interpolant onto modes k <= kcut (the model's "
                           "spectral truncation); 0 = off (the broken variant)")
    threshold: float = param(0.05, range=(0.001, 0.5), help="STLSQ threshold (normalised)")


def run(p: RffDiscoveryParams, ctx: RunContext) -> Iterator[Metric | Note | Table]:
    import numpy as np

    from paramlab.engines.linalg import spectral1d as sp
    from paramlab.engines.nn import fourier_interp as fi

    rng = ctx.rng
    N, S = p.n_grid, p.snapshots
    x = sp.grid(N)
    true_idx = sp.LIBRARY.index(TRUE_TERM)
    model = sp.burgers_rhs(p.nu)
    truth = sp.burgers_rhs(p.nu, lambda u: p.coef * sp.derivative(u, 4))
    m = max(2, int(round(p.obs_frac * N)))
    u_t = np.stack([sp.random_field(rng, N, p.kmax) for _ in range(S)])
    u_next = sp.rk4_step(truth, u_t, p.dt)
    idx = np.stack([np.sort(rng.choice(N, m, replace=False)) for _ in range(S)])
    take = lambda a: np.take_along_axis(a, idx, axis=1)  # noqa: E731
    x_obs, y_t, y_next = x[idx], take(u_t), take(u_next)
    B = np.stack([fi.rff_frequencies(rng, p.n_freq, p.sigma_b) for _ in range(S)])
    seed = int(rng.integers(2 ** 31))
    proj = f"k <= {p.kcut}" if p.kcut else "off"
    yield Note(f"N={N}, band k <= {p.kmax}, {m} obs per snapshot, {S} snapshots, truth adds "
               f"{p.coef:g} u_xxxx, RFF sigma_B {p.sigma_b} x {p.n_freq}, projection {proj}")
    fits = {}
    for kind, Bk in (("mlp", None), ("rff", B)):
        params, losses = fi.fit(x_obs, y_t, Bk, width=p.width, depth=p.depth, steps=p.steps,
                                lr=p.lr, lr_min=p.lr / 100, seed=seed, device=ctx.device)
        fits[kind] = (params, Bk, losses)
        if ctx.should_stop():
            return
    for s in range(p.steps):
        if s % LOG_EVERY == 0 or s == p.steps - 1:
            yield Metric(s, {"fit_loss_mlp": fits["mlp"][2][s],
                             "fit_loss_rff": fits["rff"][2][s]})
    u_tilde = {"full": u_t}
    for kind in ("mlp", "rff"):
        params, Bk, _ = fits[kind]
        u_tilde[kind] = sp.project(fi.evaluate(params, x, Bk), p.kcut)
    # energy spectra of snapshot 0, after the projection: what the discovery sees
    k = sp.wavenumbers(N)
    spec = {kind: np.abs(np.fft.rfft(u_tilde[kind][0]) / N) ** 2 for kind in KINDS}
    base = p.steps
    for j in range(1, N // 2):
        yield Metric(base + j - 1, {"k": float(k[j]), **{f"E_{kind}": float(spec[kind][j])
                                                            for kind in KINDS}})
    out = {}
    coefs = {}
    d4_true = sp.derivative(u_t, 4)
    for kind in KINDS:
        ut = u_tilde[kind]
        change = take(sp.rk4_step(model, ut, p.dt) - ut)
        d = sp.increment(y_t, y_next, change, p.dt).ravel()
        theta = np.take_along_axis(sp.library(ut), idx[..., None], axis=1).reshape(-1, 7)
        xi = sp.stlsq(theta, d, p.threshold)
        xi_ard = sp.ard(theta, d)
        rel, spur = sp.discovery_errors(xi, theta, true_idx, p.coef)
        rel_a, spur_a = sp.discovery_errors(xi_ard, theta, true_idx, p.coef)
        coefs[kind] = xi
        d4 = sp.derivative(ut, 4)
        hi = (k > p.kmax / 2) & (k <= p.kmax)
        e_true = np.abs(np.fft.rfft(u_t, axis=1)[:, hi]) ** 2
        e_fit = np.abs(np.fft.rfft(ut, axis=1)[:, hi]) ** 2
        out |= {f"rel_{kind}": rel, f"spur_{kind}": spur,
                f"rel_ard_{kind}": rel_a, f"spur_ard_{kind}": spur_a,
                f"rmse_{kind}": float(np.sqrt(np.mean((ut - u_t) ** 2))),
                f"derr4_{kind}": float(np.linalg.norm(d4 - d4_true) / np.linalg.norm(d4_true)),
                f"hik_energy_{kind}": float(e_fit.sum() / e_true.sum()),
                f"xi4_{kind}": float(xi[true_idx])}
        yield Note(f"{kind}: xi = " + ", ".join(f"{n} {v:+.3g}" for n, v in
                                               zip(sp.LIBRARY, xi) if v != 0)
                   + f"; rel {rel:.4f}, spur {spur:.4f} (ARD {rel_a:.4f} / {spur_a:.4f}); "
                   f"grid RMSE {out[f'rmse_{kind}']:.4f}, u_xxxx error "
                   f"{out[f'derr4_{kind}']:.3f}")
    yield Metric(base + N // 2 - 1, out)
    truth_row = [p.coef if n == TRUE_TERM else 0.0 for n in sp.LIBRARY]
    yield Table("discovered coefficients", list(sp.LIBRARY),
                ["truth", "full obs", "MLP", "RFF"],
                [[truth_row[i], coefs["full"][i], coefs["mlp"][i], coefs["rff"][i]]
                 for i in range(len(sp.LIBRARY))])


def _get(history: History, name: str) -> float:
    return history.last(name) if name in history else math.nan


def check(history: History, p: RffDiscoveryParams) -> Verdict:
    g = lambda n: _get(history, n)  # noqa: E731
    mlp_fail = max(g("rel_mlp") / 0.15, g("spur_mlp") / 0.10)
    criteria = (
        Criterion.at_most("full-obs reference: rel. error of c", g("rel_full"), 0.01),
        Criterion.at_most("full-obs reference: spurious terms", g("spur_full"), 0.01),
        Criterion.at_most("RFF-NN: rel. error of c", g("rel_rff"), 0.05),
        Criterion.at_most("RFF-NN: spurious terms", g("spur_rff"), 0.05),
        Criterion.at_least("plain MLP fails: max(rel/0.15, spur/0.10)", mlp_fail, 1.0),
        Criterion.at_least("rel. error MLP / RFF", ratio(g("rel_mlp"), g("rel_rff")), 10.0),
        Criterion.at_most("RFF-NN (ARD cross-check): rel. error of c", g("rel_ard_rff"), 0.05,
                          tier="mechanism"),
        Criterion.at_most("u_xxxx error on the grid, RFF / MLP", ratio(g("derr4_rff"),
                          g("derr4_mlp")), 0.5, tier="mechanism"),
    )
    return Verdict.of(criteria, f"RFF-NN recovers c within {g('rel_rff'):.3f} (spur "
                      f"{g('spur_rff'):.3f}); plain MLP off by {g('rel_mlp'):.3f} (spur "
                      f"{g('spur_mlp'):.3f}); full obs {g('rel_full'):.4f}")


SCENARIO = Scenario(
    params=RffDiscoveryParams,
    run=run,
    check=check,
    panels=(
        Panel("interpolator fit loss (MSE on obs)", series=("fit_loss_mlp", "fit_loss_rff"),
              logy=True, labels={"fit_loss_mlp": "MLP", "fit_loss_rff": "RFF-NN"}),
        Panel("energy spectrum of the interpolant (snapshot 0)",
              series=("E_full", "E_mlp", "E_rff"), x="k", logx=True, logy=True,
              xlabel="wavenumber k", labels={"E_full": "truth", "E_mlp": "MLP",
                                              "E_rff": "RFF-NN"}),
        Panel("discovered coefficients", kind="bars", table="discovered coefficients"),
    ),
    presets={"quick": {"snapshots": 1, "steps": 800}},
    watch=("fit_loss_mlp", "fit_loss_rff"),
    key_metric="fit_loss_rff",
    total_steps=lambda p: p.steps + p.n_grid // 2 - 1,
    notes=__doc__ or "",
    uses_torch=True,
    paper_reports="With full observations RVM on analysis increments recovers the missing "
                  "terms of 2-layer QG; with sparse observations a plain MLP interpolant "
                  "fails (spectral bias, amplified by library derivatives) while an RFF-NN "
                  "interpolant lets the discovery succeed.",
    paper_rows=(
        PaperRow("RFF-NN discovery: missing-term coefficient error", "not in spec",
                 "relative error", "QG test case (abstract: discovery succeeds)",
                 "RFF-NN: rel. error of c"),
        PaperRow("plain MLP discovery", "fails (not in spec as a number)", "relative error",
                 "QG test case", "plain MLP fails: max(rel/0.15, spur/0.10)"),
        PaperRow("full-observation discovery", "recovers the terms (not in spec as a number)",
                 "relative error", "QG test case, full observations",
                 "full-obs reference: rel. error of c"),
    ),
    status="partly",
)
