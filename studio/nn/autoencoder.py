"""BEGAN's networks (Berthelot et al. 2017, §3.5 and figure 1): an ELU convolutional encoder and decoder
with no BatchNorm, at any supported size.

The decoder is also BEGAN's generator; the discriminator is encoder + decoder, an auto-encoder whose
reconstruction error is the signal both players fight over. As figure 1 draws them: 3×3 convolutions,
each followed by an ELU, two per resolution; n filters throughout the decoder, nearest-neighbour
upsampling; the encoder sub-samples by stride-2 convolutions and widens by n at each halving (n, 2n,
3n, ...); the boundary is a fully connected map, with no non-linearity, to and from an h-dimensional
embedding, from and to an 8×8 map (`start`). §3.5.1's optional skip connections (`skip`) join h0, the
first decoder map, upsampled, to the output of every upsampling step.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .blocks import pyramid
from .conditioning import join_channels, join_latent

PAPER_START = 8  # "The first decoder tensor h0 is obtained by projecting h to an 8 × 8 × n tensor" (§3.5.1)


def began_pyramid(size: int, start: int = PAPER_START) -> tuple[int, int]:
    """(start, doublings) of BEGAN's networks for `size`-pixel images: from the largest map of at most `start`
    pixels (the paper's 8) that doubles to the image: 8×8 for 16, 32 or 64 pixels, 7×7 for 28. `start` 0 is
    the studio's first BEGAN, from the smallest map of 4 to 7 pixels (`pyramid`), so runs saved before the
    paper's 8×8 rebuild."""
    if start == 0:
        return pyramid(size)
    side, doublings = size, 0
    while side > start and side % 2 == 0:
        side, doublings = side // 2, doublings + 1
    if side > start or side < 3:
        raise ValueError(f"image size {size}: BEGAN's decoder grows by doubling from a map of 3 to {start} pixels, "
                         f"and {size} is no such map times a power of 2: use a size such as 16, 28, 32 or 64")
    return side, doublings


def _conv_pair(channels: int, in_channels: int | None = None) -> list[nn.Module]:
    # Two 3×3 convolutions with ELU per resolution ("each layer is repeated a number of times (typically 2)").
    return [nn.Conv2d(in_channels or channels, channels, 3, 1, 1), nn.ELU(inplace=True),
            nn.Conv2d(channels, channels, 3, 1, 1), nn.ELU(inplace=True)]


class BEGANDecoder(nn.Module):
    """Code (+ condition) -> h0, a `start`-square map of `width` channels -> conv pairs with nearest 2×
    upsampling -> image; with `skip`, each upsampled map is joined by h0 upsampled to its size (§3.5.1),
    so the first convolution after it takes 2·width channels.

    The output is linear (no tanh), as in the paper: the L1 reconstruction needs no squashing.
    """

    def __init__(self, code_dim: int, channels: int, size: int, width: int = 64, cond_dim: int = 0,
                 start: int = PAPER_START, skip: bool = False):
        super().__init__()
        start, doublings = began_pyramid(size, start)
        self.start, self.width, self.skip = start, width, skip
        # "mapped via fully connected layers, not followed by any non-linearities" (§3.5)
        self.project = nn.Linear(code_dim + cond_dim, width * start * start)
        layers: list[nn.Module] = []
        for i in range(doublings + 1):
            layers += _conv_pair(width, 2 * width if skip and i > 0 else width)
            if i < doublings:
                layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
        layers.append(nn.Conv2d(width, channels, 3, 1, 1))
        # One flat stack (its keys those of the decoder without skips), walked in `forward` to join h0.
        self.body = nn.Sequential(*layers)

    def forward(self, code: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h0 = self.project(join_latent(code, y)).view(code.shape[0], self.width, self.start, self.start)
        if not self.skip:
            return self.body(h0)
        h = h0
        for layer in self.body:
            h = layer(h)
            if isinstance(layer, nn.Upsample):
                h = torch.cat([h, F.interpolate(h0, size=h.shape[-2:], mode="nearest")], dim=1)
        return h


class BEGANEncoder(nn.Module):
    """Image (+ condition channels) -> conv pairs, stride-2 convs widening by `width` each halving -> the
    `code_dim` embedding (linear)."""

    def __init__(self, channels: int, size: int, width: int = 64, code_dim: int = 64, cond_dim: int = 0,
                 start: int = PAPER_START):
        super().__init__()
        start, doublings = began_pyramid(size, start)
        widths = [width * (i + 1) for i in range(doublings + 1)]  # "increased linearly with each down-sampling"
        layers: list[nn.Module] = [nn.Conv2d(channels + cond_dim, width, 3, 1, 1), nn.ELU(inplace=True)]
        for i, w in enumerate(widths):
            layers += _conv_pair(w)
            if i < doublings:  # "down-sampling is implemented as sub-sampling with stride 2"
                layers += [nn.Conv2d(w, widths[i + 1], 3, 2, 1), nn.ELU(inplace=True)]
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(widths[-1] * start * start, code_dim)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.body(join_channels(x, y)).flatten(1))


class AutoEncoderDiscriminator(nn.Module):
    """BEGAN's discriminator: reconstructs its input through a `code_dim` embedding h."""

    def __init__(self, channels: int, size: int, width: int = 64, code_dim: int = 64, cond_dim: int = 0,
                 start: int = PAPER_START, skip: bool = False):
        super().__init__()
        self.encoder = BEGANEncoder(channels, size, width, code_dim, cond_dim, start)
        self.decoder = BEGANDecoder(code_dim, channels, size, width, cond_dim, start, skip)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.decoder(self.encoder(x, y), y)
