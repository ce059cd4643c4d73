"""Overtraining peaks when #params = #samples (Advani & Saxe 2017, arXiv 1710.03667).

A linear student w (P weights) learns a noisy linear teacher y = w*.x + eps from N samples,
x ~ N(0, I_P), ||w*||^2 = SNR, Var(eps) = noise_var, by gradient flow on
1/(2N) ||X w - y||^2. The flow is solved exactly in the eigenbasis of X^T X / N
(engines.linalg.linear_student.LinearGD, no training loop), for P = q N with
q in {0.25, 0.5, 0.8, 1, 1.25, 2, 4} (one independent teacher and data set per q):

    E_g(t) = ||w(t) - w*||^2 + noise_var        (test error)
    overtraining(q) = E_g(t_max) - min_t E_g(t)   (cost of not stopping early)

at n_times log-spaced times in [0.1, t_max]. Near q = 1 the smallest nonzero eigenvalue of
X^T X / N goes to ~0, so the noise in the slowest modes is fitted late and with a huge
gain: test error first falls, then climbs far above its early-stopping optimum. Smaller
(q < 1) and larger (q > 1) students have a spectral gap and overtrain little. A
second sweep trains every q from w0 ~ N(0, sigma0^2 / P I) for sigma0 in {0, 1,
sigma0_large}: for q > 1 the P - N directions with zero curvature are frozen at w0, so a
large init adds ~ sigma0^2 (1 - 1/q) to the final test error, while for q < 1 every
direction is learned and the init is forgotten.

model = relu-rf replaces x by fixed random ReLU features of a D-dimensional input
(phi(x) = sqrt(2) relu(W x / sqrt(D)), W (P x D) Gaussian, only the readout trained, same
closed form); the teacher stays linear in x and E_g(t) is measured on 2000 fresh test
points.

Claim check (thresholds from the spec, fixed before running):
  1. argmax_q overtraining is q = 1;
  2. overtraining(1) >= 5 x overtraining(4) and >= 5 x overtraining(0.25);
  3. q = 2: final E_g(sigma0_large) >= 1.5 x final E_g(0); q = 0.5: they differ by <= 5 %.
One guard is added to the spec's list: relative overtraining at q = 1,
(E_g(t_max) - min E_g) / min E_g >= 0.5. Without it a teacher with no noise (where no
q overtrains at all, every mode relaxes monotonically to w*) would pass 2 as 0 >= 5 x 0.

Measured (default N=200, t_max=1e4, seeds 0 / 1 / 2): overtraining for
q = 0.25, 0.5, 0.8, 1, 1.25, 2, 4 is
    0.21 / 0.73 / 3.8 / 29.9 / 4.3 / 0.81 / 0.15
    0.06 / 0.62 / 2.9 / 35.9 / 2.5 / 0.69 / 0.21
    0.05 / 0.46 / 2.5 / 84.7 / 3.0 / 0.69 / 0.27
(spec's calibration: 21-73 at q=1); q = 2 final E_g for sigma0 = 0 / 1 / 3:
2.53 / 2.91 / 6.70, 2.43 / 2.83 / 6.87, 2.49 / 2.90 / 6.86 (ratio 2.6-2.8 >= 1.5); q = 0.5
unchanged to 1e-15. The quick preset (N=100) keeps the thresholds (q=1 overtraining
51.8 / 119 / 36.3; ratios >= 196; init ratio 2.3-2.9). The default and quick checks
pass on seeds 0-4.

model = relu-rf (D=100, seeds 0-2): the peak criteria pass with a wide margin (q=1 / q=4
overtraining ratio 105-280), but the init effect at q = 2 is weaker, ratio 1.43-1.99
(default 1.50 / 1.48 / 1.49), so criterion 3 fails on most seeds: the test features lie
mostly in the span of the training features (ReLU features of a 100-dim input are
strongly correlated), so the frozen null-space weights are seen less at test time. The
linear model is the paper's setting and the default.

The overtraining at q = 1 depends on t_max (lambda_min ~ 1/N^2), so it is a
finite-time number: fix t_max when comparing runs.
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
from .measure import ratio

Q_GRID = (0.25, 0.5, 0.8, 1.0, 1.25, 2.0, 4.0)
T_MIN = 0.1
N_TEST = 2000  # test points for the relu-rf model


def _tag(q: float) -> str:
    return f"q{q:g}"


@dataclass(frozen=True)
class OvertrainingParams(Params):
    N: int = param(200, range=(50, 500), help="number of training samples")
    snr: float = param(1.0, range=(0.1, 10.0), log=True, help="teacher signal ||w*||^2")
    noise_var: float = param(1.0, range=(0.0, 4.0),
                             help="label-noise variance (0: a noise-free teacher)")
    sigma0: float = param(0.0, range=(0.0, 5.0),
                          help="init scale of the E_g(t) curves (w0 ~ N(0, sigma0^2/P))")
    sigma0_large: float = param(3.0, range=(0.0, 5.0),
                                help="largest init scale of the init sweep {0, 1, this}")
    t_max: float = param(1e4, range=(1.0, 1e6), log=True, help="training time (gradient flow)")
    n_times: int = param(60, range=(10, 200), help="log-spaced time points in [0.1, t_max]")
    model: str = param("linear", choices=("linear", "relu-rf"),
                       help="linear student, or a readout on fixed random ReLU features")
    D: int = param(100, range=(10, 1000), help="input dimension of the relu-rf model")


def _problem(rng, p: OvertrainingParams, P: int):
    """(LinearGD from w0 = 0, test-error function of W (P, T)) for one student size."""
    import numpy as np

    from paramlab.engines.linalg import linear_student as ls
    from paramlab.engines.linalg.linear import gaussian_risk, mse
    from paramlab.engines.linalg.random_features import relu_features

    if p.model == "linear":
        X, y, w_star = ls.linear_teacher(rng, p.N, P, p.snr, p.noise_var)
        gd = ls.LinearGD.fit(X, y, np.zeros(P))
        return gd, lambda W: gaussian_risk(W, w_star, 1.0, p.noise_var)
    X, y, w_star = ls.linear_teacher(rng, p.N, p.D, p.snr, p.noise_var)
    X_test = rng.standard_normal((N_TEST, p.D))
    y_test = X_test @ w_star + math.sqrt(p.noise_var) * rng.standard_normal(N_TEST)
    W_in = rng.standard_normal((P, p.D))
    # unit second moment per feature, like the linear student's inputs
    Phi, Phi_test = (relu_features(A, W_in) * np.sqrt(P) for A in (X, X_test))
    gd = ls.LinearGD.fit(Phi, y, np.zeros(P))
    return gd, lambda W: mse(Phi_test @ W, y_test)


def run(p: OvertrainingParams, ctx: RunContext) -> Iterator[Metric | Note]:
    import numpy as np

    rng = ctx.rng
    times = np.logspace(math.log10(T_MIN), math.log10(p.t_max), p.n_times)
    sigmas = sorted({0.0, 1.0, p.sigma0_large})
    yield Note(f"{p.model} student, N={p.N}, P/N in {list(Q_GRID)}, SNR={p.snr:g}, "
               f"noise var={p.noise_var:g}, gradient flow to t={p.t_max:g} (closed form)")

    curves: dict[str, np.ndarray] = {}
    summary: list[dict[str, float]] = []
    init_sweep: dict[float, dict[str, float]] = {s: {} for s in sigmas}
    for q in Q_GRID:
        if ctx.should_stop():
            return
        P = max(1, round(q * p.N))
        direction = rng.standard_normal(P) / math.sqrt(P)  # shared by every init scale
        gd, test_error = _problem(rng, p, P)
        run_gd = gd.with_init(p.sigma0 * direction)
        Eg = test_error(run_gd.coef(times))
        curves[f"Eg_{_tag(q)}"] = Eg
        curves[f"Etrain_{_tag(q)}"] = run_gd.train_error(times)
        best = int(np.argmin(Eg))
        summary.append({"q": q, "P": float(P), "overtraining": float(Eg[-1] - Eg[best]),
                        "Eg_final": float(Eg[-1]), "Eg_early_stop": float(Eg[best]),
                        "t_early_stop": float(times[best]),
                        "Etrain_final": float(curves[f"Etrain_{_tag(q)}"][-1])})
        for s in sigmas:
            W_end = gd.with_init(s * direction).coef(times[-1:])
            init_sweep[s][f"Eg_init_{_tag(q)}"] = float(test_error(W_end)[0])

    for i, t in enumerate(times):
        yield Metric(i, {"t": float(t), **{k: float(v[i]) for k, v in curves.items()}})
    step = len(times)
    for row in summary:
        yield Metric(step, row)
        step += 1
    for s in sigmas:
        yield Metric(step, {"sigma0": s, **init_sweep[s]})
        step += 1
    peak = max(summary, key=lambda r: r["overtraining"])
    yield Note(f"largest overtraining {peak['overtraining']:.3g} at P/N={peak['q']:g}")


def _by_q(history: History, name: str) -> dict[float, float]:
    qs, vals = history.paired("q", name)
    return dict(zip(qs, vals))


def check(history: History, p: OvertrainingParams) -> Verdict:
    ot = _by_q(history, "overtraining")
    early = _by_q(history, "Eg_early_stop")
    final = _by_q(history, "Eg_final")
    train_final = _by_q(history, "Etrain_final")
    sig, eg2 = history.paired("sigma0", "Eg_init_q2")
    _, eg05 = history.paired("sigma0", "Eg_init_q0.5")
    init2 = dict(zip(sig, eg2))
    init05 = dict(zip(sig, eg05))
    nan = math.nan

    q_peak = max(ot, key=ot.get) if ot else nan
    ot1, ot4, ot025 = ot.get(1.0, nan), ot.get(4.0, nan), ot.get(0.25, nan)
    rel1 = ratio(ot1, early.get(1.0, nan))
    large = p.sigma0_large
    init_gain_q2 = ratio(init2.get(large, nan), init2.get(0.0, nan))
    init_change_q05 = abs(ratio(init05.get(large, nan), init05.get(0.0, nan)) - 1.0)

    criteria = (
        Criterion.between("P/N with the largest overtraining", q_peak, 1.0, 1.0),
        Criterion.at_least("overtraining ratio P/N=1 / P/N=4", ratio(ot1, ot4), 5.0),
        Criterion.at_least("overtraining ratio P/N=1 / P/N=0.25", ratio(ot1, ot025), 5.0),
        Criterion.at_least("relative overtraining at P/N=1 (E_g(T)-min)/min", rel1, 0.5),
        Criterion.at_least(f"P/N=2: E_g(sigma0={large:g}) / E_g(sigma0=0)", init_gain_q2, 1.5),
        Criterion.at_most(f"P/N=0.5: |E_g(sigma0={large:g}) / E_g(sigma0=0) - 1|",
                          init_change_q05, 0.05),
        Criterion.at_most("final E_g ratio P/N=4 / P/N=1 (bigger is not worse)",
                          ratio(final.get(4.0, nan), final.get(1.0, nan)), 1.0,
                          tier="mechanism"),
        Criterion.at_most("train error at P/N=4, t=T (interpolation)",
                          train_final.get(4.0, nan), 1e-6, tier="mechanism"),
    )
    return Verdict.of(criteria, f"overtraining peaks at P/N=1 ({ot1:.3g} vs {ot025:.3g} at 0.25 "
                      f"and {ot4:.3g} at 4); init sigma0={large:g} raises P/N=2 error "
                      f"x{init_gain_q2:.2f}, P/N=0.5 changes {100 * init_change_q05:.1f}%")


_Q_LABELS = {f"{kind}_{_tag(q)}": f"P/N={q:g}" for q in Q_GRID
             for kind in ("Eg", "Etrain", "Eg_init")}

SCENARIO = Scenario(
    params=OvertrainingParams,
    run=run,
    check=check,
    panels=(
        Panel("test error E_g(t) per P/N", series=("Eg_q*",), x="t", logx=True, logy=True,
              xlabel="training time t (log)", labels=_Q_LABELS),
        Panel("train error E_train(t) per P/N", series=("Etrain_q*",), x="t", logx=True,
              logy=True, xlabel="training time t (log)", labels=_Q_LABELS),
        Panel("overtraining E_g(T) - min_t E_g vs P/N", series=("overtraining",), x="q",
              logx=True, logy=True, xlabel="P/N (log)"),
        Panel("final E_g vs init scale sigma0", series=("Eg_init_q0.5", "Eg_init_q2"),
              x="sigma0", xlabel="sigma0", labels=_Q_LABELS),
    ),
    presets={"quick": {"N": 100}},
    watch=tuple(f"Eg_{_tag(q)}" for q in Q_GRID),
    key_metric="Eg_q1",
    # steps count from 0: the last one is the number of metric rows minus one
    total_steps=lambda p: p.n_times + len(Q_GRID) + len({0.0, 1.0, p.sigma0_large}) - 1,
    notes=__doc__ or "",
    paper_reports="Test error at the end of training diverges near alpha = N/P = 1 (the "
                  "smallest eigenvalue of the data covariance goes to 0) while early "
                  "stopping stays near-optimal; over-parameterized students need small "
                  "initial weights; larger networks do not harm generalization.",
    paper_rows=(
        PaperRow('P/N of the overtraining peak',
                 '1 (alpha = N/P = 1)',
                 unit='', source='Sec. 3 (eigenvalue spectrum)',
                 criterion='P/N with the largest overtraining'),
        PaperRow('overtraining at P/N=1 vs P/N=4',
                 'diverges at 1, small away from it',
                 unit='', source='Fig. 2-3',
                 criterion='overtraining ratio P/N=1 / P/N=4'),
        PaperRow('large init at P/N=2',
                 'hurts (needs small initial weights)',
                 unit='', source='Sec. 4',
                 criterion='P/N=2: E_g(sigma0=3) / E_g(sigma0=0)'),
        PaperRow('final error, bigger student',
                 'not worse (larger networks do not harm)',
                 unit='', source='abstract',
                 criterion='final E_g ratio P/N=4 / P/N=1 (bigger is not worse)'),
    ),
    status="reproduces",
)
