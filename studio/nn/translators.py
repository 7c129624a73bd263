"""Image-to-image generators: pix2pix's U-Net and CycleGAN's ResNet, for any even image size."""

from __future__ import annotations

import torch
from torch import nn

from .blocks import norm2d


def unet_depth(size: int, max_depth: int = 8) -> int:
    """How often a U-Net can halve `size`: down to 1×1 or the first odd size, at most `max_depth` (28 -> 2)."""
    depth, s = 0, size
    while s % 2 == 0 and s > 1 and depth < max_depth:
        s //= 2
        depth += 1
    if depth == 0:
        raise ValueError(f"image size {size} cannot be halved: use an even size such as 16, 28, 32, 64 or 128")
    return depth


class UNetGenerator(nn.Module):
    """pix2pix's U-Net: a strided-conv encoder, a transposed-conv decoder, and a skip joining each level.

    Encoder C64-C128-C256-C512-C512... (LeakyReLU 0.2), decoder mirrored (ReLU) with dropout in its
    first `dropout_layers` layers (the paper's only source of noise), tanh out. The depth follows
    the image: it halves down to 1×1, or to the first odd size (28 -> 14 -> 7).
    """

    def __init__(self, in_channels: int, out_channels: int, size: int, width: int = 64, max_depth: int = 8,
                 norm: str = "batch", dropout: float = 0.5, dropout_layers: int = 3):
        super().__init__()
        depth = unet_depth(size, max_depth)
        widths = [min(width * 2 ** i, width * 8) for i in range(depth)]
        bias = norm == "none"
        self.down = nn.ModuleList()
        for i in range(depth):
            if i == 0:
                self.down.append(nn.Conv2d(in_channels, widths[0], 4, 2, 1))
                continue
            layers: list[nn.Module] = [nn.LeakyReLU(0.2, True), nn.Conv2d(widths[i - 1], widths[i], 4, 2, 1, bias=bias)]
            if i < depth - 1:  # the innermost map may be 1×1: no normalisation there, as in the paper
                layers.append(norm2d(norm, widths[i]))
            self.down.append(nn.Sequential(*layers))
        self.up = nn.ModuleList()
        for j, i in enumerate(reversed(range(depth))):
            in_ch = widths[i] if i == depth - 1 else 2 * widths[i]
            if i == 0:
                self.up.append(nn.Sequential(nn.ReLU(True), nn.ConvTranspose2d(in_ch, out_channels, 4, 2, 1),
                                             nn.Tanh()))
                continue
            layers = [nn.ReLU(True), nn.ConvTranspose2d(in_ch, widths[i - 1], 4, 2, 1, bias=bias),
                      norm2d(norm, widths[i - 1])]
            if dropout > 0 and j < dropout_layers:
                layers.append(nn.Dropout(dropout))
            self.up.append(nn.Sequential(*layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Images in [-1, 1] -> translated images in [-1, 1] of the same size."""
        skips = []
        h = x
        for block in self.down:
            h = block(h)
            skips.append(h)
        for j, block in enumerate(self.up):
            if j > 0:
                h = torch.cat([skips[-1 - j], h], dim=1)
            h = block(h)
        return h


class _ResidualBlock(nn.Module):
    """Two reflection-padded 3×3 convs added back to the input (CycleGAN's R256)."""

    def __init__(self, channels: int, norm: str):
        super().__init__()
        bias = norm == "none"
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=bias), norm2d(norm, channels), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=bias), norm2d(norm, channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResNetGenerator(nn.Module):
    """CycleGAN's generator: c7s1-64, d128, d256, residual blocks, u128, u64, c7s1 to tanh.

    Two stride-2 halvings (one where the size is not divisible by 4); the paper uses 6 residual
    blocks at 128×128 and 9 at 256×256.
    """

    def __init__(self, in_channels: int, out_channels: int, size: int, width: int = 64, blocks: int = 6,
                 norm: str = "instance"):
        super().__init__()
        halvings = unet_depth(size, 2)
        bias = norm == "none"
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, width, 7, bias=bias),
                                   norm2d(norm, width), nn.ReLU(True)]
        ch = width
        for _ in range(halvings):
            layers += [nn.Conv2d(ch, 2 * ch, 3, 2, 1, bias=bias), norm2d(norm, 2 * ch), nn.ReLU(True)]
            ch *= 2
        layers += [_ResidualBlock(ch, norm) for _ in range(blocks)]
        for _ in range(halvings):
            layers += [nn.ConvTranspose2d(ch, ch // 2, 3, 2, 1, output_padding=1, bias=bias), norm2d(norm, ch // 2),
                       nn.ReLU(True)]
            ch //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ch, out_channels, 7), nn.Tanh()]
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Images in [-1, 1] -> translated images in [-1, 1] of the same size."""
        return self.body(x)
