"""Feature learning needs muP: SP blows up, NTK freezes features (Yang & Hu 2021, TP4).

One regression task, a ReLU MLP d_in -> n -> n -> 1 (depth 3, no biases) trained by
full-batch SGD on the mean squared error, at every width n in `widths`, in three
abc-parametrizations (engines/nn/parametrization.py):

    sp   init var 1/fan_in, lr base_lr on every layer (standard practice)
    ntk  w ~ N(0,1), multiplier 1/sqrt(fan_in), lr ntk_lr on every layer
    mup  input var 1/d_in, lr base_lr * n/base; hidden var 1/n, lr base_lr;
         readout var 1/n^2 (stored N(0,1/base^2) times multiplier base/n), lr base_lr * base/n

(Depth 2, the quick preset, is d_in -> n -> 1.)
Task: x ~ N(0, I_32), y = sum_{j<=4} tanh(u_j.x) + 0.5 cos(2 u_1.x), 256 training points.
Feature movement = RMS(h_T - h_0) / RMS(h_0) of the last hidden layer on the training
inputs. Headline: its log-log slope against width is ~0 under muP (features move by
Theta(1) at every width), ~-1/2 under NTK (kernel regime: features freeze as n grows).
Under SP at a fixed lr the updates grow with width (the output-layer sharpness grows ~ n).
In muP wider is better and beats the NTK limit.

Learning-rate transfer (`lr_transfer`, on in both presets): final loss against log2(lr)
at two widths for SP and muP; the muP optimum should stay put while the SP optimum moves
to smaller lr (its output-layer sharpness grows ~ n).

Thresholds (spec, fixed in advance, the same for both presets): |slope muP| <= 0.15;
slope NTK <= -0.30; muP loss(widest) <= loss(narrowest); SP loss(widest) >= 2 x
loss(narrowest) or non-finite; muP loss(widest) < NTK loss(widest). LR transfer
(mechanism tier, fixed before measuring from the grid step of 1 in log2 lr): |shift of
the muP optimum| <= 1, SP optimum shift <= -1.

Presets (chosen for one core; measured CPU seconds, one thread):
- default: the spec's depth-3 net, widths 64-2048, 40 SGD steps (the spec's calibration
  length; 100 steps at width 2048 alone cost ~20 s per parametrization), LR transfer at
  widths 128 and 512 (the spec suggests 1024: too slow). ~45 s.
- quick: depth 2 (d_in -> n -> 1; the same three parametrizations and thresholds, a
  hidden n x n layer would dominate the cost), widths 64-4096, 40 steps, LR transfer at
  widths 128 and 2048. ~5 s.

Measured. Default seeds 0/1/2: |slope muP| 0.02/0.02/0.05 (movement 0.23-0.38 at every
width), NTK -0.47/-0.49/-0.52; muP loss 64 -> 2048: 0.29 -> 0.12, 0.32 -> 0.12,
0.32 -> 0.09, NTK at 2048 0.23/0.22/0.25; SP loss ratio 2.9/5.3/4.2; LR-transfer
optimum shift muP +1/+1/+1 (a broad optimum), SP -2/-2/-2. Quick seeds 0-5: slope muP
-0.05 to -0.09, NTK -0.49 to -0.52, SP diverges (inf) from width 256 on, muP loss
0.24-0.32 -> 0.12-0.15 (NTK 0.18-0.23), LR-transfer shift muP 0, SP -4 (seeds 0-3).

Where the SP contrast comes from: SP's output-layer sharpness grows ~ n, so at a fixed
lr it crosses the edge of stability (~ width 256 here at lr 0.05: the loss spikes and
the features are rewritten, movement ~1). In the depth-3 net the loss first recovers
after the spike (catapult); only from width ~2048 does it stay broken, which is why the
default goes to 2048 (with widths <= 1024 the SP check fails on seeds 0 and 2). The
depth-2 net diverges outright from width 256.

Broken variant: `mup_readout=1/sqrt(n)` (the classic mistake) makes the readout SP-like
while the input layer keeps its lr x n/base, so the "muP" net diverges like SP from
width 256 and check 1 fails.

Cross-check: the `mup` package (MuReadout + MuSGD, set_base_shapes with base width 64),
given the same effective initial weights, produces the same 40-step loss curve at width
512 as this engine to the last float32 bit (tests/test_mup_feature_learning.py; skipped
when `mup` is not installed; it is not a paramlab dependency).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from .base import (
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
from .history import History
from .measure import log_slope, ratio

KINDS = ("sp", "ntk", "mup")
LABELS = {"sp": "SP", "ntk": "NTK", "mup": "muP"}


def _int_list(text: str) -> list[int]:
    return [int(v) for v in text.replace(" ", "").split(",") if v]


@dataclass(frozen=True)
class MupParams(Params):
    widths: str = param("64,128,256,512,1024,2048",
                        help="comma-separated hidden widths n (increasing, 16..4096)")
    steps: int = param(40, range=(5, 300), help="SGD steps per training")
    base_lr: float = param(0.05, range=(1e-3, 1.0), log=True,
                           help="base learning rate eta (SP, and muP scaled per layer)")
    ntk_lr: float = param(2.0, range=(0.01, 4.0), log=True,
                          help="learning rate of the NTK parametrization")
    base_width: int = param(64, range=(8, 1024), help="width at which muP's lrs equal SP's")
    depth: int = param(3, range=(2, 5), help="number of linear layers (depth-1 hidden layers)")
    n_train: int = param(256, range=(32, 2048), help="training points")
    d_in: int = param(32, range=(4, 256), help="input dimension")
    teacher_dirs: int = param(4, range=(1, 16), help="ridge directions u_j of the teacher")
    mup_readout: str = param("1/n", choices=("1/n", "1/sqrt(n)"),
                             help="muP readout multiplier (1/sqrt(n) is the classic mistake)")
    lr_transfer: bool = param(True, help="also sweep log2(lr) at two widths (SP vs muP)")
    lrt_widths: str = param("128,512", help="the two widths of the LR-transfer sweep")
    lrt_log2_min: int = param(-8, range=(-14, 2), help="smallest log2(lr) of the sweep")
    lrt_log2_max: int = param(-1, range=(-14, 2), help="largest log2(lr) of the sweep")
    lrt_steps: int = param(40, range=(5, 300), help="SGD steps per LR-transfer training")

    def check_consistency(self) -> list[str]:
        out = []
        for name in ("widths", "lrt_widths"):
            try:
                ws = _int_list(getattr(self, name))
            except ValueError:
                out.append(f"{name}: expected comma-separated integers, got "
                           f"{getattr(self, name)!r}")
                continue
            need = 3 if name == "widths" else 2
            if len(ws) < need or any(not 16 <= w <= 4096 for w in ws) or ws != sorted(set(ws)):
                out.append(f"{name}: expected at least {need} increasing widths in [16, 4096], "
                           f"got {getattr(self, name)!r}")
        if self.lrt_log2_min >= self.lrt_log2_max:
            out.append(f"lrt_log2_min: must be < lrt_log2_max ({self.lrt_log2_max}), "
                       f"got {self.lrt_log2_min}")
        return out


def _lrt_grid(p: MupParams) -> list[int]:
    return list(range(p.lrt_log2_min, p.lrt_log2_max + 1))


def total_steps(p: MupParams) -> int:
    main = len(_int_list(p.widths)) * len(KINDS) * p.steps
    lrt = 2 * 2 * len(_lrt_grid(p)) * p.lrt_steps if p.lr_transfer else 0
    return main + lrt


def run(p: MupParams, ctx: RunContext) -> Iterator[Metric | Note]:
    import torch
    from torch.nn import functional as F

    from paramlab.engines.nn import parametrization as pz
    from paramlab.engines.nn import torch_train as tt

    g = tt.generator(ctx.seed)
    X, y = pz.teacher_regression(p.n_train, p.d_in, p.teacher_dirs, generator=g)
    X, y = tt.to_device(ctx.device, X, y)
    widths = _int_list(p.widths)
    readout_exponent = 1.0 if p.mup_readout == "1/n" else 0.5
    yield Note(f"{p.n_train} points, d_in={p.d_in}, widths {widths}, {p.steps} steps; "
               f"lr SP/muP {p.base_lr:g}, NTK {p.ntk_lr:g}; muP readout {p.mup_readout}")
    counter = 0  # global step: every event gets a distinct, increasing step

    def fit(kind: str, n: int, lr: float, steps: int, curve: str = ""
            ) -> Iterator[tuple[int, float, float]]:
        """Train one net; yields (t, loss) per step, and finally (-1, final loss, movement)."""
        net, opt = pz.build(kind, p.d_in, n, p.depth, 1, lr=lr, base_width=p.base_width,
                            generator=g, readout_exponent=readout_exponent)
        net.to(ctx.device)
        with torch.no_grad():
            h0 = net.features(X)
        for rec in tt.train(net, F.mse_loss, X, y, opt, steps, should_stop=ctx.should_stop):
            yield rec["step"], rec["loss"], math.nan
            if not math.isfinite(rec["loss"]) or rec["loss"] > 1e8:
                yield -1, math.inf, math.nan  # diverged: stop this training
                return
        with torch.no_grad():
            final = float(F.mse_loss(net(X), y))
            movement = pz.feature_movement(net.features(X), h0)
        yield -1, final if math.isfinite(final) else math.inf, movement

    for n in widths:
        summary: dict[str, float] = {"width": float(n)}
        for kind in KINDS:
            lr = p.ntk_lr if kind == "ntk" else p.base_lr
            start = counter
            for t, loss, movement in fit(kind, n, lr, p.steps):
                if t < 0:
                    summary[f"final_loss_{kind}"] = loss
                    summary[f"fm_{kind}"] = movement
                    break
                counter = start + t
                values = {"t": float(t), f"loss_{kind}_w{n}": loss}
                if n == widths[-1]:
                    values[f"curve_{kind}"] = loss
                yield Metric(counter, values)
            counter = start + p.steps
            if ctx.should_stop():
                return
        yield Metric(counter, summary)

    if not p.lr_transfer:
        return
    small, large = _int_list(p.lrt_widths)[:2]
    yield Note(f"LR transfer: widths {small} and {large}, log2(lr) in "
               f"[{p.lrt_log2_min}, {p.lrt_log2_max}], {p.lrt_steps} steps")
    for k in _lrt_grid(p):
        values = {"log2_lr": float(k)}
        for kind in ("sp", "mup"):
            for tag, n in (("small", small), ("large", large)):
                *_, (_, final, _) = fit(kind, n, 2.0 ** k, p.lrt_steps)
                values[f"lrt_{kind}_{tag}"] = final
                counter += p.lrt_steps
                if ctx.should_stop():
                    return
        yield Metric(counter, values)


def loglog_slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of log y on log x (nan unless every y is finite and > 0: a
    width whose feature movement blew up must not be left out of the fit)."""
    if any(not (math.isfinite(y) and y > 0) for y in ys):
        return math.nan
    return log_slope(xs, ys)


def _argmin_log2_lr(history: History, name: str) -> float:
    xs, ys = history.paired("log2_lr", name)
    ys = [y if math.isfinite(y) else math.inf for y in ys]
    return xs[ys.index(min(ys))] if xs and min(ys) < math.inf else math.nan


def check(history: History, p: MupParams) -> Verdict:
    by_kind = {k: history.paired("width", f"fm_{k}") for k in KINDS}
    loss = {k: history.paired("width", f"final_loss_{k}")[1] for k in KINDS}
    done = len(loss["mup"]) == len(_int_list(p.widths))
    slope = {k: loglog_slope(*by_kind[k]) if done else math.nan for k in KINDS}

    def ends(k: str) -> tuple[float, float]:
        return (loss[k][0], loss[k][-1]) if done else (math.nan, math.nan)

    mup0, mupN = ends("mup")
    sp0, spN = ends("sp")
    _, ntkN = ends("ntk")
    sp_ratio = spN / sp0 if done and sp0 > 0 else math.nan
    sp_blew_up = done and (not math.isfinite(spN) or sp_ratio >= 2.0)
    criteria = [
        Criterion.at_most("|feature-movement slope| muP", abs(slope["mup"]), 0.15),
        Criterion.at_most("feature-movement slope NTK (theory -0.5)", slope["ntk"], -0.30),
        Criterion.at_most("muP loss widest / narrowest (wider is better)",
                          ratio(mupN, mup0), 1.0),
        Criterion("SP loss widest / narrowest (blows up)", sp_ratio if done else math.nan,
                  ">= 2 or non-finite", sp_blew_up),
        # plain division: an NTK loss of +inf makes muP (finite) better, ratio 0
        Criterion.at_most("muP loss / NTK loss at the widest width",
                          mupN / ntkN if ntkN > 0 else math.nan, 1.0),
    ]
    if "log2_lr" in history:
        shift = {k: _argmin_log2_lr(history, f"lrt_{k}_large")
                 - _argmin_log2_lr(history, f"lrt_{k}_small") for k in ("sp", "mup")}
        criteria += [
            Criterion.at_most("LR transfer: |muP optimum shift| (log2 lr)", abs(shift["mup"]),
                              1.0, tier="mechanism"),
            Criterion.at_most("LR transfer: SP optimum shift (log2 lr)", shift["sp"], -1.0,
                              tier="mechanism"),
        ]
    return Verdict.of(criteria, f"feature-movement slope muP {slope['mup']:+.2f}, NTK "
                      f"{slope['ntk']:+.2f}; muP loss {mup0:.3f} -> {mupN:.3f} (NTK "
                      f"{ntkN:.3f}); SP " + (f"loss x{sp_ratio:.1f}" if math.isfinite(sp_ratio)
                                             else "diverged"))


SCENARIO = Scenario(
    params=MupParams,
    run=run,
    check=check,
    panels=(
        Panel("feature movement RMS(h_T-h_0)/RMS(h_0) vs width",
              series=tuple(f"fm_{k}" for k in KINDS), x="width", logx=True, logy=True,
              xlabel="width n (log)", labels={f"fm_{k}": LABELS[k] for k in KINDS}),
        Panel("final training loss vs width", series=tuple(f"final_loss_{k}" for k in KINDS),
              x="width", logx=True, logy=True, xlabel="width n (log)",
              labels={f"final_loss_{k}": LABELS[k] for k in KINDS}),
        Panel("training loss of the widest net", series=tuple(f"curve_{k}" for k in KINDS),
              x="t", logy=True, xlabel="SGD step",
              labels={f"curve_{k}": LABELS[k] for k in KINDS}),
        Panel("LR transfer: final loss vs log2(lr)",
              series=("lrt_sp_small", "lrt_sp_large", "lrt_mup_small", "lrt_mup_large"),
              x="log2_lr", logy=True, xlabel="log2(base lr)",
              labels={"lrt_sp_small": "SP small", "lrt_sp_large": "SP large",
                      "lrt_mup_small": "muP small", "lrt_mup_large": "muP large"}),
    ),
    presets={"quick": {"depth": 2, "widths": "64,128,256,512,1024,2048,4096",
                       "lrt_widths": "128,2048"}},
    key_metric="curve_mup",
    total_steps=total_steps,
    uses_torch=True,
    threads=2,  # 1.06-1.15x faster on 2 idle cores than on 1 (bench_threads, quick, 2 runs)
    notes=__doc__ or "",
    paper_reports="Every abc-parametrization is either in the kernel regime or learns features "
                  "(dichotomy); muP is the maximal feature-learning one. The muP limits beat "
                  "the NTK and finite-width nets on Word2Vec and Omniglot MAML, and "
                  "performance improves with width.",
    paper_rows=(
        PaperRow('feature movement vs width, NTK',
                 'slope -0.5 (Theta(n^-1/2))',
                 unit='log-log slope', source='theory',
                 criterion='feature-movement slope NTK (theory -0.5)'),
        PaperRow('feature movement vs width, muP',
                 'slope 0 (Theta(1))',
                 unit='log-log slope', source='theory',
                 criterion='|feature-movement slope| muP'),
        PaperRow('muP / NTK loss at the widest width',
                 'muP better (Word2Vec, Omniglot MAML)',
                 unit='', source='Tables',
                 criterion='muP loss / NTK loss at the widest width'),
        PaperRow('muP loss, widest / narrowest',
                 'improves with width',
                 unit='', source='abstract',
                 criterion='muP loss widest / narrowest (wider is better)'),
    ),
    status="reproduces",
)
