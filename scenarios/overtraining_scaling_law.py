"""Scaling laws with over-training: L(C, M) fitted on small runs predicts a larger,
over-trained run (Gadre et al. 2024, "Language models scale reliably with over-training
and on downstream tasks", arXiv 2403.08540).

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

V, CTX = 32, 3  # vocabulary and context length of the teacher language (32,768 contexts)
LAWS = ("cm", "naive", "compute")
OVER = "over-trained held-out run: |prediction - L| / L of the law in `law` (L(C,M))"
NAIVE_RATIO = "naive L(N) error / L(C,M) error on that run"
NAIVE_ABS = "naive L(N) (M=base runs, tokens ignored): relative error on that run"
ERR = "top-1 error from the run's actual loss via fitted Err(L): |pred - measured|"
COMPUTE_RATIO = "law ignoring M, L(C): its error / L(C,M) error"
OTHER = "other held-out runs: largest L(C,M) relative error"
ERR_CHAIN = "top-1 error from the predicted loss: |pred - measured|"
E_FREE = "E fitted freely / teacher entropy floor"
FIT_RESID = "largest relative residual of L(C,M) on the fit runs"


def _runs(text: str) -> list[tuple[int, int]]:
    out = []
    for item in text.replace(" ", "").split(","):
        if item:
            n, m = item.split(":")
            out.append((int(n), int(m)))
    return out


@dataclass(frozen=True)
class OvertrainingParams(Params):
    fit_runs: str = param("1000:20,2000:20,4000:20,1000:80,2000:80,1000:160",
                          help="runs the laws are fitted on, as N:M (N parameters, "
                               "M = tokens / N), comma-separated")
    held_out: str = param("2000:160,4000:80,8000:20",
                          help="held-out runs N:M; the first is the over-trained run the "
                               "claim check predicts, the others are reported")
    law: str = param("cm", choices=LAWS,
                     help="law that predicts the over-trained run in the main criterion: "
                          "cm = L(C, M) (the paper's), naive = L(N) from the base-M runs "
                          "(the control), compute = L(C) ignoring M")
    students: int = param(1, range=(1, 4), help="students (inits) per run; their exact "
                                                "losses are averaged")
    floor: float = param(1.0, range=(0.5, 2.0),
                         help="teacher entropy floor E* (nats; uniform is log 32 = 3.47)")
    power: float = param(0.5, range=(0.0, 1.5),
                         help="teacher feature importance k^-power of hidden unit k")
    zipf: float = param(1.0, range=(0.0, 2.0), help="Zipf exponent of each context token")
    teacher_hidden: int = param(512, range=(64, 2048), log=True, help="teacher ReLU units")
    d_emb: int = param(8, range=(2, 32), help="student embedding width per token")
    batch: int = param(64, range=(16, 512), log=True, help="fresh samples per Adam step")
    lr: float = param(2e-2, range=(1e-4, 1e-1), log=True,
                      help="peak Adam lr for width <= 64; lr * sqrt(64 / h) above")
    confident: float = param(0.5, range=(0.0, 1.0), closed="left",
                             help="'downstream' contexts: teacher max-prob >= this")
    curve_points: int = param(8, range=(2, 32), help="exact-loss evaluations per run")

    def check_consistency(self) -> list[str]:
        out = []
        for name in ("fit_runs", "held_out"):
            try:
                runs = _runs(getattr(self, name))
            except ValueError:
                runs = []
            if not runs or any(not (300 <= n <= 50_000 and 1 <= m <= 1000) for n, m in runs):
                out.append(f"{name}: expected N:M pairs with N in [300, 50000] and M in "
                           f"[1, 1000], got {getattr(self, name)!r}")
        if not out:
            fit = _runs(self.fit_runs)
            if len(set(fit)) < 4 or len({m for _, m in fit}) < 2:
                out.append(f"fit_runs: the L(C, M) law needs >= 4 distinct runs over >= 2 "
                           f"values of M, got {self.fit_runs!r}")
            base = min(m for _, m in fit)
            if len({n for n, m in fit if m == base}) < 2:
                out.append(f"fit_runs: the naive law needs >= 2 sizes at the base M "
                           f"({base}), got {self.fit_runs!r}")
        return out


def width(n: int, d_emb: int) -> int:
    """Hidden width of the one-hidden-layer student with about n parameters:
    N = V d + CTX d h + h + h V + V (engines/lm/teacher_grid.student_params)."""
    return max(1, round((n - V * d_emb - V) / (CTX * d_emb + 1 + V)))


def n_params(h: int, d_emb: int) -> int:
    return V * d_emb + CTX * d_emb * h + h + h * V + V


def _plan(p: OvertrainingParams) -> list[tuple[str, int, int, int, int]]:
    """(name, nominal N, M, width, steps) of every run, fit runs first."""
    out = []
    for n, m in dict.fromkeys(_runs(p.fit_runs) + _runs(p.held_out)):
        h = width(n, p.d_emb)
        steps = max(1, round(m * n_params(h, p.d_emb) / p.batch))
        out.append((f"N{n / 1000:g}k_M{m}", n, m, h, steps))
    return out


def total_steps(p: OvertrainingParams) -> int:
    plan = _plan(p)
    return max(s for *_, s in plan) + len(plan)


def run(p: OvertrainingParams, ctx: RunContext) -> Iterator[Metric | Note | Table]:
    import numpy as np

    from paramlab.engines.lm import teacher_grid as tg
    from paramlab.engines.nn import torch_train as tt
    from paramlab.engines.stats import overtrain_law as ol
    from paramlab.engines.stats import scaling

    rng = ctx.rng
    teacher = tg.random_teacher(rng, V=V, ctx=CTX, hidden=p.teacher_hidden, power=p.power,
                                zipf=p.zipf, floor=p.floor)
    E = teacher.entropy
    plan = _plan(p)
    n_fit = len(dict.fromkeys(_runs(p.fit_runs)))
    held = [r for r in plan[n_fit:]]
    conf_mass = float(teacher.pi[teacher.confident(p.confident)].sum())
    yield Note(f"teacher: entropy floor E* = {E:.4f} nats (uniform {math.log(V):.2f}), "
               f"temperature {teacher.temperature:.4f}; confident contexts carry "
               f"{conf_mass:.2f} of pi. Runs (name, params, steps): " + ", ".join(
                   f"{name} {n_params(h, p.d_emb)} {s}" for name, _, _, h, s in plan))

    # every run's students, side by side in one padded stacked program
    members = [i for i in range(len(plan)) for _ in range(p.students)]
    widths = [plan[i][3] for i in members]
    steps = [plan[i][4] for i in members]
    lrs = [p.lr * min(1.0, math.sqrt(64 / h)) for h in widths]
    g = tt.generator(ctx.seed)
    T = max(steps)
    curves: dict[tuple[int, int], list[tuple[float, float]]] = {}
    for rec in tg.train_grid(teacher, widths, steps, lrs, batch=p.batch, d_emb=p.d_emb,
                             rng=rng, generator=g, device=ctx.device,
                             curve_points=p.curve_points, confident=p.confident,
                             should_stop=ctx.should_stop):
        if "eval" not in rec:
            continue
        t = int(rec["step"])
        for k, _, L, err in rec["eval"]:
            curves.setdefault((members[k], t), []).append((L, err))
        values = {"train_loss": float(rec["loss"].mean())}
        for (i, s), reads in curves.items():
            if s == t and len(reads) == p.students:
                values[f"curve_{plan[i][0]}"] = float(np.mean([r[0] for r in reads]))
        yield Metric(t, values)
        if ctx.should_stop():
            return

    # final exact loss and top-1 error per run (mean over its students)
    L = np.array([np.mean([r[0] for r in curves[(i, s)]]) for i, (*_, s) in enumerate(plan)])
    err = np.array([np.mean([r[1] for r in curves[(i, s)]])
                    for i, (*_, s) in enumerate(plan)])
    N = np.array([n_params(h, p.d_emb) for *_, h, _ in plan], dtype=float)
    M = np.array([m for _, _, m, _, _ in plan], dtype=float)
    C = 6.0 * N * (M * N)
    fit = slice(0, n_fit)

    cm = ol.fit_cm(C[fit], M[fit], L[fit], E=E)
    cm_free = ol.fit_cm(C[fit], M[fit], L[fit])
    base = [i for i in range(n_fit) if M[i] == M[fit].min()]
    naive = scaling.power_law(N[base], L[base] - E)  # L(N) = E* + A N^-alpha, tokens ignored
    compute = scaling.power_law(C[fit], L[fit] - E)  # L(C) = E* + A C^-alpha, M ignored
    err_law = ol.fit_err(L[fit], err[fit])
    pred = {"cm": cm.predict(C, M), "naive": E + naive.predict(N),
            "compute": E + compute.predict(C)}
    resid = scaling.relative_error(pred["cm"][fit], L[fit])

    # summary rows after training: one per run (x = compute), then the fitted iso-M lines
    for j, (_, _, m, _, _) in enumerate(plan):
        kind = "fit" if j < n_fit else "held"
        yield Metric(T + 1 + j, {
            "C": C[j], f"run_M{m}" if kind == "fit" else f"held_M{m}": L[j],
            f"law_M{m}": float(pred["cm"][j]), "L": L[j],
            "err_" + kind: err[j], "err_law": float(err_law.predict(L[j])),
            **({"pred_cm": float(pred["cm"][j]), "pred_naive": float(pred["naive"][j]),
                "pred_compute": float(pred["compute"][j]), "actual": L[j],
                "err_measured": err[j], "err_from_actual": float(err_law.predict(L[j])),
                "err_from_pred": float(err_law.predict(pred["cm"][j])),
                "held_index": float(j - n_fit)} if kind == "held" else {}),
            **({"E_floor": E, "E_free": cm_free["E"], "eta": cm["eta"], "a": cm["a"],
                "b": cm["b"], "M_star": ol.optimal_multiplier(cm),
                "max_fit_resid": float(np.max(resid)),
                "eta_free": cm_free["eta"]} if j == len(plan) - 1 else {}),
        })
    yield Table("held-out loss: actual vs predicted", rows=[r[0] for r in held],
                columns=["actual", "L(C,M)", "naive L(N)", "L(C)"],
                cells=[[L[n_fit + i], pred["cm"][n_fit + i], pred["naive"][n_fit + i],
                        pred["compute"][n_fit + i]] for i in range(len(held))])
    yield Note(f"L(C, M) with E = E*: eta {cm['eta']:.3f}, a {cm['a']:.3g}, b {cm['b']:.3g}, "
               f"M* = {ol.optimal_multiplier(cm):.1f}; free-E fit: E {cm_free['E']:.3f}, "
               f"eta {cm_free['eta']:.3f}; Err(L): eps {err_law['eps']:.3f}, k "
               f"{err_law['k']:.3g}, gamma {err_law['gamma']:.3f}")
    yield Note("held-out (actual | L(C,M) | naive L(N) | L(C) | err measured, from actual L, "
               "from predicted L): " + "; ".join(
                   f"{name} {L[n_fit + i]:.4f} | {pred['cm'][n_fit + i]:.4f} | "
                   f"{pred['naive'][n_fit + i]:.4f} | {pred['compute'][n_fit + i]:.4f} | "
                   f"{err[n_fit + i]:.3f}, {err_law.predict(L[n_fit + i]):.3f}, "
                   f"{err_law.predict(pred['cm'][n_fit + i]):.3f}"
                   for i, (name, *_) in enumerate(held)))


def _held(history: History, index: int, name: str) -> float:
    if name not in history or "held_index" not in history:
        return math.nan
    for idx, v in zip(*history.paired("held_index", name)):
        if int(idx) == index:
            return float(v)
    return math.nan


def _rel(pred: float, actual: float) -> float:
    return abs(pred - actual) / abs(actual) if actual and math.isfinite(actual) else math.nan


def check(history: History, p: OvertrainingParams) -> Verdict:
    actual = _held(history, 0, "actual")
    errors = {law: _rel(_held(history, 0, f"pred_{law}"), actual) for law in LAWS}
    main = errors[p.law]
    last = (lambda n: history.last(n) if n in history else math.nan)  # noqa: E731
    criteria = [
        Criterion.at_most(OVER, main, 0.05),
        Criterion.at_least(NAIVE_RATIO, errors["naive"] / main if main > 0 else math.nan,
                           2.0),
        Criterion.at_least(NAIVE_ABS, errors["naive"], 0.05),
        Criterion.at_most(ERR, abs(_held(history, 0, "err_from_actual")
                                   - _held(history, 0, "err_measured")), 0.03),
        Criterion.at_least(COMPUTE_RATIO, errors["compute"] / errors["cm"]
                           if errors["cm"] > 0 else math.nan, 2.0, tier="mechanism"),
        Criterion.at_most(ERR_CHAIN, abs(_held(history, 0, "err_from_pred")
                                         - _held(history, 0, "err_measured")), 0.03,
                          tier="mechanism"),
        Criterion.between(E_FREE, last("E_free") / last("E_floor"), 0.8, 1.2,
                          tier="mechanism"),
        Criterion.at_most(FIT_RESID, last("max_fit_resid"), 0.02, tier="mechanism"),
    ]
    others = [_rel(_held(history, i, "pred_cm"), _held(history, i, "actual"))
              for i in range(1, len(_runs(p.held_out)))]
    if others:
        criteria.append(Criterion.at_most(OTHER, max(others), 0.05, tier="mechanism"))
    return Verdict.of(criteria, f"{p.law} law predicts the over-trained run within "
                                f"{100 * main:.2f}% (naive L(N) {100 * errors['naive']:.1f}%, "
                                f"L(C) ignoring M {100 * errors['compute']:.1f}%)")


SCENARIO = Scenario(
    params=OvertrainingParams,
    run=run,
    check=check,
    panels=(
        Panel("exact population loss vs step, per run (N params, M = tokens / N)",
              series=("curve_*",), x="step", logy=True, xlabel="Adam step",
              ylabel="cross-entropy (nats)"),
        Panel("final loss vs compute C = 6ND: runs (points) and fitted L(C, M) per M",
              series=("run_M*", "held_M*", "law_M*"), x="C", logx=True, logy=True,
              xlabel="C = 6 N D (log)", ylabel="loss (nats, log)"),
        Panel("held-out runs: actual vs predicted loss", kind="bars",
              table="held-out loss: actual vs predicted"),
        Panel("top-1 error vs loss: runs and the fitted Err(L)",
              series=("err_fit", "err_held", "err_law"), x="L", xlabel="loss (nats)",
              ylabel="top-1 error vs teacher argmax"),
    ),
    presets={"quick": {"fit_runs": "1000:20,1500:20,2000:20,1000:40,2000:40",
                       "held_out": "1000:80", "curve_points": 4}},
    watch=("train_loss",),
    key_metric="train_loss",
    total_steps=total_steps,
    uses_torch=True,
    notes=__doc__ or "",
    paper_reports="Fitted on runs up to 1.4B parameters, L(C, M) predicts the loss of a "
                  "1.4B model trained on 900B tokens (M = 640, 32x over-trained) within "
                  "0.7% and a 6.9B model on 138B tokens within 3.0%, using 300x less "
                  "compute; Err(L) predicts the 6.9B model's average top-1 error within "
                  "0.05% with 20x less compute (abstract).",
    paper_rows=(
        PaperRow("relative error of L(C, M) on the over-trained run", "0.7% (1.4B, M=640); "
                 "3.0% (6.9B, M=20)", "%", "abstract; Table 2", OVER),
        PaperRow("naive size-only law on the over-trained run", "not reported", "ratio",
                 "spec contrast", NAIVE_RATIO),
        PaperRow("top-1 error prediction from loss", "0.05% relative (average top-1 error)",
                 "abs", "abstract; Sec. 4", ERR),
        PaperRow("compute to fit / compute of the predicted run", "1/300 (loss), 1/20 "
                 "(error)", "ratio", "abstract", ""),
    ),
    status="partly",
)
