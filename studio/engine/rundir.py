"""The run directory: the durable record of a run, written by a subscriber and read by anyone.

    config.json      the RunConfig, resolved params and data spec (JSON only)
    metrics.jsonl    one JSON object per logged step, flushed line by line
    status.json      the latest run state (lets another process follow the run live)
    checkpoints/     last.pt, best.pt, written atomically (temp file, fsync, rename)
    samples/         step-N.png grids of the fixed latent batch; reconstructions-step-N.png (methods
                     with an encoder: fixed real images, each beside its reconstruction)
    exports/         GIFs, strips, tables
    writer.lock      the writer's lock and who holds it (runlock.py: one writer per run directory)
"""

from __future__ import annotations

import io
import json
import math
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .. import fileio
from ..fileio import (  # noqa: F401 - re-exported: the run directory's writers and their readers use them
    TEMP_SUFFIX,
    WRITE_DELAY_ENV,
    atomic_write_bytes,
    fsync_dir,
    os_error_message,
    remove_stale_temp_files,
    write_delay,
    write_error_message,
    write_in_halves,
)
from .events import Event, Images, Metric, Points, Scalars, Status
from .state import RunState, StatusNote, status_from_text

# The statuses metrics.jsonl records as "event" lines: notes that live only there (alert, collapse) and the
# final states a run's history should show where it failed.
_LOGGED_STATUSES = (StatusNote.ALERT, StatusNote.COLLAPSE, RunState.DIVERGED, RunState.ERROR)
# The image grids a run saves in samples/, by event name: the file name's prefix before "step-N.png".
GRID_PREFIXES = {"samples": "", "reconstructions": "reconstructions-"}


class RunDirError(Exception):
    """A run directory or checkpoint could not be read or written; the message names the file."""


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON has no NaN/Inf; keep the fact that it happened
    return value


def png_bytes(image: np.ndarray) -> bytes:
    """Encode an H×W×C (or H×W) uint8 array as PNG."""
    from PIL import Image

    arr = image[..., 0] if image.ndim == 3 and image.shape[2] == 1 else image
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


class RunDirectory:
    """Reads and writes one run directory; as a subscriber it records the event stream."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._metrics_fh = None

    # --- paths ---------------------------------------------------------------------------------
    @property
    def config_path(self) -> Path:
        return self.path / "config.json"

    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def status_path(self) -> Path:
        return self.path / "status.json"

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    def checkpoint(self, which: str = "last") -> Path:
        """checkpoints/<which>.pt: "last" (written every checkpoint interval, on Stop and at the end) or "best"."""
        return self.checkpoints / f"{which}.pt"

    @property
    def last_checkpoint(self) -> Path:
        return self.checkpoint("last")

    @property
    def samples(self) -> Path:
        return self.path / "samples"

    @property
    def exports(self) -> Path:
        return self.path / "exports"

    def exists(self) -> bool:
        return self.config_path.is_file()

    # --- writing -------------------------------------------------------------------------------
    def create(self, config: dict) -> None:
        """Make the folders and write config.json."""
        for folder in (self.path, self.checkpoints, self.samples):
            folder.mkdir(parents=True, exist_ok=True)
            remove_stale_temp_files(folder)  # left by a run that was killed mid-write
        atomic_write_bytes(self.config_path, json.dumps(config, indent=2).encode("utf-8"))

    def _append_metrics(self, record: dict) -> None:
        if self._metrics_fh is None:
            self.path.mkdir(parents=True, exist_ok=True)
            self._repair_torn_tail()
            self._metrics_fh = open(self.metrics_path, "a", encoding="utf-8")
        try:
            fileio.write_in_halves(self._metrics_fh, json.dumps({k: _json_safe(v) for k, v in record.items()}) + "\n",
                                   fileio.write_delay())
            self._metrics_fh.flush()
        except OSError as exc:  # a full disk: name the log, and cut the torn line before the next record
            self.close()
            raise OSError(exc.errno, exc.strerror or str(exc), str(self.metrics_path)) from exc

    def _repair_torn_tail(self) -> None:
        # A crash can leave a half-written last line; cut it so new lines start on their own line.
        if not self.metrics_path.exists():
            return
        data = self.metrics_path.read_bytes()
        if data and not data.endswith(b"\n"):
            with open(self.metrics_path, "r+b") as fh:
                fh.truncate(data.rfind(b"\n") + 1)

    def write_status(self, state: RunState, step: int, message: str = "", reason: str = "") -> None:
        """status.json: the run's state (its value as text), step, message and why it ended early (a
        "reason", where there is one), this process and the time."""
        if not isinstance(state, RunState):
            raise TypeError(f"status.json records a RunState, not {type(state).__name__} {state!r}")
        record = {"state": state.value, "step": step, "message": message, "time": time.time(), "pid": os.getpid()}
        if reason:
            record["reason"] = reason
        atomic_write_bytes(self.status_path, json.dumps(record).encode("utf-8"))

    def __call__(self, event: Event) -> None:
        """Subscriber: record each event in the directory."""
        if isinstance(event, Scalars):
            self._append_metrics({"step": event.step, "time": round(event.time, 3), **event.values})
        elif isinstance(event, Metric):
            self._append_metrics({"step": event.step, "metric": event.name, event.name: event.value,
                                  "n": event.n, **event.extra})
        elif isinstance(event, Images) and event.name in GRID_PREFIXES:
            atomic_write_bytes(self.samples / f"{GRID_PREFIXES[event.name]}step-{event.step:07d}.png",
                               png_bytes(event.image))
        elif isinstance(event, Points):
            atomic_write_bytes(self.samples / f"points-{event.step:07d}.npy", _npy_bytes(event.points))
        elif isinstance(event, Status):
            try:
                state = RunState.after(event.state)
                if state is not None:  # notes (checkpoint, alert, collapse) leave the run's state as it was
                    self.write_status(state, event.step, event.message, str(event.detail.get("reason", "")))
                if event.state in _LOGGED_STATUSES:
                    self._append_metrics({"step": event.step, "event": event.state.value, "message": event.message,
                                          **event.detail})
            except OSError:
                # Recording how a run ended is best effort (the disk may be what failed): the trainer
                # still reports the message; a write error at any other moment ends the run.
                if event.state not in (RunState.DIVERGED, RunState.ERROR):
                    raise

    def close(self) -> None:
        if self._metrics_fh is not None:
            fh, self._metrics_fh = self._metrics_fh, None
            try:
                fh.close()
            except OSError:
                pass  # each line was flushed as written: only a line whose write already failed is lost

    # --- reading -------------------------------------------------------------------------------
    def read_config(self) -> dict:
        try:
            data = json.loads(self.config_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise RunDirError(f"{self.path}: not a run directory (no config.json)") from None
        except (OSError, ValueError) as exc:
            raise RunDirError(f"{self.config_path}: unreadable ({exc})") from None
        if not isinstance(data, dict):
            raise RunDirError(f"{self.config_path}: not a JSON object")
        return data

    def read_status(self) -> dict:
        """status.json as written, its "state" as the RunState it names (None for text no version wrote;
        "started", "resumed" and "alert", written there by older versions, as RUNNING); {} when there is
        none or it cannot be read."""
        try:
            record = json.loads(self.status_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(record, dict):
            return {}
        status = status_from_text(record.get("state"))
        if isinstance(status, StatusNote):  # older versions wrote notes there, all of them while the run ran
            status = RunState.after(status) or RunState.RUNNING
        return {**record, "state": status}

    def iter_metrics(self, offset: int = 0) -> Iterator[tuple[dict, int]]:
        """(record, offset after it) for each complete line from byte `offset`; a torn last line
        (no newline yet, or cut by a crash) is left for later and bad lines are skipped."""
        try:
            with open(self.metrics_path, "rb") as fh:
                fh.seek(offset)
                for line in fh:
                    if not line.endswith(b"\n"):
                        return
                    offset += len(line)
                    try:
                        record = json.loads(line)
                    except ValueError:
                        continue
                    if isinstance(record, dict):
                        yield record, offset
        except FileNotFoundError:
            return

    def read_metrics(self) -> list[dict]:
        """Every complete metrics record."""
        return [r for r, _ in self.iter_metrics()]

    def sample_images(self, name: str = "samples") -> list[tuple[int, Path]]:
        """(step, path) of each saved grid of `name` ("samples" or "reconstructions"), in step order."""
        out = []
        for p in self.samples.glob(f"{GRID_PREFIXES[name]}step-*.png"):
            try:
                out.append((int(p.stem.rsplit("-", 1)[1]), p))
            except (IndexError, ValueError):
                continue
        return sorted(out)


def _npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()
