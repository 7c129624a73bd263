"""BEGAN's networks: an ELU convolutional encoder and decoder (no BatchNorm), at any supported size.

The decoder is also BEGAN's generator; the discriminator is encoder + decoder, an auto-encoder whose
reconstruction error is the signal both players fight over.
"""

from __future__ import annotations

import torch
from torch import nn

from .blocks import pyramid
from .conditioning import join_channels, join_latent


def _conv_pair(channels: int) -> list[nn.Module]:
    # Two 3×3 convolutions with ELU per resolution, as in the paper's figure 1.
    return [nn.Conv2d(channels, channels, 3, 1, 1), nn.ELU(inplace=True),
            nn.Conv2d(channels, channels, 3, 1, 1), nn.ELU(inplace=True)]


class BEGANDecoder(nn.Module):
    """Code (+ condition) -> dense start map of `width` channels -> conv pairs with nearest 2× upsampling -> image.

    The output is linear (no tanh), as in the paper: the L1 reconstruction needs no squashing.
    """

    def __init__(self, code_dim: int, channels: int, size: int, width: int = 64, cond_dim: int = 0):
        super().__init__()
        start, doublings = pyramid(size)
        self.start, self.width = start, width
        self.project = nn.Linear(code_dim + cond_dim, width * start * start)
        layers: list[nn.Module] = []
        for i in range(doublings + 1):
            layers += _conv_pair(width)
            if i < doublings:
                layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
        layers.append(nn.Conv2d(width, channels, 3, 1, 1))
        self.body = nn.Sequential(*layers)

    def forward(self, code: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.project(join_latent(code, y)).view(code.shape[0], self.width, self.start, self.start)
        return self.body(h)


class BEGANEncoder(nn.Module):
    """Image (+ condition channels) -> conv pairs, strided convs widening by `width` each halving -> code."""

    def __init__(self, channels: int, size: int, width: int = 64, code_dim: int = 64, cond_dim: int = 0):
        super().__init__()
        start, doublings = pyramid(size)
        widths = [width * (i + 1) for i in range(doublings + 1)]
        layers: list[nn.Module] = [nn.Conv2d(channels + cond_dim, width, 3, 1, 1), nn.ELU(inplace=True)]
        for i, w in enumerate(widths):
            layers += _conv_pair(w)
            if i < doublings:
                layers += [nn.Conv2d(w, widths[i + 1], 3, 2, 1), nn.ELU(inplace=True)]
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(widths[-1] * start * start, code_dim)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.body(join_channels(x, y)).flatten(1))


class AutoEncoderDiscriminator(nn.Module):
    """BEGAN's discriminator: reconstructs its input through a `code_dim` embedding."""

    def __init__(self, channels: int, size: int, width: int = 64, code_dim: int = 64, cond_dim: int = 0):
        super().__init__()
        self.encoder = BEGANEncoder(channels, size, width, code_dim, cond_dim)
        self.decoder = BEGANDecoder(code_dim, channels, size, width, cond_dim)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.decoder(self.encoder(x, y), y)
