"""Previews of translation data: pairs drawn as input → target, two domains as rows labelled A and B."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from ..grids import image_grid, to_uint8

PAIRS = 16  # pairs in the preview: a 4×4 grid of input → target cells
DOMAIN_ROW = 8  # images per domain row
ARROW_GREY = 200


def pairs_grid(inputs: torch.Tensor, targets: torch.Tensor, count: int = PAIRS) -> np.ndarray:
    """The first `count` pairs as cells of input, an arrow, target; laid out as one H×W×C uint8 grid."""
    x, y = to_uint8(inputs[:count]).cpu(), to_uint8(targets[:count]).cpu()
    n, c, side, _ = x.shape
    arrow = torch.from_numpy(_arrow(side, c)).expand(n, -1, -1, -1)
    return image_grid(torch.cat([x, arrow, y], dim=3), columns=min(4, n))


def domains_grid(a: torch.Tensor, b: torch.Tensor, count: int = DOMAIN_ROW) -> np.ndarray:
    """The first `count` images of each domain as two rows, each led by its label ("A", "B")."""
    rows = []
    for label, images in (("A", a), ("B", b)):
        imgs = to_uint8(images[:count]).cpu()
        c, side = imgs.shape[1], imgs.shape[-1]
        blank = torch.zeros((count - imgs.shape[0], c, side, side), dtype=torch.uint8)
        tag = torch.from_numpy(_label(label, side, c))[None]
        rows.append(torch.cat([tag, imgs, blank]))
    return image_grid(torch.cat(rows), columns=count + 1)


def _arrow(side: int, channels: int) -> np.ndarray:
    """A C×side×w grey right-pointing arrow on black, w about half the side."""
    w = max(5, side // 2)
    img = Image.new("L", (w, side), 0)
    draw = ImageDraw.Draw(img)
    mid, head = side // 2, max(2, w // 2)
    thick = max(1, side // 16)
    draw.rectangle((1, mid - thick // 2, w - head, mid + (thick - 1) // 2), fill=ARROW_GREY)
    draw.polygon([(w - head - 1, mid - head), (w - 1, mid), (w - head - 1, mid + head)], fill=ARROW_GREY)
    return np.repeat(np.asarray(img, dtype=np.uint8)[None], channels, axis=0)


def _label(text: str, side: int, channels: int) -> np.ndarray:
    """A C×side×side black cell with `text` in light grey, as large as fits."""
    img = Image.new("L", (side, side), 0)
    draw = ImageDraw.Draw(img)
    try:
        font = ImageFont.load_default(size=max(6, int(side * 0.7)))
    except (TypeError, ImportError, OSError):  # an older Pillow or one without FreeType: the small bitmap font
        font = ImageFont.load_default()
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    draw.text(((side - (right - left)) / 2 - left, (side - (bottom - top)) / 2 - top), text, fill=230, font=font)
    return np.repeat(np.asarray(img, dtype=np.uint8)[None], channels, axis=0)
