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


# Outline colours for groups of marked cells (RGB): one per group, repeating after six.
MARK_COLOURS = ((255, 64, 64), (255, 200, 0), (0, 200, 255), (255, 0, 255), (0, 230, 118), (255, 140, 0))


def grid_shape(n: int, columns: int | None = None) -> tuple[int, int]:
    """(rows, columns) of the grid `image_grid` lays n images out in: as square as it gets."""
    columns = columns or max(1, math.ceil(math.sqrt(n)))
    return max(1, math.ceil(n / columns)), columns


def outline_cells(grid: np.ndarray, groups: list[list[int]], n: int, padding: int = 2) -> np.ndarray:
    """A copy of an `image_grid` of n images (RGB, as a view needs it) with each group's cells outlined
    in the padding around them, one colour per group (e.g. a collapse's near-duplicates)."""
    out = np.repeat(grid, 3, axis=2) if grid.shape[2] == 1 else grid.copy()
    rows, columns = grid_shape(n)
    h = (grid.shape[0] - padding) // rows - padding
    w = (grid.shape[1] - padding) // columns - padding
    if h < 1 or w < 1 or padding < 1:
        return out  # not a grid of n images: nothing to mark
    for g, group in enumerate(groups):
        colour = MARK_COLOURS[g % len(MARK_COLOURS)]
        for i in group:
            if not 0 <= i < n:
                continue
            r, c = divmod(i, columns)
            top, left = r * (h + padding), c * (w + padding)  # the cell's padding ring starts here
            bottom, right = top + h + 2 * padding, left + w + 2 * padding
            out[top:top + padding, left:right] = colour
            out[bottom - padding:bottom, left:right] = colour
            out[top:bottom, left:left + padding] = colour
            out[top:bottom, right - padding:right] = colour
    return out


def image_grid(images: torch.Tensor, columns: int | None = None, padding: int = 2, pad_value: int = 0) -> np.ndarray:
    """Lay N×C×H×W images (uint8, or float in [-1, 1]) out as one H×W×C uint8 array (C is 1 or 3)."""
    imgs = to_uint8(images).cpu()
    n, c, h, w = imgs.shape
    if c not in (1, 3):
        raise ValueError(f"image_grid wants 1 or 3 channels, got {c}")
    rows, columns = grid_shape(n, columns)
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
