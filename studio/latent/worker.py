"""The latest request wins: one background thread, at most one pending job per channel.

A channel is one view that renders (the sample grid, the selected sample, the timeline frame).
Submitting to a channel that already has a job waiting replaces that job, so dragging a slider
never builds a backlog; every result comes back with its request id, so the caller can discard
results older than what it already shows. No Qt here: the GUI passes a `deliver` callback that
emits a queued signal.

The thread ends after IDLE_EXIT_SECONDS without work and a new one starts with the next job: a
thread that has run torch ops keeps a CPU thread team while it lives, which slows a training run
beside it (see studio.threads).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

Deliver = Callable[[str, int, Any], None]
IDLE_EXIT_SECONDS = 5.0


class LatestRequestWorker:
    """Runs submitted jobs one at a time on its own thread; a newer job replaces a waiting one."""

    def __init__(self, deliver: Deliver, name: str = "studio-render"):
        self._deliver = deliver
        self._cond = threading.Condition()
        self._pending: dict[str, tuple[int, Callable[[], Any]]] = {}
        self._latest: dict[str, int] = {}
        self._next_id = 1
        self._busy = False
        self._stopping = False
        self.submitted = 0
        self.dropped = 0  # replaced while waiting: never run
        self.completed = 0
        self.threads_started = 0
        self._name = name
        self._thread: threading.Thread | None = None

    def submit(self, channel: str, job: Callable[[], Any]) -> int:
        """Queue `job` on `channel`, replacing the one waiting there; returns its request id."""
        with self._cond:
            if self._stopping:
                return 0
            request_id = self._next_id
            self._next_id += 1
            if channel in self._pending:
                self.dropped += 1
            # Re-assigning an existing key keeps its place: the channel that waited longest runs first.
            self._pending[channel] = (request_id, job)
            self._latest[channel] = request_id
            self.submitted += 1
            if self._thread is None:  # none yet, or it ended when idle
                # Daemon: a render in flight must never keep the application from quitting.
                self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
                self.threads_started += 1
                self._thread.start()
            self._cond.notify()
            return request_id

    def latest_id(self, channel: str) -> int:
        """The id of the newest request submitted to `channel` (0 if none)."""
        with self._cond:
            return self._latest.get(channel, 0)

    def next_id(self) -> int:
        """The id the next request will get: results with smaller ids were asked for before now."""
        with self._cond:
            return self._next_id

    def is_idle(self) -> bool:
        """True when nothing is waiting or running."""
        with self._cond:
            return not self._pending and not self._busy

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until idle (for tests and exports); False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending and not self._busy, timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """Drop waiting jobs, let the running one finish, and end the thread."""
        with self._cond:
            self._stopping = True
            self.dropped += len(self._pending)
            self._pending.clear()
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    @property
    def running(self) -> bool:
        """True while the worker's thread is alive (it ends when stopped, and when idle for a while)."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def _loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._stopping, IDLE_EXIT_SECONDS)
                if self._stopping:
                    return
                if not self._pending:  # idle: end; submit() starts a new thread (decided under the lock)
                    self._thread = None
                    return
                channel = next(iter(self._pending))
                request_id, job = self._pending.pop(channel)
                self._busy = True
            try:
                try:
                    result = job()
                except Exception as exc:  # noqa: BLE001 - a job that raises must not kill the worker
                    result = exc
                with self._cond:
                    self.completed += 1
                    stopping = self._stopping
                if not stopping:
                    self._deliver(channel, request_id, result)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
