"""`paramlab sweep`: build or resume a sweep, run it with progress on stderr, print its
summary table and panels. The sweep itself is in `console/core/sweeps`."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from paramlab.console.cli.errors import (
    EXIT_CHECK_FAILED,
    EXIT_OK,
    EXIT_RUN_FAILED,
    UsageError,
    note_device,
)
from paramlab.console.cli.progress import SweepProgressLine, wait_out_interrupts
from paramlab.console.core.execute import CANCELLED, DIVERGED, DONE, FAILED
from paramlab.console.core.inputs import (
    load_scenario,
    parse_seeds,
    parse_sets,
    parse_threads,
)
from paramlab.console.core.sweeps import (
    MANIFEST,
    Sweep,
    SweepError,
    SweepPoint,
    SweepSpec,
    build_spec,
    expand,
    lock_folder,
    write_csv,
)
from paramlab.console.render.text import fmt_param, fmt_seconds, fmt_value


def format_summary(points: Sequence[SweepPoint], spec: SweepSpec, metric: str) -> str:
    """The summary table: point, swept values, seed, status, verdict, final metric, time,
    and why a point failed, diverged or was cancelled."""
    cols = ["#", "point", *spec.swept, "seed", "status", "verdict", metric or "metric",
            "time", ""]
    body = []
    for p in points:
        v = p.final.get(metric)
        el = p.elapsed
        verdict = (p.verdict or "-") + (f" {p.score}" if p.score else "")
        reason = p.reason if p.status in (FAILED, DIVERGED, CANCELLED) else ""
        body.append([str(p.index), p.id[:10],
                     *[fmt_param(p.overrides.get(n)) for n in spec.swept], str(p.seed),
                     p.status, verdict, "-" if v is None else fmt_value(v),
                     "-" if el is None else fmt_seconds(el), (reason or "")[:60]])
    widths = [max([len(c), *(len(r[i]) for r in body)]) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip()
             for row in [cols, *body]]
    return "\n".join(lines)


def _check_csv_path(path: Path) -> None:
    """Before any point runs: the summary's CSV file can be written there."""
    if path.is_dir():
        raise SweepError(f"--csv {path}: is a folder")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise SweepError(f"--csv {path}: its folder does not exist or is not writable")


def cmd_sweep(args: Any) -> int:
    from paramlab.console.core.executors import BackendError, make_executor

    # everything is checked before workers start, and workers start before the new
    # sweep's folder is made (a backend that fails leaves nothing behind)
    try:
        if args.workers is not None and args.workers < 1:
            raise SweepError("--workers: expected N >= 1")
        if args.dask and args.scheduler:
            raise SweepError("--dask starts a local cluster, --scheduler uses a running "
                             "one: give one of them")
        if args.workers is not None and args.scheduler:
            raise SweepError("--workers: a cluster's size is set where its workers start "
                             "(dask worker --nworkers N); drop --workers")
        if args.resume:
            given = [flag for flag, on in (("ID", args.id), ("--grid", args.grid),
                                           ("--random", args.random), ("--set", args.sets),
                                           ("--sweep-dir", args.sweep_dir)) if on]
            if given:
                raise SweepError(f"--resume continues a sweep as it was made; drop "
                                 f"{', '.join(given)}")
            sweep = Sweep.open(args.resume)
            lock_folder(sweep.directory).close()  # busy: say so before starting workers
        else:
            if not args.id:
                raise SweepError("sweep: name a scenario id (or --resume DIR)")
            sc = load_scenario(args.id)
            note_device(sc, args.device)
            spec = build_spec(sc, preset=args.preset, sets=parse_sets(args.sets),
                              grid=args.grid, random_dims=args.random, samples=args.samples,
                              sweep_seed=args.sweep_seed, seeds=parse_seeds(args.seeds),
                              device=args.device, metric=args.metric or "",
                              threads=parse_threads(args.threads))
            expand(spec, sc)  # every point's params are valid
            Sweep.new_folder(args.sweep_dir, args.runs_dir)
        if args.csv:
            _check_csv_path(Path(args.csv))
        kind = "dask" if args.dask else "pool"
        executor = make_executor(kind, workers=args.workers, scheduler=args.scheduler)
    except (SweepError, BackendError) as exc:
        raise UsageError(str(exc)) from None
    if not args.resume:
        try:
            sweep = Sweep.create(spec, args.sweep_dir, runs=args.runs_dir)
        except (SweepError, OSError) as exc:
            executor.close()
            raise UsageError(str(exc)) from None
    metric = args.metric or sweep.spec.metric
    pr = sweep.progress()
    print(f"sweep {sweep.sweep_id}: {sweep.spec.scenario}, {pr.total} points "
          f"({pr.total - pr.pending - pr.running - pr.cancelled} already complete) "
          f"on {executor.name}; folder {sweep.directory}", file=sys.stderr)
    progress = SweepProgressLine()
    interrupted = False
    try:
        sweep.start(executor, retry_failed=args.retry_failed)
        try:
            while not sweep.wait(0.2):
                progress.update(sweep.progress())
        except KeyboardInterrupt:
            interrupted = True
            sweep.cancel()
            print("\ncancelling: stopping running points ...", file=sys.stderr)
            wait_out_interrupts(sweep.wait, "the sweep's running points")
    finally:
        executor.close()
    progress.update(sweep.progress(), final=True)
    if sweep.error:
        print(sweep.error, file=sys.stderr)
    points = sweep.snapshot()
    print(format_summary(points, sweep.spec, metric))
    if metric and not any(metric in p.final for p in points) and \
            any(p.status == DONE for p in points):
        print(f"warning: no point reported metric {metric!r}; known: "
              f"{', '.join(sweep.metric_names())}", file=sys.stderr)
    elif not args.no_plots:
        _print_panels(sweep, metric, args.width)
    if args.csv:
        write_csv(args.csv, points, sweep.spec)
        print(f"csv: {args.csv}")
    pr = sweep.progress()
    print(f"{pr.done} done ({pr.passed} PASS), {pr.failed} failed or diverged, "
          f"{pr.cancelled + pr.pending} not run; manifest {sweep.directory / MANIFEST}")
    if interrupted:
        print(f"continue with: paramlab sweep --resume {sweep.directory}", file=sys.stderr)
        raise KeyboardInterrupt
    if sweep.state != "finished":
        return EXIT_RUN_FAILED
    if pr.failed:
        return EXIT_RUN_FAILED
    return EXIT_OK if pr.passed == pr.total else EXIT_CHECK_FAILED


def _print_panels(sweep: Sweep, metric: str, width: int | None) -> None:
    from paramlab.console.render.plotting import no_color, render_panel
    from paramlab.console.render.text import format_table, terminal_width

    width = width or terminal_width()
    color = sys.stdout.isatty() and not no_color()
    for panel, hist in sweep.summary_panels(metric):
        print()
        print(render_panel(panel, hist, width=width, height=16, color=color))
        if panel.kind == "bars":
            t = hist.tables[panel.table]
            print(format_table(",".join(sweep.spec.swept) or "setting", t.rows, t.columns,
                               t.cells))
