"""Centre squares of decoded images, resized to the target size together.

Every format is resized by one filter: torch's antialiased bicubic on uint8 pixels laid out
channel-last (its vectorised path, a third of the time of Pillow's Lanczos). For the small squares
a dataset load makes, one call per image costs more in dispatch than in arithmetic (89 → 64 px:
26 µs a call, 11 µs an image in a call of 64), so squares of one shape wait in a buffer and are
resized in one call when it fills or when the caller flushes. Each image's result is the same as
resizing it alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from ...threads import one_thread

BUFFER_BYTES = 16 * 2**20  # squares of one shape held before they are resized: bounds the memory
MAX_BATCH = 256


def centre_squares(hwc: np.ndarray, tiles: int = 1) -> list[np.ndarray]:
    """The centre square of each of `tiles` equal side-by-side parts of an H×W×C image (views)."""
    h, w = hwc.shape[:2]
    width = w // tiles
    side = min(width, h)
    top, left = (h - side) // 2, (width - side) // 2
    return [hwc[top : top + side, t * width + left : t * width + left + side] for t in range(tiles)]


class _Pending:
    """Squares of one shape waiting to be resized, and where each goes."""

    def __init__(self, shape: tuple[int, ...], capacity: int):
        self.squares = np.empty((capacity, *shape), dtype=np.uint8)
        self.rows: list[int] = []
        self.cols: list[int] = []


class ResizeBatch:
    """Writes centre squares, resized to `size`, into rows of `block` (N×C×size×(size·tiles)): square
    `col` of a row lands in columns col·size … (col+1)·size. Call `flush` before reading `block`."""

    def __init__(self, block: np.ndarray, size: int):
        self.block, self.size = block, size
        self._most = len(block) * (block.shape[3] // size)  # squares it can receive: no buffer holds more
        self._pending: dict[tuple[int, ...], _Pending] = {}

    def add(self, row: int, squares: Sequence[np.ndarray]) -> None:
        """Queue the squares (H×W×C, C the block's channels) of one image for `row`."""
        s = self.size
        for col, square in enumerate(squares):
            if square.shape[0] == s:  # already at the size: copied as it is
                self.block[row, :, :, col * s : (col + 1) * s] = square.transpose(2, 0, 1)
                continue
            pending = self._pending.get(square.shape)
            if pending is None:
                capacity = max(1, min(MAX_BATCH, self._most, BUFFER_BYTES // square.nbytes))
                pending = self._pending[square.shape] = _Pending(square.shape, capacity)
            pending.squares[len(pending.rows)] = square
            pending.rows.append(row)
            pending.cols.append(col)
            if len(pending.rows) == len(pending.squares):
                self._resize(pending)

    def flush(self) -> None:
        """Resize every square still waiting."""
        for pending in self._pending.values():
            if pending.rows:
                self._resize(pending)

    def _resize(self, pending: _Pending) -> None:
        s, count = self.size, len(pending.rows)
        with one_thread():  # a loader's processes already fill the cores
            nchw = torch.from_numpy(pending.squares[:count]).permute(0, 3, 1, 2)  # channel-last strides
            out = torch.nn.functional.interpolate(nchw, size=(s, s), mode="bicubic", antialias=True).numpy()
        rows, cols = np.asarray(pending.rows), np.asarray(pending.cols)
        for col in np.unique(cols):
            mine = cols == col
            self.block[rows[mine], :, :, col * s : (col + 1) * s] = out[mine]
        pending.rows.clear()
        pending.cols.clear()
