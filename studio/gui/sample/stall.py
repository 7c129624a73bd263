"""How long the event loop stalls: the lateness of a 10 ms QTimer while something keeps the UI busy.

`measure_stall` is generic (any action called at a steady rate); `sample_tab_stall` drags a
latent-direction slider of a loaded Sample tab back and forth while its renders run, the case the
"latest request wins" design is for. `studio bench` can call either.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
from PySide6.QtCore import QCoreApplication, QEventLoop, Qt, QTimer
from PySide6.QtWidgets import QSlider


@dataclass
class StallReport:
    """Lateness of the probe timer in milliseconds (how much later than asked each tick came)."""

    ticks: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    actions: int
    seconds: float

    def as_dict(self) -> dict:
        return asdict(self)


def measure_stall(duration_s: float = 3.0, action: Callable[[int], None] | None = None,
                  action_every_ms: int = 16, interval_ms: int = 10) -> StallReport:
    """Run the event loop for `duration_s` with an `interval_ms` timer, calling `action(i)` every
    `action_every_ms` ms (like mouse-move events of a drag); the timer's lateness percentiles."""
    if QCoreApplication.instance() is None:
        raise RuntimeError("measure_stall needs a running QApplication")
    gaps: list[float] = []
    last = [time.perf_counter()]
    count = [0]

    def tick() -> None:
        now = time.perf_counter()
        gaps.append((now - last[0]) * 1000.0 - interval_ms)
        last[0] = now

    def act() -> None:
        if action is not None:
            action(count[0])
            count[0] += 1

    probe = QTimer()
    probe.setTimerType(Qt.TimerType.PreciseTimer)
    probe.setInterval(interval_ms)
    probe.timeout.connect(tick)
    driver = QTimer()
    driver.setTimerType(Qt.TimerType.PreciseTimer)
    driver.setInterval(action_every_ms)
    driver.timeout.connect(act)
    loop = QEventLoop()
    stopper = QTimer()
    stopper.setSingleShot(True)
    stopper.setTimerType(Qt.TimerType.PreciseTimer)
    stopper.timeout.connect(loop.quit)
    start = time.perf_counter()
    last[0] = start
    probe.start()
    driver.start()
    stopper.start(int(duration_s * 1000))
    loop.exec()
    probe.stop()
    driver.stop()
    late = np.maximum(np.asarray(gaps or [0.0]), 0.0)
    return StallReport(len(gaps), float(np.percentile(late, 50)), float(np.percentile(late, 99)),
                       float(late.max()), count[0], time.perf_counter() - start)


def slider_drag(slider: QSlider, step: int = 7) -> Callable[[int], None]:
    """An action that sweeps `slider` back and forth across its range, as a hand dragging it would."""
    lo, hi = slider.minimum(), slider.maximum()
    span = max(1, hi - lo)

    def move(i: int) -> None:
        pos = (i * step) % (2 * span)
        slider.setValue(lo + (pos if pos <= span else 2 * span - pos))

    return move


def sample_tab_stall(tab, duration_s: float = 3.0) -> dict:
    """Drag the first direction slider of a loaded SampleTab for `duration_s`; stall and render figures."""
    if tab.method is None:
        raise RuntimeError("load a run into the Sample tab before measuring its stall")
    if tab.explorer.directions is None:
        tab.compute_directions()
        wait_until(lambda: tab.explorer.directions is not None, 120.0)
    worker = tab.renders.bridge.worker
    submitted, completed = worker.submitted, worker.completed
    report = measure_stall(duration_s, slider_drag(tab.selection.sliders[0]))
    worker.wait_idle(30.0)
    QCoreApplication.processEvents()
    return {**report.as_dict(), "render_requests": worker.submitted - submitted,
            "renders": worker.completed - completed}


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    """Process events until `condition()` holds or `timeout` seconds pass."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        if condition():
            return True
        time.sleep(0.005)
    return condition()
