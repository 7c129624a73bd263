"""U-Net halves: an encoder that keeps a feature map at every resolution, a decoder that merges them back.

`UNetEncoder` and `UNetDecoder` are general (pix2pix-style image translation composes them as
`UNet`); `LatentUNetEncoder` / `LatentUNetDecoder` put a latent vector at the bottom for the
U-Net VAE-GAN of seed 004, whose decoder takes z and the skip maps.

Skip maps are listed from the image resolution (index 0) down to the smallest map (index -1);
a 32×32 input gives four: 32, 16, 8 and 4 pixels (the skip_1..skip_4 of seed 004).
"""

from __future__ import annotations

from itertools import pairwise

import torch
from torch import nn

from .blocks import norm2d, pyramid
from .conditioning import join_latent
from .resnet import stack_widths


def unet_depth(size: int, depth: int | None = None) -> int:
    """The number of halvings: the pyramid's by default, or `depth` when the size allows it."""
    if depth is None:
        return pyramid(size)[1]
    if depth < 1 or size % 2**depth or size // 2**depth < 1:
        raise ValueError(f"U-Net depth {depth} does not fit a {size}-pixel image: the size must halve evenly "
                         f"{depth} times; use a smaller depth")
    return depth


class UNetEncoder(nn.Module):
    """Image -> skip maps at every resolution: a 3×3 stem, then strided 4×4 convs with LeakyReLU(0.2)."""

    def __init__(self, in_channels: int, size: int, width: int = 64, norm: str = "batch", depth: int | None = None):
        super().__init__()
        self.depth = unet_depth(size, depth)
        self.skip_channels = stack_widths(width, self.depth)
        self.bottom_size = size // 2**self.depth
        w = self.skip_channels
        self.stem = nn.Sequential(nn.Conv2d(in_channels, w[0], 3, 1, 1), nn.LeakyReLU(0.2))
        self.downs = nn.ModuleList(
            nn.Sequential(nn.Conv2d(a, b, 4, 2, 1, bias=norm == "none"), norm2d(norm, b), nn.LeakyReLU(0.2))
            for a, b in pairwise(w)
        )

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        skips = [self.stem(x)]
        for down in self.downs:
            skips.append(down(skips[-1]))
        return skips


class UNetDecoder(nn.Module):
    """A bottom map plus the encoder's skips -> image: at each level upsample, concatenate the skip, merge.

    `dropout` (pix2pix's noise) applies to the three deepest upsamplings.
    """

    def __init__(self, out_channels: int, size: int, width: int = 64, bottom_channels: int | None = None,
                 norm: str = "batch", dropout: float = 0.0, out_activation: nn.Module | None = None,
                 depth: int | None = None):
        super().__init__()
        self.depth = unet_depth(size, depth)
        w = stack_widths(width, self.depth)
        self.bottom_channels = bottom_channels if bottom_channels is not None else w[-1]
        bias = norm == "none"
        self.fuse = nn.Sequential(nn.Conv2d(self.bottom_channels + w[-1], w[-1], 3, 1, 1, bias=bias),
                                  norm2d(norm, w[-1]), nn.ReLU())
        self.ups = nn.ModuleList()
        self.merges = nn.ModuleList()
        for level, (a, b) in enumerate(pairwise(reversed(w))):
            drop = nn.Dropout(dropout) if dropout > 0 and level < 3 else nn.Identity()
            self.ups.append(nn.Sequential(nn.ConvTranspose2d(a, b, 4, 2, 1, bias=bias), norm2d(norm, b), drop,
                                          nn.ReLU()))
            self.merges.append(nn.Sequential(nn.Conv2d(2 * b, b, 3, 1, 1, bias=bias), norm2d(norm, b), nn.ReLU()))
        self.head = nn.Sequential(nn.Conv2d(w[0], out_channels, 3, 1, 1),
                                  out_activation if out_activation is not None else nn.Tanh())

    def forward(self, bottom: torch.Tensor, skips: list[torch.Tensor]) -> torch.Tensor:
        if len(skips) != self.depth + 1:
            raise ValueError(f"the U-Net decoder needs {self.depth + 1} skip maps, got {len(skips)}")
        h = self.fuse(torch.cat([bottom, skips[-1]], dim=1))
        for up, merge, skip in zip(self.ups, self.merges, reversed(skips[:-1]), strict=True):
            h = merge(torch.cat([up(h), skip], dim=1))
        return self.head(h)


class UNet(nn.Module):
    """Image-to-image U-Net (pix2pix's generator): the encoder's smallest map is the decoder's bottom."""

    def __init__(self, in_channels: int, out_channels: int, size: int, width: int = 64, norm: str = "batch",
                 dropout: float = 0.0, depth: int | None = None):
        super().__init__()
        self.encoder = UNetEncoder(in_channels, size, width, norm, depth)
        self.decoder = UNetDecoder(out_channels, size, width, norm=norm, dropout=dropout, depth=depth)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = self.encoder(x)
        return self.decoder(skips[-1], skips)


class LatentUNetEncoder(nn.Module):
    """Image -> (vector of `out_features`, skip maps): a U-Net encoder whose smallest map is flattened to a code."""

    def __init__(self, channels: int, size: int, out_features: int, width: int = 64, norm: str = "batch"):
        super().__init__()
        self.unet = UNetEncoder(channels, size, width, norm)
        bottom = self.unet.skip_channels[-1] * self.unet.bottom_size**2
        self.head = nn.Linear(bottom, out_features)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        skips = self.unet(x)
        return self.head(skips[-1].flatten(1)), skips


class LatentUNetDecoder(nn.Module):
    """(latent (+ condition), skip maps) -> image: z is projected to the bottom map, then a U-Net decoder."""

    def __init__(self, latent_dim: int, channels: int, size: int, width: int = 64, cond_dim: int = 0,
                 norm: str = "batch"):
        super().__init__()
        self.unet = UNetDecoder(channels, size, width, norm=norm)
        self.bottom_shape = (self.unet.bottom_channels, size // 2**self.unet.depth, size // 2**self.unet.depth)
        c, h, w = self.bottom_shape
        self.project = nn.Sequential(nn.Linear(latent_dim + cond_dim, c * h * w), nn.ReLU())

    def forward(self, z: torch.Tensor, skips: list[torch.Tensor], y: torch.Tensor | None = None) -> torch.Tensor:
        bottom = self.project(join_latent(z, y)).view(z.shape[0], *self.bottom_shape)
        return self.unet(bottom, skips)
