"""What a user types, checked: scenario ids, NAME=VALUE overrides, seeds. Every problem
is an `InputError` whose message is one line; the front-ends show it (the CLI exits 2)
and nothing runs, so no record is written for bad input."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from paramlab.engines.params import ParamError, check_seed
from paramlab.scenarios import registry
from paramlab.scenarios.base import Params, Scenario


class InputError(ValueError):
    """Bad input, with a one-line message for the user."""


def load_scenario(scenario_id: str) -> Scenario:
    try:
        return registry.load(scenario_id)
    except registry.UnknownScenario as exc:
        raise InputError(exc.args[0]) from None
    except registry.ScenarioLoadError as exc:
        raise InputError(str(exc).splitlines()[0]) from None


def parse_sets(items: Iterable[str]) -> dict[str, str]:
    """`NAME=VALUE` items -> {name: value text} (values are coerced by the params)."""
    out = {}
    for item in items:
        name, eq, value = item.partition("=")
        if not eq or not name.strip():
            raise InputError(f"--set {item!r}: expected NAME=VALUE")
        out[name.strip()] = value
    return out


def make_params(scenario: Scenario, preset: str, sets: Iterable[str] | dict[str, Any]
                ) -> Params:
    overrides = sets if isinstance(sets, dict) else parse_sets(sets)
    try:
        return scenario.make_params(preset, overrides)
    except ParamError as exc:
        raise InputError(str(exc).splitlines()[0]) from None


def parse_seed(value: Any, flag: str = "--seed") -> int:
    """One seed: an integer in [0, 2**63-1] (what every engine accepts)."""
    try:
        return check_seed(value, flag)
    except ParamError as exc:
        raise InputError(str(exc)) from None


def parse_seeds(text: str, flag: str = "--seeds") -> list[int]:
    """`0,1,2`, `0-4` or a mix -> the seeds in order; each checked like `parse_seed`."""
    seeds: list[int] = []
    bad = InputError(f"{flag} {text!r}: expected e.g. 0,1,2 or 0-4 (seeds are integers >= 0)")
    for part in str(text).split(","):
        part = part.strip()
        if not part:
            continue
        lo, dash, hi = part.partition("-")
        if dash and lo.strip():  # a range; "-1" alone is a (bad) negative seed
            try:
                a, b = parse_seed(lo.strip(), flag), parse_seed(hi.strip(), flag)
            except InputError:
                raise bad from None
            if b < a:
                raise bad
            if b - a + 1 + len(seeds) > MAX_SEEDS:
                raise InputError(f"{flag} {text!r}: more than {MAX_SEEDS:,} seeds")
            seeds += range(a, b + 1)
        else:
            try:
                seeds.append(parse_seed(part, flag))
            except InputError:
                raise bad from None
    if not seeds:
        raise InputError(f"{flag} {text!r}: no seeds given")
    return seeds


MAX_SEEDS = 100_000


def parse_threads(value: Any, flag: str = "--threads") -> int | None:
    """BLAS/OpenMP/torch threads per run: None (the policy decides) or an integer >= 1."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        n = int(str(value).strip())
    except ValueError:
        n = 0
    if n < 1:
        raise InputError(f"{flag}: expected an integer >= 1, got {value!r}")
    return n
