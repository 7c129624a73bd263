"""ResNet stacks (alpha-GAN's networks, seed 001): residual blocks, average pooling down, nearest up.

Channel widths double each time the map halves (capped), so one `width` scales a whole stack,
and `pyramid()` picks the smallest map so that any supported image size works.
"""

from __future__ import annotations

from itertools import pairwise

import torch
from torch import nn

from .blocks import norm2d, pyramid
from .conditioning import join_channels, join_latent

WIDTH_CAP = 512


def activation(kind: str) -> nn.Module:
    """ReLU (encoders, generators) or LeakyReLU(0.2) (discriminators) by name."""
    if kind == "relu":
        return nn.ReLU()
    if kind == "leaky":
        return nn.LeakyReLU(0.2)
    raise ValueError(f"unknown activation '{kind}': use 'relu' or 'leaky'")


def stack_widths(width: int, doublings: int, cap: int = WIDTH_CAP) -> list[int]:
    """Channels at each level, from the image resolution (index 0) down to the smallest map."""
    return [min(cap, width * 2**i) for i in range(doublings + 1)]


class ResBlock(nn.Module):
    """conv-norm-act-conv-norm plus the input (1×1 conv where the width changes), then act."""

    def __init__(self, in_channels: int, out_channels: int, act: str = "relu", norm: str = "batch"):
        super().__init__()
        bias = norm == "none"
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, 1, 1, bias=bias), norm2d(norm, out_channels), activation(act),
            nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=bias), norm2d(norm, out_channels),
        )
        self.shortcut = nn.Identity() if in_channels == out_channels else nn.Conv2d(in_channels, out_channels, 1)
        self.out = activation(act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.body(x) + self.shortcut(x))


class ResDownStack(nn.Module):
    """Image -> feature map at the pyramid's smallest size: conv, then (ResBlock, 2×2 average pool) per halving."""

    def __init__(self, in_channels: int, size: int, width: int = 64, act: str = "relu", norm: str = "batch"):
        super().__init__()
        self.start, doublings = pyramid(size)
        widths = stack_widths(width, doublings)
        layers: list[nn.Module] = [nn.Conv2d(in_channels, widths[0], 3, 1, 1), activation(act)]
        for a, b in pairwise(widths):
            layers += [ResBlock(a, b, act, norm), nn.AvgPool2d(2)]
        self.body = nn.Sequential(*layers)
        self.out_channels = widths[-1]
        self.out_features = widths[-1] * self.start * self.start

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class ResUpStack(nn.Module):
    """Smallest feature map -> image: (ResBlock, nearest 2× upsampling) per doubling, ResBlock, conv, tanh."""

    def __init__(self, out_channels: int, size: int, width: int = 64, norm: str = "batch",
                 out_activation: nn.Module | None = None):
        super().__init__()
        self.start, doublings = pyramid(size)
        widths = stack_widths(width, doublings)
        self.in_channels = widths[-1]
        layers: list[nn.Module] = []
        for a, b in pairwise(reversed(widths)):
            layers += [ResBlock(a, b, "relu", norm), nn.Upsample(scale_factor=2, mode="nearest")]
        layers += [ResBlock(widths[0], widths[0], "relu", norm), nn.Conv2d(widths[0], out_channels, 3, 1, 1),
                   out_activation if out_activation is not None else nn.Tanh()]
        self.body = nn.Sequential(*layers)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.body(h)


class ResEncoder(nn.Module):
    """Image -> vector of `out_features` (a code, or a VAE's [μ, log σ²]): down stack, flatten, dense."""

    def __init__(self, channels: int, size: int, out_features: int, width: int = 64, norm: str = "batch"):
        super().__init__()
        self.stack = ResDownStack(channels, size, width, "relu", norm)
        self.head = nn.Linear(self.stack.out_features, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.stack(x).flatten(1))


class ResGenerator(nn.Module):
    """Latent (+ condition) -> image: dense, reshape, ReLU, up stack ending in tanh (seed 001's G)."""

    def __init__(self, latent_dim: int, channels: int, size: int, width: int = 64, cond_dim: int = 0,
                 norm: str = "batch"):
        super().__init__()
        self.stack = ResUpStack(channels, size, width, norm)
        self.start = self.stack.start
        self.project = nn.Linear(latent_dim + cond_dim, self.stack.in_channels * self.start**2)
        self.act = nn.ReLU()

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.project(join_latent(z, y)).view(z.shape[0], self.stack.in_channels, self.start, self.start)
        return self.stack(self.act(h))


class ResCritic(nn.Module):
    """Image (+ condition as constant channels) -> one real/fake logit: LeakyReLU down stack, dense.

    `features(x, y)` is the last hidden map, for feature-wise reconstruction losses.
    """

    def __init__(self, channels: int, size: int, width: int = 64, cond_dim: int = 0, norm: str = "batch"):
        super().__init__()
        self.stack = ResDownStack(channels + cond_dim, size, width, "leaky", norm)
        self.head = nn.Linear(self.stack.out_features, 1)

    def features(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.stack(join_channels(x, y))

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.features(x, y).flatten(1)).squeeze(1)
