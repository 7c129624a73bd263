"""One controller for the run the window shows, whichever back-end runs it.

The window shows at most one run at a time, from one of three back-ends:

- `SessionRun` (`worker.py`): the Trainer on this window's QThread: pausable, its events queued in memory;
- `ProcessRun`: `studio train --gpus N` under torchrun in its own processes, read back from its run
  directory (stoppable, not pausable);
- `FollowRun`: a run directory anyone else writes (`studio train` in a terminal): shown, not controlled.

`RunController` owns the one active back-end behind one interface (start, pause, resume, stop,
poll, release, device text) and one `RunState`; the window binds its actions to `state` and reads
events from `eventsArrived`, and never reaches into a back-end.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QProcess, QTimer, Signal

from ..engine.state import RunState
from .worker import SessionRun

FOLLOW_MS = 500  # ~2 Hz: a followed run is read from disk
# While the window draws a history's curves, the reader thread waits (at most PAINT_PAUSE_S): sharing
# the GIL with it, each of the many calls a repaint makes into Qt waits its turn, and a repaint of
# every chart took twice as long.
PAINT_PAUSE_S = 0.4
SMALL_HISTORY_BYTES = 1 << 20  # a followed run's metrics.jsonl up to this size is read at once, beyond on a thread
OUTPUT_KEPT = 8000  # characters of a training process's newest output, for the error message


class ProcessRun:
    """`studio train --gpus N` in its own processes, followed through the run directory they write."""

    trains, can_pause, poll_ms = True, False, FOLLOW_MS

    def __init__(self, controller: RunController, command: list[str], run_dir: Path, gpus: int) -> None:
        from ..engine.follow import RunFollower

        self.controller, self.command, self.gpus = controller, command, gpus
        self.run_dir, self.total_steps = Path(run_dir), 0
        self.follower = RunFollower(run_dir)  # not checked: the processes create the folder in a moment
        self.output = ""  # the newest output of the processes, for the error message
        self.stopping = False
        process = self.process = QProcess(controller)
        process.setProgram(command[0])
        process.setArguments(command[1:])
        process.setWorkingDirectory(str(Path.cwd()))
        process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        process.readyReadStandardOutput.connect(self._read_output)
        process.finished.connect(self._on_finished)
        process.errorOccurred.connect(self._on_error)

    def start(self) -> None:
        self.process.start()

    def is_alive(self) -> bool:
        return self.process.state() != QProcess.ProcessState.NotRunning

    def poll(self) -> list:
        return self.follower.poll()

    def state(self) -> tuple[RunState, str]:
        """As the run's status.json says (STARTING until the processes have written one)."""
        state = self.follower.state
        return (RunState.STARTING if state is RunState.IDLE else state), self.follower.reason

    def pause(self) -> None:  # processes can be stopped, not paused
        pass

    resume = pause

    def stop(self) -> None:
        self.stop_and_wait(0)

    def stop_and_wait(self, wait_ms: int) -> None:
        if not self.is_alive():
            return
        self.stopping = True
        self.process.terminate()
        if wait_ms:
            if not self.process.waitForFinished(wait_ms):
                self.process.kill()
                self.process.waitForFinished(5000)
        else:
            QTimer.singleShot(15_000, lambda p=self.process: p.kill() if p.state() != QProcess.ProcessState.NotRunning
                              else None)

    def device_text(self) -> str:
        return f"{self.gpus} GPUs (torchrun)"

    def snapshot(self) -> None:
        return None  # the weights live in other processes: the Sample tab opens the run instead

    def release(self) -> None:
        pass  # the processes end by themselves (stop first)

    def _read_output(self) -> None:
        text = bytes(self.process.readAllStandardOutput()).decode("utf-8", "replace")
        self.output = (self.output + text)[-OUTPUT_KEPT:]

    def _on_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self.controller._on_backend_ended(
                RunState.ERROR, f"could not run {' '.join(self.command[:4])} …: {self.process.errorString()}", self)

    def _on_finished(self, exit_code: int, exit_status: QProcess.ExitStatus) -> None:
        self._read_output()
        self.controller.poll()  # the last records and the final status
        state, message = self.follower.state, self.follower.message
        if self.stopping:
            state, message = RunState.STOPPED, "Training processes stopped; the run keeps its last checkpoint"
        elif state in (RunState.ERROR, RunState.DIVERGED):
            pass  # the trainer's own message
        elif exit_code != 0 or exit_status != QProcess.ExitStatus.NormalExit:
            lines = [ln for ln in self.output.strip().splitlines() if ln.strip()]
            detail = "\n".join(lines[-6:]) or f"exit code {exit_code}"
            state, message = RunState.ERROR, f"studio train --gpus ended with exit code {exit_code}:\n{detail}"
        elif not state.is_final:
            state = RunState.FINISHED
        self.controller._on_backend_ended(state, message, self)


class FollowRun:
    """A run directory another process writes: shown live, not controlled.

    Its metrics history is read in bulk first (`history.read_history`: typed columns into bounded
    curves), on a `BackgroundTask`'s thread when it is long, handed to the Monitor tab as `History`
    snapshots while it is read; then polls read only what was appended.
    """

    trains, can_pause, poll_ms = False, False, FOLLOW_MS

    def __init__(self, controller: RunController, follower: Any, total_steps: int, device: str) -> None:
        self.controller, self.follower, self.total_steps, self.device = controller, follower, total_steps, device
        self.run_dir = follower.path
        self.task: Any = None  # the BackgroundTask reading a long history
        self.loading = False  # until the whole history has been handed over
        self._partial: Any = None  # the newest partial History with curves from the reader thread, not yet shown
        self._progress: Any = None  # ... and the newest word of how far it is (no curves)
        self._final: Any = None  # the complete History, not yet shown
        self._lock = threading.Lock()
        self._drawn = threading.Event()  # set when the window has drawn the curves handed to it

    def start(self) -> None:
        from .history import quick_gil_handoff, read_history

        path = self.follower.run.metrics_path
        try:
            size = path.stat().st_size
        except OSError:
            size = 0
        self.loading = True
        if size <= SMALL_HISTORY_BYTES:  # a few thousand records: tens of ms, no thread needed
            self._final = read_history(path)
            return
        from .tasks import BackgroundTask

        def read(report) -> Any:
            with quick_gil_handoff():
                return read_history(path, report, self._publish)

        self.task = BackgroundTask(read, self.controller, name="run-history")
        self.task.done.connect(self._on_read)
        self.task.failed.connect(lambda message: self._on_failed(message, path))
        self.task.start()

    def _publish(self, history: Any) -> None:  # on the reader's thread
        with self._lock:
            if history.progress_only:
                self._progress = history
                return
            self._partial, self._progress = history, None
            self._drawn.clear()
        self._drawn.wait(2 * PAINT_PAUSE_S + FOLLOW_MS / 1000)  # picked up at the next poll, then drawn

    def _on_read(self, history: Any) -> None:
        self._final = history

    def _on_failed(self, message: str, path: Path) -> None:
        from .history import History

        try:
            end = path.stat().st_size  # follow on from here rather than read it all on the window's thread
        except OSError:
            end = 0
        self._final = History(end=end, complete=True, error=f"{path}: the history was not read ({message})")

    def is_alive(self) -> bool:
        return not self.follower.finished

    def poll(self) -> list:
        if self._final is not None:
            history, self._final, self.loading = self._final, None, False
            self.follower.skip_to(history.end, history.step)
            # The history's notes (alerts, a collapse) follow it as events, so the window hears them as if live.
            return [history, *history.notes, *self.follower.poll()]
        if self.loading:
            with self._lock:
                news = [h for h in (self._partial, self._progress) if h is not None]
                curves, self._partial, self._progress = self._partial, None, None
            if curves is not None:
                QTimer.singleShot(round(PAINT_PAUSE_S * 1000), self._drawn.set)  # after the repaint it causes
            return news + self.follower.poll(metrics=False)
        return self.follower.poll()

    def state(self) -> tuple[RunState, str]:
        """As the run's status.json says."""
        return self.follower.state, self.follower.reason

    def release(self) -> None:
        if self.task is not None and self.task.is_running():
            self.task.cancel()
            self._drawn.set()

    def pause(self) -> None:
        pass

    resume = stop = pause

    def stop_and_wait(self, wait_ms: int) -> None:
        pass

    def device_text(self) -> str:
        return f"{self.device} (as configured)"

    def snapshot(self) -> None:
        return None


Backend = SessionRun | ProcessRun | FollowRun


class RunController(QObject):
    """The window's one run: which back-end runs it, its state, and its events at a steady rate.

    It owns the run's life: `state` is the state of the run shown (whichever back-end runs it: the
    trainer's own, or its status.json's for a run read from disk), announced by `stateChanged` once per
    change; a run this window trains ends with `ended`, once, carrying its final state and message.
    Views read these and never work a state out of the run's events.
    """

    stateChanged = Signal(RunState)  # the state of the run shown, at each change
    eventsArrived = Signal(list)  # the newest events, oldest first (an empty list: nothing new, redraw)
    ended = Signal(RunState, str)  # a run this window trained ended: its final state, its message

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.backend: Backend | None = None
        self.state = RunState.IDLE
        self.reason = ""  # why the run shown ended early, where it says ("time limit")
        self.message = ""  # the final message of the last run this window trained
        self._ended: Backend | None = None  # the back-end whose end has been announced
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.poll)

    # --- starting ----------------------------------------------------------------------------------
    def train_here(self, config: Any, run_dir: Path, dataset: Any, resume: bool = False, lr_scale: float = 1.0,
                   extra_subscribers: tuple = (), lock: Any = None) -> None:
        """Train in this window's thread (holding the run directory's writer `lock` until the thread ends)."""
        self._begin(SessionRun(self, config, run_dir, dataset, resume, lr_scale, extra_subscribers, lock))

    def train_in_processes(self, command: list[str], run_dir: Path, gpus: int, total_steps: int) -> None:
        """Run `command` (studio train --gpus N) and follow the run directory it writes."""
        backend = ProcessRun(self, command, run_dir, gpus)
        backend.total_steps = total_steps
        self._begin(backend)

    def follow(self, follower: Any, total_steps: int, device: str) -> None:
        """Show a run another process writes (`follower` is a checked RunFollower)."""
        self._begin(FollowRun(self, follower, total_steps, device))

    def _begin(self, backend: Backend) -> None:
        self.detach()
        self.backend = backend
        self.message = ""
        self._set_state(RunState.STARTING if backend.trains else RunState.IDLE, "")
        backend.start()
        self.timer.start(backend.poll_ms)

    def detach(self) -> None:
        """Stop showing the current run (a followed run goes on; a trained one must have ended)."""
        self.timer.stop()
        if self.backend is not None:
            self.backend.release()
        self.backend = None

    # --- controlling -------------------------------------------------------------------------------
    def is_training(self) -> bool:
        """True while a run trains in this window's thread or in processes it started."""
        return self.backend is not None and self.backend.trains and self.backend.is_alive()

    @property
    def controls(self) -> bool:
        """Whether the run shown is one this window trains (a followed run is shown, not controlled)."""
        return self.backend is not None and self.backend.trains

    @property
    def control_state(self) -> RunState:
        """The state the window's controls follow: the run's own when this window trains it, else IDLE."""
        return self.state if self.controls else RunState.IDLE

    @property
    def can_pause(self) -> bool:
        """Whether this kind of run can pause (only the window's own thread can)."""
        return self.backend is None or self.backend.can_pause

    def toggle_pause(self) -> None:
        if not self.is_training():
            return
        if self.state is RunState.PAUSED:
            self.backend.resume()
        elif self.state.can_pause:
            self.backend.pause()

    def stop(self) -> None:
        """Ask the run to stop; it writes its last checkpoint and `ended` follows."""
        if self.is_training():
            self.backend.stop()

    def stop_and_wait(self, wait_ms: int = 60_000) -> None:
        """Stop and block until the run has ended (closing the window)."""
        if self.is_training():
            self.backend.stop_and_wait(wait_ms)
            self.poll()

    def device_text(self) -> str:
        return self.backend.device_text() if self.backend is not None else ""

    def snapshot(self) -> dict | None:
        """The generator's weights now, for the Sample tab (None unless this window's thread trains)."""
        return self.backend.snapshot() if self.backend is not None else None

    @property
    def total_steps(self) -> int:
        return self.backend.total_steps if self.backend is not None else 0

    # --- for tests, selfcheck and closing: the back-end's own objects, None for other kinds -------------
    @property
    def session(self) -> SessionRun | None:
        """The run training on this window's thread, if that is the back-end."""
        return self.backend if isinstance(self.backend, SessionRun) else None

    @property
    def process(self):
        return getattr(self.backend, "process", None)

    @property
    def follower(self):
        return getattr(self.backend, "follower", None)

    # --- events ------------------------------------------------------------------------------------
    def poll(self) -> None:
        """Timer slot: what the run produced since the last poll, as `eventsArrived`, after its state."""
        backend = self.backend
        if backend is None:
            return
        events = backend.poll()
        state, reason = backend.state()
        # A trained run's final state is announced with its end (its thread or processes have finished).
        if not (backend.trains and state.is_final) and self._ended is not backend:
            self._set_state(state, reason)
        self.eventsArrived.emit(events)

    def _on_backend_ended(self, state: RunState, message: str, backend: Backend) -> None:
        if backend is not self.backend or not backend.trains or self._ended is backend:
            return  # a run this window no longer shows, or one whose end was announced
        self.poll()
        self.timer.stop()
        self._ended = backend
        self.message = message
        self._set_state(state, backend.state()[1] if state.is_final else "")
        self.ended.emit(state, message)

    def _set_state(self, state: RunState, reason: str) -> None:
        self.reason = reason
        if state is not self.state:
            self.state = state
            self.stateChanged.emit(state)
