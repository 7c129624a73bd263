"""Garbage collection on the GUI thread only.

Python's cyclic collector runs in whichever thread happens to allocate when a threshold trips. When
that is a worker thread (a dataset load, a checkpoint read for the Sample tab, the training thread)
and the garbage holds Qt objects, Qt destroys GUI objects off the GUI thread and the process can
crash: the tests saw a segmentation fault in a checkpoint load on a background task. So while the
window exists, automatic collection is off and the GUI thread collects on a timer, one generation
at a time when its count passes its threshold, as the automatic collector would.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QThread, QTimer

INTERVAL_MS = 500

_timer: QTimer | None = None


def collect_if_due() -> int | None:
    """Collect the oldest generation whose count is past its threshold; returns it (None if none was due)."""
    thresholds, counts = gc.get_threshold(), gc.get_count()
    for generation in (2, 1, 0):
        if thresholds[generation] and counts[generation] > thresholds[generation]:
            gc.collect(generation)
            return generation
    return None


def collect_on_gui_thread() -> bool:
    """Turn automatic collection off and collect on a GUI-thread timer instead (idempotent); False without an app."""
    global _timer
    app = QCoreApplication.instance()
    if app is None or QThread.currentThread() is not app.thread():
        return False
    try:
        alive = _timer is not None and _timer.parent() is app
    except RuntimeError:  # the application it belonged to was destroyed
        alive = False
    if not alive:
        _timer = QTimer(app)
        _timer.setInterval(INTERVAL_MS)
        _timer.timeout.connect(collect_if_due)
        _timer.start()
    gc.disable()
    return True


def freeze_start_up() -> int:
    """Move every object alive now out of the collector's sight (`gc.freeze`); returns how many.

    Called once the window's slower set-up is done: torch, the methods and the widgets live as long as
    the process, yet every full collection walked them; the window's first collections after start-up
    held 514,000 and 320,000 objects and took 380-470 ms under load (docs/BENCHMARKS.md), whatever the
    user was doing then. Now the one collection that frees start-up's garbage runs here, while the set-up
    (seconds of importing torch) is still under way, and what survives it is never walked again; garbage
    made later is collected as before.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
