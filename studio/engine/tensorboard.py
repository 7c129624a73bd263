"""An optional subscriber that mirrors a run's events as TensorBoard event files in <run>/tensorboard/.

Scalars keep the names they have in metrics.jsonl (d_loss, k_t, images_per_sec, ...), evaluation
metrics appear as metrics/<name> (metrics/fid), image grids under their event name (samples, real)
and state changes as text. Needs the `tensorboard` package (pip install tensorboard); the studio
works without it, and `tensorboard_available()` says whether it is there.

    tb = TensorBoardSubscriber(run_dir)
    trainer.subscribe(tb)
    trainer.run()
    tb.close()
    # then: tensorboard --logdir runs/
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from .events import Event, Images, Metric, Points, Scalars, Status
from .state import RunState, StatusNote

INSTALL_HINT = "pip install tensorboard (or pip install 'gan-studio[tensorboard]')"


class TensorBoardMissing(ImportError):
    """The tensorboard package is not installed; the message says how to install it."""


def tensorboard_available() -> bool:
    """True when TensorBoard logging can be switched on (the tensorboard package is installed)."""
    try:
        return importlib.util.find_spec("tensorboard") is not None
    except (ImportError, ValueError):
        return False


def _summary_writer_class() -> Any:
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise TensorBoardMissing(f"TensorBoard logging needs the tensorboard package: {INSTALL_HINT}") from None
    return SummaryWriter


class TensorBoardSubscriber:
    """Subscriber writing Scalars, Images, Metric and Status events as TensorBoard events."""

    def __init__(self, run_dir: str | Path, *, log_dir: str | Path | None = None, flush_secs: int = 10):
        writer_class = _summary_writer_class()
        self.log_dir = Path(log_dir) if log_dir is not None else Path(run_dir) / "tensorboard"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._writer = writer_class(log_dir=str(self.log_dir), flush_secs=flush_secs)

    def __call__(self, event: Event) -> None:
        """Write one event (called by the trainer, from its thread)."""
        w = self._writer
        if w is None:
            return
        if isinstance(event, Scalars):
            for name, value in event.values.items():
                w.add_scalar(name, value, event.step)
        elif isinstance(event, Metric):
            w.add_scalar(f"metrics/{event.name}", event.value, event.step)
        elif isinstance(event, Images):
            image = event.image if event.image.ndim == 3 else event.image[..., np.newaxis]
            w.add_image(event.name, image, event.step, dataformats="HWC")
        elif isinstance(event, Points):
            return  # a 2-D scatter has no TensorBoard counterpart worth its file size
        elif isinstance(event, Status) and event.state is not StatusNote.CHECKPOINT:
            name = event.state.value
            w.add_text("status", f"{name}: {event.message}" if event.message else name, event.step)
            if isinstance(event.state, RunState) and (event.state.is_final or event.state is RunState.PAUSED):
                w.flush()  # a finished or paused run shows up in TensorBoard at once

    def flush(self) -> None:
        """Write buffered events to disk."""
        if self._writer is not None:
            self._writer.flush()

    def close(self) -> None:
        """Flush and close the event file (safe to call twice)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
