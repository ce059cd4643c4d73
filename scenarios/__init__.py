"""paramlab scenarios: one module per paper, registered lazily (see registry.py)."""

from .base import (
                   Criterion,
                   Metric,
                   Note,
                   Panel,
                   Paper,
                   ParamError,
                   Params,
                   RunContext,
                   Scenario,
                   ScenarioMeta,
                   Table,
                   Verdict,
                   param,
)
from .registry import UnknownScenario, all_meta, get_meta, load, register

__all__ = ["Criterion", "Metric", "Note", "Panel", "Paper", "Params", "ParamError",
           "RunContext", "Scenario", "ScenarioMeta", "Table", "Verdict", "param",
           "UnknownScenario", "all_meta", "get_meta", "load", "register"]
