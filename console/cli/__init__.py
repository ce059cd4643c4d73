"""The `paramlab` command. Imports stay inside the commands so that `--help` and `list`
start without numpy, torch or textual."""

from __future__ import annotations

import argparse
import sys

from paramlab.console.cli.errors import (
    EPILOG,
    EXIT_BAD_INPUT,
    EXIT_CHECK_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_RUN_FAILED,
    UsageError,
)

__all__ = ["EXIT_BAD_INPUT", "EXIT_CHECK_FAILED", "EXIT_INTERRUPTED", "EXIT_OK",
           "EXIT_RUN_FAILED", "UsageError", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="paramlab", epilog=EPILOG,
        description="A lab console for the science of parameters: run a paper's "
                    "phenomenon, watch it, and check its claim.")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    s = sub.add_parser("list", help="list scenarios")
    s.add_argument("--json", action="store_true", help="machine-readable output")

    s = sub.add_parser("show", help="a scenario's paper, claim, params, presets and panels")
    s.add_argument("id")

    def run_options(s: argparse.ArgumentParser) -> None:
        s.add_argument("--preset", default="default", help="params preset (default, quick, ...)")
        s.add_argument("--set", dest="sets", action="append", default=[], metavar="NAME=VALUE",
                       help="override one param (repeatable)")
        s.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                       help="torch device for torch scenarios (auto: cuda when present)")
        s.add_argument("--runs-dir", default=None,
                       help="where records go (default ./runs or $PARAMLAB_RUNS)")
        s.add_argument("--threads", default=None, metavar="N",
                       help="BLAS/OpenMP/torch threads per run (default: 1, or what "
                            "OMP_NUM_THREADS & co. say, or what the scenario declares)")

    s = sub.add_parser("run", help="run a scenario, draw its panels and check its claim")
    s.add_argument("id")
    run_options(s)
    s.add_argument("--seed", default="0", help="random seed, an integer >= 0 (default 0)")
    s.add_argument("--live", action="store_true", help="redraw the plots while the run goes")
    s.add_argument("--no-record", action="store_true", help="do not write a run record")
    s.add_argument("--width", type=int, default=None, help="plot width (default: terminal)")

    s = sub.add_parser("replay", help="draw a recorded run and re-check its verdict")
    s.add_argument("path", help="a record, or a run id from `paramlab runs`")
    s.add_argument("--width", type=int, default=None, help="plot width (default: terminal)")
    s.add_argument("--runs-dir", default=None,
                   help="where to look up a run id (default ./runs or $PARAMLAB_RUNS)")

    s = sub.add_parser("watch", help="follow a run's record as it grows (e.g. over SSH), "
                                      "then re-check it")
    s.add_argument("path", nargs="?", default=None,
                   help="a record, or a runs folder to follow its newest record "
                        "(default ./runs or $PARAMLAB_RUNS)")
    s.add_argument("--interval", type=float, default=0.5, help="seconds between reads")
    s.add_argument("--width", type=int, default=None, help="plot width (default: terminal)")

    s = sub.add_parser("runs", help="table of recorded runs")
    s.add_argument("--runs-dir", default=None)
    s.add_argument("--json", action="store_true")

    s = sub.add_parser("check", help="run claim checks over scenarios and seeds")
    s.add_argument("ids", nargs="*", metavar="ID")
    s.add_argument("--all", action="store_true", help="every registered scenario")
    run_options(s)
    s.set_defaults(preset="quick")
    s.add_argument("--seeds", default="0", help="e.g. 0,1,2 or 0-4 (default 0)")
    s.add_argument("--workers", type=int, default=1,
                   help="run seeds in N processes (default 1: one at a time, with progress)")
    s.add_argument("--json", action="store_true",
                   help="print per-seed results and the stability summary as JSON")

    s = sub.add_parser("sweep", help="run a scenario over a grid or random set of params x "
                                     "seeds, locally in parallel or on a Dask cluster")
    s.add_argument("id", nargs="?", metavar="ID")
    run_options(s)
    s.add_argument("--grid", action="append", default=[], metavar="NAME=V1,V2,...",
                   help="values of one param (repeatable: the grid is their product)")
    s.add_argument("--random", action="append", default=[], metavar="NAME=LO:HI[:log]",
                   help="draw one param uniformly (or log-uniformly); needs --samples")
    s.add_argument("--samples", type=int, default=None, help="number of random draws")
    s.add_argument("--sweep-seed", type=int, default=0, help="seed of the random draws")
    s.add_argument("--seeds", default="0", help="run seeds, e.g. 0-4 (default 0)")
    s.add_argument("--metric", default=None,
                   help="final metric of the summary (default: the scenario's key metric)")
    s.add_argument("--workers", type=int, default=None,
                   help="worker processes (default: the number of cores)")
    s.add_argument("--dask", action="store_true", help="run on a Dask LocalCluster")
    s.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run on an existing Dask cluster, e.g. tcp://host:8786")
    s.add_argument("--sweep-dir", default=None,
                   help="the sweep's folder (default RUNS_DIR/sweeps/<sweep id>)")
    s.add_argument("--resume", default=None, metavar="DIR",
                   help="continue an interrupted sweep (finished points are not re-run)")
    s.add_argument("--retry-failed", action="store_true",
                   help="with --resume: re-run failed and diverged points too")
    s.add_argument("--csv", default=None, metavar="PATH", help="write the summary table")
    s.add_argument("--no-plots", action="store_true", help="print the table only")
    s.add_argument("--width", type=int, default=None, help="plot width (default: terminal)")

    s = sub.add_parser("new", help="write a scenario skeleton (module, test, catalog entry) "
                                   "that passes the contract test")
    s.add_argument("id", help="the scenario id, e.g. my-paper-effect")
    s.add_argument("--title", default="TODO: a one-line title")
    s.add_argument("--theme", default="TODO")
    s.add_argument("--paper", default="TODO: the paper's title")
    s.add_argument("--authors", default="TODO")
    s.add_argument("--year", type=int, default=2026)
    s.add_argument("--arxiv", default="")
    s.add_argument("--claim", default="TODO: the paper's claim, falsifiable, in one sentence")
    s.add_argument("--root", default=".", help="the source tree (default: here)")

    s = sub.add_parser("ui", help="the console (also: `paramlab` with no command)")
    s.add_argument("--runs-dir", default=None,
                   help="where records go (default ./runs or $PARAMLAB_RUNS)")

    s = sub.add_parser("open", help="open recorded runs in the console (replayed)")
    s.add_argument("paths", nargs="+", metavar="PATH", help="a record, or a folder of them")
    s.add_argument("--runs-dir", default=None,
                   help="where new records go (default ./runs or $PARAMLAB_RUNS)")
    return p


def _sigterm_is_interrupt() -> None:
    """SIGTERM (timeout, systemd, Slurm) stops a command as Ctrl-C does: runs are
    cancelled, their records get footers, the exit code is 130."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def _ignore_interrupts() -> None:
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


def main(argv: list[str] | None = None) -> int:
    from_cli = argv is None
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0].split("=")[0] == "--runs-dir":  # `paramlab --runs-dir D`: the console
        argv = ["ui", *argv]
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from importlib.metadata import version

        print(f"paramlab {version('paramlab')}")
        return EXIT_OK
    if args.command is None:  # the console; without a terminal, a one-line hint (exit 2)
        args = parser.parse_args(["ui"])
    from paramlab.console.cli import commands
    from paramlab.console.core.inputs import InputError

    handler = getattr(commands, f"cmd_{args.command}")
    _sigterm_is_interrupt()
    try:
        try:
            return handler(args)
        except InputError as exc:
            raise UsageError(str(exc)) from None
    except KeyboardInterrupt:
        if from_cli:  # the command line's process: more Ctrl-C must not kill its exit
            _ignore_interrupts()
        print("\nparamlab: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except UsageError as exc:
        for line in str(exc).splitlines() or ["bad input"]:
            print(f"paramlab: {line}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # `paramlab list | head`
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
