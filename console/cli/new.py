"""`paramlab new ID`: write a scenario skeleton that passes the contract test: the module
(params with a quick preset, a run generator, panels, a claim check with a control that
fails), its test, and its catalog entry. Run from the source tree's root."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from paramlab.console.cli.errors import UsageError

ID_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")

MODULE = '''"""{title} ({authors} {year}).

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
class {cls}(Params):
    steps: int = param(200, range=(10, 10_000), log=True, help="steps of the run")
    rate: float = param(0.05, range=(0.0, 1.0), help="decay rate (0: the control)")
    noise: float = param(0.01, range=(0.0, 1.0), help="noise on each reading")
    target: float = param(0.05, range=(1e-6, 1.0), log=True,
                          help="the claim: final loss below this")


def run(p: {cls}, ctx: RunContext) -> Iterator[Metric]:
    rng = ctx.rng
    for t in range(p.steps):
        loss = math.exp(-p.rate * t) + p.noise * float(rng.standard_normal())
        yield Metric(t, {{"loss": loss}})
        if ctx.should_stop():
            return


def check(history: History, p: {cls}) -> Verdict:
    final = mean(history.series("loss")[1][-10:])
    criteria = (Criterion.at_most("final loss (mean of the last 10 steps)", final, p.target),)
    return Verdict.of(criteria, f"final loss {{final:.3g}} <= {{p.target:g}}")


SCENARIO = Scenario(
    params={cls},
    run=run,
    check=check,
    panels=(Panel("loss", series=("loss",), logy=False),),
    presets={{"quick": {{"steps": 100, "rate": 0.1}}}},
    watch=("loss",),
    key_metric="loss",
    total_steps=lambda p: p.steps - 1,
    notes=__doc__ or "",
    paper_reports="TODO: the paper's own result, in one sentence",
    paper_rows=(PaperRow("final loss", "not reported", "", "TODO: table/figure",
                         "final loss (mean of the last 10 steps)"),),
    status="skeleton",
)
'''

TEST = '''from functools import partial

import pytest
import scenario_runs

SID = "{id}"
run_to_end = partial(scenario_runs.run_to_end, SID)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_quick_claim_check_passes(seed):
    h = run_to_end(seed=seed)
    assert h.verdict.passed, h.verdict.summary


def test_the_control_fails_the_claim():
    h = run_to_end({{"rate": 0.0}})
    assert "final loss (mean of the last 10 steps)" in scenario_runs.failed_paper(h)
'''

ENTRY = '''    ScenarioMeta(
        id={id!r},
        title={title!r},
        theme={theme!r},
        paper=Paper(title={paper!r}, authors={authors!r}, year={year!r}, arxiv={arxiv!r}),
        claim={claim!r},
    ),
'''


def write_skeleton(root: Path, sid: str, meta: dict[str, Any]) -> list[Path]:
    """Write the module, the test and the catalog entry under `root`; the paths written."""
    if not ID_RE.match(sid):
        raise UsageError(f"new {sid!r}: an id is lower-case words joined by '-' "
                         f"(e.g. my-paper-effect)")
    catalog = root / "scenarios" / "catalog.py"
    if not catalog.is_file():
        raise UsageError(f"new: {catalog} not found; run `paramlab new` from the source "
                         f"tree's root")
    name = sid.replace("-", "_")
    module, test = root / "scenarios" / f"{name}.py", root / "tests" / f"test_{name}.py"
    text = catalog.read_text(encoding="utf-8")
    if f"id={sid!r}" in text or f'id="{sid}"' in text or module.exists():
        raise UsageError(f"new {sid!r}: the scenario exists already")
    if not text.rstrip().endswith(")"):
        raise UsageError(f"new: {catalog} does not end with the BUILTIN tuple")
    cls = "".join(w.capitalize() for w in sid.split("-")) + "Params"
    fields = {"id": sid, "cls": cls, **meta}
    module.write_text(MODULE.format(**fields), encoding="utf-8")
    test.parent.mkdir(exist_ok=True)
    test.write_text(TEST.format(**fields), encoding="utf-8")
    head = text.rstrip()[:-1]
    catalog.write_text(head + ENTRY.format(**fields) + ")\n", encoding="utf-8")
    return [module, test, catalog]


def cmd_new(args: Any) -> int:
    meta = {"title": args.title, "theme": args.theme, "paper": args.paper,
            "authors": args.authors, "year": args.year, "arxiv": args.arxiv,
            "claim": args.claim}
    for path in write_skeleton(Path(args.root), args.id, meta):
        print(f"wrote {path}")
    print("next: fill in the TODOs, then `pytest -q tests/test_contract.py "
          f"tests/test_{args.id.replace('-', '_')}.py`")
    return 0
