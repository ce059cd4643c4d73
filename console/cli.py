"""The `paramlab` command. Imports stay inside the commands so that `--help` and `list`
start without numpy, torch or textual."""

from __future__ import annotations

import argparse
import sys

EXIT_OK, EXIT_CHECK_FAILED, EXIT_BAD_INPUT, EXIT_RUN_FAILED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

EPILOG = """exit codes: 0 ok (and every claim check passed), 1 a claim check failed,
2 bad input (unknown scenario, bad parameter, missing or corrupt record),
3 a run failed or diverged, 130 interrupted (the run is cancelled, its record kept)."""


class UsageError(Exception):
    """Bad input: printed as one line, exit 2."""


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

    s = sub.add_parser("run", help="run a scenario, draw its panels and check its claim")
    s.add_argument("id")
    run_options(s)
    s.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    s.add_argument("--live", action="store_true", help="redraw the plots while the run goes")
    s.add_argument("--no-record", action="store_true", help="do not write a run record")
    s.add_argument("--width", type=int, default=None, help="plot width (default: terminal)")

    s = sub.add_parser("replay", help="draw a recorded run and re-check its verdict")
    s.add_argument("path")
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
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from importlib.metadata import version

        print(f"paramlab {version('paramlab')}")
        return EXIT_OK
    if args.command is None:
        parser.print_help()
        return EXIT_OK
    from . import commands

    handler = getattr(commands, f"cmd_{args.command}")
    try:
        return handler(args)
    except KeyboardInterrupt:
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
