from __future__ import annotations

import math

import numpy as np

from paramlab.console.render.plotting import (
    downsample,
    ema_debiased,
    panel_series,
    panel_xs,
    render_panel,
)
from paramlab.scenarios.base import Metric, Panel, Table
from paramlab.scenarios.history import History


def make_history(n=5000, fn=lambda t: 1.0 / (t + 1)):
    return History(Metric(t, {"loss": fn(t)}) for t in range(n))


def test_long_series_are_downsampled_to_about_twice_the_width():
    h = make_history(5000)
    series, _ = panel_series(Panel("l", series=("loss",)), [("", h)], n_out=160)
    assert len(series[0].xs) <= 160
    assert series[0].xs[0] == 0 and series[0].xs[-1] == 4999  # endpoints kept
    assert len(h.series("loss")[0]) == 5000  # the history keeps everything


def test_downsampling_keeps_the_extremes():
    xs = list(range(1000))
    ys = [0.0] * 1000
    ys[437] = 9.0
    _, dy = downsample(np.asarray(xs, dtype=float), np.asarray(ys), 50)
    assert 9.0 in dy.tolist() and len(dy) <= 50


def test_non_positive_values_on_log_y_are_masked_with_a_notice():
    h = make_history(20, fn=lambda t: t - 5.0)  # -5 .. 14
    series, notices = panel_series(Panel("l", series=("loss",), logy=True), [("", h)])
    assert min(series[0].ys) > 0
    assert notices == ["6 values <= 0 hidden on log y"]
    text = render_panel(Panel("l", series=("loss",), logy=True), h, width=60, height=12)
    assert "hidden on log y" in text


def test_all_non_positive_on_log_y_draws_an_empty_panel_not_a_crash():
    h = make_history(10, fn=lambda t: -1.0)
    text = render_panel(Panel("neg", series=("loss",), logy=True), h, width=60, height=10)
    assert "no data yet" in text


def test_ema_debiased_matches_tensorboard():
    ys = [1.0, 2.0, 3.0]
    w = 0.5
    # last_0 = 0.5, debias 0.5 -> 1.0; last_1 = 0.25+1 = 1.25, /0.75; last_2 = 0.625+1.5
    assert ema_debiased(ys, w) == [1.0, 1.25 / 0.75, 2.125 / 0.875]
    assert ema_debiased([1.0, math.nan, 1.0], 0.9)[2] == 1.0


def test_x_axis_can_be_another_metric():
    h = History(Metric(i, {"width": 2.0**i, "loss": 1.0 / 2**i}) for i in range(6))
    series, _ = panel_series(Panel("w", series=("loss",), x="width", logx=True), [("", h)])
    assert series[0].xs == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0]


def test_bars_panel_draws_the_table_categories():
    h = History([Table("merge", ["TA", "TIES"], ["task1", "task2"], [[0.9, 0.8], [0.7, 0.6]])])
    text = render_panel(Panel("merge", kind="bars", table="merge"), h, width=70, height=15)
    assert "task1" in text and "TIES" in text


def test_overlay_labels_each_run():
    a, b = make_history(10), make_history(10, fn=lambda t: 2.0)
    series, _ = panel_series(Panel("l", series=("loss",)), [("run1 ", a), ("run2 ", b)])
    assert [s.label for s in series] == ["run1 loss", "run2 loss"]


# ------------------------------------------------------------ panels that are always right

from paramlab.console.render.plotting import (  # noqa: E402
    fit_title,
    log_ticks,
    nice_ticks,
    to_ascii,
)


def frame(text: str) -> tuple[list[str], int, int]:
    """The lines of a drawn panel and the rows of its frame's top and bottom."""
    lines = text.split("\n")
    top = next(i for i, line in enumerate(lines) if "┌" in line)
    bottom = next(i for i, line in enumerate(lines) if "└" in line)
    return lines, top, bottom


def y_ticks(text: str) -> list[str]:
    lines, top, bottom = frame(text)
    return [line.split("┤")[0].strip() for line in lines[top:bottom + 1] if "┤" in line]


def x_tick_count(text: str) -> int:
    lines, _, bottom = frame(text)
    return lines[bottom].count("┬")


def three_series(n=60):
    h = History()
    for t in range(1, n):
        h.add(Metric(t, {"a": 1 / t, "b": 2 / t**0.5,
                         "c": math.nan if t % 7 == 0 else 0.5 / t + 0.01}))
    return h


def test_a_title_that_does_not_fit_is_shortened_never_dropped():
    title = "final training loss against the width of the network, all parametrizations"
    for width in (40, 60, 80):
        text = render_panel(Panel(title, series=("a", "b"), logy=True), three_series(),
                            width=width, height=18)
        first = text.split("\n")[0]
        assert "final tr" in first and "~" in first and "[log y]" in first, (width, first)
    assert fit_title("short", ["log y"], 80) == "short [log y]"
    assert len(fit_title("x" * 200, ["log y", "ema 0.6"], 50)) <= 46


def test_every_axis_has_three_round_ticks_inside_the_frame():
    h = History(Metric(t, {"loss": 38.2 + 74.6 * t / 99}) for t in range(100))
    text = render_panel(Panel("l", series=("loss",)), h, width=70, height=18)
    ticks = y_ticks(text)
    assert len(ticks) >= 3 and x_tick_count(text) >= 3
    assert all(float(t) % 10 == 0 for t in ticks), ticks  # 40, 60, ... not 38.2, 75.5
    assert nice_ticks(38.2, 112.8) == [40, 60, 80, 100]
    assert nice_ticks(0.0, 1.0) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(0.14, 0.3) == [0.15, 0.2, 0.25, 0.3]


def test_a_narrow_log_axis_gets_power_ticks_inside_the_frame():
    h = History(Metric(t, {"w": 2.0**t, "loss": 0.3 - 0.016 * t}) for t in range(10))
    text = render_panel(Panel("final loss vs width", series=("loss",), x="w", logx=True,
                              logy=True), h, width=70, height=18)
    ticks = y_ticks(text)
    assert len(ticks) >= 3, text
    assert all("e-" in t for t in ticks), ticks  # powers: 1.5e-1, 2e-1, 3e-1
    assert x_tick_count(text) >= 3
    lines, top, bottom = frame(text)
    assert "1e-2" not in text and "1.0" not in lines[bottom + 1]
    assert log_ticks(1e-3, 1e2) == [1e-3, 1e-2, 1e-1, 1, 10, 100]
    assert len(log_ticks(0.14, 0.3)) >= 3


def test_legend_is_below_the_frame_with_a_distinct_marker_and_values_per_series():
    text = render_panel(Panel("l", series=("a", "b", "c")), three_series(), width=70,
                        height=20)
    lines, top, bottom = frame(text)
    legend = [line for line in lines[bottom + 1:] if "last" in line]
    assert [line[:2] for line in legend] == ["**", "++", "oo"]
    assert all("min" in line and "max" in line for line in legend)
    assert not any(" a " in line or "** a" in line for line in lines[top:bottom + 1])
    assert "8 NaN/inf points not drawn" in text  # c's gaps are said, not silent


def test_a_small_panel_packs_the_legend_and_keeps_the_notices():
    text = render_panel(Panel("l", series=("a", "b", "c"), logy=True), three_series(),
                        width=70, height=10)
    assert "** a  ++ b  oo c" in text and "NaN/inf" in text
    assert len(text.split("\n")) == 10


def test_bars_read_without_colour():
    h = History([Table("merge", ["TA", "TIES"], ["task1", "task2"], [[0.9, 0.8], [0.7, 0.6]])])
    text = render_panel(Panel("merge", kind="bars", table="merge"), h, width=70, height=18)
    lines, top, bottom = frame(text)
    body = "\n".join(lines[top:bottom])
    assert "#" in body and "=" in body  # each method its own fill
    assert any(line.startswith("## TA") and "0.9" in line for line in lines[bottom:])
    assert any(line.startswith("== TIES") and "0.6" in line for line in lines[bottom:])


def test_width_is_honoured_when_piped_and_dumb_terminals_get_ascii(monkeypatch):
    h = three_series()
    text = render_panel(Panel("l", series=("a",)), h, width=130, height=14)
    assert max(len(line) for line in text.split("\n")) == 130
    monkeypatch.setenv("TERM", "dumb")
    plain = render_panel(Panel("l", series=("a",)), h, width=60, height=14)
    assert all(ord(c) < 128 for c in plain)
    assert "+---" in plain and "|" in plain
    assert to_ascii("┌─┐│█⠿") == "+-+|#."


def test_a_cursor_draws_a_line_and_reads_every_series_at_full_resolution():
    h = History(Metric(t, {"a": 1.0 / (t + 1), "b": t / 1000}) for t in range(5000))
    panel = Panel("l", series=("a", "b"))
    text = render_panel(panel, h, width=60, height=16, cursor=1234)
    readout = [x for x in text.split("\n") if x.startswith(">")]
    # 1234 is not among the ~120 drawn (downsampled) points: the value is the history's
    assert readout == ["> step 1234:  * a 8.097e-04  + b 1.234"]
    lines, top, bottom = frame(text)
    assert sum("│" in x[4:-1] for x in lines[top + 1:bottom]) >= bottom - top - 3  # vline
    assert panel_xs(panel, [("", h)])[:3] == [0.0, 1.0, 2.0]
    many = History(Metric(0, {f"s{i}": float(i) for i in range(30)}) for _ in range(1))
    text = render_panel(Panel("m", series=("s*",)), many, width=60, height=30, cursor=0)
    readout = [x for x in text.split("\n") if x.startswith((">", " "))][:2]
    assert "more" in text and all(len(x) <= 60 for x in readout)
