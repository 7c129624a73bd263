"""Wasserstein GANs: WGAN with weight clipping (Arjovsky et al. 2017) and WGAN-GP (Gulrajani et al. 2017).

Both share one training step (`CriticGAN`): several critic updates per generator update, the critic
maximising E[C(x)] - E[C(G(z))] and the generator raising E[C(G(z))]. They differ only in how the
critic is kept 1-Lipschitz (clip its weights, or penalise its gradient norm) and in the optimizer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

import torch
from torch import nn

from ..data.dataset import DatasetKind
from ..nn.blocks import ConvCritic, ConvGenerator, MLPCritic, MLPGenerator, dcgan_init
from ..nn.critics import clip_weights_
from ..nn.losses import gradient_penalty, wasserstein_estimate, wasserstein_generator_loss
from ..nn.packing import with_packing
from .aids import AidParams
from .base import Batch, Plot
from .generators import LatentGeneratorMethod
from .params import param
from .registry import register


@dataclass
class CriticParams(AidParams):
    """Settings shared by the Wasserstein methods (defaults: the WGAN-GP paper's)."""

    latent_dim: int = param(128, "Size of the noise vector z.", low=1, high=1024)
    width: int = param(64, "Images: channels of the widest-but-one conv layer; G and C scale with it.", low=4, high=512)
    hidden: int = param(512, "2-D points: units in each hidden layer of the MLP generator and critic.", low=4, high=4096)
    layers: int = param(3, "2-D points: hidden layers of the MLP generator and critic.", low=1, high=8)
    critic_steps: int = param(5, "Critic updates per generator update (train the critic close to optimal).", low=1, high=100)
    lr_g: float = param(1e-4, "Generator learning rate.", low=1e-7, high=1e-1, log=True)
    lr_critic: float = param(1e-4, "Critic learning rate.", low=1e-7, high=1e-1, log=True)
    norm: str = param("layer", "Normalisation in the critic.", choices=("layer", "instance", "none"))
    conditional: bool = param(False, "Condition G (label joined to z) and the critic (label as constant channels).")
    pack: int = param(1, "PacGAN packing: the critic judges this many samples at once (batch_size must divide by it).",
                      low=1, high=16)


class CriticGAN(LatentGeneratorMethod):
    """The Wasserstein training step; subclasses choose the Lipschitz constraint and the optimizer."""

    kinds = (DatasetKind.IMAGES, DatasetKind.POINTS)
    # The Wasserstein estimate is a small difference of two critic means: in bf16 it drowns in rounding
    # (at initialisation 0.0021 against float32's 0.00026), so both Wasserstein methods train in float32.
    amp_ok = False
    amp_reason = "its Wasserstein estimate, a small difference of critic means, is lost to bf16 rounding"
    real_threshold = None  # a critic's score has no real/fake boundary: augment_p takes a fixed probability
    scalars = {
        "critic_loss": "critic loss, E[C(G(z))] - E[C(x)] (plus any penalty): the critic minimises it",
        "g_loss": "generator loss, -E[C(G(z))]",
        "wasserstein": "E[C(x)] - E[C(G(z))]: the critic's estimate of the Wasserstein distance; falls as samples improve",
    }
    plots = (
        Plot("Wasserstein estimate", ("wasserstein",)),
        Plot("Losses", ("critic_loss", "g_loss")),
    )

    def build(self) -> None:
        p, s = self.params, self.spec
        if s.is_images:
            self.nets["generator"] = ConvGenerator(p.latent_dim, s.channels, s.image_size, p.width, self.cond_dim)
            self.nets["critic"] = with_packing(
                lambda shape, cond_dim: ConvCritic(shape[0], s.image_size, p.width, cond_dim, norm=p.norm),
                (s.channels,), self.cond_dim, p.pack)
            for net in self.nets.values():
                dcgan_init(net)
        else:
            self.nets["generator"] = MLPGenerator(p.latent_dim, (s.point_dim,), p.hidden, p.layers, self.cond_dim)
            # BatchNorm has no MLP form here: "batch" falls back to none, the other norms are per-sample anyway.
            mlp_norm = "layer" if p.norm in ("layer", "instance") else "none"
            self.nets["critic"] = with_packing(
                lambda shape, cond_dim: MLPCritic(shape, p.hidden, p.layers, cond_dim, norm=mlp_norm),
                (s.point_dim,), self.cond_dim, p.pack)

    def make_optimizer(self, params: Iterable[nn.Parameter], lr: float) -> torch.optim.Optimizer:
        """The optimizer both networks use, with learning rate `lr`."""
        raise NotImplementedError

    def build_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        p = self.params
        return {"critic": self.make_optimizer(self.nets["critic"].parameters(), p.lr_critic),
                "generator": self.make_optimizer(self.nets["generator"].parameters(), p.lr_g)}

    def schedule(self) -> list[tuple[str, int]]:
        return [("critic", self.params.critic_steps), ("generator", 1)]

    def lipschitz_penalty(self, batch: Batch, fake: torch.Tensor) -> dict[str, torch.Tensor]:
        """Extra critic loss terms by scalar name (WGAN-GP's gradient penalty); none by default."""
        return {}

    def after_critic_update(self) -> None:
        """Called after each critic step (WGAN clips the weights here)."""

    def train_phase(self, phase: str, batch: Batch) -> dict[str, torch.Tensor]:
        C = self.nets["critic"]
        y = batch.y if self.conditional else None
        if phase == "critic":
            with torch.no_grad():
                fake = self.fake(batch)
            # The penalty is taken between the images the critic judged, augmented as it saw them.
            seen = dataclasses.replace(batch, x=self.for_discriminator(batch.x))
            fake = self.for_discriminator(fake)
            wasserstein = wasserstein_estimate(C(seen.x, y), C(fake, y))
            penalties = self.lipschitz_penalty(seen, fake)
            loss = -wasserstein + sum(penalties.values())
            self.update("critic", loss)
            self.after_critic_update()
            return {"critic_loss": loss.detach(), "wasserstein": wasserstein.detach(),
                    **{k: v.detach() for k, v in penalties.items()}}
        G = self.nets["generator"]
        loss = wasserstein_generator_loss(C(self.for_discriminator(self.fake(batch)), y))
        self.update("generator", loss, inputs=list(G.parameters()))
        return {"g_loss": loss.detach()}


@dataclass
class WGANParams(CriticParams):
    latent_dim: int = param(100, "Size of the noise vector z.", low=1, high=1024)
    lr_g: float = param(5e-5, "Generator learning rate (RMSProp).", low=1e-7, high=1e-1, log=True)
    lr_critic: float = param(5e-5, "Critic learning rate (RMSProp).", low=1e-7, high=1e-1, log=True)
    norm: str = param("batch", "Normalisation in the critic (the paper's DCGAN critic uses BatchNorm).",
                      choices=("batch", "layer", "instance", "none"))
    clip: float = param(0.01, "Every critic weight is clipped to [-clip, clip] after each critic update.",
                        low=1e-5, high=1.0, log=True)


@register
class WGAN(CriticGAN):
    name = "wgan"
    title = "Wasserstein GAN (weight clipping)"
    source = "Arjovsky, Chintala & Bottou, Wasserstein GAN (2017); seed 000"
    description = (
        "Replaces the discriminator's real/fake probability with a critic that gives an unbounded "
        "score. The critic is trained, five times per generator update, to widen the gap between its "
        "average score on real and on generated data; for a 1-Lipschitz critic that gap estimates the "
        "earth mover's (Wasserstein-1) distance between the two distributions, so unlike a GAN loss it "
        "falls as the samples improve: watch the Wasserstein estimate. The Lipschitz bound is enforced "
        "crudely, by clipping every critic weight to a small box after each update, which limits what "
        "the critic can express. RMSProp with a small learning rate."
    )
    Params = WGANParams
    presets = {
        "paper": {"latent_dim": 100, "width": 64, "batch_size": 64, "lr_g": 5e-5, "lr_critic": 5e-5,
                  "critic_steps": 5, "clip": 0.01, "norm": "batch"},
        "tiny": {"latent_dim": 16, "width": 8, "hidden": 32, "layers": 2, "batch_size": 16},
    }

    def make_optimizer(self, params: Iterable[nn.Parameter], lr: float) -> torch.optim.Optimizer:
        # The paper avoids momentum: with clipping, Adam's momentum made the critic unstable.
        return self.optimizer(torch.optim.RMSprop, params, lr=lr)

    def after_critic_update(self) -> None:
        clip_weights_(self.nets["critic"], self.params.clip)


@dataclass
class WGANGPParams(CriticParams):
    gp_weight: float = param(10.0, "λ, the weight of the gradient penalty.", low=0.0, high=1000.0)
    beta1: float = param(0.0, "Adam β1 (the paper uses 0: momentum hurts the critic).", low=0.0, high=0.999)
    beta2: float = param(0.9, "Adam β2.", low=0.0, high=0.9999)


@register
class WGANGP(CriticGAN):
    name = "wgan-gp"
    title = "WGAN-GP (gradient penalty)"
    source = "Gulrajani et al., Improved Training of Wasserstein GANs (2017); seed 000"
    description = (
        "A Wasserstein GAN whose critic is kept 1-Lipschitz by a soft constraint instead of weight "
        "clipping: at random points on straight lines between real and generated samples, the norm of "
        "the critic's gradient is pushed towards 1. The critic can then use its full capacity, training "
        "is stable across architectures, and the Wasserstein estimate is a meaningful progress curve. "
        "Because the penalty is per sample, the critic uses layer or instance normalisation, never "
        "BatchNorm. Five critic steps per generator step, Adam with β1 = 0. Trains on images and on "
        "2-D points, where it covers the modes of the ring and grid sets well."
    )
    Params = WGANGPParams
    # The gradient penalty differentiates the critic twice: keep it in float32 (in bf16 the penalty at
    # initialisation came out 3.4 against float32's 1.07) and out of torch.compile (no double backward there).
    amp_ok = False
    amp_reason = "its gradient penalty needs the critic's input gradients in float32 (double backward)"
    no_compile = ("critic",)
    scalars = {
        **CriticGAN.scalars,
        "gradient_penalty": "λ·E[(‖∇C(x̂)‖ - 1)²] at points between real and fake: near 0 when the critic is 1-Lipschitz there",
    }
    plots = CriticGAN.plots + (Plot("Gradient penalty", ("gradient_penalty",), {"0": 0.0}),)
    presets = {
        "paper": {"latent_dim": 128, "width": 64, "batch_size": 64, "lr_g": 1e-4, "lr_critic": 1e-4,
                  "beta1": 0.0, "beta2": 0.9, "critic_steps": 5, "gp_weight": 10.0, "norm": "layer"},
        "tiny": {"latent_dim": 8, "width": 8, "hidden": 64, "layers": 3, "batch_size": 16},
    }

    def make_optimizer(self, params: Iterable[nn.Parameter], lr: float) -> torch.optim.Optimizer:
        return self.optimizer(torch.optim.Adam, params, lr=lr, betas=(self.params.beta1, self.params.beta2))

    def lipschitz_penalty(self, batch: Batch, fake: torch.Tensor) -> dict[str, torch.Tensor]:
        C = self.nets["critic"]
        y = batch.y if self.conditional else None
        return {"gradient_penalty": gradient_penalty(lambda v: C(v, y), batch.x, fake, self.params.gp_weight,
                                                     group=self.params.pack)}

