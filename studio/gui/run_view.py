"""What the window says about the run it shows: one small model with events, and no Qt.

The run's controller (through the window) sets its state and device, the window its name and length
when a run begins, and the Monitor tab the progress it reads from the run's events (step, speed,
how far an opened run's history has been read). The Monitor's header and the status bar observe the
model, so neither reads the other, and the model is tested without a QApplication.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields

from ..engine.state import RunState

Listener = Callable[[frozenset[str]], None]  # called with the names of the fields that changed


@dataclass
class RunView:
    """The run shown: its name, state, step, length, speed and device."""

    title: str = ""
    state: RunState = RunState.IDLE
    reason: str = ""  # why the run ended early, where it says ("time limit")
    step: int = 0
    total_steps: int = 0  # 0: unknown
    images_per_sec: float | None = None  # the newest logged training speed
    steps_per_sec: float = 0.0  # over the last few logged steps (0: not known yet)
    device: str = ""
    precision: str = ""  # what the run's step computes in, as it said when it started ("bf16 autocast", "float32")
    note: str = ""  # while an opened run's history is read: how far; after: why it was not, or ""
    _listeners: list[Listener] = field(default_factory=list, repr=False, compare=False)

    def subscribe(self, listener: Listener) -> None:
        """Call `listener(changed)` after every update that changes a field."""
        self._listeners.append(listener)

    def update(self, **changes) -> frozenset[str]:
        """Set fields; the listeners hear once, with the names of those whose value changed."""
        known = {f.name for f in fields(self)} - {"_listeners"}
        if unknown := set(changes) - known:
            raise AttributeError(f"RunView has no field {sorted(unknown)[0]!r}")
        changed = frozenset(k for k, v in changes.items()
                            if getattr(self, k) != v or type(getattr(self, k)) is not type(v))
        for name in changed:
            setattr(self, name, changes[name])
        if changed:
            for listener in list(self._listeners):
                listener(changed)
        return changed

    def begin(self, title: str, total_steps: int) -> None:
        """A new run is shown: its name and length, and none of the last run's progress."""
        self.update(title=title, total_steps=total_steps, step=0, images_per_sec=None, steps_per_sec=0.0, note="",
                    reason="", precision="")

    @property
    def eta(self) -> float | None:
        """Seconds to the last step at the current speed; None when unknown, paused or over."""
        if self.state.is_final or self.state is RunState.PAUSED or self.steps_per_sec <= 0:
            return None
        return (self.total_steps - self.step) / self.steps_per_sec if self.total_steps > self.step else None
