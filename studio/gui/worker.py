"""Training on this window's QThread: `SessionRun`, the run controller's back-end for it.

The Trainer runs on a thread of its own (`TrainingThread`, thin: it only calls `Trainer.run`); its
subscriber (`EventBuffer`) only appends to a locked list, so the training loop never waits for the UI
and the UI is never flooded with per-event signals: the controller's QTimer drains the buffer 4 times
a second and the window draws the newest state. Control goes the other way, from the controller
straight to the trainer's thread-safe flags (pause, resume, stop, snapshot): one hop.
"""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QThread

from ..engine.events import Event, Images, Points, Status
from ..engine.state import RunState

PULL_MS = 250  # 4 Hz: the newest state, steadily; every wake-up of the GUI thread takes a core from training


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


class TrainingThread(QThread):
    """Runs one Trainer to the end or a stop; a failure becomes an ERROR status, never an exception."""

    def __init__(self, trainer: Any, buffer: EventBuffer) -> None:
        super().__init__()
        self.setObjectName("training")
        self.trainer, self.buffer = trainer, buffer
        self.state: RunState | None = None  # the final state and message, once run() has returned
        self.message = ""

    def run(self) -> None:  # noqa: D102 - on the training thread
        state, message = RunState.ERROR, ""
        try:
            state = self.trainer.run()
            message = self.trainer.message
        except BaseException as exc:  # noqa: BLE001 - a dead thread must still say why
            message = f"the training thread failed: {type(exc).__name__}: {exc}"
            self.buffer(Status(self.trainer.step, RunState.ERROR, message))
        self.state, self.message = state, message


class SessionRun:
    """Training on this window's QThread: the Trainer, its thread and its event buffer, controlled directly."""

    trains, can_pause, poll_ms = True, True, PULL_MS

    def __init__(self, controller: Any, config: Any, run_dir: str | Path, dataset: Any = None, resume: bool = False,
                 lr_scale: float = 1.0, extra_subscribers: tuple = (), lock: Any = None) -> None:
        from ..engine.trainer import Trainer

        self.controller = controller
        self.run_dir = Path(run_dir)
        self.lock = lock  # the run directory's writer lock (studio/engine/runlock.py), held until the thread ends
        self.buffer = EventBuffer()
        self.trainer = Trainer(config, run_dir=run_dir, dataset=dataset, subscribers=(self.buffer, *extra_subscribers),
                               resume=resume, lr_scale=lr_scale)
        self.thread = TrainingThread(self.trainer, self.buffer)
        self.thread.finished.connect(self._on_thread_finished)
        self._device_text = ""
        self._ended = False

    @property
    def total_steps(self) -> int:
        return self.trainer.config.steps  # the run's own: known from its epochs once the data is open

    def start(self) -> None:
        self.thread.start()

    def is_alive(self) -> bool:
        return self.thread.isRunning()

    is_running = is_alive

    def poll(self) -> list:
        return self.buffer.drain()

    def state(self) -> tuple[RunState, str]:
        """The trainer's state now (STARTING until it says otherwise) and why it ended early, if it says."""
        trainer = self.trainer
        return (RunState.STARTING if trainer.state is RunState.IDLE else trainer.state), trainer.reason

    def pause(self) -> None:
        self.trainer.pause()

    def resume(self) -> None:
        self.trainer.resume()

    def stop(self) -> None:
        self.trainer.stop()

    def stop_and_wait(self, wait_ms: int = 60_000) -> bool:
        """Stop, then block until the trainer has saved its checkpoint and the thread has ended."""
        self.stop()
        ok = self.thread.wait(wait_ms)
        if ok:
            QCoreApplication.sendPostedEvents(self.thread)  # the queued finished signal, now
            self._on_thread_finished()
        return ok

    def device_text(self) -> str:
        # Described once, when the trainer has chosen its device (the status bar asks on every poll).
        if not self._device_text and self.trainer.device is not None:
            from ..engine.device import describe_device

            self._device_text = describe_device(self.trainer.device)
        return self._device_text

    def snapshot(self) -> dict[str, Any] | None:
        """The trainer's weights for the Sample tab (None before setup)."""
        return self.trainer.snapshot()

    def release(self) -> None:
        pass  # the run ends by itself (stop first): nothing to let go of

    def _on_thread_finished(self) -> None:
        if self._ended:
            return
        self._ended = True
        if self.lock is not None:
            self.lock.release()  # before the end is told: a slot may continue the same run at once
        state = self.thread.state or self.trainer.state
        message = self.thread.message if self.thread.state is not None else self.trainer.message
        self.controller._on_backend_ended(state, message, self)
