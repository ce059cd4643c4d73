"""`paramlab check`: claim checks over scenarios and seeds, the per-seed table, and over
several seeds the stability summary: pass rate, and per criterion min / median / max of
the measured value beside its threshold."""

from __future__ import annotations

import json
import sys
from typing import Any

from paramlab.console.cli.errors import (
    EXIT_CHECK_FAILED,
    EXIT_OK,
    EXIT_RUN_FAILED,
    UsageError,
    note_device,
)
from paramlab.console.core.checks import SeedResult, run_checks
from paramlab.console.core.inputs import (
    load_scenario,
    make_params,
    parse_seeds,
    parse_threads,
)
from paramlab.console.core.stability import PresetStats, aggregate
from paramlab.console.render.text import fmt_seconds, fmt_value, grid, wrapped
from paramlab.scenarios import registry


def cmd_check(args: Any) -> int:
    if args.all:
        ids = [m.id for m in registry.all_meta()]
    elif args.ids:
        ids = args.ids
    else:
        raise UsageError("check: name scenario ids or pass --all")
    seeds = parse_seeds(args.seeds)
    threads = parse_threads(args.threads)
    if args.workers < 1:
        raise UsageError("--workers: expected N >= 1")
    plan = []
    for sid in ids:  # validate everything before running anything
        sc = load_scenario(sid)
        note_device(sc, args.device)
        plan.append((sc, make_params(sc, args.preset, args.sets)))
    if args.workers == 1:
        results = _one_at_a_time(plan, seeds, args, threads)
    else:
        done = [0]
        total = len(plan) * len(seeds)

        def progress(r: SeedResult) -> None:
            done[0] += 1
            word = r.verdict.label if r.verdict else r.status
            print(f"[{done[0]}/{total}] {r.scenario} seed {r.seed}: {word} "
                  f"({fmt_seconds(r.elapsed)})", file=sys.stderr)

        try:
            results = run_checks(plan, seeds, preset=args.preset, workers=args.workers,
                                 device=args.device, threads=threads,
                                 directory=args.runs_dir, on_result=progress)
        except ValueError as exc:  # the runs folder cannot take records
            raise UsageError(str(exc)) from None
    stats = [aggregate(sc.meta.id, args.preset,
                       [r.outcome() for r in results if r.scenario == sc.meta.id])
             for sc, _ in plan]
    if args.json:
        print(json.dumps({"runs": [_row_dict(r) for r in results],
                          "stability": [s.to_dict() for s in stats]},
                         indent=1, default=str))
    else:
        print(format_rows(results))
        if len(seeds) > 1:
            for s in stats:
                print()
                print(format_stability(s))
    if any(r.status in ("failed", "diverged") for r in results):
        return EXIT_RUN_FAILED
    failed = any(r.verdict is None or not r.verdict.passed for r in results)
    return EXIT_CHECK_FAILED if failed else EXIT_OK


def _one_at_a_time(plan, seeds, args, threads) -> list[SeedResult]:
    from paramlab.console.cli.progress import run_and_watch
    from paramlab.console.core.runner import Runner

    runner = Runner(args.runs_dir)
    out = []
    for sc, params in plan:
        for seed in seeds:
            h = run_and_watch(runner, sc, params, args, seed=seed)
            out.append(SeedResult(sc.meta.id, args.preset, seed, h.status, h.verdict,
                                  h.reason, h.elapsed, str(h.path) if h.path else None))
    return out


def _row_dict(r: SeedResult) -> dict[str, Any]:
    return {"scenario": r.scenario, "preset": r.preset, "seed": r.seed, "status": r.status,
            "verdict": r.verdict.to_dict() if r.verdict else None, "reason": r.reason,
            "elapsed": round(r.elapsed, 3), "record": r.record}


def format_rows(results: list[SeedResult]) -> str:
    body = [(r.scenario, r.preset, r.seed, r.verdict.label if r.verdict else r.status,
             r.verdict.score if r.verdict else "-", fmt_seconds(r.elapsed),
             r.verdict.summary if r.verdict else r.reason) for r in results]
    lines = ["", grid(["scenario", "preset", "seed", "verdict", "criteria", "time", "summary"],
                      body, right=(2, 5), wrap=(4,), cut=(6,), min_widths={4: 12})]
    n_pass = sum(bool(r.verdict and r.verdict.passed) for r in results)
    lines.append(f"{n_pass} passed, {len(results) - n_pass} failed")
    return "\n".join(lines)


def format_stability(s: PresetStats) -> str:
    """Pass rate and per-criterion spread of one scenario and preset."""
    head = (f"{s.scenario} [{s.preset}] over {s.n} seeds: {s.n_passed}/{s.n} PASS"
            f"{f', {s.n_no_verdict} without verdict' if s.n_no_verdict else ''}  -> {s.word}"
            f" (stable needs one verdict on >= {s.needed}/{s.n})")
    head = wrapped("", head)
    if not s.criteria:
        return head
    rows = [(c.tier, c.name, f"{c.n_passed}/{c.n}", fmt_value(c.lo), fmt_value(c.median),
             fmt_value(c.hi), c.threshold) for c in s.criteria]
    return "\n".join([head, grid(["tier", "criterion", "passed", "min", "median", "max",
                                  "threshold"], rows, right=(2, 3, 4, 5), wrap=(1, 6),
                                 indent=2)])
