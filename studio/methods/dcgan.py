"""DCGAN (Radford et al. 2015; seeds 003, 001) and its conditional form CGAN (Mirza & Osindero 2014)."""

from __future__ import annotations

from dataclasses import dataclass

from ..nn.blocks import ConvCritic, ConvGenerator, dcgan_init
from ..nn.packing import with_packing
from .adversarial import BCEGAN
from .aids import AidParams
from .params import param
from .registry import register


@dataclass
class DCGANParams(AidParams):
    latent_dim: int = param(100, "Size of the noise vector z.", low=1, high=1024)
    width: int = param(64, "Channels of the widest-but-one layer; G and D scale with it.", low=4, high=512)
    lr_g: float = param(2e-4, "Generator learning rate (Adam).", low=1e-6, high=1e-1, log=True)
    lr_d: float = param(2e-4, "Discriminator learning rate (Adam).", low=1e-6, high=1e-1, log=True)
    beta1: float = param(0.5, "Adam β1; seed 001: a wrong Adam setting stops a GAN learning at all.", low=0.0, high=0.999)
    beta2: float = param(0.999, "Adam β2.", low=0.0, high=0.9999)
    conditional: bool = param(False, "Condition G (label joined to z) and D (label as constant channels).")
    pack: int = param(1, "PacGAN packing: D judges this many images at once (batch_size must divide by it).",
                      low=1, high=16)


@register
class DCGAN(BCEGAN):
    name = "dcgan"
    title = "DCGAN"
    source = "Radford, Metz & Chintala, Unsupervised Representation Learning with DCGANs (2015); seeds 003, 001"
    description = (
        "Deep convolutional GAN: the generator grows an image from noise with transposed "
        "convolutions, BatchNorm and ReLU, ending in tanh; the discriminator shrinks it with strided "
        "convolutions and LeakyReLU(0.2) to one real/fake logit. Trained with binary cross-entropy "
        "and Adam (lr 2e-4, β1 0.5). The workhorse image GAN: fast, sharp, prone to mode collapse."
    )
    Params = DCGANParams
    presets = {
        "paper": {"latent_dim": 100, "width": 64, "batch_size": 128, "lr_g": 2e-4, "lr_d": 2e-4, "beta1": 0.5},
        "tiny": {"latent_dim": 16, "width": 8, "batch_size": 16},
    }

    def build(self):
        p, s = self.params, self.spec
        self.nets["generator"] = ConvGenerator(p.latent_dim, s.channels, s.image_size, p.width, self.cond_dim)
        self.nets["discriminator"] = with_packing(
            lambda shape, cond_dim: ConvCritic(shape[0], s.image_size, p.width, cond_dim),
            (s.channels,), self.cond_dim, p.pack)
        for net in self.nets.values():
            dcgan_init(net)


@dataclass
class CGANParams(DCGANParams):
    conditional: bool = param(True, "Condition G (label joined to z) and D (label as constant channels).")


@register
class CGAN(DCGAN):
    name = "cgan"
    title = "Conditional GAN (CGAN)"
    source = "Mirza & Osindero, Conditional Generative Adversarial Nets (2014); seeds 003, 000"
    description = (
        "A DCGAN told what to draw: the one-hot label (or multi-hot attribute vector) is joined to "
        "the generator's noise and given to the discriminator as constant extra channels, one per "
        "class. After training, the label chooses the class of each sample; switch it to change a "
        "sample's class while keeping its style. Needs a labelled dataset."
    )
    Params = CGANParams
