"""RenderBridge: the latest-request-wins worker, handing each result to its callback in the GUI thread."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from ...latent.worker import LatestRequestWorker, OnResult


class RenderBridge(QObject):
    """Submit render jobs per key with a callback; the callback runs in the GUI thread.

    The worker's thread emits `_arrived(call)`; Qt queues it to this object's (the GUI) thread, where
    the worker decides whether the result is still wanted and calls its callback.
    """

    _arrived = Signal(object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._arrived.connect(self._run)
        self.worker = LatestRequestWorker(self._deliver)

    def _deliver(self, call: Callable[[], None]) -> None:
        try:
            self._arrived.emit(call)
        except RuntimeError:  # the bridge was deleted while a job ran: nobody is listening
            pass

    @Slot(object)
    def _run(self, call: Callable[[], None]) -> None:
        call()

    def submit(self, key: Hashable, job: Callable[[], Any], on_result: OnResult, *, progressive: bool = False) -> int:
        """Queue `job` on `key`, replacing the one waiting there; `on_result(value)` follows in the GUI thread."""
        return self.worker.submit(key, job, on_result, progressive=progressive)

    def discard(self, *keys: Hashable) -> None:
        """Drop every result asked for until now on `keys` (all keys when none are named)."""
        self.worker.discard(*keys)

    def stop(self) -> None:
        """End the worker thread (a running job finishes first; its result is not delivered)."""
        self.worker.stop()
