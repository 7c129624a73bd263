"""Animated GIF and MP4 files written a frame at a time: memory stays that of one frame, whatever the length.

Pillow's GIF writer keeps every frame until it closes the file (it compares each with the one before),
so a 1,000-frame timelapse held gigabytes. `GifWriter` writes the file itself: the header and the loop
count once, then each frame as it comes, with its own palette (Pillow quantises it and compresses its
pixels; only those bytes are copied) and its delay. The newest frame is held back until the next one
arrives, so the last frame can be shown longer (`hold_last_ms`). Every frame written is one frame of
the file: none is merged into the one before, so a GIF has exactly the frames it was given.
`Mp4Writer` hands each frame to ffmpeg (imageio-ffmpeg). Both write a temporary file beside the target
and rename it into place on `close()`; `abort()` (or an exception inside `with`) removes it, so a
cancelled or failed export leaves any earlier file as it was.
"""

from __future__ import annotations

import importlib.util
import io
import math
import os
import struct
import tempfile
from pathlib import Path

import numpy as np

from .errors import ExportError

VIDEO_FORMATS = {".gif": "gif", ".mp4": "mp4"}
PALETTE_PIXELS = 128 * 128  # a GIF frame's palette is chosen from at most this many of its pixels


def mp4_available() -> bool:
    """True when imageio-ffmpeg (and imageio) can be imported, so MP4 export works."""
    return all(importlib.util.find_spec(m) is not None for m in ("imageio", "imageio_ffmpeg"))


def _temp_beside(path: Path, suffix: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    return tmp


def _rgb(frame: np.ndarray) -> np.ndarray:
    frame = np.asarray(frame, dtype=np.uint8)
    if frame.ndim == 2:
        frame = frame[..., None]
    return np.repeat(frame, 3, axis=2) if frame.shape[2] == 1 else frame[..., :3]


class FrameWriter:
    """A file written frame by frame (`add`), finished by `close()`; use as a context manager."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.frames = 0
        self.size: tuple[int, int] | None = None  # (width, height) of the file's frames
        self._closed = False

    def add(self, frame: np.ndarray) -> None:
        """Append one H×W×C uint8 frame (a frame of another size is fitted onto the first one's canvas)."""
        frame = _rgb(frame)
        if self.size is None:
            self.size = (frame.shape[1], frame.shape[0])
        elif (frame.shape[1], frame.shape[0]) != self.size:
            canvas = np.zeros((self.size[1], self.size[0], 3), np.uint8)
            h, w = min(frame.shape[0], self.size[1]), min(frame.shape[1], self.size[0])
            canvas[:h, :w] = frame[:h, :w]
            frame = canvas
        self._write(frame)
        self.frames += 1

    def close(self) -> Path:
        """Finish the file and move it into place; ExportError when no frame was given."""
        if self._closed:
            return self.path
        self._closed = True
        if self.frames == 0:
            self._discard()
            raise ExportError(f"{self.path}: no frames to write")
        try:
            self._finish()
        except BaseException:
            self._discard()
            raise
        return self.path

    def abort(self) -> None:
        """Stop and remove the unfinished file (any earlier file at the path is untouched)."""
        if not self._closed:
            self._closed = True
            self._discard()

    def __enter__(self) -> FrameWriter:
        return self

    def __exit__(self, kind, exc, tb) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()

    def _write(self, frame: np.ndarray) -> None:
        raise NotImplementedError

    def _finish(self) -> None:
        raise NotImplementedError

    def _discard(self) -> None:
        raise NotImplementedError


class GifWriter(FrameWriter):
    """An animated GIF: `frame_ms` per frame (GIF stores hundredths), the last held `hold_last_ms` if given;
    `plays`: 0 loops forever, 1 plays once, n plays n times."""

    def __init__(self, path: str | Path, frame_ms: int = 100, plays: int = 0, hold_last_ms: int | None = None):
        super().__init__(path)
        self.delay = max(1, int(round(frame_ms / 10)))  # hundredths of a second
        self.last_delay = self.delay if hold_last_ms is None else max(1, int(round(hold_last_ms / 10)))
        self.plays = plays
        self._tmp = _temp_beside(self.path, ".gif")
        self._fh = open(self._tmp, "wb")  # noqa: SIM115 - closed by close() or abort()
        self._pending: tuple[bytes, bytes, int] | None = None  # the newest frame, held for its delay

    def _write(self, frame: np.ndarray) -> None:
        from PIL import Image

        if self.frames == 0:
            self._header()
        if self._pending is not None:
            self._frame(*self._pending, self.delay)
        image = Image.fromarray(frame)
        # The palette from at most PALETTE_PIXELS of the frame (median cut costs 0.2 s on a 384² grid, a
        # sixteenth of it 15 ms, and the colours hardly differ), then every pixel mapped to it.
        shrink = math.ceil(math.sqrt(image.width * image.height / PALETTE_PIXELS))
        sample = image if shrink <= 1 else image.resize((max(1, image.width // shrink),
                                                         max(1, image.height // shrink)), Image.Resampling.NEAREST)
        quantized = sample.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        if sample is not image:
            quantized = image.quantize(palette=quantized, dither=Image.Dither.NONE)
        self._pending = _pillow_frame(quantized)

    def _header(self) -> None:
        width, height = self.size
        # No global colour table (each frame has its own), colour resolution 8 bits.
        self._fh.write(b"GIF89a" + struct.pack("<HHBBB", width, height, 0x70, 0, 0))
        if self.plays != 1:  # the NETSCAPE2.0 block: repeats after the first play, 0 forever
            repeats = 0 if self.plays == 0 else self.plays - 1
            self._fh.write(b"\x21\xff\x0bNETSCAPE2.0\x03\x01" + struct.pack("<H", repeats) + b"\x00")

    def _frame(self, palette: bytes, pixels: bytes, flags: int, delay: int) -> None:
        width, height = self.size
        # Graphic control: disposal 1 (leave the frame in place), this delay, no transparency.
        self._fh.write(b"\x21\xf9\x04" + struct.pack("<BHB", 1 << 2, delay, 0) + b"\x00")
        # The image: the whole canvas, with a local colour table (and the row order Pillow wrote).
        self._fh.write(b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, flags))
        self._fh.write(palette)
        self._fh.write(pixels)

    def _finish(self) -> None:
        if self._pending is not None:
            self._frame(*self._pending, self.last_delay)
            self._pending = None
        self._fh.write(b"\x3b")
        self._fh.close()
        os.replace(self._tmp, self.path)

    def _discard(self) -> None:
        self._fh.close()
        if os.path.exists(self._tmp):
            os.unlink(self._tmp)


def _pillow_frame(image) -> tuple[bytes, bytes, int]:
    """(colour table, LZW-compressed pixels with their terminator, the image descriptor's flags: a local
    table of that size, interlaced or not) of a palette image, from the one-frame GIF Pillow writes of it."""
    buf = io.BytesIO()
    image.save(buf, format="GIF", interlace=False)
    data = buf.getvalue()
    packed = data[10]
    at = 13
    palette, size_bits = b"", 0
    if packed & 0x80:  # Pillow writes the image's palette as the global table
        size_bits = packed & 0x07
        end = at + 3 * (2 << size_bits)
        palette, at = data[at:end], end
    while at < len(data):
        block = data[at]
        if block == 0x21:  # an extension: its label, then sub-blocks up to a zero length
            at += 2
            while data[at]:
                at += data[at] + 1
            at += 1
        elif block == 0x2C:
            local = data[at + 9]
            at += 10
            if local & 0x80:
                size_bits = local & 0x07
                end = at + 3 * (2 << size_bits)
                palette, at = data[at:end], end
            start = at
            at += 1  # the LZW minimum code size
            while data[at]:
                at += data[at] + 1
            return palette, data[start:at + 1], 0x80 | (local & 0x40) | size_bits
        else:
            break
    raise ExportError("Pillow wrote a GIF frame this writer cannot read; please report it with your Pillow version")


class Mp4Writer(FrameWriter):
    """An H.264 MP4 at `fps` (needs imageio-ffmpeg); frames are padded to even sides, as H.264 needs."""

    def __init__(self, path: str | Path, fps: float = 10.0):
        super().__init__(path)
        video_format(path)  # ExportError without imageio-ffmpeg
        import imageio.v2 as imageio

        self._tmp = _temp_beside(self.path, ".mp4")
        self._writer = imageio.get_writer(self._tmp, format="FFMPEG", fps=fps, codec="libx264",
                                          pixelformat="yuv420p", macro_block_size=1, quality=8)

    def _write(self, frame: np.ndarray) -> None:
        h, w = frame.shape[:2]
        self._writer.append_data(np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0))))

    def _finish(self) -> None:
        self._writer.close()
        os.replace(self._tmp, self.path)

    def _discard(self) -> None:
        try:
            self._writer.close()
        except Exception:  # noqa: BLE001 - ffmpeg may already have failed; the file goes either way
            pass
        if os.path.exists(self._tmp):
            os.unlink(self._tmp)


def video_format(path: str | Path) -> str:
    """'gif' or 'mp4' from the file name; ExportError otherwise (and for MP4 without imageio-ffmpeg)."""
    fmt = VIDEO_FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise ExportError(f"{path}: name the file .gif or .mp4")
    if fmt == "mp4" and not mp4_available():
        raise ExportError(f"{path}: MP4 needs imageio-ffmpeg (pip install imageio imageio-ffmpeg); or export a .gif")
    return fmt


def open_video(path: str | Path, fps: float, plays: int = 0, hold_last_ms: int | None = None) -> FrameWriter:
    """A GIF or MP4 writer for `path` by its suffix; `plays` and `hold_last_ms` apply to GIFs."""
    if video_format(path) == "mp4":
        return Mp4Writer(path, fps)
    return GifWriter(path, frame_ms=int(round(1000 / fps)), plays=plays, hold_last_ms=hold_last_ms)
