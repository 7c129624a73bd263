"""The latest request wins: one background thread, at most one waiting job per key.

A key names one view that renders (the sample grid, the selected sample, the timeline frame, one
keyframe's thumbnail). Submitting a job on a key that already has one waiting replaces that job, so
dragging a slider never builds a backlog. Each job comes with the callback its result goes to, and
a result the view no longer wants is dropped before it gets there (see `submit`). No Qt here: the
GUI passes a `deliver` that hands each call over to its own thread through a queued signal.

The thread ends after IDLE_EXIT_SECONDS without work and a new one starts with the next job: a
thread that has run torch ops keeps a CPU thread team while it lives, which slows a training run
beside it (see studio.threads).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from functools import partial
from typing import Any

OnResult = Callable[[Any], None]  # gets what the job returned, or the exception it raised
Deliver = Callable[[Callable[[], None]], None]  # runs the call it is given on the thread that wants results
IDLE_EXIT_SECONDS = 5.0


def _call_here(call: Callable[[], None]) -> None:
    call()


class LatestRequestWorker:
    """Runs submitted jobs one at a time on its own thread; a newer job replaces a waiting one."""

    def __init__(self, deliver: Deliver = _call_here, name: str = "studio-render"):
        self._deliver = deliver
        self._cond = threading.Condition()
        self._pending: dict[Hashable, tuple[int, Callable[[], Any], OnResult, bool]] = {}
        self._latest: dict[Hashable, int] = {}  # the newest request per key
        self._shown: dict[Hashable, int] = {}  # the newest request per key whose result was delivered
        self._floor = 0  # results of requests below this were discarded on every key...
        self._key_floor: dict[Hashable, int] = {}  # ... or on this one
        self._next_id = 1
        self._busy = False
        self._stopping = False
        self.submitted = 0
        self.dropped = 0  # replaced or discarded while waiting: never run
        self.completed = 0
        self.stale = 0  # run, but no longer wanted when done: not delivered
        self.threads_started = 0
        self._name = name
        self._thread: threading.Thread | None = None

    def submit(self, key: Hashable, job: Callable[[], Any], on_result: OnResult, *, progressive: bool = False) -> int:
        """Queue `job` on `key`, replacing the one waiting there; `on_result` gets its result. Returns its id.

        A result is dropped when a newer result on the same key was delivered already, when `discard`
        came after the request, and (unless `progressive`) when a newer request on the key is on its way.
        A progressive view (a dragged selection, a scrubbed timeline) shows an in-between result: it is
        still a point on the user's path.
        """
        with self._cond:
            if self._stopping:
                return 0
            request_id = self._next_id
            self._next_id += 1
            if key in self._pending:
                self.dropped += 1
            # Re-assigning an existing key keeps its place: the key that waited longest runs first.
            self._pending[key] = (request_id, job, on_result, progressive)
            self._latest[key] = request_id
            self.submitted += 1
            if self._thread is None:  # none yet, or it ended when idle
                # Daemon: a render in flight must never keep the application from quitting.
                self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
                self.threads_started += 1
                self._thread.start()
            self._cond.notify()
            return request_id

    def discard(self, *keys: Hashable) -> None:
        """Forget what was asked for until now on `keys` (every key when none are named): waiting jobs
        never run and results on their way are dropped. For when the view shows something else now."""
        with self._cond:
            for key in keys or tuple(self._pending):
                if self._pending.pop(key, None) is not None:
                    self.dropped += 1
            if keys:
                for key in keys:
                    self._key_floor[key] = self._next_id
                    self._latest.pop(key, None)
                    self._shown.pop(key, None)
            else:
                self._floor = self._next_id
                self._key_floor.clear()
                self._latest.clear()
                self._shown.clear()
            self._cond.notify_all()

    def latest_id(self, key: Hashable) -> int:
        """The id of the newest request submitted on `key` (0 if none since it was discarded)."""
        with self._cond:
            return self._latest.get(key, 0)

    def is_idle(self) -> bool:
        """True when nothing is waiting or running."""
        with self._cond:
            return not self._pending and not self._busy

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until idle (for tests and exports); False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending and not self._busy, timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """Drop waiting jobs, let the running one finish (its result is not delivered), end the thread."""
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

    def _wanted(self, key: Hashable, request_id: int, progressive: bool) -> bool:
        """Decided where the result arrives (the GUI thread), so a request made meanwhile counts."""
        with self._cond:
            wanted = (not self._stopping and request_id >= max(self._floor, self._key_floor.get(key, 0))
                      and request_id > self._shown.get(key, 0)
                      and (progressive or request_id == self._latest.get(key)))
            if wanted:
                self._shown[key] = request_id
            else:
                self.stale += 1
            return wanted

    def _hand_over(self, key: Hashable, request_id: int, progressive: bool, on_result: OnResult, value: Any) -> None:
        if self._wanted(key, request_id, progressive):
            on_result(value)

    def _loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._stopping, IDLE_EXIT_SECONDS)
                if self._stopping:
                    return
                if not self._pending:  # idle: end; submit() starts a new thread (decided under the lock)
                    self._thread = None
                    return
                key = next(iter(self._pending))
                request_id, job, on_result, progressive = self._pending.pop(key)
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
                    # partial, not a lambda: the loop's names are rebound before a queued call runs
                    self._deliver(partial(self._hand_over, key, request_id, progressive, on_result, result))
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
