"""Basic stacks: MLPs and DCGAN-style convolutional generators and critics of any supported size."""

from __future__ import annotations

import torch
from torch import nn

from .conditioning import join_channels, join_latent


def mlp(sizes: list[int], activation: type[nn.Module] = nn.ReLU, out_activation: nn.Module | None = None,
        norm: str = "none") -> nn.Sequential:
    """Linear layers through `sizes` with an activation between them (and optionally after)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            if norm == "layer":
                layers.append(nn.LayerNorm(b))
            elif norm == "batch":
                layers.append(nn.BatchNorm1d(b))
            layers.append(activation(0.2) if activation is nn.LeakyReLU else activation())
    if out_activation is not None:
        layers.append(out_activation)
    return nn.Sequential(*layers)


def pyramid(size: int) -> tuple[int, int]:
    """(start, doublings): the smallest map a stack grows from and how many times it doubles.

    28 -> (7, 2), 32 -> (4, 3), 64 -> (4, 4), 16 -> (4, 2): any size = start · 2^doublings with
    start between 3 and 7.
    """
    if size < 8:
        raise ValueError(f"image size {size} is too small: use at least 8 pixels")
    start, doublings = size, 0
    while start % 2 == 0 and start // 2 >= 4:
        start //= 2
        doublings += 1
    if start > 7:
        raise ValueError(f"image size {size} is not supported: use a size such as 16, 28, 32, 64 or 128")
    return start, doublings


def norm2d(kind: str, channels: int) -> nn.Module:
    """A 2-D normalisation layer by name: batch, instance, layer (per-sample) or none."""
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    if kind == "layer":
        return nn.GroupNorm(1, channels)  # LayerNorm over C, H, W: per-sample, safe with a gradient penalty
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown normalisation '{kind}'")


def _widths(width: int, doublings: int, cap: int = 512) -> list[int]:
    # Widest at the small end, halving towards the image, as in DCGAN.
    return [min(cap, width * 2 ** (doublings - i)) for i in range(doublings + 1)]


class ConvGenerator(nn.Module):
    """DCGAN generator: latent (+ condition) -> dense start map -> transposed convs -> tanh image."""

    def __init__(self, latent_dim: int, channels: int, size: int, width: int = 64, cond_dim: int = 0,
                 norm: str = "batch", out_activation: nn.Module | None = None):
        super().__init__()
        start, doublings = pyramid(size)
        widths = _widths(width, doublings)
        self.start, self.first = start, widths[0]
        self.project = nn.Sequential(
            nn.Linear(latent_dim + cond_dim, widths[0] * start * start),
        )
        self.project_norm = nn.Sequential(norm2d(norm, widths[0]), nn.ReLU(True))
        layers: list[nn.Module] = []
        for a, b in zip(widths[:-1], widths[1:]):
            layers += [nn.ConvTranspose2d(a, b, 4, 2, 1, bias=norm == "none"), norm2d(norm, b), nn.ReLU(True)]
        layers += [nn.Conv2d(widths[-1], channels, 3, 1, 1), out_activation if out_activation is not None else nn.Tanh()]
        self.body = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = self.project(join_latent(z, y)).view(z.shape[0], self.first, self.start, self.start)
        return self.body(self.project_norm(h))


class ConvCritic(nn.Module):
    """DCGAN discriminator / WGAN critic: strided convs with LeakyReLU(0.2) -> one raw score.

    The condition enters as constant channels. `features(x, y, layer)` returns the output of one
    convolution, Larsen et al.'s Dis_l (VAE-GAN's feature-wise reconstruction).
    """

    def __init__(self, channels: int, size: int, width: int = 64, cond_dim: int = 0, norm: str = "batch"):
        super().__init__()
        start, doublings = pyramid(size)
        widths = list(reversed(_widths(width, doublings)))
        layers: list[nn.Module] = [nn.Conv2d(channels + cond_dim, widths[0], 3, 1, 1), nn.LeakyReLU(0.2, True)]
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
            layers += [nn.Conv2d(a, b, 4, 2, 1, bias=norm == "none"), norm2d(norm, b), nn.LeakyReLU(0.2, True)]
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(widths[-1] * start * start, 1)
        self.conv_positions = [i for i, m in enumerate(layers) if isinstance(m, nn.Conv2d)]

    @property
    def conv_layers(self) -> int:
        """How many convolutions the body has: the layers `features` can read (1 to this)."""
        return len(self.conv_positions)

    def _conv_position(self, layer: int) -> int:
        if not 0 <= layer <= self.conv_layers:
            raise ValueError(f"feature layer {layer}: this discriminator has {self.conv_layers} convolutions; "
                             f"choose 1 to {self.conv_layers}, or 0 for the last")
        return self.conv_positions[layer - 1]  # layer 0 -> index -1: the last convolution

    def scores_and_features(self, x: torch.Tensor, y: torch.Tensor | None = None,
                            layer: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """(raw scores, the output of convolution `layer` before its norm and activation), in one pass.

        `layer` counts from 1 at the input; 0 is the last convolution (Larsen et al. used their
        discriminator's last, fourth, convolution).
        """
        cut = self._conv_position(layer) + 1
        h = self.body[:cut](join_channels(x, y))
        # A clone, because the LeakyReLU after some convolutions works in place.
        features = h.clone()
        scores = self.head(self.body[cut:](h).flatten(1)).squeeze(1)
        return scores, features

    def features(self, x: torch.Tensor, y: torch.Tensor | None = None, layer: int = 0) -> torch.Tensor:
        """Dis_l(x): the output of convolution `layer` (1 at the input, 0 the last) before its norm and activation."""
        return self.body[: self._conv_position(layer) + 1](join_channels(x, y))

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.body(join_channels(x, y)).flatten(1)).squeeze(1)


class MLPGenerator(nn.Module):
    """Vanilla GAN generator: an MLP from latent (+ condition) to a point or a flattened image."""

    def __init__(self, latent_dim: int, out_shape: tuple[int, ...], hidden: int, layers: int, cond_dim: int = 0,
                 out_activation: nn.Module | None = None, norm: str = "none"):
        super().__init__()
        self.out_shape = out_shape
        out = int(torch.tensor(out_shape).prod())
        self.net = mlp([latent_dim + cond_dim] + [hidden] * layers + [out], nn.ReLU, out_activation, norm=norm)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(join_latent(z, y)).view(z.shape[0], *self.out_shape)


class MLPCritic(nn.Module):
    """Vanilla GAN discriminator: an MLP from a point or flattened image (+ condition) to one score."""

    def __init__(self, in_shape: tuple[int, ...], hidden: int, layers: int, cond_dim: int = 0, norm: str = "none"):
        super().__init__()
        inp = int(torch.tensor(in_shape).prod())
        self.net = mlp([inp + cond_dim] + [hidden] * layers + [1], nn.LeakyReLU, norm=norm)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(join_latent(x.flatten(1), y)).squeeze(1)


class LinearMaxout(nn.Module):
    """Maxout (Goodfellow et al. 2013): `pieces` linear maps, and the largest of them per output unit."""

    def __init__(self, in_features: int, out_features: int, pieces: int):
        super().__init__()
        self.out_features, self.pieces = out_features, pieces
        self.linear = nn.Linear(in_features, out_features * pieces)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x).view(x.shape[0], self.out_features, self.pieces).amax(2)


class MaxoutCritic(nn.Module):
    """PacGAN's 2-D discriminator: `layers` LinearMaxout layers of `hidden` units, then one linear score."""

    def __init__(self, in_shape: tuple[int, ...], hidden: int, layers: int, cond_dim: int = 0, pieces: int = 5):
        super().__init__()
        width = int(torch.tensor(in_shape).prod()) + cond_dim
        blocks: list[nn.Module] = []
        for _ in range(layers):
            blocks.append(LinearMaxout(width, hidden, pieces))
            width = hidden
        self.net = nn.Sequential(*blocks, nn.Linear(width, 1))

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(join_latent(x.flatten(1), y)).squeeze(1)


def dcgan_init(module: nn.Module) -> None:
    """DCGAN's initialisation: conv weights N(0, 0.02), norm weights N(1, 0.02), biases 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm, nn.InstanceNorm2d)) and m.weight is not None:
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
