"""VAE (Kingma & Welling 2013) and VAE-GAN (Larsen et al. 2016) as seed 004 trained them.

Both share `VAEBase`: a ResNet encoder to (μ, log σ²), the reparameterisation z = μ + σ·ε and a
ResNet decoder. The U-Net VAE-GAN (unet_vae_gan.py) overrides `_encode`/`_decode` to pass skip maps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from ..nn.blocks import ConvCritic, dcgan_init
from ..nn.losses import bce_discriminator_loss, bce_generator_loss
from ..nn.resnet import ResEncoder, ResGenerator
from .adversarial import BCEGAN, EQUILIBRIUM
from .autoencoding import AutoEncodingMethod
from .base import Batch, Plot
from .params import BaseParams, param
from .registry import register


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(μ, σ²) ‖ N(0, I)) = -½ Σ (1 + log σ² - μ² - σ²), summed per sample, averaged over the batch."""
    return (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp())).flatten(1).sum(1).mean()


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """z = μ + σ·ε with ε ~ N(0, I) from torch's global RNG (so a resumed run draws the same ε)."""
    return mu + torch.randn_like(mu) * (0.5 * logvar).exp()


def summed_squared_error(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Σ (a - b)² over each sample's elements, averaged over the batch (seed 004's MSE)."""
    return (a - b).pow(2).flatten(1).sum(1).mean()


@dataclass
class VAEParams(BaseParams):
    latent_dim: int = param(128, "Size of the latent code z.", low=1, high=1024)
    width: int = param(64, "Channels at full resolution; they double at each halving (capped at 512).", low=4, high=512)
    lr: float = param(1e-3, "Encoder and decoder learning rate (Adam).", low=1e-6, high=1e-1, log=True)
    beta1: float = param(0.9, "Adam β1.", low=0.0, high=0.999)
    beta2: float = param(0.999, "Adam β2.", low=0.0, high=0.9999)
    conditional: bool = param(False, "Give the decoder the dataset's labels (the encoder stays label-free).")


class VAEBase(AutoEncodingMethod):
    """Encoder -> (μ, log σ²), z = μ + σ·ε, decoder -> x̂; loss MSE (summed per image) + KL."""

    Params = VAEParams

    def build(self) -> None:
        p, s = self.params, self.spec
        self.nets["encoder"] = ResEncoder(s.channels, s.image_size, 2 * p.latent_dim, p.width)
        self.nets["decoder"] = ResGenerator(p.latent_dim, s.channels, s.image_size, p.width, self.cond_dim)

    def _vae_optimizer(self) -> torch.optim.Optimizer:
        p = self.params
        params = list(self.nets["encoder"].parameters()) + list(self.nets["decoder"].parameters())
        return self.optimizer(torch.optim.Adam, params, lr=p.lr, betas=(p.beta1, p.beta2))

    # What the U-Net variant overrides: what the encoder hands the decoder besides z.
    def _encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, Any]:
        """(μ, log σ², context for the decoder: None here, skip maps in the U-Net variant)."""
        mu, logvar = self.nets["encoder"](x).chunk(2, dim=1)
        return mu, logvar, None

    def _decode(self, z: torch.Tensor, y: torch.Tensor | None, context: Any = None) -> torch.Tensor:
        return self.nets["decoder"](z, y)

    def _perturb(self, context: Any) -> Any:
        """The context a generation from the prior uses (the U-Net variant adds noise to the skips)."""
        return context

    def _generation_context(self, x: torch.Tensor) -> Any:
        """The context for generating with `x` as references (nothing to compute for a plain VAE)."""
        return None

    def _code(self, x: torch.Tensor) -> torch.Tensor:
        return self._encode(x)[0]

    def _generate(self, z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        return self._decode(z, y)

    def _reconstruction_error(self, x_hat: torch.Tensor, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        return summed_squared_error(x_hat, x)

    def _vae_terms(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor, Any]:
        """(reconstruction error, KL, decoder context) of one pass through the auto-encoder."""
        y = self._batch_condition(batch)
        mu, logvar, context = self._encode(batch.x)
        x_hat = self._decode(reparameterize(mu, logvar), y, context)
        return self._reconstruction_error(x_hat, batch.x, y), gaussian_kl(mu, logvar), context

    def _batch_condition(self, batch: Batch) -> torch.Tensor | None:
        return batch.y if self.conditional else None


VAE_SCALARS = {
    "reconstruction": "squared error between x and its reconstruction, summed over each image's pixels, batch mean",
    "kl": "KL divergence of the encoder's Gaussian from N(0, I), summed over latent dimensions, batch mean",
}


@register
class VAE(VAEBase):
    name = "vae"
    title = "VAE"
    source = "Kingma & Welling, Auto-Encoding Variational Bayes (2013); seed 004"
    description = (
        "Variational auto-encoder: an encoder maps each image to a Gaussian over latent codes (a mean "
        "and a log-variance), a code is drawn from it with the reparameterisation trick, and a decoder "
        "turns the code back into an image. The loss adds the pixel reconstruction error to the KL "
        "divergence that pulls the codes towards N(0, I), so random codes decode to plausible images "
        "and nearby codes to similar ones: a smooth latent space to encode, interpolate and morph in. "
        "Stable and fast to train, but its samples are blurry (seed 004: FID 249.76 on CIFAR-10 cars "
        "and planes)."
    )
    scalars = {**VAE_SCALARS, "loss": "reconstruction + kl, the negative evidence lower bound being minimised"}
    plots = (Plot("Reconstruction and KL", ("reconstruction", "kl")), Plot("Total loss", ("loss",)))
    presets = {
        "paper": {"latent_dim": 128, "width": 64, "batch_size": 64, "lr": 1e-3},
        "tiny": {"latent_dim": 8, "width": 8, "batch_size": 16},
    }

    def build_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"vae": self._vae_optimizer()}

    def schedule(self) -> list[tuple[str, int]]:
        return [("vae", 1)]

    def train_phase(self, phase: str, batch: Batch) -> dict[str, torch.Tensor]:
        reconstruction, kl, _ = self._vae_terms(batch)
        loss = reconstruction + kl
        self.update("vae", loss)
        return {"reconstruction": reconstruction.detach(), "kl": kl.detach(), "loss": loss.detach()}


@dataclass
class VAEGANParams(VAEParams):
    lr: float = param(2e-4, "Encoder and decoder learning rate (Adam).", low=1e-6, high=1e-1, log=True)
    lr_d: float = param(2e-4, "Discriminator learning rate (Adam).", low=1e-6, high=1e-1, log=True)
    beta1: float = param(0.5, "Adam β1.", low=0.0, high=0.999)
    vae_weight: float = param(1.0, "λ_VAE: weight of reconstruction + KL in the decoder's loss (seed 004: 1.0).",
                              low=0.0, high=100.0)
    gan_weight: float = param(0.1, "λ_GAN: weight of the adversarial term -log D(Decoder(z)) (seed 004: 0.1).",
                              low=0.0, high=100.0)
    feature_reconstruction: bool = param(
        False, "Measure reconstruction in the discriminator's last hidden layer, as Larsen et al. did, "
               "instead of in pixels (sharper; the reconstruction scalar is then a feature-space error).")
    conditional: bool = param(False, "Give the decoder the labels and the discriminator them as constant channels.")


@register
class VAEGAN(VAEBase):
    name = "vae-gan"
    title = "VAE-GAN"
    source = "Larsen et al., Autoencoding beyond pixels using a learned similarity metric (2016); seed 004"
    description = (
        "A VAE whose decoder doubles as a GAN generator: besides reconstructing images and keeping its "
        "codes close to N(0, I), the decoder is asked to fool a discriminator with images decoded from "
        "random codes, L = λ_VAE·(MSE + KL) + λ_GAN·(-log D(Decoder(z))), λ_VAE = 1, λ_GAN = 0.1 as in "
        "seed 004. With a pixel reconstruction loss the adversarial term is small beside the summed "
        "error and the samples stay about as blurry as a VAE's (seed 004: FID 254.7 against the VAE's "
        "249.76); switch on feature_reconstruction to measure the reconstruction inside the "
        "discriminator, as Larsen et al. did, for sharper images."
    )
    Params = VAEGANParams
    scalars = {
        **VAE_SCALARS,
        "g_loss": "the decoder's adversarial loss -log D(Decoder(z)), z ~ N(0, I)",
        "loss": "the decoder's total loss λ_VAE·(reconstruction + kl) + λ_GAN·g_loss",
        **{k: BCEGAN.scalars[k] for k in ("d_loss", "d_real", "d_fake")},
    }
    plots = (
        Plot("Reconstruction and KL", ("reconstruction", "kl")),
        Plot("Adversarial losses", ("d_loss", "g_loss"), {"2·ln 2": EQUILIBRIUM}),
        Plot("Discriminator outputs", ("d_real", "d_fake"), {"½": 0.5}),
    )
    presets = {
        "paper": {"latent_dim": 128, "width": 64, "batch_size": 64, "vae_weight": 1.0, "gan_weight": 0.1},
        "tiny": {"latent_dim": 8, "width": 8, "batch_size": 16},
    }

    def build(self) -> None:
        super().build()
        self._build_discriminator()

    def _build_discriminator(self) -> None:
        s = self.spec
        self.nets["discriminator"] = ConvCritic(s.channels, s.image_size, self.params.width, self.cond_dim)
        dcgan_init(self.nets["discriminator"])

    def build_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        p = self.params
        return {"vae": self._vae_optimizer(),
                "discriminator": self.optimizer(torch.optim.Adam, self.nets["discriminator"].parameters(), lr=p.lr_d,
                                                betas=(p.beta1, p.beta2))}

    def schedule(self) -> list[tuple[str, int]]:
        return [("discriminator", 1), ("vae", 1)]

    def _reconstruction_error(self, x_hat: torch.Tensor, x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        if not self.params.feature_reconstruction:
            return super()._reconstruction_error(x_hat, x, y)
        D = self.nets["discriminator"]
        with torch.no_grad():
            target = D.features(x, y)
        return summed_squared_error(D.features(x_hat, y), target)

    def train_phase(self, phase: str, batch: Batch) -> dict[str, torch.Tensor]:
        D = self.nets["discriminator"]
        y = self._batch_condition(batch)
        n = batch.x.shape[0]
        if phase == "discriminator":
            with torch.no_grad():
                fake = self._decode(self.latent(n), y, self._generation_context(batch.x))
            real_logits, fake_logits = D(batch.x, y), D(fake, y)
            loss = bce_discriminator_loss(real_logits, fake_logits)
            self.update("discriminator", loss)
            return {"d_loss": loss.detach(), "d_real": torch.sigmoid(real_logits).mean().detach(),
                    "d_fake": torch.sigmoid(fake_logits).mean().detach()}
        reconstruction, kl, context = self._vae_terms(batch)
        g_loss = bce_generator_loss(D(self._decode(self.latent(n), y, self._perturb(context)), y))
        loss = self.params.vae_weight * (reconstruction + kl) + self.params.gan_weight * g_loss
        self.update("vae", loss)
        return {"reconstruction": reconstruction.detach(), "kl": kl.detach(), "g_loss": g_loss.detach(),
                "loss": loss.detach()}
