"""A tiny scenario for the sweep tests, importable by worker processes (pytest puts tests/
on sys.path, and spawned workers inherit it). Registered by the tests, not the catalog."""

from __future__ import annotations

import math
from dataclasses import dataclass

from paramlab.scenarios.base import (
    Criterion,
    Metric,
    Panel,
    Paper,
    Params,
    Scenario,
    ScenarioMeta,
    Verdict,
    param,
)


@dataclass(frozen=True)
class SweepToyParams(Params):
    steps: int = param(20, range=(1, 1_000_000), help="number of steps")
    scale: float = param(1.0, range=(1e-3, 1e3), log=True, help="loss scale")
    kind: str = param("a", choices=("a", "b"), help="a categorical param")
    fail_at: int = param(-1, range=(-1, 1_000_000), help="raise at this step (-1: never)")
    nan_at: int = param(-1, range=(-1, 1_000_000), help="NaN loss at this step (-1: never)")
    sleep: float = param(0.0, range=(0.0, 1.0), help="seconds to sleep per step")
    exit_at: int = param(-1, range=(-1, 1_000_000),
                         help="end the whole process (os._exit) at this step (-1: never)")
    wall: int = param(0, range=(0, 1), help="1: also record the wall clock (time.time())")


def run(p: SweepToyParams, ctx):
    import time

    for t in range(p.steps):
        if t == p.fail_at:
            raise RuntimeError(f"boom at step {t}")
        if t == p.exit_at:
            import os

            os._exit(3)  # a crash that no exception handler sees
        loss = math.nan if t == p.nan_at else p.scale / (t + 1) + 0.01 * ctx.rng.random()
        yield Metric(t, {"loss": loss, "wall": time.time()} if p.wall else {"loss": loss})
        if p.sleep:
            time.sleep(p.sleep)
        if ctx.should_stop():
            return


def check(history, p: SweepToyParams) -> Verdict:
    final = history.last("loss")
    return Verdict((Criterion.at_most("final loss", final, 0.5),), f"final loss {final:.3g}")


META = ScenarioMeta(id="sweep-toy", title="sweep toy", theme="test",
                    paper=Paper("T", "A, B", 2020), claim="loss falls",
                    entry_point="sweep_toy:SCENARIO")

SCENARIO = Scenario(params=SweepToyParams, run=run, check=check,
                    panels=(Panel("loss", series=("loss",), logy=True),), watch=("loss",),
                    key_metric="loss", total_steps=lambda p: p.steps, paper_reports="it does")
