"""plotext (what the console uses) against textual-plot (a native Textual plotting widget)
for the interactive panel: the time one frame takes, and the features a paramlab panel
needs. Run by hand: `python bench/bench_plot_widgets.py [--reps 20]`.

plotext: the console's path for one frame -- `panel_data` (read + downsample the history),
`render_ansi` (plotext draws the panel, legend and notices) and `ansi_to_strips` -- all of
it off the UI thread. textual-plot: the same `panel_data` (so it gets the same downsampled
points), `clear()`, one `plot()` per series and `_render_plot()` (the work its `render()`
does on the UI thread), inside a running app of the same size.
textual-plot is not a paramlab dependency: install it by hand to compare
(`pip install textual-plot`); without it only the plotext column is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import time

SIZES = ((44, 14), (100, 30), (160, 45))
SERIES = 4
POINTS = 5000


def history():
    from paramlab.scenarios.base import Metric
    from paramlab.scenarios.history import History

    return History(Metric(t, {f"s{i}": (i + 1) / math.sqrt(t + 1) + 0.01 * math.sin(t)
                              for i in range(SERIES)}) for t in range(POINTS))


def plotext_frame(panel, hist, width: int, height: int) -> float:
    from paramlab.console.render.plotting import panel_data
    from paramlab.console.tui.widgets.plot_panel import ansi_to_strips, render_ansi

    t0 = time.perf_counter()
    data = panel_data(panel, [("", hist)], width=width, logy=panel.logy)
    job = (panel, data, width, height, "clear", None, panel.logy, 0.0, False)
    text, _ = render_ansi(job)
    ansi_to_strips(text, width, {})
    return time.perf_counter() - t0


def textual_plot_frames(panel, hist, size: tuple[int, int], reps: int) -> list[float]:
    from textual.app import App
    from textual_plot import PlotWidget

    from paramlab.console.render.plotting import panel_data

    times: list[float] = []

    class Bench(App):
        def compose(self):
            yield PlotWidget(id="p")

    async def go():
        app = Bench()
        async with app.run_test(size=size) as pilot:
            await pilot.pause(0.2)
            w = app.query_one(PlotWidget)
            for _ in range(reps):
                t0 = time.perf_counter()  # the same downsampled points as plotext gets
                data = panel_data(panel, [("", hist)], width=size[0], logy=panel.logy)
                w.clear()
                for s in data.series:
                    w.plot(s.xs, s.ys, label=s.label)
                w._render_plot()
                times.append(time.perf_counter() - t0)
                await pilot.pause(0)

    asyncio.run(go())
    return times


FEATURES = (  # (what a paramlab panel needs, plotext, textual-plot 0.10)
    ("log axes (27 of 31 scenarios have a log panel)", "yes", "no"),
    ("drawn off the UI thread (keys never wait on a frame)", "yes (drawing processes)",
     "no (render() on the UI thread)"),
    ("one distinct marker per series (NO_COLOR, colour-blind)", "yes", "no (lines only)"),
    ("legend outside the data area", "yes (below the frame)", "no (inside, a corner)"),
    ("same picture headless (run, replay, check)", "yes", "no (a widget only)"),
    ("zoom / pan with mouse or keys", "no (cursor readout instead)", "yes"),
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=20)
    args = ap.parse_args()
    from paramlab.scenarios.base import Panel

    hist = history()
    panel = Panel("loss", series=("s*",))
    try:
        import textual_plot  # noqa: F401
        have_tp = True
    except ImportError:
        have_tp = False
    print(f"{SERIES} series x {POINTS} points, median of {args.reps} frames (ms)")
    print(f"{'size':>8} {'plotext':>9} {'textual-plot':>13} {'ratio tp/plotext':>17}")
    for w, h in SIZES:
        plotext_frame(panel, hist, w, h)  # warm
        pe = statistics.median(plotext_frame(panel, hist, w, h) for _ in range(args.reps))
        if have_tp:
            tp = statistics.median(textual_plot_frames(panel, hist, (w, h), args.reps))
            print(f"{f'{w}x{h}':>8} {pe * 1e3:9.1f} {tp * 1e3:13.1f} {tp / pe:17.2f}")
        else:
            print(f"{f'{w}x{h}':>8} {pe * 1e3:9.1f} {'-':>13} {'-':>17}")
    if not have_tp:
        print("textual-plot not installed: pip install textual-plot to compare")
    print()
    print(f"{'feature':<58} {'plotext':<26} textual-plot")
    for what, pe, tp in FEATURES:
        print(f"{what:<58} {pe:<26} {tp}")


if __name__ == "__main__":
    main()
