"""The PatchGAN discriminator of pix2pix and CycleGAN: one real/fake logit per image patch."""

from __future__ import annotations

import torch
from torch import nn

from .blocks import norm2d


def patch_layers(size: int, wanted: int = 3) -> int:
    """How many stride-2 layers fit `size`: at most `wanted`, leaving an output map of at least 2×2."""
    if size < 8:
        raise ValueError(f"image size {size} is too small for a PatchGAN: use at least 8 pixels")
    layers = max(1, wanted)
    # Each stride-2 conv halves the map; the two closing 4×4 stride-1 convs each take one pixel off.
    while layers > 1 and size // 2 ** layers - 2 < 2:
        layers -= 1
    return layers


class PatchDiscriminator(nn.Module):
    """Strided 4×4 convs (C64-C128-C256 then C512 at stride 1 in the paper) to a map of patch logits.

    Each output cell judges one patch of the input (70×70 pixels with the paper's three strided
    layers), so D models local texture and leaves global structure to the generator's L1 or
    cycle loss. Small images get fewer strided layers (see `patch_layers`).
    """

    def __init__(self, in_channels: int, size: int, width: int = 64, layers: int = 3, norm: str = "batch"):
        super().__init__()
        strided = patch_layers(size, layers)
        bias = norm == "none"
        widths = [min(width * 2 ** i, width * 8) for i in range(strided + 1)]
        body: list[nn.Module] = [nn.Conv2d(in_channels, widths[0], 4, 2, 1), nn.LeakyReLU(0.2, True)]
        for a, b in zip(widths[:-2], widths[1:-1], strict=True):
            body += [nn.Conv2d(a, b, 4, 2, 1, bias=bias), norm2d(norm, b), nn.LeakyReLU(0.2, True)]
        body += [nn.Conv2d(widths[-2], widths[-1], 4, 1, 1, bias=bias), norm2d(norm, widths[-1]),
                 nn.LeakyReLU(0.2, True), nn.Conv2d(widths[-1], 1, 4, 1, 1)]
        self.body = nn.Sequential(*body)
        # Receptive field of one output cell: 4 -> 7 through the stride-1 convs, then r -> 2r + 2 per strided one.
        field = 7
        for _ in range(strided):
            field = 2 * field + 2
        self.receptive_field = field

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Images (N, C, H, W) -> patch logits (N, 1, h, w)."""
        return self.body(x)
