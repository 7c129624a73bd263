"""Image helpers shared by every layer: tensors to uint8 grids (for PNG, GIF and the GUI)."""

from __future__ import annotations

import math

import numpy as np
import torch


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """float images in [-1, 1] -> uint8 [0, 255] (clamped); uint8 passes through."""
    if images.dtype == torch.uint8:
        return images
    return images.detach().float().add(1.0).mul(127.5).round().clamp(0, 255).to(torch.uint8)


def image_grid(images: torch.Tensor, columns: int | None = None, padding: int = 2, pad_value: int = 0) -> np.ndarray:
    """Lay N×C×H×W images (uint8, or float in [-1, 1]) out as one H×W×C uint8 array (C is 1 or 3)."""
    imgs = to_uint8(images).cpu()
    n, c, h, w = imgs.shape
    if c not in (1, 3):
        raise ValueError(f"image_grid wants 1 or 3 channels, got {c}")
    columns = columns or max(1, math.ceil(math.sqrt(n)))
    rows = max(1, math.ceil(n / columns))
    grid = torch.full((c, rows * (h + padding) + padding, columns * (w + padding) + padding), pad_value,
                      dtype=torch.uint8)
    for i in range(n):
        r, col = divmod(i, columns)
        top, left = padding + r * (h + padding), padding + col * (w + padding)
        grid[:, top:top + h, left:left + w] = imgs[i]
    return np.ascontiguousarray(grid.permute(1, 2, 0).numpy())
