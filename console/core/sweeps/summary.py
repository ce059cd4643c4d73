"""A sweep's summary as data: one row per point (the CSV file), and panels of the final
metric against each swept param and of the pass rate per setting, as (Panel, History)
pairs that the render layer draws like a run's panels."""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

from paramlab.console.core.execute import DONE
from paramlab.scenarios.base import Metric, Panel, Scenario, Table
from paramlab.scenarios.history import History

from .points import COMPLETE, SweepPoint
from .spec import SweepSpec


def summary_rows(points: Sequence[SweepPoint], spec: SweepSpec) -> list[dict[str, Any]]:
    """One row per point: index, point id, swept values, seed, status, verdict, elapsed,
    final metrics (every series' last value)."""
    rows = []
    for p in points:
        row = {"index": p.index, "point": p.id[:12]}
        row.update({name: p.overrides.get(name) for name in spec.swept})
        row.update({"seed": p.seed, "status": p.status, "verdict": p.verdict or "",
                    "score": p.score or "", "elapsed": p.elapsed,
                    "cpu": p.cpu,
                    "reason": p.reason or "", "record": p.record or ""})
        row.update({f"final:{k}": v for k, v in p.final.items()})
        rows.append(row)
    return rows


def write_csv(path: str | os.PathLike, points: Sequence[SweepPoint],
              spec: SweepSpec) -> None:
    rows = summary_rows(points, spec)
    columns: dict[str, None] = {}
    for r in rows:
        columns.update(dict.fromkeys(r))
    finals = sorted(c for c in columns if c.startswith("final:"))
    key = f"final:{spec.metric}"
    if key in finals:
        finals.remove(key)
        finals.insert(0, key)
    ordered = [c for c in columns if not c.startswith("final:")] + finals
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=ordered)
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in ordered})


def _label(values: Mapping[str, Any], names: Sequence[str]) -> str:
    return ",".join(f"{values[n]:g}" if isinstance(values[n], float) else str(values[n])
                    for n in names)


def is_log_spaced(name: str, values: Sequence[Any], spec: SweepSpec,
                  scenario: Scenario) -> bool:
    """Log x for random `:log` ranges, and for positive values spanning a decade or more
    of a param declared `log` (two decades or more of any other param)."""
    if name in spec.random and spec.random[name].log:
        return True
    pspec = {s.name: s for s in scenario.params.specs()}.get(name)
    nums = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if not nums or len(nums) != len(values) or min(nums) <= 0:
        return False
    return max(nums) / min(nums) >= (10 if pspec and pspec.log else 100)


MAX_LINES = 6  # more combinations of the other swept params than this: aggregate them
MAX_BARS = 24


def summary_panels(points: Sequence[SweepPoint], spec: SweepSpec, scenario: Scenario,
                   metric: str) -> list[tuple[Panel, History]]:
    """Summary panels as (Panel, History) pairs for `plotting.draw_panel`:

    - per swept param: the final `metric` against the param, mean and min-max over seeds
      (with other grid params, one mean line per combination of theirs up to MAX_LINES,
      else mean and min-max over seeds and those params together; a random param's values
      are unique to its draw, so the other random params need no lines); log x where the
      param is log-spaced; bars for a categorical param;
    - the verdict pass rate of each setting over its seeds (bars).
    """
    out: list[tuple[Panel, History]] = []
    done = [p for p in points if p.status == DONE]
    swept = spec.swept
    n_seeds = len(spec.seeds)
    vals = [(p.overrides, p.final.get(metric, math.nan)) for p in done]
    vals = [(o, v) for o, v in vals if isinstance(v, (int, float)) and math.isfinite(v)]
    ys = [v for _, v in vals]
    logy = bool(ys) and min(ys) > 0 and max(ys) / min(ys) >= 100
    for name in swept:
        others = [n for n in spec.grid if n != name]
        xs_all = sorted({o[name] for o, _ in vals}, key=_sort_key)
        combos = sorted({_label(o, others) for o, _ in vals}) if others else [""]
        categorical = any(isinstance(x, (str, bool)) for x in xs_all)
        per_combo = bool(others) and 1 < len(combos) <= MAX_LINES and not categorical
        mixed = [] if per_combo or len(combos) == 1 else list(others)
        if name in spec.grid:
            mixed += [n for n in spec.random]
        over = "seeds" + "".join(f", {n}" for n in mixed)
        hist = History()
        if categorical:
            cells = [[], [], []]
            for x in xs_all:
                group = [v for o, v in vals if o[name] == x]
                for row, stat in zip(cells, (_mean(group), min(group), max(group))):
                    row.append(stat)
            title = f"final {metric} vs {name} (over {over})"
            hist.add(Table(title, ["mean", "min", "max"], [str(x) for x in xs_all], cells))
            out.append((Panel(title, kind="bars", table=title), hist))
            continue
        series: list[str] = []
        labels: dict[str, str] = {}
        for i, x in enumerate(xs_all):
            values: dict[str, float] = {name: float(x)}
            if per_combo:
                for c in combos:
                    group = [v for o, v in vals if o[name] == x and _label(o, others) == c]
                    if group:
                        values[f"mean {c}"] = _mean(group)
            else:
                group = [v for o, v in vals if o[name] == x]
                values.update({"mean": _mean(group), "min": min(group), "max": max(group)})
            hist.add(Metric(i, values))
        if per_combo:
            series = [f"mean {c}" for c in combos]
            labels = {f"mean {c}": f"{','.join(others)}={c}" for c in combos}
            title = f"final {metric} vs {name} (mean over {n_seeds} seeds)"
        else:
            series = ["mean", "min", "max"]
            title = f"final {metric} vs {name} (mean, min-max over {over})"
        out.append((Panel(title, series=tuple(series), x=name,
                          logx=is_log_spaced(name, xs_all, spec, scenario), logy=logy,
                          xlabel=name, labels=labels), hist))
    # pass rate per setting over its seeds
    rates: dict[str, list[int]] = {}
    for p in points:
        if p.status not in COMPLETE:
            continue
        key = _label(p.overrides, swept) if swept else "all"
        rates.setdefault(key, []).append(p.verdict == "PASS")
    if rates and len(rates) <= MAX_BARS:
        title = "verdict pass rate over seeds" + (f" ({', '.join(swept)})" if swept else "")
        hist = History()
        hist.add(Table(title, ["pass rate"], list(rates),
                       [[sum(r) / len(r) for r in rates.values()]]))
        out.append((Panel(title, kind="bars", table=title), hist))
    return out


def _mean(xs: Sequence[float]) -> float:
    return sum(xs) / len(xs)


def _sort_key(x: Any) -> tuple[int, Any]:
    return (0, x) if isinstance(x, (int, float)) and not isinstance(x, bool) else (1, str(x))


