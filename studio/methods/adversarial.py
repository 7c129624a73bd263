"""The BCE GAN training step shared by the vanilla GAN, DCGAN and CGAN (they differ in networks)."""

from __future__ import annotations

import torch

from ..nn.losses import bce_discriminator_loss, bce_generator_loss
from .base import Batch, Plot
from .generators import LatentGeneratorMethod

EQUILIBRIUM = 2 * 0.6931471805599453  # 2 ln 2: D's loss when it outputs 1/2 on both sides


class BCEGAN(LatentGeneratorMethod):
    """Alternating discriminator and generator updates with binary cross-entropy."""

    scalars = {
        "d_loss": "discriminator loss, -log D(x) - log(1 - D(G(z))); 2 ln 2 ≈ 1.386 at equilibrium",
        "g_loss": "generator loss, the non-saturating -log D(G(z))",
        "d_real": "mean D(x): the discriminator's probability that real data is real",
        "d_fake": "mean D(G(z)): its probability that generated data is real",
    }
    plots = (
        Plot("Adversarial losses", ("d_loss", "g_loss"), {"2·ln 2": EQUILIBRIUM}),
        Plot("Discriminator outputs", ("d_real", "d_fake"), {"½": 0.5}),
    )

    def build_optimizers(self):
        p = self.params
        betas = (p.beta1, p.beta2)
        return {
            "discriminator": self.optimizer(torch.optim.Adam, self.nets["discriminator"].parameters(), lr=p.lr_d,
                                            betas=betas),
            "generator": self.optimizer(torch.optim.Adam, self.nets["generator"].parameters(), lr=p.lr_g, betas=betas),
        }

    def schedule(self):
        return [("discriminator", 1), ("generator", 1)]

    def train_phase(self, phase: str, batch: Batch) -> dict[str, torch.Tensor]:
        D = self.nets["discriminator"]
        y = batch.y if self.conditional else None
        if phase == "discriminator":
            with torch.no_grad():
                fake = self.fake(batch)
            real_logits = self.observe_real(D(self.for_discriminator(batch.x), y))
            fake_logits = D(self.for_discriminator(fake), y)
            loss = bce_discriminator_loss(real_logits, fake_logits)
            self.update("discriminator", loss)
            return {"d_loss": loss.detach(), "d_real": torch.sigmoid(real_logits).mean().detach(),
                    "d_fake": torch.sigmoid(fake_logits).mean().detach()}
        fake = self.fake(batch)
        loss = bce_generator_loss(D(self.for_discriminator(fake), y))
        self.update("generator", loss, inputs=list(self.nets["generator"].parameters()))
        return {"g_loss": loss.detach()}
