"""Export morphs as an animated GIF, a PNG strip or an MP4, through one frame pipeline.

Every format gets the same frames: each timeline's frames are rendered in chunks, resized to the
cell size, and laid out by `studio.grids.image_grid` (one cell per morph). GIF and MP4 frames are
streamed to the file as they are rendered (`video.py`, which the run timelapse uses too); the PNG
strip lays the finished frames out with the same grid function. Files are written atomically;
progress is reported after each chunk and a `cancel()` returning True stops the export between chunks.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..engine.rundir import png_bytes
from ..fileio import atomic_write_bytes, write_error_message
from ..grids import image_grid
from ..methods.base import Method
from .errors import Cancelled, ExportError
from .render import generate
from .timeline import Timeline
from .video import mp4_available, open_video

FORMATS = {".gif": "gif", ".png": "png", ".mp4": "mp4"}
Progress = Callable[[int, int], None]


@dataclass
class ExportOptions:
    """How to write a morph.

    `size`: side of each image in pixels (None: the model's own); `fps`: frames per second (a GIF
    stores whole hundredths of a second per frame, so 12 fps becomes 80 ms); `plays`: GIF repeats,
    0 forever, 1 once, n n times; `columns` and `padding`: the grid when several morphs share a frame;
    `strip_columns`: frames per row of a PNG strip (None: one row).
    """

    size: int | None = None
    fps: float = 12.0
    plays: int = 0
    columns: int | None = None
    padding: int = 2
    strip_columns: int | None = None
    chunk: int = 16  # frames rendered per batch: the unit of progress and of cancelling

    def validate(self) -> None:
        """Raise ExportError naming the first bad option."""
        if self.size is not None and not 4 <= self.size <= 4096:
            raise ExportError(f"size {self.size}: choose a frame size between 4 and 4096 pixels")
        if not 0.1 <= self.fps <= 100:
            raise ExportError(f"fps {self.fps}: choose between 0.1 and 100 frames per second")
        if self.plays < 0:
            raise ExportError(f"plays {self.plays}: use 0 (forever), 1 (once) or more")
        if self.chunk < 1 or self.padding < 0:
            raise ExportError("chunk must be at least 1 and padding at least 0")


@dataclass
class ExportResult:
    """What was written."""

    path: Path
    format: str
    frames: int
    width: int
    height: int
    seconds: float


def export_format(path: str | Path) -> str:
    """'gif', 'png' or 'mp4' from the file name; ExportError otherwise."""
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise ExportError(f"{path}: name the file .gif, .png (a strip of frames) or .mp4")
    if fmt == "mp4" and not mp4_available():
        raise ExportError(f"{path}: MP4 needs imageio-ffmpeg (pip install imageio imageio-ffmpeg); "
                          f"or export a .gif")
    return fmt


def resize_images(images: torch.Tensor, size: int | None) -> torch.Tensor:
    """N×C×H×W uint8 to size×size: whole-number enlargements stay crisp, others are smoothed."""
    h = images.shape[-1]
    if size is None or size == h:
        return images
    x = images.float()
    if size > h and size % h == 0:
        x = F.interpolate(x, size=(size, size), mode="nearest")
    else:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=size < h)
    return x.round().clamp(0, 255).to(torch.uint8)


def iter_frames(method: Method, timelines: Sequence[Timeline], options: ExportOptions,
                reference: torch.Tensor | None = None, progress: Progress | None = None,
                cancel: Callable[[], bool] | None = None, cache: dict | None = None) -> Iterator[np.ndarray]:
    """Each output frame as H×W×C uint8: one grid cell per timeline, rendered chunk by chunk."""
    if not timelines:
        raise ExportError("nothing to export: give at least one timeline")
    total = timelines[0].frame_count
    if any(t.frame_count != total for t in timelines):
        raise ExportError("the morphs of one grid must have the same number of frames")
    keys = [t.resolve(method, cache) for t in timelines]
    padding = options.padding if len(timelines) > 1 else 0
    columns = options.columns or None
    for start in range(0, total, options.chunk):
        if cancel is not None and cancel():
            raise Cancelled("export cancelled")
        stop = min(start + options.chunk, total)
        cells = []  # per timeline: (n, C, S, S)
        for timeline, key in zip(timelines, keys, strict=True):
            z, labels = timeline.frames(key, start, stop)
            cells.append(resize_images(generate(method, z, labels, reference), options.size))
        for i in range(stop - start):
            yield image_grid(torch.stack([c[i] for c in cells]), columns=columns, padding=padding)
        if progress is not None:
            progress(stop, total)


def _strip_png(frames: list[np.ndarray], options: ExportOptions) -> bytes:
    stack = torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2)
    return png_bytes(image_grid(stack, columns=options.strip_columns or len(frames), padding=options.padding))


def export_morph(path: str | Path, method: Method, timelines: Timeline | Sequence[Timeline],
                 options: ExportOptions | None = None, reference: torch.Tensor | None = None,
                 progress: Progress | None = None, cancel: Callable[[], bool] | None = None,
                 cache: dict | None = None) -> ExportResult:
    """Render the timeline(s) and write `path` (.gif, .png strip or .mp4) atomically."""
    start = time.perf_counter()
    path = Path(path)
    options = options or ExportOptions()
    options.validate()
    fmt = export_format(path)
    timelines = [timelines] if isinstance(timelines, Timeline) else list(timelines)
    frames = iter_frames(method, timelines, options, reference, progress, cancel, cache)
    try:
        if fmt == "png":  # a strip lays every frame out at once
            frames = list(frames)
            if cancel is not None and cancel():
                raise Cancelled("export cancelled")
            atomic_write_bytes(path, _strip_png(frames, options))
            h, w = frames[0].shape[:2]
            return ExportResult(path, fmt, len(frames), w, h, time.perf_counter() - start)
        # GIF and MP4 are streamed: each chunk's frames go to the file as they are rendered.
        with open_video(path, options.fps, options.plays) as writer:
            for frame in frames:
                writer.add(frame)
            if cancel is not None and cancel():
                raise Cancelled("export cancelled")
    except OSError as exc:  # a full disk included: the temp file is gone and any earlier file is intact
        raise ExportError(f"{write_error_message(path, exc)}, or choose another folder") from None
    w, h = writer.size
    if fmt == "mp4":  # padded to even sides for H.264
        h, w = h + h % 2, w + w % 2
    return ExportResult(path, fmt, writer.frames, w, h, time.perf_counter() - start)
