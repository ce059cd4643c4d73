"""The bounded display history the console gives live runs (History(cap=...))."""

from __future__ import annotations

import math

from paramlab.console.core.runner import Runner
from paramlab.scenarios.base import Metric
from paramlab.scenarios.history import History


def test_a_capped_history_stays_bounded_and_keeps_spikes_and_the_last_point():
    h = History(cap=100)
    for t in range(10_000):
        y = 1000.0 if t == 4321 else -math.inf if t == 50 else math.nan if t == 777 \
            else float(t % 7)
        h.add(Metric(t, {"y": y}))
    xs, ys = h.series("y")
    assert h.decimated and len(xs) <= 100
    assert xs == sorted(xs) and xs[-1] == 9999 and ys[-1] == 9999 % 7
    assert 1000.0 in ys and -math.inf in ys  # extremes survive the compactions
    assert ys.count(6.0) > 10 and ys.count(0.0) > 10  # and so does the band in between
    assert h.version == 10_000 and h.last_step == 9999


def test_an_uncapped_history_keeps_every_point():
    h = History(Metric(t, {"y": float(t)}) for t in range(5000))
    assert not h.decimated and len(h.series("y")[0]) == 5000


def test_a_display_capped_run_is_checked_on_the_full_record(toy, runs):
    """The console keeps a bounded history for drawing; the claim check still sees
    every point (read back from the record)."""
    capped = Runner(runs).start(toy, {"steps": 3000}, seed=1, display_cap=64)
    full = Runner(runs).start(toy, {"steps": 3000}, seed=1)
    assert capped.wait(30) and full.wait(30)
    assert capped.history.decimated and len(capped.history.series("loss")[0]) <= 64
    assert capped.history.last("loss") == full.history.last("loss")
    assert capped.verdict.to_dict() == full.verdict.to_dict()
