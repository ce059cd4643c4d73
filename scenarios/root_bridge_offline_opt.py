"""ROOT: offline optimisation as distributional translation via a probabilistic bridge
(Dao, Tran, Nguyen, Truong, Hoang, arXiv 2509.16300).

ROOT learns a Brownian bridge that carries low-value designs to high-value ones. Its training
pairs come from synthetic functions, the posterior means of GPs fitted to the offline data:
descent on a GP mean gives x_low, ascent gives x_high. The paper's headline is that ROOT beats
surrogate gradient ascent (and other baselines) on Design-Bench.

World (engines/stats/offline_design.py for the task, engines/nn/root_bridge.py for ROOT):
f(u) = -Ackley(2u) on [-1, 1]^6 (global max 0 at u = 0); 400 uniform samples with the best
50% hidden, so 200 offline points. GP means: exact RBF-kernel means, noise 1e-3, standardised
y, lengthscales {0.4, 0.6, 0.8, 1.0} (the spec's recalibration of the paper's 1.0 +- 0.25 in
normalised units). Pairs: 50 Adam steps (lr 0.02, clamped) up and down each GP mean from every
offline point, 800 pairs. Bridge: MLP (d+1)-128-128-d SiLU with a residual to x_t. It predicts
x_high from x_t = (1-t) x_low + t x_high + 0.1 sqrt(t(1-t)) eps (MSE, Adam 1e-3, batch 256;
1500 steps quick, 2000 default). Sampling: the 128 best offline designs take 20
Euler-Maruyama steps, and the last step jumps to the predicted endpoint. Contrast, Grad-MLP:
two ReLU MLPs 6-64-64-1 (500 full-batch Adam steps, lr 1e-3), each followed by Adam ascent
(lr 0.02) from the same 128 designs, for 200 steps (search_steps, the asserted contrast) and
50 steps (short_steps, reported only). Scores are averaged over the two surrogates.
Reference: 50-step ascent on the mean of the GP means (the thing ROOT distils). Score: (f -
f_min)/(f_max - f_min), where f_min is the lowest sampled value and f_max = 0 is the global
maximum. So 1 = the global optimum; this is the spec's score, not offline_design's "1 = best
offline". p100 = best of the 128 designs.

Claim check (the spec's recalibrated thresholds, fixed before the 20-seed runs):
  paper      ROOT p100 - best offline >= 0.40;  ROOT p100 >= 0.70;
             ROOT p100 - Grad-MLP(200 steps) p100 >= 0.05
  mechanism  ROOT p100 - offline-pairs bridge p100 >= 0.20 (the synthetic functions matter;
             the same bridge trained on 800 random offline pairs ordered by y)
Control (tests): pairs = "offline", the spec's broken variant, fails "gain >= 0.40" and
"p100 >= 0.70" (p100 about 0.4-0.57 in every run above).

Worlds tried (seeds 0-19; p100 values; Δ = ROOT - contrast):
  W0  quick with 800 bridge steps (the spec's quick): PASS 14/20, unstable. ROOT
      0.649-0.931 (median 0.79); Δ vs Grad-200 -0.039..+0.305, with 5 seeds below +0.05;
      seed 2 gives ROOT 0.649 < 0.70. Offline-pairs bridge 0.37-0.50; GP-ens 0.72-0.96.
  W1  quick with 1500 bridge steps (shipped): PASS 19/20 (seed 15 misses by 0.001: Δ vs
      Grad-200 +0.049). ROOT 0.731-0.958; Grad-200 0.572-0.781; Grad-50 0.724-0.900;
      offline-pairs 0.40-0.57; best offline 0.19-0.24. ~5-6 s per run on the loaded box.
  W2  default (2000 bridge steps): PASS 20/20. ROOT 0.745-0.987; Δ vs Grad-200
      +0.086..+0.303; Δ vs offline-pairs +0.19..+0.51 (one seed at 0.19 misses the mechanism
      criterion, which does not decide the verdict); ~7-9 s per run.
  W3  the asserted contrast swapped to Grad-MLP with 50 ascent steps (same budget as the
      pairs): ROOT wins on 13/20 default seeds (Δ -0.116..+0.152) and on about 13/20 quick
      seeds. That is a coin flip, so it is reported, not asserted: the headline depends on
      the baseline's ascent budget, as the spec's calibration found (the ascent overshoots
      off-manifold between 50 and 200 steps: 0.72-0.90 at 50 falls to 0.57-0.78 at 200).
  W4  the first Grad-MLP as built: IGNITE's one-layer tanh surrogate (64 units, 250
      epochs, lr 1e-3), seeds 0-2. It scored 0.13-0.17 at 200 steps, below the offline data:
      a straw man, so it was replaced by the spec's 6-64-64-1 MLP.
  Spec worlds (3 seeds, not repeated): lengthscales {0.1, 0.2, 0.4, 0.8} (ROOT 0.51 vs
      Grad 0.85); bumps black box (ROOT wins 2/3); N = 100 (ROOT 0.48-0.55 vs Grad
      0.66-0.69).

Not reproduced / not tested: ROOT never beats the GP-ensemble ascent it distils by a clear
margin (e.g. default ROOT 0.745-0.987 vs GP-ens 0.72-0.96). "ROOT beats surrogate gradient
ascent" holds only against the 200-step baseline. Not the paper's method in full: there is
no classifier-free guidance and no y-conditioning; an endpoint-predicting MLP replaces
BBDM's 1000-step schedule; a fixed lengthscale grid replaces GP hyper-parameters sampled
per function; and no Design-Bench tasks. The single-lengthscale-0.2 ablation (param
lengthscales = "single") is kept but was not calibrated on 20 seeds. CUDA path untested.
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

LENGTHSCALES = {"multi": [0.4, 0.6, 0.8, 1.0], "single": [0.2]}
GAIN = "ROOT p100 - best offline (score, 1 = global max)"
VS_GRAD = "ROOT p100 - Grad-MLP p100 (search_steps ascent)"
ABS = "ROOT p100 (score, 1 = global max)"
VS_OFF = "ROOT p100 - offline-pairs bridge p100"
MIN_GAIN, MIN_VS_GRAD, MIN_ABS, MIN_VS_OFF = 0.40, 0.05, 0.70, 0.20
ARMS = ("root", "offline_pairs", "grad_short", "grad", "gp_ens")


@dataclass(frozen=True)
class RootParams(Params):
    dim: int = param(6, range=(2, 16), help="design dimension d (designs in [-1, 1]^d)")
    black_box: str = param("ackley", choices=("ackley", "rippled_bowl"),
                           help="f(u) = black box of 2u (engines/stats/offline_design.py)")
    n_offline: int = param(400, range=(100, 2000), log=True,
                           help="uniform samples drawn before hiding the top")
    hide_top_frac: float = param(0.5, range=(0.2, 0.8), help="best fraction hidden")
    pairs: str = param("gp", choices=("gp", "offline"),
                       help="ROOT's training pairs: GP synthetic functions, or offline pairs "
                            "ordered by y (the broken variant, no synthetic functions)")
    lengthscales: str = param("multi", choices=("multi", "single"),
                              help="GP RBF lengthscales: {0.4, 0.6, 0.8, 1.0} or {0.2} "
                                   "(broken variant)")
    pair_steps: int = param(50, range=(10, 200), help="Adam steps on each GP mean per pair")
    pair_lr: float = param(0.02, range=(1e-3, 0.2), log=True, help="pair ascent step size")
    sigma: float = param(0.1, range=(0.0, 0.5), help="bridge noise sigma")
    bridge_steps: int = param(2000, range=(100, 5000), log=True, help="bridge Adam steps")
    bridge_hidden: int = param(128, range=(16, 512), log=True, help="bridge MLP width")
    sde_steps: int = param(20, range=(5, 100), help="Euler-Maruyama sampling steps")
    n_starts: int = param(128, range=(8, 512), log=True, help="top-k offline designs translated")
    search_steps: int = param(200, range=(10, 400),
                              help="Grad-MLP ascent steps (the contrast; 50 also reported)")
    short_steps: int = param(50, range=(5, 400), help="the short Grad-MLP budget reported")
    surrogate_steps: int = param(500, range=(50, 3000), log=True,
                                 help="full-batch Adam steps of the Grad-MLP surrogate")

    def check_consistency(self) -> list[str]:
        kept = round((1 - self.hide_top_frac) * self.n_offline)
        out = []
        if self.n_starts > kept:
            out.append(f"n_starts: at most the {kept} offline designs kept")
        if self.short_steps > self.search_steps:
            out.append("short_steps must be <= search_steps")
        return out


STRIDE = 20


def total_steps(p: RootParams) -> int:
    return p.bridge_steps + p.sde_steps + 1


def run(p: RootParams, ctx: RunContext) -> Iterator[Metric | Note | Table]:
    import numpy as np
    import torch

    from paramlab.engines.nn import root_bridge as rb
    from paramlab.engines.nn import torch_train as tt
    from paramlab.engines.stats import offline_design as od

    rng = ctx.rng
    dev = ctx.device
    box = od.BLACK_BOXES[p.black_box]

    def f(U: np.ndarray) -> np.ndarray:  # optimum 0 at u = 0 (ackley) / 0.25 (bowl)
        return box(2.0 * np.asarray(U))

    task = od.make_offline_task(rng, f, p.dim, p.n_offline, p.hide_top_frac, lo=-1.0, hi=1.0)
    f_max = 0.0  # both black boxes have global maximum 0

    def score(U: torch.Tensor) -> np.ndarray:
        return (f(U.detach().cpu().double().numpy()) - task.f_min) / (f_max - task.f_min)

    y_mu, y_sd = float(task.y.mean()), float(task.y.std())
    X, y = tt.to_device(dev, task.X, (task.y - y_mu) / y_sd)
    X0 = tt.to_device(dev, task.top(p.n_starts))[0]
    g = tt.generator(int(rng.integers(2**31)))
    torch.manual_seed(int(rng.integers(2**31)))
    best_off = float(score(X0).max())
    yield Note(f"f = -{p.black_box}(2u) on [-1, 1]^{p.dim}; {len(task.y)} offline designs "
               f"(best {p.hide_top_frac:.0%} of {p.n_offline} hidden); best offline score "
               f"{best_off:.3f} (1 = global max)")

    # ---- pairs
    gp = rb.fit_gp_means(X, y, LENGTHSCALES[p.lengthscales])
    gp_lo, gp_hi = rb.gp_pairs(gp, X, steps=p.pair_steps, lr=p.pair_lr, lo=-1.0, hi=1.0)
    off_lo, off_hi = rb.offline_pairs(X, y, len(gp_lo), g)
    root_pairs = (gp_lo, gp_hi) if p.pairs == "gp" else (off_lo, off_hi)
    yield Note(f"{len(gp_lo)} pairs; ROOT trains on {'GP-mean' if p.pairs == 'gp' else 'offline'}"
               f" pairs, lengthscales {LENGTHSCALES[p.lengthscales]}")

    # ---- two bridges (ROOT and the offline-pairs ablation) trained side by side
    bridges = {}
    trains = {}
    for arm, (lo_, hi_) in (("root", root_pairs), ("offline_pairs", (off_lo, off_hi))):
        bridges[arm] = rb.Bridge(p.dim, p.bridge_hidden).to(dev)
        trains[arm] = rb.train_bridge(bridges[arm], lo_, hi_, steps=p.bridge_steps, batch=256,
                                      lr=1e-3, sigma=p.sigma, gen=g)
    for (s, l1), (_, l2) in zip(trains["root"], trains["offline_pairs"]):
        if s % STRIDE == 0 or s == p.bridge_steps - 1:
            yield Metric(s, {"bridge_step": float(s), "loss_root": l1, "loss_offline_pairs": l2})
            if ctx.should_stop():
                return

    # ---- contrast: gradient ascent on MLP surrogates (2 inits, scores averaged)
    grad = {}
    short, full = [], []
    for _ in range(2):
        net = rb.mlp_surrogate(X, y, hidden=64, steps=p.surrogate_steps, lr=1e-3, gen=g)

        def pred(Z, net=net):
            return net(Z)[:, 0]

        Xs = rb.climb(pred, X0, steps=p.short_steps, lr=0.02, lo=-1.0, hi=1.0,
                      sign=1.0)
        short.append(score(Xs))
        Xf = rb.climb(pred, X0, steps=p.search_steps, lr=0.02, lo=-1.0,
                      hi=1.0, sign=1.0)
        full.append(score(Xf))
    for key, ss in (("grad_short", short), ("grad", full)):
        s_ = np.stack(ss)
        grad[key] = (float(s_.max(1).mean()), float(np.median(s_, 1).mean()))
    # reference (not a contrast): ascent on the mean of the GP means
    Xg = rb.climb(lambda Z: gp(Z).mean(0), X0, steps=p.pair_steps, lr=p.pair_lr, lo=-1.0,
                  hi=1.0, sign=1.0)
    sg = score(Xg)
    grad["gp_ens"] = (float(sg.max()), float(np.median(sg)))

    # ---- translate the top-k designs with both bridges
    base = p.bridge_steps
    traj = {arm: list(rb.sample_bridge(bridges[arm], X0, n_steps=p.sde_steps, sigma=p.sigma,
                                       lo=-1.0, hi=1.0, gen=g)) for arm in bridges}
    res = {}
    for k in range(p.sde_steps + 1):
        row = {"sde_step": float(k)}
        for arm in bridges:
            s_ = score(traj[arm][k][1])
            row[f"p100_{arm}"] = float(s_.max())
            row[f"p50_{arm}"] = float(np.median(s_))
            res[arm] = (row[f"p100_{arm}"], row[f"p50_{arm}"])
        yield Metric(base + k, row)
    res |= grad
    summary = {
        "best_offline": best_off,
        "gain": res["root"][0] - best_off,
        "vs_grad": res["root"][0] - res["grad"][0],
        "vs_grad_short": res["root"][0] - res["grad_short"][0],
        "vs_offline_pairs": res["root"][0] - res["offline_pairs"][0],
        "root_p100": res["root"][0],
        "root_p50": res["root"][1],
    }
    for arm in ARMS:
        summary[f"final_p100_{arm}"], summary[f"final_p50_{arm}"] = res[arm]
    yield Metric(base + p.sde_steps + 1, summary)
    labels = ["ROOT bridge", "bridge on offline pairs", f"Grad-MLP {p.short_steps} steps",
              f"Grad-MLP {p.search_steps} steps", "GP-ensemble ascent (reference)"]
    yield Table("final designs (score, 1 = global max)", labels, ["p100", "p50"],
                [list(res[a]) for a in ARMS])
    yield Note("p100: " + ", ".join(f"{lab} {res[a][0]:.3f}" for lab, a in zip(labels, ARMS))
               + f"; best offline {best_off:.3f}")


def check(history: History, p: RootParams) -> Verdict:
    def last(name: str) -> float:
        return history.last(name) if name in history else math.nan

    criteria = [
        Criterion.at_least(GAIN, last("gain"), MIN_GAIN),
        Criterion.at_least(ABS, last("root_p100"), MIN_ABS),
        Criterion.at_least(VS_GRAD, last("vs_grad"), MIN_VS_GRAD),
        Criterion.at_least(VS_OFF, last("vs_offline_pairs"), MIN_VS_OFF, tier="mechanism"),
    ]
    return Verdict.of(criteria, f"ROOT p100 {last('root_p100'):.3f}: +{last('gain'):.3f} over "
                      f"the offline data, {last('vs_grad'):+.3f} vs Grad-MLP")


SCENARIO = Scenario(
    params=RootParams,
    run=run,
    check=check,
    panels=(
        Panel("bridge training loss", series=("loss_root", "loss_offline_pairs"),
              x="bridge_step", xlabel="Adam step", ylabel="endpoint MSE", logy=True),
        Panel("p100 score vs SDE step", series=("p100_root", "p100_offline_pairs"),
              x="sde_step", xlabel="Euler-Maruyama step", ylabel="score (1 = global max)"),
        Panel("p50 score vs SDE step", series=("p50_root", "p50_offline_pairs"),
              x="sde_step", xlabel="Euler-Maruyama step", ylabel="score (1 = global max)"),
        Panel("final designs", kind="bars", table="final designs (score, 1 = global max)"),
    ),
    presets={"quick": {"bridge_steps": 1500}},
    watch=("loss_root",),
    key_metric="loss_root",
    total_steps=total_steps,
    uses_torch=True,
    notes=__doc__ or "",
    paper_reports="On Design-Bench tasks ROOT reaches the best or near-best normalised "
                  "100th-percentile score, ahead of surrogate gradient ascent, COMs and "
                  "inverse-model / generative baselines.",
    paper_rows=(
        PaperRow("ROOT p100 - surrogate gradient ascent p100", "positive on most tasks (no "
                 "single number)", "normalised score", "Design-Bench tables", VS_GRAD),
        PaperRow("ROOT p100", "not reported on this toy", "score, 1 = global max", "-", ABS),
    ),
    status="partly",
)
