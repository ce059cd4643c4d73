"""A run's history: what `check` reads and what the plots draw.

Metric values are stored column-wise (one compact float array per series), so a long run
costs 16 bytes per point rather than a dict per event. The worker thread appends; other
threads read snapshots under a lock. Standard library only (imported by light paths).

A display history (`cap=N`, used by the console for live runs) holds at most N points per
series: when a series fills up, its older points are compacted to half by keeping the
minimum and maximum of each group of four (spikes and infinities survive; the newest
point is always kept exact). Such a history is for drawing only; `decimated` tells
when it no longer holds every point, and the runner then checks the claim on the full
history read back from the run's record.
"""

from __future__ import annotations

import math
import threading
from array import array
from collections.abc import Iterable

from .base import Event, Metric, Note, Table


class History:
    def __init__(self, events: Iterable[Event] = (), *, cap: int | None = None) -> None:
        if cap is not None and cap < 16:
            raise ValueError(f"cap: expected at least 16 points per series, got {cap}")
        self.cap = cap
        self.decimated = False  # True once a capped series dropped points
        self._lock = threading.Lock()
        self._steps: dict[str, array] = {}
        self._values: dict[str, array] = {}
        self.tables: dict[str, Table] = {}
        self.notes: list[str] = []
        self.version = 0  # bumps on every event; consumers redraw when it changed
        self.last_step: float | None = None
        for e in events:
            self.add(e)

    def add(self, event: Event) -> None:
        with self._lock:
            if isinstance(event, Metric):
                step = float(event.step)
                self.last_step = step
                for name, value in event.values.items():
                    xs = self._steps.get(name)
                    if xs is None:
                        xs = self._steps[name] = array("d")
                        self._values[name] = array("d")
                    xs.append(step)
                    self._values[name].append(float(value))
                    if self.cap is not None and len(xs) >= self.cap:
                        self._steps[name], self._values[name] = _compact(xs,
                                                                         self._values[name])
                        self.decimated = True
            elif isinstance(event, Table):
                self.tables[event.name] = event
            elif isinstance(event, Note):
                self.notes.append(event.text)
            self.version += 1

    def merge(self, columns: dict[str, tuple[array, array]], tables: Iterable[Table] = (),
              notes: Iterable[str] = (), n_events: int = 0,
              last_step: float | None = None) -> None:
        """Add a batch of events given column-wise ({series: (steps, values)}), as an
        isolated run's process sends them: one lock and one C-level extend per series."""
        with self._lock:
            for name, (steps, values) in columns.items():
                xs = self._steps.get(name)
                if xs is None:
                    xs = self._steps[name] = array("d")
                    self._values[name] = array("d")
                xs.extend(steps)
                self._values[name].extend(values)
                while self.cap is not None and len(self._steps[name]) >= self.cap:
                    self._steps[name], self._values[name] = _compact(self._steps[name],
                                                                     self._values[name])
                    self.decimated = True
            for t in tables:
                self.tables[t.name] = t
            self.notes.extend(notes)
            if last_step is not None:
                self.last_step = last_step
            self.version += n_events

    # ------------------------------------------------------------------ reading

    def names(self) -> list[str]:
        with self._lock:
            return list(self._steps)

    def series(self, name: str) -> tuple[list[float], list[float]]:
        """(steps, values) of one series; empty lists when it never appeared."""
        with self._lock:
            xs = self._steps.get(name)
            if xs is None:
                return [], []
            return xs.tolist(), self._values[name].tolist()

    def __contains__(self, name: str) -> bool:
        return name in self._steps

    def __len__(self) -> int:
        with self._lock:
            return len(self._steps[next(iter(self._steps))]) if self._steps else 0

    def last(self, name: str, default: float = math.nan) -> float:
        with self._lock:
            ys = self._values.get(name)
            return ys[-1] if ys else default

    def at(self, name: str, step: float, default: float = math.nan) -> float:
        """The value of `name` at the last recorded step <= `step`."""
        import bisect

        with self._lock:
            xs = self._steps.get(name)
            if not xs:
                return default
            i = bisect.bisect_right(xs, step) - 1
            return self._values[name][i] if i >= 0 else default

    def first_step_where(self, name: str, predicate) -> float | None:
        """The first step at which `predicate(value)` holds, or None."""
        xs, ys = self.series(name)
        for x, y in zip(xs, ys):
            if predicate(y):
                return x
        return None

    def paired(self, x_name: str, y_name: str) -> tuple[list[float], list[float]]:
        """Values of `y_name` against values of `x_name` logged at the same steps."""
        xs_s, xs_v = self.series(x_name)
        ys_s, ys_v = self.series(y_name)
        by_step = dict(zip(xs_s, xs_v))
        out_x, out_y = [], []
        for s, v in zip(ys_s, ys_v):
            if s in by_step:
                out_x.append(by_step[s])
                out_y.append(v)
        return out_x, out_y


def _compact(xs: array, ys: array) -> tuple[array, array]:
    """Halve a series: the min and max of each group of four points, in step order.
    Infinities count as extremes; a NaN is kept only where its group has nothing else
    (a NaN that always won would absorb its neighbours compaction after compaction).
    The newest point is kept as it is. Vectorised (numpy, imported only here): a live
    run's display history compacts every few thousand points, in the UI's process."""
    import numpy as np

    n = len(xs) - 1
    m = n - n % 4
    x = np.frombuffer(xs, dtype=np.float64)
    y = np.frombuffer(ys, dtype=np.float64)
    g = y[:m].reshape(-1, 4)
    nan = np.isnan(g)
    lo = np.argmin(np.where(nan, np.inf, g), axis=1)  # first index of the minimum
    hi = np.argmax(np.where(nan, -np.inf, g), axis=1)
    base = np.arange(0, m, 4)
    pairs = np.stack([base + np.minimum(lo, hi), base + np.maximum(lo, hi)], axis=1).ravel()
    keep = np.ones(pairs.size, dtype=bool)
    keep[1::2] = lo != hi
    idx = np.concatenate([pairs[keep], np.arange(m, len(xs))])
    return array("d", x[idx].tobytes()), array("d", y[idx].tobytes())
