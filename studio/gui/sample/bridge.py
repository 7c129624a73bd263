"""RenderBridge: the latest-request-wins worker, delivering results to the GUI thread as a signal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from ...latent.worker import LatestRequestWorker


class RenderBridge(QObject):
    """Submit render jobs per channel; `result(channel, request_id, value)` arrives in the GUI thread.

    The signal is emitted from the worker's thread, so Qt queues it to this object's (the GUI) thread.
    """

    result = Signal(str, int, object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.worker = LatestRequestWorker(self._deliver)

    def _deliver(self, channel: str, request_id: int, value: Any) -> None:
        try:
            self.result.emit(channel, request_id, value)
        except RuntimeError:  # the bridge was deleted while a job ran: nobody is listening
            pass

    def submit(self, channel: str, job: Callable[[], Any]) -> int:
        """Queue `job` on `channel`, replacing the one waiting there; returns its request id."""
        return self.worker.submit(channel, job)

    def latest_id(self, channel: str) -> int:
        return self.worker.latest_id(channel)

    def stop(self) -> None:
        """End the worker thread (a running job finishes first; its result is not delivered)."""
        self.worker.stop()
