"""A run's history read in bulk, into bounded curves: the Monitor tab's first view of an opened run.

`read_history` reads metrics.jsonl from the start in blocks of typed columns
(`engine.metrics_columns`), feeds each scalar's values to a bounded `Series` (min/max buckets), and
every `SNAPSHOT_SECONDS` hands a copy to `publish`, so the curves show within a moment and fill in
while the rest is read. It runs on a `BackgroundTask`'s thread for a long run (`run_control.FollowRun`);
the window's thread only adopts the finished curves (`MonitorTab.consume` of a `History`). No Qt here.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from .series import Series

# How often the curves of a history being read are handed over: each costs the window a repaint of
# every chart (hundreds of ms on a loaded 2-core machine: at 2 s the stall p99 was 90-100 ms, at 4 s 25-46 ms).
SNAPSHOT_SECONDS = 4.0
FIRST_VIEW_SECONDS = 0.5  # the first curves: enough of the run to see (its first block alone is a sliver)
PROGRESS_SECONDS = 0.5  # between them, how far the reading is (the header's percentage; no curves, no repaint)
RATE_PAIRS = 20  # the newest (step, training time) pairs kept for the speed and ETA
HANDOFF_SECONDS = 0.0005  # the GIL's switch interval while a history is read on a thread (Python's: 0.005)
BATCH_ROWS = 8192  # records gathered before the curves take them (fewer, larger vectorised steps)


@dataclass
class History:
    """What metrics.jsonl held up to byte `end`, as curves; `complete` once it was read to its end."""

    curves: dict[str, Series] = field(default_factory=dict)  # scalar name -> bounded curve
    metric_curves: dict[tuple[str, int], Series] = field(default_factory=dict)  # (metric, N) -> curve
    metrics: dict[tuple[str, int], tuple[int, float]] = field(default_factory=dict)  # newest (step, value)
    last_values: dict[str, float] = field(default_factory=dict)  # each scalar's newest value
    rate: list[tuple[int, float]] = field(default_factory=list)  # newest (step, training time) pairs
    notes: list[Any] = field(default_factory=list)  # Status("alert") events, in order
    records: int = 0  # scalar records read (each one a Scalars event when read line by line)
    step: int = 0
    done: int = 0  # bytes read, of `total`
    total: int = 0
    end: int = 0
    complete: bool = False
    error: str = ""  # why the history could not be read to its end
    progress_only: bool = False  # only how far the reading is: no curves (the ones shown stay)
    metric_extra: dict[tuple[str, int], dict] = field(default_factory=dict)  # (metric, N) -> its newest extra


class HistoryReader:
    """Takes blocks of columns into bounded curves; `snapshot()` is what the window is handed."""

    def __init__(self, total: int):
        self.history = History(total=total)
        self._waiting: dict[str, list[tuple]] = {}  # name -> (steps, values) not yet in its curve
        self._waiting_rows = 0

    def add(self, block: Any) -> None:
        """Take in one `MetricColumns` block."""
        from ..engine.events import Metric
        from ..engine.follow import record_to_event

        h = self.history
        for name, pair in block.scalars.items():
            self._waiting.setdefault(name, []).append(pair)
            h.last_values[name] = float(pair[1][-1])
        self._waiting_rows += block.rows
        if self._waiting_rows >= BATCH_ROWS:
            self._into_curves()
        if block.rows:
            h.records += block.rows
            h.step = max(h.step, int(block.steps.max()))
            newest = zip(block.steps[-RATE_PAIRS:].tolist(), block.times[-RATE_PAIRS:].tolist(), strict=True)
            h.rate = (h.rate + list(newest))[-RATE_PAIRS:]
        for record in block.records:  # evaluation figures and alerts: a few per thousand records
            event = record_to_event(record)
            if event is None:
                continue
            h.step = max(h.step, event.step)
            if isinstance(event, Metric):
                key = (event.name, event.n)
                curve = h.metric_curves.get(key)
                if curve is None:
                    curve = h.metric_curves[key] = Series()
                curve.append(event.step, event.value)
                h.metrics[key] = (event.step, event.value)
                h.metric_extra[key] = event.extra
            else:
                h.notes.append(event)
        h.end = h.done = block.end

    def expect_metrics(self, metrics_path: Any, tail_bytes: int = 1 << 16) -> None:
        """Start an empty curve for each evaluation figure the end of the log holds, so the first view
        of the history lays out its Evaluation chart at once (a chart added later re-lays-out every chart)."""
        from ..engine.events import Metric
        from ..engine.follow import record_to_event
        from ..engine.metrics_columns import read_columns

        # From a byte inside a line, that line's rest is no JSON record: it is skipped like a bad line.
        for block in read_columns(metrics_path, max(0, self.history.total - tail_bytes)):
            for record in block.records:
                event = record_to_event(record)
                if isinstance(event, Metric):
                    self.history.metric_curves.setdefault((event.name, event.n), Series())
                    self.history.metric_extra.setdefault((event.name, event.n), event.extra)

    def _into_curves(self) -> None:
        import numpy as np

        for name, pairs in self._waiting.items():
            curve = self.history.curves.get(name)
            if curve is None:
                curve = self.history.curves[name] = Series()
            curve.extend(np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs]))
        self._waiting.clear()
        self._waiting_rows = 0

    def snapshot(self, complete: bool = False, curves: bool = True) -> History:
        """A copy the reader no longer touches (the history itself once complete); without `curves`,
        only how far the reading is."""
        h = self.history
        if not curves:
            return History(records=h.records, step=h.step, done=h.done, total=h.total, end=h.end, progress_only=True)
        self._into_curves()
        if complete:
            h.complete = True
            return h
        return History({k: s.copy() for k, s in h.curves.items()}, {k: s.copy() for k, s in h.metric_curves.items()},
                       dict(h.metrics), dict(h.last_values), list(h.rate), list(h.notes), h.records, h.step,
                       h.done, h.total, h.end, metric_extra=dict(h.metric_extra))


def read_history(metrics_path: Any, report: Callable[[int, int], None] = lambda done, total: None,
                 publish: Callable[[History], None] = lambda history: None) -> History:
    """Read metrics.jsonl from its start into a complete `History` (partial ones go to `publish`).

    `report(done, total)` after each block (in bytes; a BackgroundTask's report raises to cancel).
    """
    from ..engine.metrics_columns import read_columns

    try:
        total = metrics_path.stat().st_size
    except OSError:
        total = 0
    reader = HistoryReader(total)
    reader.expect_metrics(metrics_path)
    began = time.monotonic()
    last_curves, last_progress = began + FIRST_VIEW_SECONDS - SNAPSHOT_SECONDS, began
    for block in read_columns(metrics_path):
        reader.add(block)
        report(min(block.end, total), total)
        now = time.monotonic()
        if now - last_curves >= SNAPSHOT_SECONDS:
            publish(reader.snapshot())  # half a second in, then every few seconds
            last_curves = last_progress = now
        elif now - last_progress >= PROGRESS_SECONDS:
            publish(reader.snapshot(curves=False))
            last_progress = now
    return reader.snapshot(complete=True)


_handoff_lock = threading.Lock()
_handoff_readers = 0
_handoff_saved = 0.005


@contextmanager
def quick_gil_handoff() -> Iterator[None]:
    """Shorten the GIL's switch interval while a reader thread parses (restored when the last one ends).

    PySide releases the GIL around each call into Qt, so while another thread runs Python non-stop,
    each of the window thread's calls can wait a whole switch interval (5 ms) to get it back: a
    repaint of a few hundred calls then stalls the window for a second. With 0.5 ms it does not.
    Only while a history loads, when no training shares this process (the window follows, not trains).
    """
    global _handoff_readers, _handoff_saved
    with _handoff_lock:
        if _handoff_readers == 0:
            _handoff_saved = sys.getswitchinterval()
            sys.setswitchinterval(HANDOFF_SECONDS)
        _handoff_readers += 1
    try:
        yield
    finally:
        with _handoff_lock:
            _handoff_readers -= 1
            if _handoff_readers == 0:
                sys.setswitchinterval(_handoff_saved)
