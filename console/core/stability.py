"""Verdict stability over seeds: pass rates, per-criterion margins, and the results file.

A claim check is only worth its verdict if the verdict is the same on seeds nobody tried.
`aggregate` turns one scenario+preset's per-seed outcomes into a `PresetStats`: the pass
rate and, per criterion, min / median / max of the measured value beside its threshold.
A preset is *stable* when one verdict holds on at least 95% of the seeds (19 of 20).

The results file (`scenarios/results.json`, shipped with the package) keeps the stats that
`bench/bench_results.py` measured for every scenario on seeds 0-19, with a hash of the
scenario's source (its module and every paramlab module it imports, transitively), so a
stale entry is visible and the README table and `paramlab show` never hold hand-kept copies.
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

STABLE_SHARE = 0.95
RESULTS_VERSION = 1


@dataclass(frozen=True)
class SeedOutcome:
    """One seed's run: its status and, if it finished, its verdict's criteria."""

    seed: int
    status: str                      # done / failed / diverged / cancelled
    passed: bool | None              # None when there is no verdict
    criteria: tuple[Mapping[str, Any], ...] = ()
    elapsed: float = math.nan

    @classmethod
    def of(cls, seed: int, status: str, verdict: Any, elapsed: float = math.nan) -> SeedOutcome:
        if verdict is None:
            return cls(seed, status, None, (), elapsed)
        return cls(seed, status, bool(verdict.passed),
                   tuple(c.to_dict() for c in verdict.criteria), elapsed)


def _finite(values: Iterable[float]) -> list[float]:
    return [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]


@dataclass
class CriterionStats:
    name: str
    tier: str
    threshold: str
    n: int
    n_passed: int
    lo: float
    median: float
    hi: float
    mean: float
    sd: float
    n_nan: int = 0


@dataclass
class PresetStats:
    scenario: str
    preset: str
    seeds: list[int]
    n_passed: int
    n_failed: int
    n_no_verdict: int
    criteria: list[CriterionStats] = field(default_factory=list)
    median_seconds: float = math.nan

    @property
    def n(self) -> int:
        return len(self.seeds)

    @property
    def pass_rate(self) -> float:
        return self.n_passed / self.n if self.n else math.nan

    @property
    def needed(self) -> int:
        return math.ceil(STABLE_SHARE * self.n)

    @property
    def stable(self) -> bool:
        return self.n > 0 and (self.n_passed >= self.needed or self.n_failed >= self.needed)

    @property
    def word(self) -> str:
        """PASS / FAIL when one verdict holds on >= 95% of seeds, else UNSTABLE."""
        if not self.stable:
            return "UNSTABLE"
        return "PASS" if self.n_passed >= self.needed else "FAIL"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(pass_rate=self.pass_rate, stable=self.stable, word=self.word)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> PresetStats:
        crit = [CriterionStats(**{k: _num(v) if k in _NUMS else v for k, v in c.items()})
                for c in d.get("criteria", [])]
        keep = {"scenario", "preset", "seeds", "n_passed", "n_failed", "n_no_verdict"}
        return cls(**{k: d[k] for k in keep}, criteria=crit,
                   median_seconds=_num(d.get("median_seconds", math.nan)))


_NUMS = {"lo", "median", "hi", "mean", "sd"}


def _num(v: Any) -> float:
    return float(v) if v is not None else math.nan


def aggregate(scenario: str, preset: str, outcomes: Sequence[SeedOutcome]) -> PresetStats:
    """Pass rate and per-criterion spread over the seeds' outcomes."""
    stats = PresetStats(
        scenario, preset, [o.seed for o in outcomes],
        n_passed=sum(o.passed is True for o in outcomes),
        n_failed=sum(o.passed is False for o in outcomes),
        n_no_verdict=sum(o.passed is None for o in outcomes))
    times = _finite(o.elapsed for o in outcomes)
    stats.median_seconds = statistics.median(times) if times else math.nan
    order: dict[str, list[Mapping[str, Any]]] = {}
    for o in outcomes:
        for c in o.criteria:
            order.setdefault(c["name"], []).append(c)
    for name, rows in order.items():
        vals = _finite(r["measured"] for r in rows)
        stats.criteria.append(CriterionStats(
            name=name, tier=rows[0].get("tier", "paper"), threshold=rows[0]["threshold"],
            n=len(rows), n_passed=sum(bool(r["passed"]) for r in rows),
            lo=min(vals, default=math.nan), median=statistics.median(vals) if vals else math.nan,
            hi=max(vals, default=math.nan), mean=statistics.fmean(vals) if vals else math.nan,
            sd=statistics.stdev(vals) if len(vals) > 1 else (0.0 if vals else math.nan),
            n_nan=len(rows) - len(vals)))
    return stats


# ------------------------------------------------------------------------ source hash


def _paramlab_imports(path: Path, roots: Mapping[str, Path]) -> list[Path]:
    """Files of the paramlab modules that `path` imports (absolute or relative)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    pkg = _package_of(path, roots)
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            names.append(base)
            names += [f"{base}.{a.name}" for a in node.names]
    found = []
    for name in names:
        f = _file_of(name, roots)
        if f is not None:
            found.append(f)
    return found


def _package_of(path: Path, roots: Mapping[str, Path]) -> str:
    for prefix, root in roots.items():
        try:
            rel = path.resolve().relative_to(root.resolve())
        except ValueError:
            continue
        parts = [prefix, *rel.parts[:-1]]
        return ".".join(parts)
    return ""


def _file_of(name: str, roots: Mapping[str, Path]) -> Path | None:
    for prefix, root in roots.items():
        if name == prefix or name.startswith(prefix + "."):
            rest = name[len(prefix):].lstrip(".").split(".") if name != prefix else []
            base = root.joinpath(*rest) if rest else root
            for cand in (base.with_suffix(".py"), base / "__init__.py"):
                if cand.is_file():
                    return cand
    return None


def source_hash(module_file: str | Path, roots: Mapping[str, Path] | None = None) -> str:
    """sha256 (16 hex) over a module and every paramlab module it imports, transitively."""
    if roots is None:
        import paramlab.engines as engines
        import paramlab.scenarios as scenarios

        roots = {"paramlab.scenarios": Path(list(scenarios.__path__)[0]),
                 "paramlab.engines": Path(list(engines.__path__)[0])}
    seen: dict[Path, None] = {}
    todo = [Path(module_file)]
    while todo:
        f = todo.pop().resolve()
        if f in seen:
            continue
        seen[f] = None
        todo += _paramlab_imports(f, roots)
    h = hashlib.sha256()
    for f in sorted(seen, key=str):
        h.update(f.name.encode())
        h.update(code_of(f.read_text(encoding="utf-8")).encode())
    return h.hexdigest()[:16]


# documentation on a Scenario: changing it changes no measured number
DOC_FIELDS = ("notes", "paper_reports", "paper_rows", "status")
# run-time hints: the results file is measured with one thread per run (bench_results asks
# for it), so the thread count a scenario declares cannot change a number in it
RUNTIME_FIELDS = ("threads",)


def code_of(source: str) -> str:
    """What of a module's source can change a result: its syntax tree without comments,
    docstrings, the Scenario's documentation fields (notes, paper reports and rows,
    status) and its run-time hints (declared threads), so that documenting a scenario or
    declaring its threads does not make its results stale."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                             ast.AsyncFunctionDef)) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Scenario":
            node.keywords = [k for k in node.keywords
                             if k.arg not in DOC_FIELDS + RUNTIME_FIELDS]
    return ast.dump(tree, annotate_fields=False)


def scenario_hash(scenario_id: str) -> str:
    """The source hash of a registered scenario's module (and what it imports)."""
    import importlib

    from paramlab.scenarios import get_meta, module_for

    module = module_for(get_meta(scenario_id)).partition(":")[0]
    return source_hash(importlib.import_module(module).__file__)


# ------------------------------------------------------------------------ results file


def results_path() -> Path:
    import paramlab.scenarios as scenarios

    return Path(list(scenarios.__path__)[0]) / "results.json"


def _jsonable(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)  # "nan", "inf": JSON has no NaN
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    return x


def _unjson(x: Any) -> Any:
    if x in ("nan", "inf", "-inf"):
        return float(x)
    if isinstance(x, dict):
        return {k: _unjson(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_unjson(v) for v in x]
    return x


def read_results(path: Path | None = None) -> dict[str, Any]:
    """{scenario: {preset: entry}}; an absent or unreadable file reads as empty."""
    path = path or results_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != RESULTS_VERSION:
        return {}
    return _unjson(data.get("scenarios", {}))


def write_results(results: Mapping[str, Any], path: Path | None = None) -> None:
    """The results file: one line per scenario and preset (short diffs when one changes)."""
    path = path or results_path()
    parts = []
    for sid in sorted(results):
        presets = ",\n".join(f"  {json.dumps(p)}: {json.dumps(_jsonable(e))}"
                              for p, e in sorted(results[sid].items()))
        parts.append(f" {json.dumps(sid)}: {{\n{presets}\n }}")
    text = f'{{"version": {RESULTS_VERSION}, "scenarios": {{\n' + ",\n".join(parts) + "\n}}\n"
    json.loads(text)  # never write what does not read back
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def entry(stats: PresetStats, source: str, params: Mapping[str, Any],
          outcomes: Sequence[SeedOutcome] = ()) -> dict[str, Any]:
    """One results-file entry: the stats, the source hash, the params used, and per seed
    its verdict and each criterion's measured value (so any seed can be re-checked)."""
    d = stats.to_dict()
    d.update(source=source, params=dict(params),
             per_seed=[{"seed": o.seed, "status": o.status, "passed": o.passed,
                        "measured": {c["name"]: c["measured"] for c in o.criteria}}
                       for o in outcomes])
    return d
