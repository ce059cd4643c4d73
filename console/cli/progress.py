"""Progress on stderr for the CLI: one line, redrawn in place on a TTY, printed every
~10% of the work otherwise (logs stay short)."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any, TextIO

from paramlab.console.cli.errors import UsageError
from paramlab.console.render.text import fmt_seconds, fmt_value, format_sweep_progress

if TYPE_CHECKING:
    from paramlab.console.core.sweeps import SweepProgress
    from paramlab.scenarios.base import Scenario


class ProgressLine:
    """One line on stderr: step/total, elapsed, key metric. Redrawn in place on a TTY,
    printed every ~10% of the run otherwise (logs stay short)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        stream = self.stream
        self.tty = stream.isatty()
        self._last_decile = -1
        self._last_print = 0.0

    def update(self, handle, final: bool = False) -> None:
        step = handle.step
        if step is None and not final:
            return
        total = handle.total
        key = handle.scenario.key_metric
        text = f"{handle.scenario_id} [{handle.status}] step "
        text += "-" if step is None else f"{step:g}"
        if total:
            text += f"/{total}"
        text += f"  {fmt_seconds(handle.elapsed)}"
        if key:
            text += f"  {key}={fmt_value(handle.history.last(key))}"
        if self.tty:
            self.stream.write("\r\x1b[2K" + text + ("\n" if final else ""))
            self.stream.flush()
            return
        decile = int(10 * (step or 0) / total) if total else -1
        now = time.monotonic()
        if final or decile > self._last_decile or (not total and now - self._last_print > 10):
            self._last_decile = decile
            self._last_print = now
            self.stream.write(text + "\n")
            self.stream.flush()


class SweepProgressLine:
    """Progress on stderr: redrawn in place on a TTY, else printed every ~10% or 10 s."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self._last: tuple[int, int] | None = None
        self._last_print = 0.0

    def update(self, pr: SweepProgress, final: bool = False) -> None:
        text = format_sweep_progress(pr)
        if self.tty:
            self.stream.write("\r\x1b[2K" + text + ("\n" if final else ""))
            self.stream.flush()
            return
        decile = int(10 * pr.finished / pr.total) if pr.total else 0
        now = time.monotonic()
        key = (decile, pr.failed)
        if final or key != self._last or now - self._last_print > 10:
            self._last = key
            self._last_print = now
            self.stream.write(text + "\n")
            self.stream.flush()


# ------------------------------------------------------------------ the command


def run_and_watch(runner, sc: Scenario, params, args, *, seed: int, live: bool = False,
                   quiet: bool = False):
    """Start a run, show its progress line (and with `live` its panels) until it ends;
    Ctrl-C cancels it, keeps its record and re-raises."""
    from paramlab.console.core.inputs import parse_threads
    from paramlab.console.render.text import render_panels

    try:
        handle = runner.start(sc, params, preset=args.preset, seed=seed, device=args.device,
                              threads=parse_threads(args.threads))
    except ValueError as exc:  # e.g. cuda asked for but absent
        raise UsageError(str(exc)) from None
    progress = None if quiet else ProgressLine()
    last_draw = 0.0
    try:
        while not handle.wait(0.1):
            if progress:
                progress.update(handle)
            if live and time.monotonic() - last_draw > 0.5:
                last_draw = time.monotonic()
                sys.stdout.write("\x1b[H\x1b[2J" + render_panels(sc, handle.history,
                                                                 width=args.width) + "\n")
                sys.stdout.flush()
    except KeyboardInterrupt:
        handle.cancel()
        handle.wait()
        if progress:
            progress.update(handle, final=True)
        if handle.path:
            print(f"cancelled; record: {handle.path}", file=sys.stderr)
        raise
    if progress:
        progress.update(handle, final=True)
    return handle
