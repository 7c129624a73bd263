"""TaskSlot: the one background task of its kind (a load, a direction search, an export)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject

from ..tasks import BackgroundTask, Report


class TaskSlot:
    """Holds the running task of one kind; empty again once the task's end has been handled."""

    def __init__(self, parent: QObject, name: str):
        self._parent, self._name = parent, name
        self.task: BackgroundTask | None = None

    def new(self, fn: Callable[[Report], Any]) -> BackgroundTask:
        """A task for `fn`, held here until it finishes: connect its signals, then `start()` it."""
        task = BackgroundTask(fn, self._parent, name=self._name)
        task.finished.connect(lambda: self._forget(task))
        self.task = task
        return task

    @property
    def busy(self) -> bool:
        """True from `new` until the task's end has been handled."""
        return self.task is not None

    def cancel(self) -> None:
        """Ask the running task to stop at its next progress report."""
        if self.task is not None:
            self.task.cancel()

    def shutdown(self) -> None:
        """Cancel the running task and wait for its thread to end."""
        if self.task is not None:
            self.task.cancel()
            self.task.wait(60_000)

    def _forget(self, task: BackgroundTask) -> None:
        if self.task is task:
            self.task = None
        task.deleteLater()
