from __future__ import annotations

import os

# The scenarios' matrices are small: one BLAS thread per process is faster than threads
# fighting over the cores (and several runs may go at once). Set before numpy loads.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import math  # noqa: E402
from dataclasses import dataclass, replace  # noqa: E402

import pytest  # noqa: E402

from paramlab.scenarios.base import (  # noqa: E402
    Criterion,
    Metric,
    Note,
    Panel,
    Paper,
    Params,
    Scenario,
    ScenarioMeta,
    Table,
    Verdict,
    param,
)


@dataclass(frozen=True)
class ToyParams(Params):
    steps: int = param(20, range=(1, 100000), help="number of steps")
    fail_at: int = param(-1, range=(-1, 100000), help="raise at this step (-1: never)")
    nan_at: int = param(-1, range=(-1, 100000), help="emit NaN loss at this step (-1: never)")
    sleep: float = param(0.0, range=(0.0, 1.0), help="seconds to sleep per step")


def toy_run(p: ToyParams, ctx):
    import time

    yield Note(f"seed {ctx.seed}")
    for t in range(p.steps):
        if t == p.fail_at:
            raise RuntimeError(f"boom at step {t}")
        loss = math.nan if t == p.nan_at else 1.0 / (t + 1) + 0.001 * ctx.rng.random()
        yield Metric(t, {"loss": loss, "acc": 1 - loss})
        if p.sleep:
            time.sleep(p.sleep)
        if ctx.should_stop():
            return
    yield Table("outcome", ["a", "b"], ["t1", "t2"], [[1.0, 2.0], [3.0, 4.0]])


def toy_check(history, p: ToyParams) -> Verdict:
    final = history.last("loss")
    return Verdict((Criterion.at_most("final loss", final, 0.5),
                    Criterion.at_least("steps", len(history), 1, tier="mechanism")),
                   f"final loss {final:.3g}")


TOY_META = ScenarioMeta(id="toy", title="toy", theme="test", paper=Paper("T", "A, B", 2020),
                        claim="loss falls", entry_point="tests:TOY")

TOY = Scenario(params=ToyParams, run=toy_run, check=toy_check,
               panels=(Panel("loss", series=("loss",), logy=True),
                       Panel("outcome", kind="bars", table="outcome")),
               presets={"quick": {"steps": 10}}, watch=("loss",), key_metric="loss",
               total_steps=lambda p: p.steps, paper_reports="it does", meta=TOY_META)


@pytest.fixture
def toy():
    return replace(TOY)


@pytest.fixture
def runs(tmp_path, monkeypatch):
    d = tmp_path / "runs"
    monkeypatch.setenv("PARAMLAB_RUNS", str(d))
    monkeypatch.setenv("COLUMNS", "250")  # tables unfolded (80 columns: test_cli_width)
    return d


@pytest.fixture
def registered_sweep_toy():
    """The sweep toy (tests/sweep_toy.py, importable by worker processes), registered for
    one test, then taken out of the registry again."""
    import sweep_toy

    from paramlab.scenarios import registry

    registry.register(sweep_toy.META)
    yield registry.load(sweep_toy.META.id)
    registry._REGISTRY.pop(sweep_toy.META.id, None)
    registry._LOADED.pop(sweep_toy.META.id, None)
