"""RunFollower: tail a run directory that another process may still be writing (no Qt).

It turns what the run directory's writer left on disk back into the trainer's events, so a view
that reads events (the GUI's Monitor tab) shows a run from `torchrun` exactly like an in-process one:
new metrics.jsonl records since the last byte offset become Scalars / Metric / Status (ALERT or
COLLAPSE), new samples/step-N.png and reconstructions-step-N.png grids become Images, new
points-N.npy become Points, and each change of status.json becomes a Status.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from .events import Event, Images, Metric, Points, Scalars, Status
from .rundir import GRID_PREFIXES, RunDirectory, RunDirError
from .state import RunState, StatusNote, status_from_text

_RECORD_KEYS = ("step", "time")


class RunFollower:
    """Poll a run directory for what is new since the last poll; every call is cheap when nothing changed."""

    def __init__(self, path: str | Path, *, latest_images_only: bool = True):
        self.run = RunDirectory(path)
        # Only the newest grid matters to a live view; a replay of every grid would load each PNG.
        self.latest_images_only = latest_images_only
        self.offset = 0  # byte offset in metrics.jsonl after the last complete record read
        self.step = 0
        self.state = RunState.IDLE  # of the followed run, as its status.json says
        self.message = ""
        self.reason = ""  # why the run ended early, where its status.json says ("time limit")
        self._last_grid_step = {name: -1 for name in GRID_PREFIXES}
        self._last_points_step = -1
        self._status_key: tuple | None = None
        self._config: dict | None = None

    @property
    def path(self) -> Path:
        return self.run.path

    def check(self) -> None:
        """Raise RunDirError naming the folder when it is not a run directory."""
        if not self.run.path.is_dir():
            raise RunDirError(f"{self.run.path}: no such folder; choose a run directory (it holds config.json)")
        if not self.run.exists() and not self.run.metrics_path.exists():
            raise RunDirError(f"{self.run.path}: not a run directory (no config.json or metrics.jsonl); "
                              "choose the folder `studio train` or the Train tab wrote")

    def config(self) -> dict:
        """The run's config.json ({} until the writer has created it)."""
        if self._config is None:
            try:
                self._config = self.run.read_config()
            except RunDirError:
                return {}
        return self._config

    @property
    def finished(self) -> bool:
        """True once status.json says the run is over."""
        return self.state.is_final

    def poll(self, metrics: bool = True) -> list[Event]:
        """Events for everything written since the last poll, oldest first (newest grid only).

        Only what metrics.jsonl gained after `offset` is read; `metrics=False` leaves it unread (while
        its history is read in bulk elsewhere, see `skip_to`).
        """
        events: list[Event] = []
        if metrics:
            for record, offset in self.run.iter_metrics(self.offset):
                self.offset = offset
                event = record_to_event(record)
                if event is not None:
                    events.append(event)
                    self.step = max(self.step, event.step)
        for name in GRID_PREFIXES:
            events.extend(self._new_grids(name))
        events.extend(self._new_points())
        status = self._new_status()
        if status is not None:
            events.append(status)
        return events

    def skip_to(self, offset: int, step: int) -> None:
        """Continue after byte `offset` of metrics.jsonl, whose records up to there were read in bulk
        (`metrics_columns.read_columns`) and reached `step`."""
        self.offset = offset
        self.step = max(self.step, step)

    def _new_grids(self, name: str) -> list[Event]:
        fresh = [(s, p) for s, p in self.run.sample_images(name) if s > self._last_grid_step[name]]
        if self.latest_images_only:
            fresh = fresh[-1:]
        out: list[Event] = []
        for step, path in fresh:
            image = read_grid(path)
            if image is None:
                break  # unreadable for now: try again at the next poll
            out.append(Images(step, name, image))
            self._last_grid_step[name] = step
        return out

    def _new_points(self) -> list[Event]:
        fresh = []
        for p in self.run.samples.glob("points-*.npy"):
            try:
                step = int(p.stem.split("-")[1])
            except (IndexError, ValueError):
                continue
            if step > self._last_points_step:
                fresh.append((step, p))
        if not fresh:
            return []
        step, path = max(fresh)
        try:
            points = np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            return []
        self._last_points_step = step
        return [Points(step, points)]

    def _new_status(self) -> Status | None:
        status = self.run.read_status()
        if not status:
            return None
        key = (status.get("state"), status.get("step"), status.get("time"))
        if key == self._status_key:
            return None
        self._status_key = key
        if status["state"] is None:
            return None  # a state this version does not know (a newer writer): keep the last one
        self.state = status["state"]
        self.message = str(status.get("message", ""))
        self.reason = str(status.get("reason", ""))
        step = _as_int(status.get("step"))
        self.step = max(self.step, step)
        return Status(step, self.state, self.message, detail={"reason": self.reason} if self.reason else {})


def record_to_event(record: dict[str, Any]) -> Event | None:
    """One metrics.jsonl record as the event that wrote it (None for a record of no known shape)."""
    step = _as_int(record.get("step"))
    if "event" in record:
        # diverged/error also reach status.json, which the follower reports; alerts live only here.
        note = status_from_text(record["event"])
        if note in (StatusNote.ALERT, StatusNote.COLLAPSE):
            detail = {k: v for k, v in record.items() if k not in ("step", "event", "message")}
            return Status(step, note, str(record.get("message", "")), detail=detail)
        return None
    if "metric" in record:
        name = str(record["metric"])
        extra = {k: v for k, v in record.items() if k not in ("step", "metric", "n", name)}
        return Metric(step, name, _as_float(record.get(name)), _as_int(record.get("n")), extra)
    values = scalar_values(record)
    if not values:
        return None
    return Scalars(step, values, _as_float(record.get("time", 0.0)))


def scalar_values(record: dict[str, Any]) -> dict[str, float]:
    """The logged values of a scalar record: numbers and numeric text (NaN/Inf are written as text)."""
    values = {}
    for key, value in record.items():
        if key in _RECORD_KEYS or isinstance(value, bool):
            continue
        if isinstance(value, (int, float)) or (isinstance(value, str) and _is_number(value)):
            values[key] = _as_float(value)
    return values


def read_grid(path: Path) -> np.ndarray | None:
    """A saved sample grid as an H×W×C uint8 array (None when it cannot be read yet)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img = img.convert("RGB") if img.mode not in ("L", "RGB") else img
            arr = np.asarray(img, dtype=np.uint8)
    except (OSError, ValueError, UnidentifiedImageError):
        return None
    return arr[..., None] if arr.ndim == 2 else arr


def _as_float(value: Any) -> float:
    # The run directory writes NaN/Inf as strings ("nan", "inf"): keep the fact as a float.
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
