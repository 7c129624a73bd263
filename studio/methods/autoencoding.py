"""What the methods with an encoder share (AE, VAE, VAE-GAN, U-Net VAE-GAN, alpha-GAN).

Sampling, encoding and reconstructing all run in eval mode under no_grad, so BatchNorm uses its
running statistics and `sample(encode(x))` is exactly `reconstruct(x)`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from .base import Method, condition_vectors


@contextmanager
def eval_mode(*nets: nn.Module) -> Iterator[None]:
    """Put `nets` in eval mode for the block and restore each one's previous mode afterwards."""
    modes = [net.training for net in nets]
    for net in nets:
        net.eval()
    try:
        yield
    finally:
        for net, mode in zip(nets, modes, strict=True):
            net.train(mode)


class AutoEncodingMethod(Method):
    """A method with an encoder x -> z and a decoder (generator) z -> x."""

    has_encoder = True
    decoder_net = "decoder"  # the network that maps latents to images

    def _code(self, x: torch.Tensor) -> torch.Tensor:
        """The deterministic code of images x (a VAE's μ, alpha-GAN's E(x)); graph kept."""
        raise NotImplementedError

    def _generate(self, z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        """Images from latents and condition vectors; graph kept."""
        return self.nets[self.decoder_net](z, y)

    def _condition(self, labels: torch.Tensor | None) -> torch.Tensor | None:
        """Condition vectors on the device for a conditional model, None otherwise."""
        if not self.conditional:
            return None
        if labels is None:
            raise ValueError(f"this {self.title} model is conditional (trained with conditional=true): "
                             f"give one label or condition vector per sample")
        return condition_vectors(labels, self.spec, self.device)

    @torch.no_grad()
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Map images in [-1, 1] to their deterministic latent codes."""
        with eval_mode(*self.nets.values()):
            return self._code(x.to(self.device))

    @torch.no_grad()
    def sample(self, z: torch.Tensor, labels: torch.Tensor | None = None,
               reference: torch.Tensor | None = None) -> torch.Tensor:
        """Decode latents (and condition vectors) to images in [-1, 1]."""
        with eval_mode(*self.nets.values()):
            return self._generate(z.to(self.device), self._condition(labels))

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Encode then decode images in [-1, 1] (with their labels for a conditional model)."""
        with eval_mode(*self.nets.values()):
            return self._generate(self._code(x.to(self.device)), self._condition(labels))


RECONSTRUCTIONS_SHOWN = 32  # pairs in a run's reconstruction grid


@torch.no_grad()
def reconstruction_pairs(method: Method, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
    """Each image beside its reconstruction, one double-width image per pair (the sources' "AutoEncode"
    grids), so any grid layout keeps the pairs together. `labels` serve conditional models only."""
    x = x.to(method.device)
    return torch.cat([x, method.reconstruct(x, labels if method.conditional else None).to(x.dtype)], dim=3)
