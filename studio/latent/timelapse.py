"""A run's timelapse: its saved sample grids, in step order, streamed into a GIF or MP4 one frame at a time.

Each chosen grid (one in every `every`) is read, put beside the reconstruction grid of the same step
where the run saved one, shrunk to `max_side`, handed to the file's writer (`video.py`) and dropped,
so memory stays that of one frame however long the run. `studio timelapse` and the window's export
both use `write_timelapse`; progress is reported per frame and `cancel()` returning True stops it
between frames, leaving no file.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..engine.rundir import RunDirectory
from .errors import Cancelled, ExportError
from .video import open_video

Progress = Callable[[int, int], None]


@dataclass
class TimelapseOptions:
    """`every`: one saved grid in every N (the first and last always kept); `fps`: frames per second;
    `max_side`: frames larger than this are shrunk to it; `hold_last_ms`: the last frame of a GIF is
    shown this long; `plays`: GIF repeats, 0 forever."""

    every: int = 1
    fps: float = 5.0
    max_side: int = 768
    hold_last_ms: int = 1500
    plays: int = 0

    def validate(self) -> None:
        """ExportError naming the first bad option."""
        if self.every < 1:
            raise ExportError(f"every {self.every}: keep one grid in every N, N at least 1")
        if not 0.1 <= self.fps <= 100:
            raise ExportError(f"fps {self.fps}: choose between 0.1 and 100 frames per second")
        if not 16 <= self.max_side <= 8192:
            raise ExportError(f"max side {self.max_side}: choose between 16 and 8192 pixels")


@dataclass
class TimelapseResult:
    path: Path
    frames: int
    width: int
    height: int
    seconds: float


def choose_grids(grids: Sequence, every: int) -> list:
    """One in every `every`, the first and the last always among them (the run's end is the point)."""
    chosen = list(grids[::every])
    if grids and chosen[-1] is not grids[-1]:
        chosen.append(grids[-1])
    return chosen


def run_grids(run_dir: str | Path, every: int = 1) -> tuple[list[Path], list[Path | None] | None]:
    """The run's chosen sample grids in step order and, where it saved reconstructions, the one of each
    grid's step (None where a step has none; None for a run without any)."""
    run = RunDirectory(run_dir)
    grids = choose_grids(run.sample_images(), every)
    reconstructions = dict(run.sample_images("reconstructions"))
    beside = [reconstructions.get(step) for step, _ in grids]
    return [p for _, p in grids], (beside if any(beside) else None)


def write_timelapse(frames: Sequence[Path], out: str | Path, options: TimelapseOptions | None = None,
                    beside: Sequence[Path | None] | None = None, progress: Progress | None = None,
                    cancel: Callable[[], bool] | None = None) -> TimelapseResult:
    """Write the PNG grids `frames` (with `beside[i]` to the right of frame i) to `out`, .gif or .mp4.

    ExportError for bad options, no frames or an unreadable grid (naming it); Cancelled when `cancel()`
    said so or `progress` raised it. Either way no file is left at `out` unless it was finished.
    """
    began = time.perf_counter()
    options = options or TimelapseOptions()
    options.validate()
    if not frames:
        raise ExportError("this run has no saved sample grids yet (samples/step-N.png); train a little longer")
    out = Path(out)
    with open_video(out, options.fps, options.plays, options.hold_last_ms) as writer:
        for i, path in enumerate(frames):
            if cancel is not None and cancel():
                raise Cancelled("timelapse export cancelled")
            companion = beside[i] if beside is not None else None
            writer.add(timelapse_frame(path, companion, options.max_side))
            if progress is not None:
                progress(i + 1, len(frames))
    width, height = writer.size
    return TimelapseResult(out, writer.frames, width, height, time.perf_counter() - began)


def timelapse_frame(path: Path, beside: Path | None = None, max_side: int = 768) -> np.ndarray:
    """One frame: the grid at `path` (and the grid `beside` it, 8 black pixels apart), at most `max_side`."""
    from PIL import Image

    frame = _read(path)
    if beside is not None:
        right = _read(beside)
        canvas = Image.new("RGB", (frame.width + 8 + right.width, max(frame.height, right.height)))
        canvas.paste(frame, (0, 0))
        canvas.paste(right, (frame.width + 8, 0))
        frame = canvas
    scale = max_side / max(frame.size)
    if scale < 1:  # keep big grids to a size a browser shows at once
        frame = frame.resize((max(1, int(frame.width * scale)), max(1, int(frame.height * scale))), Image.LANCZOS)
    return np.asarray(frame)


def _read(path: Path):
    from PIL import Image

    try:
        with Image.open(path) as img:
            return img.convert("RGB")
    except OSError as exc:
        raise ExportError(f"{path}: cannot read this sample grid ({exc})") from None
