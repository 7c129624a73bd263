"""What the GANs share beyond their losses: a generator that maps a latent z (and a label) to an image."""

from __future__ import annotations

import torch

from .base import Batch, Method


class LatentGeneratorMethod(Method):
    """A method whose `generator` network maps z ~ `latent(n)` (and the label, when conditional) to images.

    The BCE GANs (adversarial.py) and the critic GANs (wgan.py) draw fakes and samples through it.
    """

    def _condition(self, labels: torch.Tensor | None) -> torch.Tensor | None:
        return labels.to(self.device) if (labels is not None and self.conditional) else None

    def fake(self, batch: Batch) -> torch.Tensor:
        """A batch of generated images the size of `batch`, conditioned on its labels."""
        z = self.latent(batch.x.shape[0])
        return self.nets["generator"](z, batch.y if self.conditional else None)

    @torch.no_grad()
    def sample(self, z: torch.Tensor, labels: torch.Tensor | None = None,
               reference: torch.Tensor | None = None) -> torch.Tensor:
        """Images from latents `z` with the generator in eval mode (BatchNorm uses its running statistics)."""
        G = self.nets["generator"]
        was_training = G.training
        G.eval()
        try:
            return G(z.to(self.device), self._condition(labels))
        finally:
            G.train(was_training)
