"""The one spelling of a run's state, and what each state allows.

A run is IDLE until launched, STARTING until its first status, then RUNNING or PAUSED, and ends in
one of the final states. The trainer's status events also name transitions (STARTED, RESUMED) and
notes (CHECKPOINT, ALERT, COLLAPSE): `StatusNote`; `RunState.after(status)` says which state each
leads to. States travel as these enums everywhere; only the files hold their values as text
(status.json, metrics.jsonl), and `status_from_text` is the one way back from that text, for files
written by any version (the values have never changed).
"""

from __future__ import annotations

from enum import Enum


class RunState(str, Enum):
    IDLE = "idle"
    STARTING = "starting"
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"
    STOPPED = "stopped"
    DIVERGED = "diverged"
    ERROR = "error"

    def __str__(self) -> str:
        return self.value

    @property
    def is_final(self) -> bool:
        """The run is over (it may be continued from its checkpoint as a new session)."""
        return self in _FINAL

    @property
    def is_active(self) -> bool:
        """Something is training (or about to): its dataset and settings are locked."""
        return self in (RunState.STARTING, RunState.RUNNING, RunState.PAUSED)

    @property
    def succeeded(self) -> bool:
        """Ended as asked: every step trained, or stopped by the user with a checkpoint."""
        return self in (RunState.FINISHED, RunState.STOPPED)

    @property
    def can_start(self) -> bool:
        return not self.is_active

    @property
    def can_pause(self) -> bool:
        return self is RunState.RUNNING

    @property
    def can_resume(self) -> bool:
        return self is RunState.PAUSED

    @property
    def can_stop(self) -> bool:
        return self.is_active

    @classmethod
    def after(cls, status: RunState | StatusNote) -> RunState | None:
        """The state a trainer status leads to, or None for a note that changes nothing (checkpoint, alert)."""
        if isinstance(status, RunState):
            return status
        if isinstance(status, StatusNote):
            return _TRANSITIONS[status]
        raise TypeError(f"a run's status is a RunState or a StatusNote, not {type(status).__name__} {status!r}")


class StatusNote(str, Enum):
    """Status events that are not states: transitions (started, resumed) and notes (checkpoint, alert)."""

    STARTED = "started"
    RESUMED = "resumed"
    CHECKPOINT = "checkpoint"  # a checkpoint was written (the event's path)
    ALERT = "alert"  # something the user should know, e.g. the evaluator's collapse warning
    COLLAPSE = "collapse"  # the live monitor saw the samples collapse (detail: ratio, since, duplicates)

    def __str__(self) -> str:
        return self.value


_FINAL = frozenset({RunState.FINISHED, RunState.STOPPED, RunState.DIVERGED, RunState.ERROR})
_TRANSITIONS = {StatusNote.STARTED: RunState.RUNNING, StatusNote.RESUMED: RunState.RUNNING,
                StatusNote.CHECKPOINT: None, StatusNote.ALERT: None,
                StatusNote.COLLAPSE: None}
FINAL_STATES = tuple(s for s in RunState if s.is_final)


def status_from_text(text: object) -> RunState | StatusNote | None:
    """The status a file spells as `text` ("finished", "alert", ...); None for text no version wrote."""
    if not isinstance(text, str):
        return None
    for kind in (RunState, StatusNote):
        try:
            return kind(text)
        except ValueError:
            continue
    return None
