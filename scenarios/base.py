"""The scenario protocol: metadata, typed params, events, panels, verdicts.

This module is imported by `paramlab list`, so it must stay light: standard library only,
no numpy, no torch. A scenario module builds a `Scenario` from these pieces; its engine
imports happen inside `run`, when a run starts.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from paramlab.engines.params import (  # noqa: F401  (re-exported)
    ParamError,
    Params,
    ParamSpec,
    check_seed,
    closest,
    param,
)

# --------------------------------------------------------------------------- metadata


@dataclass(frozen=True)
class Paper:
    title: str
    authors: str
    year: int
    arxiv: str = ""  # arXiv id, "" when the paper has none

    @property
    def short(self) -> str:
        first = self.authors.split(",")[0].strip()
        more = " et al." if "," in self.authors else ""
        return f"{first}{more} {self.year}"


@dataclass(frozen=True)
class ScenarioMeta:
    """What `paramlab list` prints. Registered without importing the scenario's module.

    A built-in scenario's module follows from its id (`paramlab.scenarios.<id with '-'
    replaced by '_'>`, attribute `SCENARIO`; see `registry.module_for`); `entry_point`
    ("module:attribute") is only for third-party plug-ins and tests. What the paper
    reports, the status at toy scale and the notes live on the `Scenario` itself.
    """

    id: str
    title: str
    theme: str
    paper: Paper
    claim: str
    entry_point: str = ""  # "module:attribute" of a plug-in's Scenario ("" for built-ins)


# --------------------------------------------------------------------------- params
# The parameter system lives in the lowest layer (engines use it too); re-exported here
# so that a scenario module imports its whole protocol from one place.

# --------------------------------------------------------------------------- events


@dataclass(slots=True)
class Metric:
    """Named scalar values at one x position (`step`; a panel may use another value as x)."""

    step: float
    values: dict[str, float]
    type: ClassVar[str] = "metric"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "metric", "step": self.step,
                "values": {k: float(v) for k, v in self.values.items()}}


@dataclass(slots=True)
class Table:
    """Categorical results: `cells[i][j]` is the value of row i, column j
    (e.g. rows = merging methods, columns = tasks)."""

    name: str
    rows: list[str]
    columns: list[str]
    cells: list[list[float]]
    type: ClassVar[str] = "table"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "table", "name": self.name, "rows": list(self.rows),
                "columns": list(self.columns),
                "cells": [[float(v) for v in row] for row in self.cells]}


@dataclass(slots=True)
class Note:
    text: str
    type: ClassVar[str] = "note"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "note", "text": self.text}


Event = Metric | Table | Note


def event_from_dict(d: Mapping[str, Any]) -> Event:
    kind = d.get("type")
    if kind == "metric":
        return Metric(d["step"], dict(d["values"]))
    if kind == "table":
        return Table(d["name"], list(d["rows"]), list(d["columns"]),
                     [list(r) for r in d["cells"]])
    if kind == "note":
        return Note(str(d["text"]))
    raise ValueError(f"unknown event type {kind!r}")


# --------------------------------------------------------------------------- panels


@dataclass(frozen=True)
class Panel:
    """What to plot. `series` are metric names (a trailing '*' matches a prefix);
    `x` is "step" or the name of another metric; kind "bars" draws the table `table`."""

    title: str
    series: tuple[str, ...] = ()
    x: str = "step"
    logx: bool = False
    logy: bool = False
    kind: Literal["line", "bars"] = "line"
    table: str = ""
    xlabel: str = ""
    ylabel: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)  # series name -> legend label


# --------------------------------------------------------------------------- verdicts


@dataclass(frozen=True)
class Criterion:
    name: str
    measured: float
    threshold: str  # human-readable, e.g. "<= 1e-10" or "in [-2.5, 0]"
    passed: bool
    tier: Literal["paper", "mechanism"] = "paper"

    @classmethod
    def at_most(cls, name: str, measured: float, limit: float, tier: str = "paper") -> Criterion:
        ok = math.isfinite(measured) and measured <= limit
        return cls(name, float(measured), f"<= {limit:g}", ok, tier)  # type: ignore[arg-type]

    @classmethod
    def at_least(cls, name: str, measured: float, limit: float, tier: str = "paper") -> Criterion:
        ok = math.isfinite(measured) and measured >= limit
        return cls(name, float(measured), f">= {limit:g}", ok, tier)  # type: ignore[arg-type]

    @classmethod
    def between(cls, name: str, measured: float, lo: float, hi: float,
                tier: str = "paper") -> Criterion:
        ok = math.isfinite(measured) and lo <= measured <= hi
        return cls(name, float(measured), f"in [{lo:g}, {hi:g}]", ok, tier)  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Verdict:
    """The claim check's outcome. The paper tier decides PASS/FAIL; mechanism checks are
    shown beside it (a scenario with no paper-tier criterion is decided by all of them)."""

    criteria: tuple[Criterion, ...]
    summary: str

    @classmethod
    def of(cls, criteria: Iterable[Criterion], summary_if_passed: str) -> Verdict:
        """The verdict of `criteria`. Its summary is `summary_if_passed` when it passes, and
        otherwise "claim not shown: " followed by the names of the failed deciding criteria
        (paper tier, or all criteria when none is paper tier), so that a failure is never
        described by a success sentence."""
        criteria = tuple(criteria)
        deciding = [c for c in criteria if c.tier == "paper"] or list(criteria)
        failed = [c.name for c in deciding if not c.passed]
        if not failed:
            return cls(criteria, summary_if_passed)
        return cls(criteria, "claim not shown: " + "; ".join(failed))

    @property
    def passed(self) -> bool:
        paper = [c for c in self.criteria if c.tier == "paper"]
        return all(c.passed for c in (paper or self.criteria))

    @property
    def label(self) -> str:
        """"PASS" or "FAIL": the one place a verdict becomes a word."""
        return "PASS" if self.passed else "FAIL"

    @property
    def score(self) -> str:
        paper = [c for c in self.criteria if c.tier == "paper"]
        mech = [c for c in self.criteria if c.tier == "mechanism"]
        text = f"{sum(c.passed for c in paper)}/{len(paper)} paper"
        if mech:
            text += f", {sum(c.passed for c in mech)}/{len(mech)} mechanism"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "summary": self.summary,
                "criteria": [c.to_dict() for c in self.criteria]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Verdict:
        crit = tuple(Criterion(c["name"], float(c["measured"]), c["threshold"],
                               bool(c["passed"]), c.get("tier", "paper"))
                     for c in d["criteria"])
        return cls(crit, d["summary"])


@dataclass(frozen=True)
class PaperRow:
    """One number the paper reports, set beside paramlab's measurement by `paramlab show`.

    `paper` is the value or range as the paper gives it ("0.62", "2-4x"), or "not reported"
    when the paper states the effect without a number; `criterion` names the claim-check
    criterion whose measured value is paramlab's number for this quantity ("" when none)."""

    quantity: str
    paper: str
    unit: str = ""
    source: str = ""  # where in the paper: "Table 2", "Fig. 3", "Thm 1"
    criterion: str = ""


# --------------------------------------------------------------------------- run context


class RunContext:
    """What a running scenario may ask of the runner: seed, device, rng, cancellation,
    and a cache that keeps built artifacts (pre-trained backbones) between runs."""

    def __init__(self, seed: int, device: str = "cpu",
                 should_stop: Callable[[], bool] | None = None,
                 cache: Any = None) -> None:
        self.seed = seed
        self.device = device
        self._should_stop = should_stop or (lambda: False)
        self._rng = None
        self.cache = cache  # the runner's artifact cache (console/core/cache.py), or None

    def cached(self, name: str, recipe: Mapping[str, Any],
               build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """`build()`'s arrays (name -> numpy array), kept between runs by the runner's
        cache under `name`, a hash of `recipe` (JSON-able: everything that decides the
        arrays, seeds included) and of the source of `build`'s module and what it
        imports. Without a cache `build()` simply runs. `build` must not draw from
        `ctx.rng`, so that a run gives the same numbers with or without the cache."""
        if self.cache is None:
            return build()
        return self.cache.get(name, recipe, build)

    @property
    def rng(self) -> Any:
        """A numpy Generator seeded with the run's seed (created on first use)."""
        if self._rng is None:
            import numpy as np

            self._rng = np.random.default_rng(self.seed)
        return self._rng

    def should_stop(self) -> bool:
        return self._should_stop()


# --------------------------------------------------------------------------- scenario


@dataclass(frozen=True)
class Scenario:
    """One paper's reproduction: params with presets, a run generator, panels, a check.

    `run(params, ctx)` yields events; `check(history, params)` turns a finished history
    into a Verdict. `watch` names the series whose non-finite value ends a run as
    `diverged`; `key_metric` is shown in progress lines; `total_steps(params)` gives the
    number of steps for progress (None when unknown); `uses_torch` decides whether the
    `auto` device looks for CUDA.
    """

    params: type[Params]
    run: Callable[[Any, RunContext], Iterator[Event]]
    check: Callable[[Any, Any], Verdict]
    panels: tuple[Panel, ...]
    presets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    watch: tuple[str, ...] = ()
    key_metric: str = ""
    total_steps: Callable[[Any], int | None] = lambda p: None
    uses_torch: bool = False
    notes: str = ""  # longer documentation shown by `paramlab show`
    paper_reports: str = ""  # the paper's own result (a number or a sentence)
    status: str = ""  # at toy scale: "reproduces", "partly", "does not reproduce", ...
    paper_rows: tuple[PaperRow, ...] = ()  # the paper's numbers, shown beside ours
    threads: int = 1  # BLAS/torch threads this scenario profits from (capped by free cores)
    meta: ScenarioMeta | None = None  # filled in by the registry on load

    def preset_names(self) -> list[str]:
        names = ["default", *self.presets]
        return list(dict.fromkeys(names))

    def make_params(self, preset: str = "default",
                    overrides: Mapping[str, Any] | None = None) -> Params:
        if preset != "default" and preset not in self.presets:
            raise ParamError(f"unknown preset {preset!r}; choose from "
                             f"{', '.join(self.preset_names())}")
        values = dict(self.presets.get(preset, {}))
        values.update(overrides or {})
        return self.params.build(values)
