"""Vanilla GAN (Goodfellow et al. 2014; seed 003): MLP generator and discriminator."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from ..data.dataset import DatasetKind
from ..nn.blocks import MaxoutCritic, MLPCritic, MLPGenerator
from ..nn.packing import with_packing
from .adversarial import BCEGAN
from .aids import AidParams
from .params import param
from .registry import register


@dataclass
class GANParams(AidParams):
    latent_dim: int = param(16, "Size of the noise vector z.", low=1, high=1024)
    hidden: int = param(128, "Units in each hidden layer of G and D.", low=4, high=4096)
    layers: int = param(3, "Hidden layers in G and D.", low=1, high=8)
    optimizer: str = param("adam", "Optimizer of G and D: Adam (DCGAN's, the common choice today) or SGD with "
                           "momentum (Goodfellow et al.).", choices=("adam", "sgd"))
    lr_g: float = param(2e-4, "Generator learning rate.", low=1e-6, high=1.0, log=True)
    lr_d: float = param(2e-4, "Discriminator learning rate.", low=1e-6, high=1.0, log=True)
    beta1: float = param(0.5, "Adam β1.", low=0.0, high=0.999)
    beta2: float = param(0.999, "Adam β2.", low=0.0, high=0.9999)
    momentum: float = param(0.5, "SGD momentum (Goodfellow et al.: 0.5, rising to 0.7).", low=0.0, high=0.999)
    conditional: bool = param(False, "Condition G and D on the dataset's labels.")
    g_norm: str = param("none", "Normalisation between G's hidden layers (PacGAN's G: batch).", choices=("none", "batch"))
    d_arch: str = param("mlp", "D's hidden layers: LeakyReLU MLP, or LinearMaxout as in PacGAN.", choices=("mlp", "maxout"))
    d_hidden: int = param(0, "Units in each hidden layer of D (0: the same as hidden).", low=0, high=4096)
    d_layers: int = param(0, "Hidden layers in D (0: the same as layers).", low=0, high=8)
    maxout_pieces: int = param(5, "Linear pieces per maxout unit (d_arch maxout).", low=2, high=16)
    pack: int = param(1, "PacGAN packing: D judges this many samples at once (batch_size must divide by it).",
                      low=1, high=16)


@register
class VanillaGAN(BCEGAN):
    name = "gan"
    title = "Vanilla GAN"
    source = "Goodfellow et al., Generative Adversarial Nets (2014); seed 003"
    description = (
        "The original GAN: a generator and a discriminator, both multi-layer perceptrons, play a "
        "minimax game. D outputs the probability that its input is real and is trained with binary "
        "cross-entropy; G uses the non-saturating loss -log D(G(z)). At equilibrium D outputs 1/2 "
        "everywhere and its loss sits at 2 ln 2. Works on 2-D points (watch it cover, or collapse "
        "onto, the modes of the ring and grid sets) and on small flattened images."
    )
    kinds = (DatasetKind.POINTS, DatasetKind.IMAGES)
    Params = GANParams
    presets = {
        # Goodfellow et al.'s MNIST settings (their pylearn2 configuration): SGD, lr 0.1, momentum 0.5, batch 100.
        "paper": {"latent_dim": 100, "hidden": 512, "layers": 2, "optimizer": "sgd", "lr_g": 0.1, "lr_d": 0.1,
                  "momentum": 0.5, "batch_size": 100},
        # The same networks with DCGAN's Adam settings (this method's `paper` preset before it followed the paper).
        "adam": {"latent_dim": 100, "hidden": 512, "layers": 2, "optimizer": "adam", "lr_g": 2e-4, "lr_d": 2e-4,
                 "batch_size": 100},
        "tiny": {"latent_dim": 8, "hidden": 32, "layers": 2, "batch_size": 32},
        # PacGAN's 2-D setup (Lin et al. 2018, their code): G 4×400 ReLU+BatchNorm from a 2-d z, D 3×200
        # LinearMaxout (5 pieces), Adam lr 1e-4 β1 0.8, batch 100; add pack=2 (and batch_size=200) for PacGAN2.
        "pacgan": {"latent_dim": 2, "hidden": 400, "layers": 4, "g_norm": "batch", "d_arch": "maxout",
                   "d_hidden": 200, "d_layers": 3, "maxout_pieces": 5, "lr_g": 1e-4, "lr_d": 1e-4, "beta1": 0.8,
                   "batch_size": 100},
    }

    def build(self):
        p, s = self.params, self.spec
        shape = (s.channels, s.image_size, s.image_size) if s.is_images else (s.point_dim,)
        self.nets["generator"] = MLPGenerator(p.latent_dim, shape, p.hidden, p.layers, self.cond_dim,
                                              nn.Tanh() if s.is_images else None, norm=p.g_norm)
        hidden, layers = p.d_hidden or p.hidden, p.d_layers or p.layers
        if p.d_arch == "maxout":
            def critic(in_shape, cond_dim):
                return MaxoutCritic(in_shape, hidden, layers, cond_dim, p.maxout_pieces)
        else:
            def critic(in_shape, cond_dim):
                return MLPCritic(in_shape, hidden, layers, cond_dim)
        self.nets["discriminator"] = with_packing(critic, shape, self.cond_dim, p.pack)

    def build_optimizers(self):
        p = self.params
        return {net: self.named_optimizer(p.optimizer, self.nets[net].parameters(), lr, (p.beta1, p.beta2), p.momentum)
                for net, lr in (("discriminator", p.lr_d), ("generator", p.lr_g))}
