"""Runs' logs read off the window's thread, one run after another, each handed over whole when read.

Each run is read into a fresh `ComparedRun` on a `BackgroundTask`'s thread (typed columns into bounded
curves: a 500,000-record log in a few seconds), with the GIL's switch interval shortened meanwhile as
for an opened run (`history.quick_gil_handoff`), so the window keeps serving input between blocks.
The window's thread only adopts the finished run: nothing it draws is written by another thread.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from ...runs.compared import ComparedRun
from ..history import quick_gil_handoff
from ..tasks import BackgroundTask


def _read(path: Path, colour: str, report) -> ComparedRun:
    with quick_gil_handoff():
        run = ComparedRun(path, colour)
        run.read(report)
        run.scan_grids()
    return run


class RunLoader(QObject):
    """Queue runs with `read(path, colour)`; each arrives as `loaded(run)` on the window's thread."""

    loaded = Signal(object)  # a ComparedRun read to the end of its log
    failed = Signal(str, str)  # path, why it could not be read
    progress = Signal(str, int, int)  # path, bytes read, bytes in all

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._queue: deque[tuple[Path, str]] = deque()
        self.task: BackgroundTask | None = None
        self.reading: Path | None = None
        self.paused = False  # the window is taking in a run just read: the next waits (see `pause`)

    @property
    def busy(self) -> bool:
        return self.task is not None or bool(self._queue)

    def read(self, path: Path, colour: str) -> None:
        self._queue.append((Path(path), colour))
        self._next()

    def drop(self, path: Path) -> None:
        """Forget `path`: taken off the queue, or its reading cancelled."""
        path = Path(path)
        self._queue = deque(item for item in self._queue if item[0] != path)
        if self.task is not None and self.reading == path:
            self.task.cancel()

    def pause(self) -> None:
        """Start no new reading until `resume()`: while the window makes charts and draws a run just read, a
        reader thread beside it made each of its hundreds of calls into Qt wait for the GIL (a chart took
        150-230 ms to make instead of 25)."""
        self.paused = True

    def resume(self) -> None:
        if self.paused:
            self.paused = False
            self._next()

    def cancel_all(self) -> None:
        self._queue.clear()
        if self.task is not None:
            self.task.cancel()

    def _next(self) -> None:
        if self.task is not None or not self._queue or self.paused:
            return
        path, colour = self._queue.popleft()
        self.reading = path
        # No parent: a task lives until its thread ends (tasks.py keeps it), even if the view goes first.
        task = BackgroundTask(lambda report: _read(path, colour, report), name="compare-read")
        task.progress.connect(lambda done, total: self.progress.emit(str(path), done, total))
        task.done.connect(self.loaded.emit)
        task.failed.connect(lambda message: self.failed.emit(str(path), message))
        task.finished.connect(self._on_finished)
        self.task = task
        task.start()

    def _on_finished(self) -> None:
        self.task, self.reading = None, None
        self._next()
