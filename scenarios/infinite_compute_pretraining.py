"""Pre-training under infinite compute: tuned weight decay and ensembles (Kim, Kotha, Liang, Hashimoto 2025).

TODO: what the paper claims, the toy world that reproduces it, what is measured, the
thresholds (fixed before any run, from the paper or from theory) and the control that
must fail. This skeleton's world: a noisy exponential decay loss(t) = exp(-rate t) + noise;
the claim check asks the final loss (mean of the last 10 steps) to fall below `target`;
its control, rate = 0, must fail it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from paramlab.scenarios.base import (
    Criterion,
    Metric,
    Panel,
    PaperRow,
    Params,
    RunContext,
    Scenario,
    Verdict,
    param,
)
from paramlab.scenarios.history import History
from paramlab.scenarios.measure import mean


@dataclass(frozen=True)
class InfiniteComputePretrainingParams(Params):
    steps: int = param(200, range=(10, 10_000), log=True, help="steps of the run")
    rate: float = param(0.05, range=(0.0, 1.0), help="decay rate (0: the control)")
    noise: float = param(0.01, range=(0.0, 1.0), help="noise on each reading")
    target: float = param(0.05, range=(1e-6, 1.0), log=True,
                          help="the claim: final loss below this")


def run(p: InfiniteComputePretrainingParams, ctx: RunContext) -> Iterator[Metric]:
    rng = ctx.rng
    for t in range(p.steps):
        loss = math.exp(-p.rate * t) + p.noise * float(rng.standard_normal())
        yield Metric(t, {"loss": loss})
        if ctx.should_stop():
            return


def check(history: History, p: InfiniteComputePretrainingParams) -> Verdict:
    final = mean(history.series("loss")[1][-10:])
    criteria = (Criterion.at_most("final loss (mean of the last 10 steps)", final, p.target),)
    return Verdict.of(criteria, f"final loss {final:.3g} <= {p.target:g}")


SCENARIO = Scenario(
    params=InfiniteComputePretrainingParams,
    run=run,
    check=check,
    panels=(Panel("loss", series=("loss",), logy=False),),
    presets={"quick": {"steps": 100, "rate": 0.1}},
    watch=("loss",),
    key_metric="loss",
    total_steps=lambda p: p.steps - 1,
    notes=__doc__ or "",
    paper_reports="TODO: the paper's own result, in one sentence",
    paper_rows=(PaperRow("final loss", "not reported", "", "TODO: table/figure",
                         "final loss (mean of the last 10 steps)"),),
    status="skeleton",
)
