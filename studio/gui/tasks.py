"""BackgroundTask: run one plain function in a QThread, with progress, cancel and one result.

Used for dataset loading, GIF export and the real-image grid of followed runs. The function gets a
`report(done, total)` callback; after `cancel()` the next report raises `Cancelled`, and a result
that still arrives after a cancel is dropped, so the UI never sees stale work.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, Signal, Slot

from ..errors import Cancelled  # raised inside a task's function at its next progress report after cancel()

Report = Callable[[int, int], None]


class _TaskWorker(QObject):
    progress = Signal(int, int)
    done = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    ended = Signal()

    def __init__(self, fn: Callable[[Report], Any], describe_error: Callable[[BaseException], str]):
        super().__init__()
        self._fn = fn
        self._describe_error = describe_error
        self.cancel_flag = threading.Event()
        self._last_report = 0.0

    def report(self, done: int, total: int) -> None:
        if self.cancel_flag.is_set():
            raise Cancelled()
        now = time.monotonic()
        # At most ~20 progress signals a second: a loader may report per file.
        if now - self._last_report >= 0.05 or done >= total > 0:
            self._last_report = now
            self.progress.emit(int(done), int(total))

    @Slot()
    def run(self) -> None:
        try:
            result = self._fn(self.report)
        except Cancelled:
            self.cancelled.emit()
        except Exception as exc:  # noqa: BLE001 - every failure becomes one readable message
            self.failed.emit(self._describe_error(exc))
        else:
            if self.cancel_flag.is_set():
                self.cancelled.emit()
            else:
                self.done.emit(result)
        finally:
            # Hand the object back to the GUI thread so it is destroyed there, then end the thread.
            app = QCoreApplication.instance()
            if app is not None:
                self.moveToThread(app.thread())
            self.ended.emit()


def _default_error(exc: BaseException) -> str:
    text = str(exc).strip()
    return text if text else type(exc).__name__


_LIVE: set[BackgroundTask] = set()  # keeps each task alive until its thread has ended


def live_tasks() -> list[BackgroundTask]:
    """Tasks whose threads have not ended yet (for a clean shutdown)."""
    return list(_LIVE)


class BackgroundTask(QObject):
    """One function run once on its own QThread; connect to the signals, then `start()`."""

    progress = Signal(int, int)
    done = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    finished = Signal()  # after any of done/failed/cancelled, once the thread has ended

    def __init__(self, fn: Callable[[Report], Any], parent: QObject | None = None, *,
                 describe_error: Callable[[BaseException], str] = _default_error, name: str = "task"):
        super().__init__(parent)
        self._thread = QThread()
        self._thread.setObjectName(name)
        self._worker = _TaskWorker(fn, describe_error)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        # quit() is thread-safe; a direct connection lets the thread end even while the GUI waits on it.
        self._worker.ended.connect(self._thread.quit, Qt.ConnectionType.DirectConnection)
        self._worker.progress.connect(self._on_progress)
        self._worker.done.connect(self._on_done)
        self._worker.failed.connect(self._on_failed)
        self._worker.cancelled.connect(self.cancelled)
        self._thread.finished.connect(self.finished)
        self._cancel_requested = False

    def start(self) -> None:
        _LIVE.add(self)
        self.finished.connect(lambda: _LIVE.discard(self))
        self._thread.start()

    def cancel(self) -> None:
        """Ask the function to stop at its next progress report; its result, if any, is dropped."""
        self._cancel_requested = True
        self._worker.cancel_flag.set()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel_requested

    def is_running(self) -> bool:
        return self._thread.isRunning()

    def wait(self, msecs: int = 30_000) -> bool:
        """Block until the thread has ended (True) or `msecs` passed (False)."""
        return self._thread.wait(msecs)

    def _on_progress(self, done: int, total: int) -> None:
        if not self._cancel_requested:
            self.progress.emit(done, total)

    def _on_done(self, result: object) -> None:
        if not self._cancel_requested:
            self.done.emit(result)

    def _on_failed(self, message: str) -> None:
        if not self._cancel_requested:
            self.failed.emit(message)
