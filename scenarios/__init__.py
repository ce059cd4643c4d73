"""paramlab scenarios: one module per paper, registered lazily (see registry.py)."""

from .base import (
                   Criterion,
                   Metric,
                   Note,
                   Panel,
                   Paper,
                   PaperRow,
                   ParamError,
                   Params,
                   RunContext,
                   Scenario,
                   ScenarioMeta,
                   Table,
                   Verdict,
                   param,
)
from .registry import (
    ScenarioLoadError,
    UnknownScenario,
    all_meta,
    get_meta,
    load,
    module_for,
    register,
)

__all__ = ["Criterion", "Metric", "Note", "Panel", "Paper", "PaperRow", "Params", "ParamError",
           "RunContext", "Scenario", "ScenarioMeta", "Table", "Verdict", "param",
           "ScenarioLoadError", "UnknownScenario", "all_meta", "get_meta", "load",
           "module_for", "register"]
