"""The CLI's commands (imported only after argument parsing)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from paramlab.console.cli.errors import (
    EXIT_CHECK_FAILED,
    EXIT_OK,
    EXIT_RUN_FAILED,
    UsageError,
    note_device,
)
from paramlab.console.core.inputs import (
    load_scenario,
    make_params,
    parse_seed,
)
from paramlab.console.render.text import fmt_param, fmt_seconds, grid, wrapped
from paramlab.scenarios import registry
from paramlab.scenarios.base import Scenario

# ------------------------------------------------------------------------ list / show


def cmd_list(args) -> int:
    metas = registry.all_meta()
    if args.json:
        print(json.dumps([{"id": m.id, "theme": m.theme, "title": m.title,
                           "paper": m.paper.title, "authors": m.paper.authors,
                           "year": m.paper.year, "arxiv": m.paper.arxiv,
                           "claim": m.claim} for m in metas], indent=2))
        return EXIT_OK
    print(grid(["id", "theme", "paper", "claim"],
               [(m.id, m.theme, m.paper.short, m.claim) for m in metas], cut=(1, 2, 3),
               min_widths={1: 8, 2: 12, 3: 20}))
    return EXIT_OK


def cmd_show(args) -> int:
    sc = load_scenario(args.id)
    m = sc.meta
    assert m is not None
    print(wrapped("", f"{m.id}: {m.title}"))
    arxiv = f", arXiv {m.paper.arxiv}" if m.paper.arxiv else ""
    print(wrapped("paper:   ", m.paper.title))
    print(wrapped("         ", f"{m.paper.authors} ({m.paper.year}{arxiv})"))
    print(wrapped("theme:   ", f"{m.theme}    status at toy scale: {sc.status or '-'}"))
    print(wrapped("claim:   ", m.claim))
    print(wrapped("paper reports: ", sc.paper_reports))
    _print_results(sc)
    print("\nparams:")
    print(grid(["name", "type", "default", "allowed", "meaning"],
               [(s.name, s.kind.__name__, fmt_param(s.default), s.allowed(), s.help)
                for s in sc.params.specs()], wrap=(4,), cut=(2,), indent=2))
    print("\npresets:")
    for name in sc.preset_names():
        values = sc.presets.get(name, {})
        text = ", ".join(f"{k}={v}" for k, v in values.items()) or "(the defaults above)"
        print(wrapped(f"  {name:<10} ", text))
    print("\npanels:")
    for p in sc.panels:
        axes = ", ".join(a for a, on in (("log x", p.logx), ("log y", p.logy)) if on)
        what = f"bars of table {p.table!r}" if p.kind == "bars" else ", ".join(p.series)
        print(wrapped("  ", f"{p.title}  [x: {p.x}{'; ' + axes if axes else ''}]  {what}"))
    if sc.notes:
        print("\nnotes:")
        for line in sc.notes.strip().splitlines():
            lead = len(line) - len(line.lstrip())
            print(wrapped("  " + " " * lead, line.strip()) if line.strip() else "")
    return EXIT_OK


def _print_results(sc: Scenario) -> None:
    """The claim check's stability over seeds and the paper's numbers beside ours, both
    from the results file that bench/bench_results.py writes."""
    from paramlab.console.core.stability import read_results, scenario_hash
    from paramlab.console.render.text import format_paper_table, format_stability_cells

    m = sc.meta
    assert m is not None
    results = read_results().get(m.id, {})
    fresh = all(e.get("source") == scenario_hash(m.id) for e in results.values())
    print("\nclaim check over seeds (scenarios/results.json):")
    for line in format_stability_cells(results, fresh):
        print(line.replace("--ids ID", f"--ids {m.id}"))
    default = results.get("default")
    print(f"\npaper vs paramlab (paramlab: default preset, mean +- sd over "
          f"{len(default['seeds']) if default else 0} seeds):")
    if sc.paper_rows:
        print(format_paper_table(sc.paper_rows, default))
    else:
        print("  the scenario declares no paper numbers (paper_rows) yet")


# ------------------------------------------------------------------------ run


def _exit_for(handle) -> int:
    if handle.status in ("failed", "diverged"):
        return EXIT_RUN_FAILED
    if handle.verdict is None or not handle.verdict.passed:
        return EXIT_CHECK_FAILED
    return EXIT_OK


def cmd_run(args) -> int:
    from paramlab.console.cli.progress import run_and_watch
    from paramlab.console.core.runner import Runner
    from paramlab.console.render.text import format_verdict, render_panels

    sc = load_scenario(args.id)
    params = make_params(sc, args.preset, args.sets)
    note_device(sc, args.device)
    runner = Runner(args.runs_dir, record=not args.no_record)
    handle = run_and_watch(runner, sc, params, args, seed=parse_seed(args.seed),
                            live=args.live)
    print(render_panels(sc, handle.history, width=args.width))
    for note in handle.history.notes:
        print(f"note: {note}")
    print()
    print(format_verdict(handle.verdict, sc, handle.status, handle.reason))
    if handle.error:
        print(handle.error, file=sys.stderr)
    if handle.path:
        print(f"record: {handle.path}")
    return _exit_for(handle)


# ------------------------------------------------------------------------ replay / runs


def cmd_replay(args) -> int:
    from paramlab.console.core.replay import (
        DIFFERS,
        INCOMPLETE,
        NOT_CHECKED,
        STILL_RUNNING,
        replay,
    )
    from paramlab.console.render.text import format_verdict, render_panels

    r = replay(resolve_record(args.path, getattr(args, "runs_dir", None)))
    rec, sc, h = r.record, r.scenario, r.record.header
    print(f"run {rec.run_id}  {rec.scenario}  seed {h.get('seed')}  preset "
          f"{h.get('preset', '?')}  device {h.get('device')}  started {h.get('started')}  "
          f"status {rec.status}")
    if rec.skipped:
        print(f"warning: skipped {rec.skipped} unreadable line(s); replaying the other "
              f"{rec.n_events} events", file=sys.stderr)
    print(render_panels(sc, r.history, width=args.width))
    for note in r.history.notes:
        print(f"note: {note}")
    print()
    if r.comparison == STILL_RUNNING:
        print(f"{r.note} {args.path}")
        return EXIT_OK
    if r.comparison == NOT_CHECKED:
        print(format_verdict(None, sc, rec.status, (rec.footer or {}).get("reason", "")))
        return EXIT_RUN_FAILED
    assert r.verdict is not None
    print(format_verdict(r.verdict, sc))
    if r.comparison == INCOMPLETE:
        print("note: the record has no footer (the run was interrupted); the verdict above "
              "is computed on the events recorded so far")
    elif r.comparison == DIFFERS:
        print("warning: the re-computed verdict differs from the recorded one",
              file=sys.stderr)
        return EXIT_CHECK_FAILED
    else:
        print("re-checked: same verdict as recorded")
    return EXIT_OK if r.verdict.passed else EXIT_CHECK_FAILED


def resolve_record(arg: str, runs: str | None) -> str:
    """A record's path from a path or a run id (RUNS/<id>.jsonl, or a sweep's)."""
    from pathlib import Path

    from paramlab.console.core.records import runs_dir

    p = Path(arg).expanduser()
    if p.exists() or "/" in arg or arg.endswith(".jsonl"):
        return arg
    d = runs_dir(runs)
    for cand in [d / f"{arg}.jsonl", *sorted(d.glob(f"sweeps/*/runs/{arg}.jsonl"))]:
        if cand.is_file():
            return str(cand)
    return arg  # replay names what is missing


def cmd_watch(args) -> int:
    """Follow a record until its footer arrives (then print it as `replay` does), or
    until its writer is gone without one (exit 3)."""
    import time
    from pathlib import Path
    from types import SimpleNamespace

    from paramlab.console.cli.progress import ProgressLine
    from paramlab.console.core.follow import ABANDONED, Follow, newest_record
    from paramlab.console.core.inputs import InputError
    from paramlab.console.core.records import RecordError, runs_dir

    if not 0.05 <= args.interval <= 60:
        raise InputError("--interval: expected seconds in [0.05, 60]")
    target = Path(args.path).expanduser() if args.path else runs_dir(None)
    try:
        path = newest_record(target) if target.is_dir() else target
        follow = Follow(path)
    except RecordError as exc:
        raise InputError(str(exc)) from None
    progress = ProgressLine()
    start = time.monotonic()
    sc = None
    try:
        while True:
            try:
                follow.poll()
            except RecordError as exc:
                raise InputError(str(exc)) from None
            rec = follow.record
            if rec is not None and sc is None:
                sc = load_scenario(rec.scenario)
                print(f"watching {path}: {rec.scenario}, seed {rec.header.get('seed')}, "
                      f"preset {rec.header.get('preset', '?')}", file=sys.stderr)
            if follow.finished:
                break
            state = follow.writer_state() if rec is not None else "starting"
            if sc is not None:
                params = sc.params.build(rec.header.get("params", {}))
                progress.update(SimpleNamespace(
                    step=follow.history.last_step, total=sc.total_steps(params),
                    scenario=sc, scenario_id=rec.scenario, history=follow.history,
                    status=state, elapsed=rec.last_t or 0.0))
            if state == ABANDONED:
                follow.poll()  # what it wrote last
                if not follow.finished:
                    print(f"\n{path}: the run's process is gone and its record has no "
                          f"footer (killed?); `paramlab replay {path}` shows what it recorded",
                          file=sys.stderr)
                    return EXIT_RUN_FAILED
                break
            if rec is None and time.monotonic() - start > 30:
                raise InputError(f"{path}: no header line after 30 s: not a run record")
            time.sleep(args.interval)
    finally:
        follow.close()
    print(file=sys.stderr)
    return cmd_replay(SimpleNamespace(path=str(path), width=args.width))


def cmd_runs(args) -> int:
    from paramlab.console.core.reading import record_rows
    from paramlab.console.core.records import runs_dir

    directory = runs_dir(args.runs_dir)
    rows = record_rows(directory)
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    if not rows:
        print(f"no records in {directory}")
        return EXIT_OK
    # result: the verdict of a run that finished, else its status (running, cancelled...)
    print(grid(["id", "scenario", "result", "started", "elapsed"],
               [(r["id"], r["scenario"],
                 r["verdict"] if r["status"] == "done" and r["verdict"] else r["status"],
                 (r["started"] or "-")[5:16].replace("T", " "),
                 fmt_seconds(r["elapsed"]) if r["elapsed"] is not None else "-")
                for r in rows], right=(4,), wrap=(1,), min_widths={1: 12}))
    print(f"({len(rows)} records in {directory})")
    return EXIT_OK


# ------------------------------------------------------------------------ check


def cmd_check(args) -> int:
    from paramlab.console.cli.check import cmd_check as check

    return check(args)


# ------------------------------------------------------------------------ sweep


def cmd_new(args) -> int:
    from paramlab.console.cli.new import cmd_new as new

    return new(args)


def cmd_sweep(args) -> int:
    from paramlab.console.cli.sweep import cmd_sweep as sweep

    return sweep(args)


# ------------------------------------------------------------------------ console (TUI)


def _run_console(runs_dir: str | None, paths: list[str]) -> int:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError("the console needs a terminal; in scripts use `paramlab run`, "
                         "`replay` or `runs` (see `paramlab --help`)")
    return console_frontend()(runs_dir, paths)


def console_frontend():
    """The console front-end, found by its entry point (group `paramlab.frontends`, name
    `console`): the CLI launches it without importing it (the front-ends are separate;
    textual is imported only once the console starts)."""
    from importlib.metadata import entry_points

    found = entry_points(group="paramlab.frontends", name="console")
    if not found:
        raise UsageError("no console front-end is installed (entry point "
                         "paramlab.frontends:console); reinstall paramlab")
    return next(iter(found)).load()


def cmd_ui(args) -> int:
    return _run_console(args.runs_dir, [])


def cmd_open(args) -> int:
    """Check the records before the console starts: a bad path is a one-line error."""
    from paramlab.console.core.reading import list_records, read_record
    from paramlab.console.core.records import RecordError

    paths: list[str] = []
    problems: list[str] = []
    for text in args.paths:
        path = Path(text)
        found = list_records(path) if path.is_dir() else [path]
        if not found:
            problems.append(f"{text}: no records in this folder")
        for p in found:
            try:
                read_record(p, header_only=True)
                paths.append(str(p))
            except RecordError as exc:
                problems.append(str(exc))
    if not paths:
        raise UsageError(problems[0] if len(problems) == 1 else
                         f"no readable record among {len(problems)} paths; first: "
                         f"{problems[0]}")
    for line in problems:  # the readable ones open; say which did not
        print(f"paramlab: skipped {line}", file=sys.stderr)
    return _run_console(args.runs_dir, paths)

