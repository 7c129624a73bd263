"""Centre squares resized together (studio/data/decode/resize.py) are the squares resized one by one."""

from __future__ import annotations

import numpy as np
import torch

from studio.data.decode import resize
from studio.data.decode.resize import ResizeBatch, centre_squares


def _alone(square: np.ndarray, size: int) -> np.ndarray:
    nchw = torch.from_numpy(np.ascontiguousarray(square)).permute(2, 0, 1)[None]
    return torch.nn.functional.interpolate(nchw, size=(size, size), mode="bicubic", antialias=True)[0].numpy()


def test_centre_squares_of_tiles():
    hwc = np.arange(4 * 10 * 1, dtype=np.uint8).reshape(4, 10, 1)  # two 4×5 tiles side by side
    left, right = centre_squares(hwc, tiles=2)
    assert left.shape == right.shape == (4, 4, 1)
    assert (left == hwc[:, 0:4]).all() and (right == hwc[:, 5:9]).all()
    (tall,) = centre_squares(np.zeros((9, 4, 3), np.uint8))
    assert tall.shape == (4, 4, 3)


def test_batched_resize_equals_one_at_a_time(monkeypatch):
    monkeypatch.setattr(resize, "BUFFER_BYTES", 3 * 20 * 20 * 3)  # three squares a buffer: it fills and refills
    rng = np.random.default_rng(0)
    shapes = [(20, 20), (31, 31), (20, 20), (8, 8), (12, 12), (20, 20), (20, 20), (31, 31), (20, 20)]
    squares = [rng.integers(0, 256, (*s, 3), dtype=np.uint8) for s in shapes]
    block = np.zeros((len(squares) // 3 + 1, 3, 12, 36), np.uint8)  # three tiles a row
    batch = ResizeBatch(block, 12)
    for row in range(0, len(squares), 3):
        batch.add(row // 3, squares[row : row + 3])
    batch.flush()
    for k, square in enumerate(squares):
        row, col = divmod(k, 3)
        expected = square.transpose(2, 0, 1) if square.shape[0] == 12 else _alone(square, 12)
        assert (block[row, :, :, col * 12 : (col + 1) * 12] == expected).all(), k
    assert (block[-1] == 0).all()  # rows given nothing stay untouched
