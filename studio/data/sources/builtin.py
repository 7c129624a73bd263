"""Procedural datasets that need no download and are the same for the same seed.

- `builtin:shapes`: colour images of four shapes (circle, square, triangle, cross) in several
  colours, labelled by shape: big enough to train on, small enough to build in a second.
- `builtin:shapes-attributes`: the same drawings with multi-hot attributes
  [round, has_corners, red, green, blue, large], for attribute (multi-hot) conditioning.
- `builtin:rings` / `builtin:grid`: the standard mode-collapse benchmarks (PacGAN's setup):
  8 Gaussians on the unit circle (std 0.01), 25 Gaussians on {-4,-2,0,2,4}² (std 0.05).
- `builtin:outlines2shapes`: paired outlines -> filled shapes, for pix2pix.
- `builtin:outlines|shapes`: the same two domains drawn independently (unpaired), for CycleGAN.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from ..dataset import Dataset, DatasetKind
from ..errors import DatasetError

SHAPES = ("circle", "square", "triangle", "cross")
COLOURS = torch.tensor(
    [
        [230, 60, 50],  # red
        [60, 180, 75],  # green
        [60, 110, 230],  # blue
        [240, 200, 40],  # yellow
        [200, 80, 220],  # magenta
        [70, 210, 220],  # cyan
    ],
    dtype=torch.float32,
)
BACKGROUND = torch.tensor([24, 24, 32], dtype=torch.float32)


@dataclass(frozen=True)
class BuiltinInfo:
    """One built-in set: its name, kind, a line for listings, and the function that draws it."""

    name: str
    kind: DatasetKind
    description: str
    build: Callable[..., Dataset]


def _shape_masks(shape_ids: torch.Tensor, size: int, gen: torch.Generator, inset: float = 0.0):
    """Boolean masks (N, size, size) of randomly placed shapes; `inset` shrinks each shape by
    that many pixels, so mask(0) & ~mask(2) is a 2-pixel outline. Returns (mask_fn, params)."""
    n = shape_ids.shape[0]
    radius = (0.22 + 0.12 * torch.rand(n, generator=gen)) * size
    margin = radius + 1
    cx = margin + (size - 2 * margin) * torch.rand(n, generator=gen)
    cy = margin + (size - 2 * margin) * torch.rand(n, generator=gen)
    coords = torch.arange(size, dtype=torch.float32) + 0.5
    ys = coords.view(1, size, 1)
    xs = coords.view(1, 1, size)

    def mask(shrink: float) -> torch.Tensor:
        r = (radius - shrink).clamp(min=1.0).view(n, 1, 1)
        dx = xs - cx.view(n, 1, 1)
        dy = ys - cy.view(n, 1, 1)
        circle = dx**2 + dy**2 <= r**2
        square = torch.maximum(dx.abs(), dy.abs()) <= r * 0.85
        # An upright triangle: below the apex, above the base, inside the two slanted sides.
        triangle = (dy <= r * 0.8) & (dy >= -r) & (dx.abs() * 2 <= (dy + r) * 1.05)
        arm = r * 0.35
        cross = ((dx.abs() <= arm) & (dy.abs() <= r)) | ((dy.abs() <= arm) & (dx.abs() <= r))
        stack = torch.stack([circle, square, triangle, cross], dim=1)  # (n, 4, H, W)
        return stack[torch.arange(n), shape_ids]

    mask.radius = radius / size  # relative size, for the "large" attribute
    return mask


def _paint(mask: torch.Tensor, colours: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 3, H, W): the mask in each image's colour over the dark background."""
    m = mask.unsqueeze(1).float()
    img = m * colours.view(-1, 3, 1, 1) + (1 - m) * BACKGROUND.view(1, 3, 1, 1)
    return img.round().clamp(0, 255).to(torch.uint8)


def _draw_shapes(n: int, size: int, seed: int, outline_only: bool = False):
    gen = torch.Generator().manual_seed(seed)
    shape_ids = torch.randint(len(SHAPES), (n,), generator=gen)
    colour_ids = torch.randint(len(COLOURS), (n,), generator=gen)
    mask_fn = _shape_masks(shape_ids, size, gen)
    filled = mask_fn(0.0)
    outline = filled & ~mask_fn(max(1.0, size / 16))
    colours = COLOURS[colour_ids]
    return shape_ids, colours, filled, outline


ATTRIBUTES = ("round", "has_corners", "red", "green", "blue", "large")


def shapes_attributes(size: int = 32, count: int = 10_000, seed: int = 0, **_) -> Dataset:
    """The shapes set labelled with multi-hot attributes instead of a class, to test attribute conditioning.

    round: a circle; has_corners: any other shape; red/green/blue: the colour's additive primaries
    (yellow is red+green, magenta red+blue, cyan green+blue); large: radius above the middle of its range.
    """
    gen = torch.Generator().manual_seed(seed)
    shape_ids = torch.randint(len(SHAPES), (count,), generator=gen)
    colour_ids = torch.randint(len(COLOURS), (count,), generator=gen)
    mask_fn = _shape_masks(shape_ids, size, gen)
    colours = COLOURS[colour_ids]
    round_ = (shape_ids == SHAPES.index("circle")).float()
    primaries = (colours > 128).float()  # (N, 3): which of R, G, B each colour contains
    large = (mask_fn.radius > 0.28).float()
    labels = torch.cat([round_[:, None], 1 - round_[:, None], primaries, large[:, None]], dim=1)
    return Dataset(
        source="builtin:shapes-attributes",
        kind=DatasetKind.IMAGES,
        data=_paint(mask_fn(0.0), colours),
        labels=labels,
        label_names=list(ATTRIBUTES),
        multi_label=True,
    )


def shapes(size: int = 32, count: int = 10_000, seed: int = 0, **_) -> Dataset:
    """Labelled colour shapes."""
    labels, colours, filled, _outline = _draw_shapes(count, size, seed)
    return Dataset(
        source="builtin:shapes",
        kind=DatasetKind.IMAGES,
        data=_paint(filled, colours),
        labels=labels.long(),
        label_names=list(SHAPES),
    )


def outlines2shapes(size: int = 32, count: int = 4_000, seed: int = 0, **_) -> Dataset:
    """Paired: a white outline (input) and the same shape filled in colour (target)."""
    labels, colours, filled, outline = _draw_shapes(count, size, seed)
    white = torch.full_like(colours, 235.0)
    return Dataset(
        source="builtin:outlines2shapes",
        kind=DatasetKind.PAIRED,
        data=_paint(outline, white),
        targets=_paint(filled, colours),
        labels=labels.long(),
        label_names=list(SHAPES),
    )


def outlines_shapes_unpaired(size: int = 32, count: int = 4_000, seed: int = 0, **_) -> Dataset:
    """Unpaired: outlines (domain A) and filled shapes (domain B) drawn independently."""
    _, _, _, outline = _draw_shapes(count, size, seed)
    _, colours_b, filled_b, _ = _draw_shapes(count, size, seed + 1)
    white = torch.full((count, 3), 235.0)
    return Dataset(
        source="builtin:outlines|shapes",
        kind=DatasetKind.UNPAIRED,
        data=_paint(outline, white),
        targets=_paint(filled_b, colours_b),
    )


def _mixture(source: str, means: torch.Tensor, std: float, count: int, seed: int) -> Dataset:
    gen = torch.Generator().manual_seed(seed)
    which = torch.randint(len(means), (count,), generator=gen)
    points = means[which] + std * torch.randn(count, 2, generator=gen)
    return Dataset(source=source, kind=DatasetKind.POINTS, data=points.float(), modes=means, mode_std=std)


def rings(count: int = 20_000, seed: int = 0, **_) -> Dataset:
    """8 Gaussians evenly spaced on the unit circle, std 0.01."""
    angles = torch.arange(8, dtype=torch.float32) * (2 * math.pi / 8)
    means = torch.stack([angles.cos(), angles.sin()], dim=1)
    return _mixture("builtin:rings", means, 0.01, count, seed)


def grid(count: int = 20_000, seed: int = 0, **_) -> Dataset:
    """25 Gaussians on {-4,-2,0,2,4}², std 0.05."""
    axis = torch.tensor([-4.0, -2.0, 0.0, 2.0, 4.0])
    means = torch.cartesian_prod(axis, axis)
    return _mixture("builtin:grid", means, 0.05, count, seed)


BUILTINS: dict[str, BuiltinInfo] = {
    info.name: info
    for info in [
        BuiltinInfo(
            "shapes", DatasetKind.IMAGES, "10,000 32×32 colour shapes labelled circle/square/triangle/cross", shapes
        ),
        BuiltinInfo(
            "shapes-attributes",
            DatasetKind.IMAGES,
            "the shapes with multi-hot attributes: round, has_corners, red, green, blue, large",
            shapes_attributes,
        ),
        BuiltinInfo("rings", DatasetKind.POINTS, "2-D points: 8 Gaussians on the unit circle (std 0.01)", rings),
        BuiltinInfo("grid", DatasetKind.POINTS, "2-D points: 25 Gaussians on a 5×5 grid (std 0.05)", grid),
        BuiltinInfo(
            "outlines2shapes", DatasetKind.PAIRED, "paired outlines → filled colour shapes (pix2pix)", outlines2shapes
        ),
        BuiltinInfo(
            "outlines|shapes",
            DatasetKind.UNPAIRED,
            "unpaired domains: outlines and filled shapes (CycleGAN)",
            outlines_shapes_unpaired,
        ),
    ]
}


def open_builtin(name: str, **options) -> Dataset:
    """Build `builtin:<name>`; options such as size, count and seed pass through."""
    info = BUILTINS.get(name)
    if info is None:
        known = ", ".join(f"builtin:{k}" for k in BUILTINS)
        raise DatasetError(f"builtin:{name}: no such built-in dataset (known: {known})")
    return info.build(**{k: v for k, v in options.items() if v is not None})
