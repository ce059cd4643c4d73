"""The console under a fire-hose: N runs each emitting R metric events/s for S seconds.

    python bench/bench_tui.py [--runs 8] [--rate 5000] [--seconds 30] [--size 100x30]

The app runs headless (Textual's `run_test`) with the plots tab showing one run. While
the runs go, `y` is pressed every ~0.5 s. Reported:

- key-press-to-screen latency: from sending `y` until a screen update that contains the
  re-drawn panels has been composed and encoded as terminal output (the headless driver
  discards the bytes; we encode them anyway so the cost is counted), median and p95;
- redraw time per frame: time to draw one panel (plotext + conversion to strips);
- events dropped from records: events each run emitted minus event lines in its record
  (must be 0);
- achieved event rate, peak RSS, and RSS growth from the start of the runs to their end.

Targets (issue 3): p95 latency < 100 ms, RSS growth < 50 MB, 0 dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import resource
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
    Note,
    Panel,
    Paper,
    Params,
    Scenario,
    ScenarioMeta,
    Verdict,
    param,
)


@dataclass(frozen=True)
class HoseParams(Params):
    rate: int = param(5000, range=(1, 100_000), help="metric events per second")
    seconds: float = param(30.0, range=(0.1, 3600.0), help="how long to emit")


def hose_run(p: HoseParams, ctx):
    """Emit rate x seconds metric events, paced by the clock (in small batches)."""
    total = int(p.rate * p.seconds)
    t0 = time.monotonic()
    n = 0
    while n < total:
        due = min(total, int(p.rate * (time.monotonic() - t0)) + 1)
        while n < due:
            x = n / p.rate
            yield Metric(n, {"loss": math.exp(-x / 10) * (1.2 + math.sin(n / 50)),
                             "grad_norm": math.cos(n / 300)})
            n += 1
        if ctx.should_stop():
            break
        time.sleep(0.002)
    yield Note(f"emitted {n} metric events in {time.monotonic() - t0:.2f} s")


def hose_check(history, p: HoseParams) -> Verdict:
    n = len(history.series("loss")[0])
    return Verdict((Criterion.at_least("events seen by the check", n,
                                       int(p.rate * p.seconds)),), f"{n} events")


HOSE = Scenario(
    params=HoseParams, run=hose_run, check=hose_check,
    panels=(Panel("loss", series=("loss",), logy=True), Panel("grad norm",
                                                              series=("grad_norm",))),
    key_metric="loss", total_steps=lambda p: int(p.rate * p.seconds),
    meta=ScenarioMeta(id="bench-firehose", title="synthetic high-rate run", theme="bench",
                      paper=Paper("none", "none", 2025), claim="-",
                      entry_point="bench_tui:HOSE"))


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return math.nan


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else math.nan


async def bench(args) -> dict:
    from textual import events  # after the app's module, which sets TEXTUAL_FPS

    width, height = (int(v) for v in args.size.split("x"))
    runs_dir = Path(tempfile.mkdtemp(prefix="paramlab-bench-"))
    # isolated runs (child processes) as for registered scenarios; their processes load
    # HOSE by its entry point (this file's folder is on their sys.path)
    app = ParamlabApp(runs_dir=runs_dir, scenarios=[HOSE], isolate=not args.threads)
    displays: list[float] = []  # times of composed (and encoded) screen updates
    original = app._display

    def display(screen, renderable):
        original(screen, renderable)
        if renderable is not None:
            if hasattr(renderable, "render_segments"):
                try:
                    renderable.render_segments(app.console)  # what a terminal is sent
                except Exception as exc:
                    print("render_segments", repr(exc), file=sys.stderr)
            displays.append(time.monotonic())

    app._display = display  # type: ignore[method-assign]
    latencies: list[float] = []
    timeouts = 0
    phases: list[tuple[float, float, float]] = []
    rss: list[float] = []
    async with app.run_test(size=(width, height)) as pilot:
        await pilot.pause(0.5)
        rss_start = rss_mb()
        params = HOSE.params.build({"rate": args.rate, "seconds": args.seconds})
        items = [app.launch(HOSE, params, seed=i) for i in range(args.runs)]
        await pilot.pause(0.5)
        panels = app.screen.plots.visible_panels
        assert panels and app.screen.tabs.active == "tab-plots"
        next_rss = 0.0
        while not all(i.finished for i in items):
            now = time.perf_counter()
            if now >= next_rss:
                rss.append(rss_mb())
                next_rss = now + 1.0
            if any(not i.history.last_step for i in items[:1]):
                await asyncio.sleep(0.05)
                continue
            t0 = time.monotonic()
            before = [p.logy for p in panels]
            # as a terminal driver does (pilot.press would also wait for animations)
            key = events.Key("y", "y")
            key.set_sender(app)
            app._driver.send_message(key)  # flips log y on every panel: each must redraw
            deadline = t0 + 5.0
            while [p.logy for p in panels] == before and time.monotonic() < deadline:
                await asyncio.sleep(0.001)
            acted = time.monotonic()
            while not all(p._drawn and p._drawn[0][2] == p.logy for p in panels) \
                    and time.monotonic() < deadline:
                await asyncio.sleep(0.001)
            # panels draw while the screen update is composed, just before it is shown
            drawn = max(p._last_draw for p in panels)
            shown = None
            while shown is None and time.monotonic() < deadline:
                shown = min((d for d in displays[-50:] if d >= drawn), default=None)
                await asyncio.sleep(0.001)
            if shown is None:
                timeouts += 1
            else:
                latencies.append(shown - t0)
                phases.append((acted - t0, drawn - t0, shown - t0))
            await asyncio.sleep(0.5)
        rss.append(rss_mb())
        await pilot.pause(0.5)
        frames = list(app.frame_times)
    dropped = []
    rates = []
    for item in items:
        note = next((n for n in reversed(item.history.notes) if n.startswith("emitted")), "")
        emitted = int(note.split()[1]) if note else -1
        lines = 0
        with open(item.path) as fh:
            for line in fh:
                if '"kind":"event"' in line and '"type":"metric"' in line:
                    lines += 1
        dropped.append(emitted - lines)
        secs = float(note.split(" in ")[1].split()[0]) if note else math.nan
        rates.append(emitted / secs)
    return {
        "runs": args.runs, "rate_asked": args.rate, "seconds": args.seconds,
        "size": args.size,
        "achieved_rate_per_run_median": round(statistics.median(rates)),
        "achieved_rate_per_run_min": round(min(rates)),
        "statuses": sorted({i.status for i in items}),
        "verdicts_passed": sum(bool(i.verdict and i.verdict.passed) for i in items),
        "key_latency_ms_median": round(1000 * statistics.median(latencies), 1),
        "key_latency_ms_p95": round(1000 * pct(latencies, 0.95), 1),
        "key_presses": len(latencies),
        "key_latency_ms_worst5": [round(1000 * x) for x in sorted(latencies)[-5:]],
        "key_phases_ms_median": [round(1000 * statistics.median(x), 1) for x in zip(*phases)],
        "key_presses_not_shown_within_5s": timeouts,
        "frame_ms_median": round(1000 * statistics.median(frames), 1),
        "frame_ms_p95": round(1000 * pct(frames, 0.95), 1),
        "frames": len(frames),
        "dropped_events": dropped,
        "rss_start_mb": round(rss_start, 1),
        "rss_max_during_mb": round(max(rss), 1),
        "rss_growth_mb": round(max(rss) - rss_start, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "records": str(runs_dir),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=8)
    ap.add_argument("--rate", type=int, default=5000)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--size", default="100x30")
    ap.add_argument("--threads", action="store_true",
                    help="run the scenarios in threads of the app's process (the old way)")
    ap.add_argument("--switch-interval", type=float, default=None,
                    help="sys.setswitchinterval for the run (default: the app's own)")
    args = ap.parse_args()
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval)
    t0, c0 = time.perf_counter(), time.process_time()
    out = asyncio.run(bench(args))
    out["wall_s"] = round(time.perf_counter() - t0, 1)
    out["cpu_s"] = round(time.process_time() - c0, 1)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
