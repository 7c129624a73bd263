"""pix2pix (Isola et al. 2017; seed 003): paired image-to-image translation with a conditional GAN."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..data.dataset import DatasetKind
from ..nn.losses import bce_discriminator_loss, bce_generator_loss
from ..nn.patchgan import PatchDiscriminator
from ..nn.translators import UNetGenerator
from .adversarial import EQUILIBRIUM
from .base import Batch, Plot
from .params import param
from .registry import register
from .translation import TranslationMethod, TranslationParams


@dataclass
class Pix2PixParams(TranslationParams):
    l1_weight: float = param(100.0, "λ: weight of the L1 distance to the target against the GAN loss (paper: 100).",
                             low=0.0, high=10_000.0)
    dropout: float = param(0.5, "Dropout in the U-Net's first three decoder layers: G's only noise (paper: 0.5).",
                           low=0.0, high=0.9)
    max_depth: int = param(8, "Most halvings in the U-Net (paper: 8, 256 px down to 1×1); small images use fewer.",
                           low=1, high=8)
    test_time_dropout: bool = param(
        False, "Translate as the paper does at test time: dropout on and each batch normalised by its own "
               "statistics (instance normalisation at batch 1), so translations vary; off: running statistics "
               "and no dropout (the same input always gives the same output).")


@register
class Pix2Pix(TranslationMethod):
    name = "pix2pix"
    title = "pix2pix"
    source = ("Isola, Zhu, Zhou & Efros, Image-to-Image Translation with Conditional Adversarial Networks (2017); "
              "seed 003")
    description = (
        "Learns to turn one kind of image into another from aligned examples, such as outlines into "
        "filled, coloured shapes. A U-Net generator maps the input to an output, with skips carrying "
        "fine detail straight across; a PatchGAN discriminator sees the input beside either the real "
        "target or the generated one and judges every patch as real or fake. The generator is trained "
        "to fool it and, with a hundred times more weight, to stay close to the target in L1, so the "
        "GAN loss mostly adds sharpness. Needs a paired dataset; there is no latent: sampling "
        "translates given input images."
    )
    kinds = (DatasetKind.PAIRED,)
    Params = Pix2PixParams
    presets = {
        "paper": {"width": 64, "batch_size": 1, "norm": "batch", "l1_weight": 100.0, "dropout": 0.5, "d_layers": 3,
                  "lr_g": 2e-4, "lr_d": 2e-4, "beta1": 0.5, "beta2": 0.999, "test_time_dropout": True},
        "tiny": {"width": 8, "batch_size": 16, "d_layers": 2},
    }
    scalars = {
        "d_loss": "discriminator loss, ½ (-log D(x, y) - log(1 - D(x, G(x)))) averaged over patches, halved as in "
                  "the paper; ln 2 ≈ 0.693 at equilibrium",
        "g_gan": "the generator's adversarial loss, -log D(x, G(x)) (non-saturating)",
        "l1": "mean absolute error between G(x) and the target y, in [-1, 1] pixel units: falls as it learns",
        "d_real": "mean D(x, y): the discriminator's probability that a real pair is real",
        "d_fake": "mean D(x, G(x)): its probability that a generated pair is real",
    }
    plots = (
        Plot("Adversarial losses", ("d_loss", "g_gan"), {"ln 2": EQUILIBRIUM / 2}),
        Plot("L1 to the target", ("l1",)),
        Plot("Discriminator outputs", ("d_real", "d_fake"), {"½": 0.5}),
    )

    def build(self):
        p, c, s = self.params, self.spec.channels, self.spec.image_size
        self.nets["generator"] = UNetGenerator(c, c, s, p.width, p.max_depth, p.norm, p.dropout)
        # D judges the pair: input and output joined along channels.
        self.nets["discriminator"] = PatchDiscriminator(2 * c, s, p.width, p.d_layers, p.norm)
        self._init_weights()

    def build_optimizers(self):
        p = self.params
        return {"discriminator": self._adam("discriminator", lr=p.lr_d),
                "generator": self._adam("generator", lr=p.lr_g)}

    def schedule(self):
        return [("step", 1)]

    def _inference(self, net: str):
        # Isola et al. §3.3: "At inference time, we run the generator net in exactly the same manner as during
        # the training phase ... we apply dropout at test time, and we apply batch normalization using the
        # statistics of the test batch".
        return self._as_trained(net) if self.params.test_time_dropout else self._evaluating(net)

    def train_phase(self, phase: str, batch: Batch) -> dict[str, torch.Tensor]:
        if batch.target is None:
            raise ValueError("pix2pix needs paired data (an input and a target image per item): use a paired dataset "
                             "such as builtin:outlines2shapes")
        G, D = self.nets["generator"], self.nets["discriminator"]
        x, target = batch.x, batch.target
        # One generator pass (one dropout mask) serves both updates, D's then G's against the updated D, as
        # the authors' optimize_parameters does (junyanz/pytorch-CycleGAN-and-pix2pix, pix2pix_model.py).
        fake = G(x)
        # Input and output transformed alike (one augmentation of the joined channels): D judges them together.
        real_logits = self.observe_real(D(self.for_discriminator(torch.cat([x, target], dim=1))))
        fake_logits = D(self.for_discriminator(torch.cat([x, fake.detach()], dim=1)))
        # Halved, as in the paper (§3.3): "we divide the objective by 2 while optimizing D, which slows
        # down the rate at which D learns relative to G".
        d_loss = 0.5 * bce_discriminator_loss(real_logits, fake_logits)
        self.update("discriminator", d_loss)
        with self._frozen("discriminator"):
            g_gan = bce_generator_loss(D(self.for_discriminator(torch.cat([x, fake], dim=1))))
        l1 = (fake - target).abs().mean()
        self.update("generator", g_gan + self.params.l1_weight * l1, inputs=list(G.parameters()))
        return {"d_loss": d_loss.detach(), "d_real": torch.sigmoid(real_logits).mean().detach(),
                "d_fake": torch.sigmoid(fake_logits).mean().detach(), "g_gan": g_gan.detach(), "l1": l1.detach()}
