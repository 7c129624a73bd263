"""The window's timelapse export: the run's saved sample grids streamed into a GIF or MP4 on a
`BackgroundTask` (its `report` raises `Cancelled` after Cancel), as `studio timelapse` writes them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from ..latent.timelapse import TimelapseOptions
from ..latent.timelapse import write_timelapse as write_frames

Report = Callable[[int, int], None]
FILTERS = {"GIF images (*.gif)": ".gif", "MP4 videos (*.mp4)": ".mp4"}


def write_timelapse(frames: Sequence[Path], out: Path, report: Report | None = None,
                    beside: Sequence[Path | None] | None = None, fps: float = 5.0) -> Path:
    """Write the PNG grids `frames` (with `beside` each: the reconstructions of its step) to `out`,
    .gif or .mp4, a frame at a time; ExportError names what was wrong."""
    return write_frames(frames, out, TimelapseOptions(fps=fps), beside=beside, progress=report).path
