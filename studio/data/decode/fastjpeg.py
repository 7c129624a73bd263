"""The fast path for plain JPEGs: the header read from the bytes, pixels by libjpeg-turbo.

simplejpeg (libjpeg-turbo, without the GIL) decodes three to four times as fast as Pillow and
scales in the DCT domain (1/2, 1/4, 1/8 …) while decoding, so a 178×218 face for a 64-pixel model
is decoded at 89×109 without ever existing at full size. Without it, torchvision's `decode_jpeg`
(twice Pillow's speed, full size only) is used. Neither checks anything before allocating, so the
size is read here first from the frame header and the caller refuses bombs as for any other file.
Only baseline/progressive JPEGs with 1 or 3 components and no EXIF block take this path (EXIF may
rotate the image; Pillow applies that); every other file goes through Pillow.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

import numpy as np

# Start-of-frame markers that carry the image size (not DHT C4, JPG C8 or DAC CC).
_SOF_MARKERS = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_SCAN_MARKER = 0xDA

_MISSING: list[str] = []  # what a missing decoder costs, for `studio datasets` to say

try:  # the fastest decoder, a dependency; its absence (a platform without wheels) costs speed, not files
    import simplejpeg
except ImportError:  # pragma: no cover - depends on the installation
    simplejpeg = None
    _MISSING.append("simplejpeg is not installed: JPEGs decode more slowly (pip install simplejpeg)")

try:  # torchvision is optional for the data layer: without it Pillow decodes every file
    import torch
    from torchvision.io import ImageReadMode, decode_jpeg

    # The operator behind torchvision.io.decode_jpeg: the same decoder without the per-call usage
    # logging and deprecation warning (torchvision 0.29 points to TorchCodec) that cost as much as
    # decoding a 64×64 image.
    _decode_jpeg = getattr(torch.ops.image, "decode_jpeg", None) or (
        lambda t, mode, exif: decode_jpeg(t, ImageReadMode(mode), apply_exif_orientation=exif)
    )
except (ImportError, RuntimeError):  # pragma: no cover - depends on the installation
    _decode_jpeg = None
    _MISSING.append("torchvision's JPEG decoder is not available: without simplejpeg, Pillow decodes every JPEG "
                    "(pip install torchvision)")


class JpegHeader(NamedTuple):
    """What a JPEG's frame header says."""

    width: int
    height: int
    components: int
    exif: bool  # an APP1 Exif segment came before the frame (it may ask for a rotation)


def jpeg_header(data: bytes) -> JpegHeader | None:
    """The frame header of a JPEG held in `data`, or None when it is not one this parser reads."""
    if data[:3] != b"\xff\xd8\xff":
        return None
    pos, end, exif = 2, len(data), False
    while pos + 4 <= end:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        (length,) = struct.unpack_from(">H", data, pos + 2)
        if length < 2:
            return None
        if marker in _SOF_MARKERS:
            if pos + 10 > end:
                return None
            height, width = struct.unpack_from(">HH", data, pos + 5)
            return JpegHeader(width, height, data[pos + 9], exif)
        if marker == _SCAN_MARKER:
            return None  # scan data before any frame header: not a well-formed file
        if marker == 0xE1 and data[pos + 4 : pos + 10] == b"Exif\x00\x00":
            exif = True
        pos += 2 + length
    return None


def available() -> str | None:
    """The decoder plain JPEGs take ("simplejpeg", "torchvision"), None when only Pillow is installed."""
    if simplejpeg is not None:
        return "simplejpeg"
    return "torchvision" if _decode_jpeg is not None else None


def missing() -> list[str]:
    """What the missing JPEG decoders (simplejpeg, torchvision) cost and how to install them; [] when none is."""
    return list(_MISSING)


def scales() -> bool:
    """True when `decode` can decode at a reduced size (otherwise Pillow's draft mode is faster for that)."""
    return simplejpeg is not None


def can_decode(header: JpegHeader | None) -> bool:
    """True when `decode` handles this file exactly (otherwise Pillow must)."""
    return (
        available() is not None
        and header is not None
        and not header.exif
        and header.components in (1, 3)
        and header.width > 0
        and header.height > 0
    )


def decode(data: bytes, channels: int, min_width: int = 0, min_height: int = 0) -> np.ndarray:
    """Decode to uint8 H×W×C (C = `channels`), at the smallest DCT scale at least `min_width` ×
    `min_height` where the decoder `scales`; raises ValueError or RuntimeError on corrupt data."""
    if simplejpeg is not None:
        hwc = simplejpeg.decode_jpeg(data, colorspace="GRAY" if channels == 1 else "RGB",
                                     min_width=min_width, min_height=min_height)
        return hwc.reshape(hwc.shape[0], hwc.shape[1], channels)
    mode = ImageReadMode.GRAY if channels == 1 else ImageReadMode.RGB
    # frombuffer over a bytearray: a writable buffer, so torch does not warn.
    tensor = _decode_jpeg(torch.frombuffer(bytearray(data), dtype=torch.uint8), mode.value, False)
    return tensor.numpy().transpose(1, 2, 0)
