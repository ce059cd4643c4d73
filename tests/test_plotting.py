from __future__ import annotations

import math

import numpy as np

from paramlab.console.render.plotting import downsample, ema_debiased, panel_series, render_panel
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
