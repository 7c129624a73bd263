"""Decode one image safely: refuse bombs and broken files with a reason, never crash or hang.

Every failure becomes `BadImage(reason)`; callers turn it into a `Skipped` entry.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import re
import stat
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import IO, NamedTuple

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from ..options import BACKGROUND, MAX_FILE_BYTES, MAX_PIXELS
from . import fastjpeg
from .resize import ResizeBatch, centre_squares

# Half-written files must fail, not load as grey padding (Pillow's default; pinned here because
# some other library in the process could have flipped it).
ImageFile.LOAD_TRUNCATED_IMAGES = False

# Only formats with a real magic number: Pillow's TGA and similar plugins accept almost any bytes,
# so a text file named .png could otherwise "decode" as noise.
Image.init()  # register every plugin now: Image.open(formats=...) fails on ones not yet loaded
FORMATS = tuple(f for f in ("PNG", "JPEG", "MPO", "BMP", "DIB", "GIF", "WEBP", "TIFF", "PPM") if f in Image.OPEN)
IMAGE_EXTENSIONS = frozenset(
    ".png .jpg .jpeg .jpe .jfif .mpo .bmp .dib .gif .webp .tif .tiff .ppm .pgm .pbm .pnm".split()
)
# Modes whose pixels carry no colour: a folder of only these loads with one channel.
GREY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N", "F"})
ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})

Opener = Callable[[], IO[bytes]]


class BadImage(Exception):
    """One file that cannot be used; the message is the reason shown to the user."""


class ImageInfo(NamedTuple):
    """What the header says, read without decoding pixels."""

    width: int
    height: int
    mode: str
    format: str

    @property
    def grey(self) -> bool:
        return self.mode in GREY_MODES


def is_image_name(name: str) -> bool:
    """True when the file name has an image extension we try to decode."""
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


# Not blocking: a FIFO named .png must not hang the open (it is refused once opened).
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)


def _open_fd(path: str | os.PathLike) -> int:
    # One place that opens files, so tests can simulate an unreadable file even as root.
    return os.open(path, _OPEN_FLAGS)


class PathOpener:
    """Opens a file on disk (an Opener), refusing non-regular, empty and oversized files.

    The checks are made on the opened file (fstat), so the file checked is the file read.
    """

    __slots__ = ("path", "max_file_bytes")

    def __init__(self, path: str | os.PathLike, max_file_bytes: int = MAX_FILE_BYTES):
        self.path, self.max_file_bytes = path, max_file_bytes

    def __call__(self) -> IO[bytes]:
        fd, _ = self._open()
        return os.fdopen(fd, "rb")

    def read(self) -> bytes:
        """The whole file, read by the operating system's calls directly (half the time of a file object)."""
        fd, size = self._open()
        try:
            data = os.read(fd, size)
            while len(data) < size:  # a short read (a network disk), or the file shrank: the decoder says so
                more = os.read(fd, size - len(data))
                if not more:
                    break
                data += more
            return data
        except OSError as exc:
            raise BadImage(_os_reason(exc)) from None
        finally:
            os.close(fd)

    def _open(self) -> tuple[int, int]:
        """An open descriptor on the file and its size, once it passed the checks."""
        try:
            fd = _open_fd(self.path)  # follows links: a link loop fails here with ELOOP
        except OSError as exc:
            raise BadImage(_os_reason(exc)) from None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                # A FIFO or device named .png would block or stream forever.
                raise BadImage("not a regular file (device, pipe or socket)")
            if st.st_size == 0:
                raise BadImage("empty file (0 bytes)")
            if st.st_size > self.max_file_bytes:
                raise BadImage(f"file is {st.st_size:,} bytes, over the {self.max_file_bytes:,}-byte limit")
        except BaseException:
            os.close(fd)
            raise
        return fd, st.st_size


def path_opener(path: str | os.PathLike, max_file_bytes: int = MAX_FILE_BYTES) -> Opener:
    """An opener for a file on disk that refuses non-regular, empty and oversized files."""
    return PathOpener(path, max_file_bytes)


def bytes_opener(data: bytes) -> Opener:
    """An opener over bytes already in memory (zip members)."""

    def opener() -> IO[bytes]:
        if not data:
            raise BadImage("empty file (0 bytes)")
        return io.BytesIO(data)

    return opener


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "cannot read: permission denied"
    if exc.errno == errno.ENOENT:
        return "file vanished or is a broken symbolic link"
    return f"cannot read: {exc.strerror or exc}"


_guard_lock = threading.Lock()
_guard_limits: list[int] = []  # limits of the guards now open, in any thread
_saved_limit: int | None = None


@contextlib.contextmanager
def pil_guard(max_pixels: int = MAX_PIXELS) -> Iterator[None]:
    """Make Pillow refuse oversized images: its pixel limit set, its bomb warning an error.

    Guards may overlap across threads (a GUI preview while a run loads): the strictest open limit
    applies, and Pillow's own value comes back only when the last guard closes.
    """
    global _saved_limit
    with _guard_lock:
        if not _guard_limits:
            _saved_limit = Image.MAX_IMAGE_PIXELS
        _guard_limits.append(max_pixels)
        Image.MAX_IMAGE_PIXELS = min(_guard_limits)
    try:
        with warnings.catch_warnings():
            # Corrupt metadata makes Pillow warn per file; the file's fate is reported instead.
            warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    finally:
        with _guard_lock:
            _guard_limits.remove(max_pixels)
            Image.MAX_IMAGE_PIXELS = min(_guard_limits) if _guard_limits else _saved_limit


def _open_image(f: IO[bytes], max_pixels: int) -> Image.Image:
    try:
        img = Image.open(f, formats=FORMATS)
    except UnidentifiedImageError:
        raise BadImage("not a readable image (unknown format or corrupt header)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise BadImage(_bomb_reason(exc, max_pixels)) from None
    _check_pixels(*img.size, max_pixels)  # from the header, before any pixel is decoded
    return img


def _bomb_reason(exc: BaseException, max_pixels: int) -> str:
    # Pillow's own message quotes its internal limit (twice ours for the error); quote ours.
    match = re.search(r"\((\d+) pixels\)", str(exc))
    pixels = f"{int(match.group(1)):,} pixels" if match else "the image"
    return f"refused: {pixels} is over the limit of {max_pixels:,} (possible decompression bomb)"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, BadImage):
        return str(exc)
    if isinstance(exc, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
        return _bomb_reason(exc, Image.MAX_IMAGE_PIXELS or MAX_PIXELS)
    if isinstance(exc, OSError) and exc.errno is not None:
        return _os_reason(exc)
    text = str(exc).strip() or type(exc).__name__
    if "truncated" in text.lower() or "premature end" in text.lower():  # Pillow's words, libjpeg's
        return f"truncated image data ({text})"
    return f"corrupt image ({type(exc).__name__}: {text})"


def probe(opener: Opener, max_pixels: int = MAX_PIXELS) -> ImageInfo:
    """Read the header only: size, mode and format; raise BadImage with the reason."""
    try:
        with opener() as f:
            img = _open_image(f, max_pixels)
            return ImageInfo(img.size[0], img.size[1], img.mode, img.format or "?")
    except Exception as exc:  # noqa: BLE001 - Pillow plugins raise many types on hostile input
        raise BadImage(_reason(exc)) from None


def read_bytes(opener: Opener) -> bytes:
    """The whole file (the opener bounds its size); raise BadImage with the reason."""
    if isinstance(opener, PathOpener):
        return opener.read()
    try:
        with opener() as f:
            return f.read()
    except Exception as exc:  # noqa: BLE001 - zip members and odd files raise many types
        raise BadImage(_reason(exc)) from None


def decode(
    opener: Opener,
    *,
    channels: int,
    size: int,
    max_pixels: int = MAX_PIXELS,
    background: tuple[int, int, int] = BACKGROUND,
    tiles: int = 1,
) -> np.ndarray:
    """Decode to uint8 (channels, size, size × tiles): centre square crop of each tile, then resize."""
    data = read_bytes(opener)
    return decode_bytes(
        data, channels=channels, size=size, max_pixels=max_pixels, background=background, tiles=tiles
    )[1]


def decode_bytes(
    data: bytes,
    *,
    channels: int,
    size: int,
    max_pixels: int = MAX_PIXELS,
    background: tuple[int, int, int] = BACKGROUND,
    tiles: int = 1,
) -> tuple[ImageInfo, np.ndarray]:
    """`probe` and `decode` for a file already read: its header facts and its pixels, (channels, size,
    size × tiles). Many files are faster through `decode_squares` and one `ResizeBatch`."""
    info, squares = decode_squares(
        data, channels=channels, size=size, max_pixels=max_pixels, background=background, tiles=tiles
    )
    pixels = np.empty((1, channels, size, size * tiles), dtype=np.uint8)
    batch = ResizeBatch(pixels, size)
    batch.add(0, squares)
    batch.flush()
    return info, pixels[0]


def decode_squares(
    data: bytes,
    *,
    channels: int,
    size: int,
    max_pixels: int = MAX_PIXELS,
    background: tuple[int, int, int] = BACKGROUND,
    tiles: int = 1,
) -> tuple[ImageInfo, list[np.ndarray]]:
    """A file already read: its header facts and the centre square of each tile, H×W×C (C = `channels`)
    at the scale it was decoded at, for `resize.ResizeBatch` to bring to `size`. The fastest decoder
    that gives the same image decodes it (`fastjpeg` for plain JPEGs, scaled while decoding where it
    can; else Pillow's draft mode for JPEGs reduced by half or more; Pillow for every other format).

    `tiles` > 1 reads an image of that many tiles side by side (pix2pix's input|target pairs): each
    tile is cropped and resized on its own, so no pixel of one bleeds into the other.
    """
    try:
        header = fastjpeg.jpeg_header(data)
        if fastjpeg.can_decode(header) and (
            fastjpeg.scales() or not _draft_helps(header.width, header.height, size, tiles)
        ):
            _check_pixels(header.width, header.height, max_pixels)
            info = ImageInfo(header.width, header.height, "L" if header.components == 1 else "RGB", "JPEG")
            width, height = _scaled_size(header.width, header.height, size, tiles)
            return info, centre_squares(fastjpeg.decode(data, channels, width, height), tiles)
        img = _open_image(io.BytesIO(data), max_pixels)
        info = ImageInfo(img.size[0], img.size[1], img.mode, img.format or "?")
        if img.format in ("JPEG", "MPO"):
            w, h = img.size
            # Let libjpeg decode at 1/2, 1/4 or 1/8 scale when the target is small: far faster.
            img.draft(img.mode, _draft_request(w, h, size, tiles))
        img.load()
        img = _upright(img)
        hwc = np.asarray(_to_mode(img, channels, background), dtype=np.uint8)
        return info, centre_squares(hwc if hwc.ndim == 3 else hwc[:, :, None], tiles)
    except Exception as exc:  # noqa: BLE001 - see probe
        raise BadImage(_reason(exc)) from None


def tile_side(width: int, height: int, tiles: int = 1) -> int:
    """The side of the square cut from each of `tiles` side-by-side tiles of a width×height image."""
    return min(width // tiles, height)


def _draft_request(w: int, h: int, size: int, tiles: int = 1) -> tuple[int, int]:
    # The smallest decoded size whose centre squares (one per tile) still cover `size` pixels.
    side = max(1, tile_side(w, h, tiles))
    return -(-size * w // side), -(-size * h // side)


def _scaled_size(w: int, h: int, size: int, tiles: int = 1) -> tuple[int, int]:
    """The size to decode a JPEG at for a `size` target: the smallest of full, 1/2, 1/4 or 1/8 scale that
    still covers it (as Pillow's draft mode decodes; libjpeg's 3/8 or 5/8 scales blur visibly)."""
    rw, rh = _draft_request(w, h, size, tiles)
    for k in (8, 4, 2):
        if -(-w // k) >= rw and -(-h // k) >= rh:
            return -(-w // k), -(-h // k)
    return w, h


def _draft_helps(w: int, h: int, size: int, tiles: int = 1) -> bool:
    """True when libjpeg could decode at half scale or less (Pillow's draft mode is faster then)."""
    rw, rh = _draft_request(w, h, size, tiles)
    return -(-w // 2) >= rw and -(-h // 2) >= rh


def _check_pixels(w: int, h: int, max_pixels: int) -> None:
    if w <= 0 or h <= 0:
        raise BadImage(f"invalid size {w}×{h} in header")
    if w * h > max_pixels:
        raise BadImage(
            f"refused: {w}×{h} = {w * h:,} pixels is over the limit of {max_pixels:,} (possible decompression bomb)"
        )


def _upright(img: Image.Image) -> Image.Image:
    try:
        return ImageOps.exif_transpose(img) or img
    except Exception:  # noqa: BLE001 - a broken EXIF block should not cost the image
        return img


def _to_mode(img: Image.Image, channels: int, background: tuple[int, int, int]) -> Image.Image:
    """Convert any Pillow mode to "L" or "RGB", scaling 16-bit and float data, flattening alpha."""
    mode = img.mode
    if mode.startswith("I;16") or mode == "I":
        a = np.asarray(img).astype(np.float64)
        # 16-bit sources span 0..65535; an "I" image that fits in a byte is already 8-bit data.
        if mode.startswith("I;16") or a.max(initial=0) > 255:
            a = a / 257.0
        img = Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8), "L")
    elif mode == "F":
        a = np.nan_to_num(np.asarray(img, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        if a.size and a.max() <= 1.0:
            a = a * 255.0
        img = Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8), "L")
    elif mode in ALPHA_MODES or (mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        base = Image.new("RGBA", rgba.size, (*background, 255))
        img = Image.alpha_composite(base, rgba).convert("RGB")
    elif mode == "1":
        img = img.convert("L")
    elif mode not in ("L", "RGB"):
        img = img.convert("RGB")  # P, CMYK, YCbCr, ...; LAB and friends fail here and are reported
    target = "L" if channels == 1 else "RGB"
    return img if img.mode == target else img.convert(target)
