"""What a sweep runs: the spec (fixed overrides, grid values, random ranges, seeds), parsed
from CLI-style strings and checked against the scenario's params, and the settings it
expands to. A point's identity is sha256 of the canonical JSON of (scenario, params,
seed), so a resumed sweep re-runs only what did not finish."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from paramlab.console.core.inputs import InputError
from paramlab.scenarios.base import ParamError, ParamSpec, Scenario, closest


class SweepError(InputError):
    """Bad sweep input or an unusable sweep folder: one line for the user."""


# ------------------------------------------------------------------ the spec


@dataclass(frozen=True)
class RandomDim:
    lo: float
    hi: float
    log: bool = False


@dataclass
class SweepSpec:
    """What to sweep. `sets` are fixed overrides (CLI strings or values); `grid` values
    and `random` bounds are already coerced to the params' types."""

    scenario: str
    preset: str = "default"
    sets: dict[str, Any] = field(default_factory=dict)
    grid: dict[str, list[Any]] = field(default_factory=dict)
    random: dict[str, RandomDim] = field(default_factory=dict)
    samples: int = 0
    sweep_seed: int = 0
    seeds: list[int] = field(default_factory=lambda: [0])
    device: str = "auto"
    metric: str = ""
    threads: int | None = None  # per point; None: the thread policy decides

    @property
    def swept(self) -> list[str]:
        return [*self.grid, *self.random]

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["random"] = {k: dataclasses.asdict(v) for k, v in self.random.items()}
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SweepSpec:
        d = dict(d)
        d["random"] = {k: RandomDim(**v) for k, v in d.get("random", {}).items()}
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


def _spec_named(specs: dict[str, ParamSpec], name: str, flag: str, item: str) -> ParamSpec:
    spec = specs.get(name)
    if spec is None:
        close = closest(name, list(specs))
        hint = f"; did you mean {', '.join(close)}?" if close else \
            f"; known: {', '.join(specs)}"
        raise SweepError(f"{flag} {item!r}: unknown parameter {name!r}{hint}")
    return spec


def parse_grid(items: Sequence[str], specs: Sequence[ParamSpec]) -> dict[str, list[Any]]:
    """`NAME=V1,V2,...` per item -> {name: [coerced values]}; SweepError on any problem."""
    by_name = {s.name: s for s in specs}
    grid: dict[str, list[Any]] = {}
    for item in items:
        name, eq, text = item.partition("=")
        name = name.strip()
        if not eq or not name or not text.strip():
            raise SweepError(f"--grid {item!r}: expected NAME=V1,V2,... "
                             f"(e.g. alpha_sym=0.01,0.1,1)")
        spec = _spec_named(by_name, name, "--grid", item)
        if name in grid:
            raise SweepError(f"--grid {item!r}: {name} is already swept; give its values "
                             f"in one --grid")
        values = []
        for raw in text.split(","):
            if not raw.strip():
                raise SweepError(f"--grid {item!r}: empty value in the list")
            try:
                value = spec.coerce(raw)
            except ParamError as exc:
                raise SweepError(f"--grid {item!r}: {exc}") from None
            if value not in values:
                values.append(value)
        grid[name] = values
    return grid


def parse_random(items: Sequence[str], specs: Sequence[ParamSpec]) -> dict[str, RandomDim]:
    """`NAME=LO:HI[:log]` per item -> {name: RandomDim}; numeric params only."""
    by_name = {s.name: s for s in specs}
    out: dict[str, RandomDim] = {}
    for item in items:
        name, eq, text = item.partition("=")
        name = name.strip()
        parts = text.split(":")
        log = len(parts) == 3 and parts[2].strip().lower() == "log"
        if not eq or not name or len(parts) not in (2, 3) or (len(parts) == 3 and not log):
            raise SweepError(f"--random {item!r}: expected NAME=LO:HI or NAME=LO:HI:log")
        spec = _spec_named(by_name, name, "--random", item)
        if spec.kind not in (int, float) or spec.choices is not None:
            raise SweepError(f"--random {item!r}: {name} is not numeric; use --grid")
        if name in out:
            raise SweepError(f"--random {item!r}: {name} is already swept")
        try:
            lo, hi = spec.coerce(parts[0]), spec.coerce(parts[1])
        except ParamError as exc:
            raise SweepError(f"--random {item!r}: {exc}") from None
        if not lo < hi:
            raise SweepError(f"--random {item!r}: LO must be below HI")
        if log and lo <= 0:
            raise SweepError(f"--random {item!r}: a log range needs LO > 0")
        out[name] = RandomDim(float(lo), float(hi), log)
    return out


def build_spec(scenario: Scenario, *, preset: str = "default",
               sets: Mapping[str, Any] | None = None, grid: Sequence[str] = (),
               random_dims: Sequence[str] = (), samples: int | None = None,
               sweep_seed: int = 0, seeds: Sequence[int] = (0,), device: str = "auto",
               metric: str = "", threads: int | None = None) -> SweepSpec:
    """A validated SweepSpec from CLI-style strings (SweepError on bad input)."""
    assert scenario.meta is not None
    specs = scenario.params.specs()
    g = parse_grid(grid, specs)
    r = parse_random(random_dims, specs)
    both = set(g) & set(r)
    if both:
        raise SweepError(f"{', '.join(sorted(both))}: given to both --grid and --random")
    sets = dict(sets or {})
    fixed = set(sets) & (set(g) | set(r))
    if fixed:
        raise SweepError(f"{', '.join(sorted(fixed))}: both --set and swept")
    if r and not samples:
        raise SweepError("--random needs --samples N (N >= 1)")
    if samples and not r:
        raise SweepError("--samples needs at least one --random NAME=LO:HI")
    if samples is not None and samples < 0:
        raise SweepError("--samples: expected N >= 1")
    if len(set(seeds)) != len(seeds):
        raise SweepError("--seeds: a seed is listed twice")
    try:
        scenario.make_params(preset, sets)
    except ParamError as exc:
        raise SweepError(str(exc).splitlines()[0]) from None
    return SweepSpec(scenario.meta.id, preset, sets, g, r, samples or 0, sweep_seed,
                     list(seeds), device, metric or scenario.key_metric, threads)


def _sig(x: float, digits: int = 6) -> float:
    return float(f"{x:.{digits}g}")


def settings(spec: SweepSpec, scenario: Scenario) -> list[dict[str, Any]]:
    """The param overrides of each point (seeds aside): the grid's product, crossed with
    `samples` random draws (reproducible from `sweep_seed`)."""
    specs = {s.name: s for s in scenario.params.specs()}
    combos = [dict(zip(spec.grid, values))
              for values in itertools.product(*spec.grid.values())]
    if spec.random:
        rng = random.Random(spec.sweep_seed)
        draws = []
        for _ in range(spec.samples):
            draw = {}
            for name, dim in spec.random.items():
                if dim.log:
                    x = math.exp(rng.uniform(math.log(dim.lo), math.log(dim.hi)))
                else:
                    x = rng.uniform(dim.lo, dim.hi)
                if specs[name].kind is int:
                    draw[name] = min(int(dim.hi), max(int(dim.lo), round(x)))
                else:
                    draw[name] = min(dim.hi, max(dim.lo, _sig(x, 4)))
            draws.append(draw)
        combos = [{**c, **d} for c in combos for d in draws]
    return combos


def point_id(scenario: str, params: Mapping[str, Any], seed: int) -> str:
    """sha256 of the canonical JSON of (scenario, params, seed)."""
    text = json.dumps({"scenario": scenario, "params": dict(params), "seed": int(seed)},
                      sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def point_ids(scenario: str, params: Mapping[str, Any], seeds: Sequence[int]) -> list[str]:
    """`point_id` for many seeds of one setting: the canonical JSON's sorted keys put the
    seed last, so the hash of its common prefix is computed once."""
    head = hashlib.sha256(
        ('{"params":' + json.dumps(dict(params), sort_keys=True, separators=(",", ":"),
                                   ensure_ascii=True)
         + ',"scenario":' + json.dumps(scenario, ensure_ascii=True) + ',"seed":').encode())
    out = []
    for seed in seeds:
        h = head.copy()
        h.update(f"{int(seed)}}}".encode())
        out.append(h.hexdigest())
    return out


