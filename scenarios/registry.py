"""Scenario registry with lazy entry points (as Gymnasium's `register`/`make`).

Registering stores a small `ScenarioMeta`; the scenario module, and with it numpy or
torch, is imported only by `load(id)`. Built-in scenarios are listed in `catalog.py` and
live in `paramlab.scenarios.<id with '-' replaced by '_'>`; third-party packages add
theirs through the entry-point group `paramlab.scenarios`, whose entries resolve to a
`ScenarioMeta` (or a callable returning one) naming its `entry_point`.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import replace

from .base import Scenario, ScenarioMeta, closest

ENTRY_POINT_GROUP = "paramlab.scenarios"

_REGISTRY: dict[str, ScenarioMeta] = {}
_LOADED: dict[str, Scenario] = {}
_plugins_loaded = False


class ScenarioLoadError(Exception):
    """A registered scenario whose module does not import or holds no Scenario. The
    message is one line: "scenario 'x': cannot import m: ModuleNotFoundError: ..."."""


class UnknownScenario(KeyError):
    def __init__(self, scenario_id: str, known: list[str]) -> None:
        close = closest(scenario_id, known)
        if not close:  # fall back to substring matches ("matrix" -> matrix-*)
            close = [k for k in known if scenario_id.lower() in k][:3]
        hint = f"; did you mean {', '.join(close)}?" if close else "; see `paramlab list`"
        super().__init__(f"unknown scenario {scenario_id!r}{hint}")
        self.message = f"unknown scenario {scenario_id!r}{hint}"

    def __str__(self) -> str:
        return self.message


def register(meta: ScenarioMeta) -> None:
    if meta.id in _REGISTRY and _REGISTRY[meta.id] != meta:
        raise ValueError(f"scenario id {meta.id!r} is registered twice")
    _REGISTRY[meta.id] = meta


def _load_plugins() -> None:
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    from importlib.metadata import entry_points

    from .catalog import BUILTIN

    for meta in BUILTIN:
        register(meta)

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
            meta = obj() if callable(obj) and not isinstance(obj, ScenarioMeta) else obj
            if not isinstance(meta, ScenarioMeta):
                raise TypeError(f"expected a ScenarioMeta, got {type(meta).__name__}")
            register(meta)
        except Exception as exc:  # a broken plug-in must not break `paramlab list`
            print(f"paramlab: skipping scenario plug-in {ep.name!r}: {exc}", file=sys.stderr)


def all_meta() -> list[ScenarioMeta]:
    _load_plugins()
    return sorted(_REGISTRY.values(), key=lambda m: (m.theme, m.id))


def get_meta(scenario_id: str) -> ScenarioMeta:
    _load_plugins()
    try:
        return _REGISTRY[scenario_id]
    except KeyError:
        raise UnknownScenario(scenario_id, list(_REGISTRY)) from None


def module_for(meta: ScenarioMeta) -> str:
    """Where the scenario's Scenario object lives, as "module:attribute": the metadata's
    `entry_point` when given (plug-ins, tests), else the built-in module named by the id."""
    if meta.entry_point:
        return meta.entry_point
    return f"{__package__}.{meta.id.replace('-', '_')}:SCENARIO"


def _first_line(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    return text.splitlines()[0] if text else type(exc).__name__


def load(scenario_id: str) -> Scenario:
    """Import the scenario's module (first call only) and return its Scenario.
    Raises UnknownScenario for an unregistered id, ScenarioLoadError (one line) when the
    module does not import or holds no Scenario."""
    if scenario_id in _LOADED:
        return _LOADED[scenario_id]
    meta = get_meta(scenario_id)
    target = module_for(meta)
    module_name, _, attr = target.partition(":")
    attr = attr or "SCENARIO"
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise ScenarioLoadError(f"scenario {scenario_id!r}: cannot import {module_name}: "
                                f"{_first_line(exc)}") from exc
    scenario = getattr(module, attr, None)
    if not isinstance(scenario, Scenario):
        what = "nothing" if scenario is None else f"a {type(scenario).__name__}"
        raise ScenarioLoadError(f"scenario {scenario_id!r}: {module_name}.{attr} is {what}, "
                                f"not a Scenario")
    scenario = replace(scenario, meta=meta)
    _LOADED[scenario_id] = scenario
    return scenario
