"""The scenario protocol: metadata, typed params, events, panels, verdicts.

This module is imported by `paramlab list`, so it must stay light: standard library only,
no numpy, no torch. A scenario module builds a `Scenario` from these pieces; its engine
imports happen inside `run`, when a run starts.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

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
    """What `paramlab list` and `show` print. Registered without importing the module."""

    id: str
    title: str
    theme: str
    paper: Paper
    claim: str
    paper_reports: str  # the paper's own result (a number or a sentence)
    entry_point: str  # "module:attribute" of the Scenario object, imported on first use
    status: str = ""  # e.g. "reproduces", "partly", "does not reproduce at toy scale"


# --------------------------------------------------------------------------- params


class ParamError(ValueError):
    """A bad parameter value; the message names the parameter, the value and what is allowed."""


_KIND_WORDS = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}


def param(
    default: Any,
    *,
    help: str,
    range: tuple[float, float] | None = None,
    choices: tuple[Any, ...] | None = None,
    log: bool = False,
) -> Any:
    """Declare one field of a `Params` dataclass: default, valid range or choices, help text.

    `log=True` marks a parameter usually varied on a log scale (sweeps and plots use it).
    """
    meta = {"help": help, "range": range, "choices": choices, "log": log}
    return field(default=default, metadata={"paramlab": meta})


@dataclass(frozen=True)
class ParamSpec:
    name: str
    kind: type
    default: Any
    help: str
    range: tuple[float, float] | None
    choices: tuple[Any, ...] | None
    log: bool

    def allowed(self) -> str:
        word = _KIND_WORDS[self.kind]
        if self.choices is not None:
            return "one of " + ", ".join(str(c) for c in self.choices)
        if self.range is not None:
            lo, hi = self.range
            return f"{word} in [{_fmt_num(lo)}, {_fmt_num(hi)}]"
        return word

    def coerce(self, value: Any) -> Any:
        """Turn a CLI string (or a JSON value) into this field's type, or raise ParamError."""
        bad = ParamError(f"{self.name}: expected {self.allowed()}, got {value!r}")
        kind = self.kind
        if kind is bool:
            if isinstance(value, bool):
                out: Any = value
            elif isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "on"):
                out = True
            elif isinstance(value, str) and value.strip().lower() in ("false", "0", "no", "off"):
                out = False
            else:
                raise bad
        elif kind is int:
            if isinstance(value, bool):
                raise bad
            if isinstance(value, int):
                out = value
            elif isinstance(value, float) and value.is_integer():
                out = int(value)
            elif isinstance(value, str):
                try:
                    out = int(value.strip())
                except ValueError:
                    try:
                        f = float(value)
                    except ValueError:
                        raise bad from None
                    if not (math.isfinite(f) and f.is_integer()):
                        raise bad from None
                    out = int(f)
            else:
                raise bad
        elif kind is float:
            if isinstance(value, bool):
                raise bad
            if isinstance(value, (int, float)):
                out = float(value)
            elif isinstance(value, str):
                try:
                    out = float(_eval_fraction(value))
                except ValueError:
                    raise bad from None
            else:
                raise bad
            if not math.isfinite(out):
                raise bad
        else:
            if not isinstance(value, str):
                raise bad
            out = value.strip()
        if self.choices is not None and out not in self.choices:
            raise bad
        if self.range is not None:
            lo, hi = self.range
            if not (lo <= out <= hi):
                raise bad
        return out


def _eval_fraction(text: str) -> float:
    """Accept '0.3', '1e-3' and simple fractions such as '1/3' for float params."""
    text = text.strip()
    if "/" in text:
        num, _, den = text.partition("/")
        return float(num) / float(den)
    return float(text)


def _fmt_num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e6 else f"{x:g}"


@dataclass(frozen=True)
class Params:
    """Base of every scenario's params dataclass. Fields are declared with `param(...)`.

    Subclasses may override `check_consistency` for rules that tie fields together
    (e.g. k >= r); it returns one message per violated rule.
    """

    @classmethod
    def specs(cls) -> list[ParamSpec]:
        hints = typing.get_type_hints(cls)
        out = []
        for f in dataclasses.fields(cls):
            meta = f.metadata.get("paramlab")
            if meta is None:
                continue
            kind = hints[f.name]
            if kind not in _KIND_WORDS:
                raise TypeError(f"{cls.__name__}.{f.name}: unsupported param type {kind!r}")
            out.append(ParamSpec(f.name, kind, f.default, meta["help"], meta["range"],
                                 meta["choices"], meta["log"]))
        return out

    @classmethod
    def build(cls, values: Mapping[str, Any] | None = None) -> Params:
        """Validate and coerce `values` (strings or JSON values) over the defaults.

        Raises ParamError with one line per problem.
        """
        values = dict(values or {})
        specs = {s.name: s for s in cls.specs()}
        errors = []
        kwargs: dict[str, Any] = {}
        for name, raw in values.items():
            spec = specs.get(name)
            if spec is None:
                close = _closest(name, list(specs))
                hint = f" (did you mean {', '.join(close)}?)" if close else ""
                errors.append(f"{name}: unknown parameter{hint}; known: {', '.join(specs)}")
                continue
            try:
                kwargs[name] = spec.coerce(raw)
            except ParamError as exc:
                errors.append(str(exc))
        if errors:
            raise ParamError("\n".join(errors))
        obj = cls(**kwargs)
        problems = obj.check_consistency()
        if problems:
            raise ParamError("\n".join(problems))
        return obj

    def check_consistency(self) -> list[str]:
        return []

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def replace(self, **changes: Any) -> Params:
        return dataclasses.replace(self, **changes)


def _closest(word: str, options: list[str], n: int = 3) -> list[str]:
    import difflib

    return difflib.get_close_matches(word, options, n=n, cutoff=0.5)


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

    @property
    def passed(self) -> bool:
        paper = [c for c in self.criteria if c.tier == "paper"]
        return all(c.passed for c in (paper or self.criteria))

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


# --------------------------------------------------------------------------- run context


class RunContext:
    """What a running scenario may ask of the runner: seed, device, rng, cancellation."""

    def __init__(self, seed: int, device: str = "cpu",
                 should_stop: Callable[[], bool] | None = None) -> None:
        self.seed = seed
        self.device = device
        self._should_stop = should_stop or (lambda: False)
        self._rng = None

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
