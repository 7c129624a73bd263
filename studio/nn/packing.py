"""PacGAN's packing (Lin et al. 2018): the discriminator judges m samples at once.

m samples of one kind (all real, or all generated) are concatenated along the first feature
axis (channels of images, coordinates of points, entries of condition vectors) and scored as
one. A generator that collapses onto few modes produces packs with repeats that real packs rarely
have, so the discriminator can see the collapse and penalise it. `with_packing` is the one place
every method with a discriminator or critic gets packing from: the network is built for the packed
shape and wrapped in `Packed`, which packs its inputs on the way in.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


def pack(x: torch.Tensor, m: int) -> torch.Tensor:
    """(N, F, ...) -> (N/m, m·F, ...): each run of m consecutive samples becomes one packed sample."""
    if m == 1:
        return x
    n = x.shape[0]
    if n % m:
        raise ValueError(f"a batch of {n} samples cannot be packed in groups of {m}: use a batch size divisible by pack={m}")
    return x.reshape(n // m, m * x.shape[1], *x.shape[2:])


def packed_shape(shape: tuple[int, ...], m: int) -> tuple[int, ...]:
    """The input shape of a discriminator that sees m samples of `shape` at once."""
    return (shape[0] * m, *shape[1:])


class Packed(nn.Module):
    """A discriminator built for packed inputs, taking ordinary batches: one score per m samples."""

    def __init__(self, inner: nn.Module, m: int):
        super().__init__()
        self.inner, self.m = inner, m

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.inner(pack(x, self.m), None if y is None else pack(y, self.m))


def with_packing(build: Callable[[tuple[int, ...], int], nn.Module], shape: tuple[int, ...], cond_dim: int,
                 m: int) -> nn.Module:
    """`build(input_shape, cond_dim)` for m samples at once; the plain network when m is 1 (so its
    checkpoints keep their keys)."""
    if m < 1:
        raise ValueError(f"pack={m} must be at least 1")
    if m == 1:
        return build(shape, cond_dim)
    return Packed(build(packed_shape(shape, m), cond_dim * m), m)
