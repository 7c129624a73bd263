"""The QThread bridge: the trainer runs on a worker thread; the UI pulls its events at a steady rate.

The trainer's subscriber (`EventBuffer`) only appends to a locked list, so the training loop never
waits for the UI and the UI is never flooded with per-event signals: a QTimer in the window drains
the buffer 4 times a second and draws the newest state. Control goes the other way through the
trainer's thread-safe flags (pause, resume, stop, snapshot).
"""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, Signal, Slot

from ..engine.events import Event, Images, Points, Status
from ..engine.state import RunState


class EventBuffer:
    """Thread-safe subscriber: keeps every scalar, metric and status, but only the newest grid (per name) and points."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[Event] = []
        self._latest: dict[str, Event] = {}
        self.received: Counter[str] = Counter()  # events seen per type, for diagnostics and selfcheck

    def __call__(self, event: Event) -> None:
        with self._lock:
            self.received[type(event).__name__] += 1
            if isinstance(event, Images):
                self._latest[f"images:{event.name}"] = event
            elif isinstance(event, Points):
                self._latest["points"] = event
            else:
                self._events.append(event)

    def drain(self) -> list[Event]:
        """Everything since the last drain: scalars, metrics and statuses in order, then the newest grids."""
        with self._lock:
            events, self._events = self._events, []
            latest, self._latest = list(self._latest.values()), {}
        return events + latest


class TrainingWorker(QObject):
    """Holds one Trainer and runs it when its thread starts; every other method is safe from the UI thread."""

    finished = Signal(RunState, str)  # final state, message

    def __init__(self, config: Any, run_dir: str | Path, dataset: Any = None, resume: bool = False,
                 lr_scale: float = 1.0, extra_subscribers: tuple = ()):
        super().__init__()
        from ..engine.trainer import Trainer

        self.buffer = EventBuffer()
        self.trainer = Trainer(config, run_dir=run_dir, dataset=dataset, subscribers=(self.buffer, *extra_subscribers),
                               resume=resume, lr_scale=lr_scale)

    @Slot()
    def run(self) -> None:
        """Train to the end or a stop (on the worker thread); errors become a Status, never an exception."""
        state, message = RunState.ERROR, ""
        try:
            state = self.trainer.run()
            message = self.trainer.message
        except BaseException as exc:  # noqa: BLE001 - a dead thread must still say why
            message = f"the training thread failed: {type(exc).__name__}: {exc}"
            self.buffer(Status(self.trainer.step, RunState.ERROR, message))
        finally:
            app = QCoreApplication.instance()
            if app is not None:
                self.moveToThread(app.thread())
            self.finished.emit(state, message)

    # --- control from the UI thread ---------------------------------------------------------------
    def pause(self) -> None:
        self.trainer.pause()

    def resume(self) -> None:
        self.trainer.resume()

    def stop(self) -> None:
        self.trainer.stop()

    def snapshot(self) -> dict[str, Any] | None:
        """The trainer's weights for the Sample tab (None before setup)."""
        return self.trainer.snapshot()

    @property
    def paused(self) -> bool:
        return self.trainer.paused

    @property
    def step(self) -> int:
        return self.trainer.step


class TrainingSession(QObject):
    """One training run on its own QThread, from start to a clean end; the window holds at most one."""

    ended = Signal(RunState, str)  # final state, message; emitted once the thread has finished

    def __init__(self, config: Any, run_dir: str | Path, dataset: Any = None, resume: bool = False,
                 lr_scale: float = 1.0, parent: QObject | None = None, extra_subscribers: tuple = (),
                 lock: Any = None):
        super().__init__(parent)
        self.config = config
        self.run_dir = Path(run_dir)
        self.lock = lock  # the run directory's writer lock (studio/engine/runlock.py), held until the thread ends
        self.worker = TrainingWorker(config, run_dir, dataset, resume, lr_scale, extra_subscribers)
        self.thread = QThread()
        self.thread.setObjectName("training")
        self.worker.moveToThread(self.thread)
        self.thread.started.connect(self.worker.run)
        # quit() is thread-safe; a direct connection lets the thread end even while the GUI waits on it.
        self.worker.finished.connect(self.thread.quit, Qt.ConnectionType.DirectConnection)
        self.worker.finished.connect(self._on_worker_finished)
        self.thread.finished.connect(self._on_thread_finished)
        self.final_state: RunState | None = None
        self.final_message = ""
        self._ended = False

    @property
    def buffer(self) -> EventBuffer:
        return self.worker.buffer

    def start(self) -> None:
        self.thread.start()

    def pause(self) -> None:
        self.worker.pause()

    def resume(self) -> None:
        self.worker.resume()

    def stop(self) -> None:
        self.worker.stop()

    def snapshot(self) -> dict[str, Any] | None:
        return self.worker.snapshot()

    def is_running(self) -> bool:
        return self.thread.isRunning()

    def stop_and_wait(self, msecs: int = 60_000) -> bool:
        """Stop, then block until the trainer has saved its checkpoint and the thread has ended."""
        self.stop()
        ok = self.thread.wait(msecs)
        if ok:
            QCoreApplication.sendPostedEvents(self)  # deliver the queued finished signal now
            self._on_thread_finished()
        return ok

    def _on_worker_finished(self, state: RunState, message: str) -> None:
        self.final_state, self.final_message = state, message

    def _on_thread_finished(self) -> None:
        if self._ended:
            return
        self._ended = True
        if self.lock is not None:
            self.lock.release()  # before `ended`: a slot may continue the same run at once
        if self.final_state is None:
            self.final_state, self.final_message = self.worker.trainer.state, self.worker.trainer.message
        self.ended.emit(self.final_state, self.final_message)
