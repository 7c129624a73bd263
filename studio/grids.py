"""Image helpers shared by every layer: uint8 and [-1, 1] tensors, grids and scatter plots (for PNG, GIF and the GUI)."""

from __future__ import annotations

import math

import numpy as np
import torch


def to_unit_range(images: torch.Tensor, memory_format: torch.memory_format = torch.contiguous_format) -> torch.Tensor:
    """uint8 [0, 255] -> float [-1, 1] (in `memory_format`, e.g. channels_last for the fast path)."""
    if memory_format is torch.contiguous_format or images.dim() != 4:
        return images.float().div_(127.5).sub_(1.0)
    return images.to(dtype=torch.float32, memory_format=memory_format).div_(127.5).sub_(1.0)


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


def scatter_image(points: torch.Tensor, modes: torch.Tensor | None = None, size: int = 512,
                  extent: float | None = None) -> np.ndarray:
    """2-D points drawn as a size×size×3 uint8 scatter (white background), with the real modes as
    grey rings when given; the view is square and centred on the origin so runs compare."""
    pts = points.detach().float().cpu()[:, :2]
    if extent is None:
        ref = modes if modes is not None and len(modes) else pts
        extent = 1.25 * float(ref.abs().max().clamp(min=1e-3))
    canvas = np.full((size, size, 3), 255, dtype=np.uint8)

    def pixels(xy: torch.Tensor) -> np.ndarray:
        # y grows upwards in data space and downwards in pixels.
        scaled = (xy / extent + 1) * 0.5 * (size - 1)
        return torch.stack([scaled[:, 0], (size - 1) - scaled[:, 1]], 1).round().long().numpy()

    if modes is not None:
        yy, xx = np.mgrid[-6:7, -6:7]
        ring = (np.hypot(yy, xx) >= 4.5) & (np.hypot(yy, xx) <= 6.0)
        for x, y in pixels(modes.detach().float().cpu()):
            for dy, dx in zip(yy[ring], xx[ring]):
                if 0 <= y + dy < size and 0 <= x + dx < size:
                    canvas[y + dy, x + dx] = (150, 150, 150)
    xy = pixels(pts)
    inside = (xy[:, 0] >= 0) & (xy[:, 0] < size - 1) & (xy[:, 1] >= 0) & (xy[:, 1] < size - 1)
    for dy in (0, 1):
        for dx in (0, 1):  # 2×2 dots, visible at any zoom
            canvas[xy[inside, 1] + dy, xy[inside, 0] + dx] = (31, 119, 180)
    return canvas
