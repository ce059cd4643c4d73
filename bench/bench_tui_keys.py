"""Key-to-screen latency of the console for the keys people press most, with 0, 2 and 8
runs going, on a 5-panel scenario.

    python bench/bench_tui_keys.py [--presses 20] [--rate 300] [--cells all]

Cells: tab switch (`2` <-> `3` at 100x30), panel flip (`]` at 80x24, one panel per page),
filter typing (a letter into the scenario filter at 100x30), each with 0 runs (a record
opened and replayed), 2 and 8 live runs (each emitting `--rate` metric events a second in
its own process). Latency = from the key event sent to the app until the first screen
update composed (and encoded as terminal output) after the key's effect is complete
(the tab shown with its panels' pictures; the page flipped and its panels drawn at
their size; the filter's text updated). Reports median, p95 and max per cell; target p95 < 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from paramlab.console.tui.app import ParamlabApp
from paramlab.scenarios.base import (
    Criterion,
    Metric,
    Panel,
    Paper,
    Params,
    Scenario,
    ScenarioMeta,
    Verdict,
    param,
)


@dataclass(frozen=True)
class StreamParams(Params):
    rate: int = param(300, range=(1, 100_000), help="metric events per second")
    seconds: float = param(600.0, range=(0.1, 3600.0), help="how long to emit")


def stream_run(p: StreamParams, ctx):
    t0, n = time.monotonic(), 0
    while n < p.rate * p.seconds and not ctx.should_stop():
        due = int(p.rate * (time.monotonic() - t0)) + 1
        while n < due:
            x = n / p.rate
            yield Metric(n, {"loss": math.exp(-x / 30) * (1.2 + math.sin(n / 50)),
                             "acc": 1 - math.exp(-x / 20), "grad": math.cos(n / 300),
                             "lr": 1e-3 * (1 + math.cos(n / 1000)), "width": 2.0 ** (n % 12),
                             "feat": 1 / (1 + n % 12)})
            n += 1
        time.sleep(0.01)


def stream_check(history, p) -> Verdict:
    return Verdict((Criterion.at_least("events", history.last_step or 0, 1),), "ok")


STREAM = Scenario(
    params=StreamParams, run=stream_run, check=stream_check,
    panels=(Panel("loss", series=("loss",), logy=True),
            Panel("accuracy", series=("acc",)),
            Panel("gradient", series=("grad",)),
            Panel("learning rate", series=("lr",), logy=True),
            Panel("feature movement vs width", series=("feat",), x="width", logx=True,
                  logy=True)),
    key_metric="loss",
    meta=ScenarioMeta(id="bench-stream", title="five panels streaming", theme="bench",
                      paper=Paper("none", "none", 2025), claim="-",
                      entry_point="bench_tui_keys:STREAM"))


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else math.nan


def make_record(directory: Path) -> Path:
    """A finished 5-panel record (2,000 steps) for the 0-runs cells."""
    from paramlab.console.core.execute import RunSpec, execute

    path = directory / "recorded.jsonl"
    params = STREAM.params.build({"rate": 20000, "seconds": 0.1})
    execute(RunSpec(STREAM, params, 0, "cpu", "default", "recorded", path))
    return path


async def cell(action: str, runs: int, presses: int, rate: int, record: Path,
               runs_dir: Path) -> list[float]:
    from textual import events

    size = (80, 24) if action == "flip" else (100, 30)
    app = ParamlabApp(runs_dir=runs_dir, scenarios=[STREAM], isolate=True,
                      open_paths=[] if runs else [record])
    displays: list[float] = []
    original = app._display

    def display(screen, renderable):
        original(screen, renderable)
        if renderable is not None:
            if hasattr(renderable, "render_segments"):
                renderable.render_segments(app.console)
            displays.append(time.monotonic())

    app._display = display  # type: ignore[method-assign]
    out: list[float] = []

    def send(key: str, char: str | None = None) -> None:
        ev = events.Key(key, char)
        ev.set_sender(app)
        app._driver.send_message(ev)

    async def until(cond, deadline: float) -> bool:
        while not cond():
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.001)
        return True

    async with app.run_test(size=size) as pilot:
        screen = app.screen
        items = []
        if runs:
            params = STREAM.params.build({"rate": rate})
            items = [app.launch(STREAM, params, seed=i) for i in range(runs)]
        await until(lambda: app.items and app.items[0].history.last_step, time.monotonic() + 30)
        await pilot.pause(1.0)
        plots = screen.plots

        def drawn() -> bool:
            return all(p._drawn is not None and p._drawn[1:] == p._wanted()[1:]
                       and not p._building for p in plots.visible_panels)

        if action == "filter":
            send("1", "1")
            await pilot.pause(0.3)
            send("slash", "/")
            await pilot.pause(0.3)
            from textual.widgets import Input

            box = screen.query_one("#filter", Input)
        else:
            send("2", "2")
            await pilot.pause(0.5)
        for i in range(presses):
            t0 = time.monotonic()
            if action == "tab":
                target = "tab-log" if screen.tabs.active == "tab-plots" else "tab-plots"
                send("3" if target == "tab-log" else "2", None)
                # the tab is shown with its panels' pictures (the last drawn: data that
                # came while the tab was hidden is drawn next, rate-limited)
                ok = await until(lambda target=target: screen.tabs.active == target and
                                 (target != "tab-plots" or all(
                                     p._strips for p in plots.visible_panels)), t0 + 5)
            elif action == "flip":
                page = plots.page
                send("right_square_bracket", "]")
                ok = await until(lambda page=page: plots.page != page and drawn(), t0 + 5)
            else:
                letter = "abcdefghijklmnopqrstuvwxyz"[i % 26]
                before = box.value
                send(letter, letter)
                ok = await until(lambda before=before: box.value != before, t0 + 5)
                if len(box.value) > 3:
                    box.value = ""
            done = time.monotonic()
            ok = ok and await until(lambda done=done: any(d >= done for d in displays[-20:]),
                                    t0 + 5)
            if ok:
                out.append(min(d for d in displays[-20:] if d >= done) - t0)
            await asyncio.sleep(0.3)
        for it in items:
            it.cancel()
        for it in items:
            await until(lambda it=it: it.finished, time.monotonic() + 20)
    return out


async def main_async(args) -> list[dict]:
    tmp = Path(tempfile.mkdtemp(prefix="paramlab-keys-"))
    record = make_record(tmp)
    rows = []
    actions = ["tab", "flip", "filter"] if args.cells == "all" else args.cells.split(",")
    for action in actions:
        for runs in (0, 2, 8):
            lat = await cell(action, runs, args.presses, args.rate, record, tmp / "runs")
            ms = [1000 * x for x in lat]
            rows.append({"action": action, "runs": runs, "presses": len(ms),
                         "median_ms": round(statistics.median(ms), 1) if ms else None,
                         "p95_ms": round(pct(ms, 0.95), 1) if ms else None,
                         "max_ms": round(max(ms), 1) if ms else None,
                         # (press index, ms) of the three slowest: a first-press or
                         # periodic outlier shows in where it falls
                         "slowest": sorted(enumerate(round(m) for m in ms),
                                           key=lambda x: -x[1])[:3]})
            print(json.dumps(rows[-1]), file=sys.stderr)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presses", type=int, default=20)
    ap.add_argument("--rate", type=int, default=300)
    ap.add_argument("--cells", default="all", help="all, or e.g. tab,flip")
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))  # worker processes load STREAM
    rows = asyncio.run(main_async(args))
    print(f"{'action':<8} {'runs':>4} {'n':>3} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}")
    for r in rows:
        print(f"{r['action']:<8} {r['runs']:>4} {r['presses']:>3} {r['median_ms']!s:>10} "
              f"{r['p95_ms']!s:>8} {r['max_ms']!s:>8}")
    print("target: p95 < 100 ms in every cell")


if __name__ == "__main__":
    main()
