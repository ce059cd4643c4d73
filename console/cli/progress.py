"""Progress on stderr for the CLI: one line, redrawn in place on a TTY, printed every
~10% of the work otherwise (logs stay short)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from paramlab.console.cli.errors import UsageError
from paramlab.console.render.text import fmt_seconds, fmt_value, format_sweep_progress

if TYPE_CHECKING:
    from paramlab.console.core.sweeps import SweepProgress
    from paramlab.scenarios.base import Scenario


class _Line:
    """One status line on stderr: redrawn in place on a TTY; otherwise printed when its
    `key` (e.g. the decile of the work) changes, at the end, and every `every` seconds."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self._last_key: Any = object()
        self._last_print = 0.0

    def _emit(self, text: str, key: Any, final: bool, every: float | None = 10.0) -> None:
        if self.tty:
            self.stream.write("\r\x1b[2K" + text + ("\n" if final else ""))
            self.stream.flush()
            return
        now = time.monotonic()
        if final or key != self._last_key or (every and now - self._last_print > every):
            self._last_key = key
            self._last_print = now
            self.stream.write(text + "\n")
            self.stream.flush()


class ProgressLine(_Line):
    """A run's progress: step/total, elapsed, key metric; logs get a line per ~10%."""

    def update(self, handle, final: bool = False) -> None:
        step = handle.step
        if step is None and not final:  # nothing measured yet (imports, set-up)
            if self.tty:
                self._emit(f"{handle.scenario_id} [starting]  {fmt_seconds(handle.elapsed)}",
                           None, False)
            return
        total = handle.total
        key = handle.scenario.key_metric
        text = f"{handle.scenario_id} [{handle.status}] step "
        text += "-" if step is None else f"{step:g}"
        if total:
            text += f"/{total}"
        text += f"  {fmt_seconds(handle.elapsed)}"
        if key:  # "-" until the series has a value (an absent series is not a NaN)
            value = handle.history.last(key) if key in handle.history else None
            text += f"  {key}={fmt_value(value)}"
        decile = int(10 * (step or 0) / total) if total else None
        self._emit(text, decile, final, every=None if total else 10.0)


class SweepProgressLine(_Line):
    """A sweep's progress; logs get a line per ~10% of the points, per failure, or 10 s."""

    def update(self, pr: SweepProgress, final: bool = False) -> None:
        decile = int(10 * pr.finished / pr.total) if pr.total else 0
        self._emit(format_sweep_progress(pr), (decile, pr.failed), final)


class LiveView:
    """`run --live`: the panels redrawn in place on the terminal's alternate screen (the
    scrollback keeps nothing of the frames; the final panels are printed after). As
    many panels as fit the terminal at >= 12 rows each; more than that take turns every
    few seconds. Does nothing when stdout is not a terminal."""

    MIN_ROWS, TURN = 12, 4.0

    def __init__(self, scenario: Scenario, width: int | None, stream: TextIO | None = None
                 ) -> None:
        self.sc, self.width = scenario, width
        self.stream = stream or sys.stdout
        self.on = self.stream.isatty()
        self._t0 = time.monotonic()
        if self.on:
            self.stream.write("\x1b[?1049h\x1b[?25l")  # alternate screen, no cursor
            self.stream.flush()

    def frame(self, history) -> str:
        import shutil

        from paramlab.console.render.plotting import no_color, render_panel

        cols, rows = shutil.get_terminal_size((100, 30))
        width = min(self.width or cols, cols)
        panels = self.sc.panels
        fit = max(1, min(len(panels), (rows - 2) // self.MIN_ROWS))
        pages = -(-len(panels) // fit)
        page = int((time.monotonic() - self._t0) / self.TURN) % pages
        shown = panels[page * fit:(page + 1) * fit]
        height = max(self.MIN_ROWS, (rows - 2) // len(shown))
        head = f"live: {self.sc.meta.id if self.sc.meta else ''}"
        if pages > 1:
            first, last = page * fit + 1, page * fit + len(shown)
            head += (f"  panel {first}" if first == last else f"  panels {first}-{last}") \
                + f" of {len(panels)} (they take turns)"
        parts = [head] + [render_panel(p, history, width=width, height=height,
                                       color=not no_color()) for p in shown]
        return "\n".join("\n".join(parts).split("\n")[:rows - 1])

    def draw(self, history) -> None:
        if not self.on:
            return
        lines = self.frame(history).split("\n")
        self.stream.write("\x1b[H" + "\n".join(line + "\x1b[K" for line in lines)
                          + "\x1b[J")
        self.stream.flush()

    def close(self) -> None:
        if self.on:
            self.on = False
            self.stream.write("\x1b[?25h\x1b[?1049l")  # cursor back, normal screen
            self.stream.flush()


# ------------------------------------------------------------------ the command


def wait_out_interrupts(wait: Callable[[], object], what: str) -> None:
    """Call `wait()` (a cancelled run's or sweep's end) to its end, whatever Ctrl-C or
    SIGTERM arrives meanwhile: leaving early would exit the interpreter under a thread
    still inside torch (abort, exit 134, no footer). Each extra interrupt says why."""
    while True:
        try:
            wait()
            return
        except KeyboardInterrupt:
            print(f"paramlab: still stopping {what}: it ends at its next step, with its "
                  f"record closed (kill -9 to abandon it)", file=sys.stderr)


def run_and_watch(runner, sc: Scenario, params, args, *, seed: int, live: bool = False,
                   quiet: bool = False):
    """Start a run, show its progress line (and with `live` its panels) until it ends;
    Ctrl-C cancels it, keeps its record and re-raises."""
    from paramlab.console.core.inputs import parse_threads

    try:
        handle = runner.start(sc, params, preset=args.preset, seed=seed, device=args.device,
                              threads=parse_threads(args.threads))
    except ValueError as exc:  # e.g. cuda asked for but absent
        raise UsageError(str(exc)) from None
    progress = None if quiet else ProgressLine()
    view = LiveView(sc, args.width) if live else None
    if live and not view.on:
        print("paramlab: --live needs a terminal on stdout; the panels print at the end",
              file=sys.stderr)
    last_draw = 0.0
    try:
        while not handle.wait(0.1):
            if view is not None and time.monotonic() - last_draw > 0.5:
                last_draw = time.monotonic()
                view.draw(handle.history)
            if progress:
                progress.update(handle)
    except KeyboardInterrupt:
        if view is not None:
            view.close()
        handle.cancel()
        wait_out_interrupts(handle.wait, "the run")
        if progress:
            progress.update(handle, final=True)
        if handle.path:
            print(f"cancelled; record: {handle.path}", file=sys.stderr)
        raise
    if view is not None:
        view.close()
    if progress:
        progress.update(handle, final=True)
    return handle
