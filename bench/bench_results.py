"""Seed stability of every scenario, written to the results file the README and `show` read.

    python bench/bench_results.py [--ids ID,ID] [--presets quick,default] [--seeds 0-19]
                                  [--workers 2] [--readme-only]

Runs each scenario's presets over the seeds in worker processes (one thread each, also
for a scenario that declares more: the file holds one-core numbers, and a scenario's
declared threads are left out of its source hash), aggregates pass rates and
per-criterion min / median / max / mean / sd, and merges them into
`scenarios/results.json` with the source hash of the scenario's code (so a stale entry
shows). Then rewrites the README's scenario table
between its `results` markers from that file. Records go to a temporary folder.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from paramlab.console.core.checks import run_checks
from paramlab.console.core.inputs import parse_seeds
from paramlab.console.core.stability import (
    aggregate,
    entry,
    read_results,
    results_path,
    scenario_hash,
    write_results,
)
from paramlab.scenarios import all_meta, load

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"


def cell(results: dict, sid: str, preset: str) -> str:
    e = results.get(sid, {}).get(preset)
    if not e:
        return "not measured"
    stale = "" if e.get("source") == scenario_hash(sid) else " (stale: code changed since)"
    return f"{e['word']} {e['n_passed']}/{len(e['seeds'])}{stale}"


def readme_table(results: dict) -> str:
    """The README's scenario table: paper and claim from the catalog, the stability
    columns from the results file."""
    lines = ["| id | paper | quick, seeds 0-19 | default, seeds 0-19 |", "|---|---|---|---|"]
    for m in all_meta():
        link = f"[{m.paper.arxiv}](https://arxiv.org/abs/{m.paper.arxiv})" \
            if m.paper.arxiv else ""
        lines.append(f"| `{m.id}` | {m.paper.short}, {link} | {cell(results, m.id, 'quick')} "
                     f"| {cell(results, m.id, 'default')} |")
    return "\n".join(lines)


def write_readme(results: dict) -> None:
    text = README.read_text(encoding="utf-8")
    if START not in text or END not in text:
        sys.exit(f"README.md has no {START} ... {END} markers")
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    README.write_text(f"{head}{START}\n{readme_table(results)}\n{END}{tail}", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ids", default="", help="comma-separated ids (default: all)")
    ap.add_argument("--presets", default="quick,default")
    ap.add_argument("--seeds", default="0-19")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--readme-only", action="store_true",
                    help="only rewrite the README table from the results file")
    args = ap.parse_args()
    results = read_results()
    if not args.readme_only:
        ids = [s for s in args.ids.split(",") if s] or [m.id for m in all_meta()]
        seeds = parse_seeds(args.seeds)
        for sid in ids:
            sc = load(sid)
            for preset in args.presets.split(","):
                params = sc.make_params(preset)
                t0 = time.monotonic()
                with tempfile.TemporaryDirectory() as d:
                    res = run_checks([(sc, params)], seeds, preset=preset,
                                     workers=args.workers, threads=1, directory=d)
                outcomes = [r.outcome() for r in res]
                stats = aggregate(sid, preset, outcomes)
                results.setdefault(sid, {})[preset] = entry(stats, scenario_hash(sid),
                                                            params.to_dict(), outcomes)
                write_results(results)  # after each, so an interrupted bench keeps its work
                print(f"{sid} [{preset}] {stats.n_passed}/{stats.n} PASS -> {stats.word} "
                      f"({time.monotonic() - t0:.0f} s)", flush=True)
    write_readme(results)
    print(f"results: {results_path()}; README table rewritten")


if __name__ == "__main__":
    main()
