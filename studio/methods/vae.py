"""VAE (Kingma & Welling 2013) and VAE-GAN (Larsen et al. 2016, and seed 004's variant of it).

Both share `VAEBase`: a ResNet encoder to (μ, log σ²), the reparameterisation z = μ + σ·ε and a
ResNet decoder. The U-Net VAE-GAN (unet_vae_gan.py) overrides `_encode`/`_decode` to pass skip maps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from ..nn.blocks import ConvCritic, dcgan_init
from ..nn.losses import bce_fake_loss, bce_generator_loss, bce_minimax_generator_loss, bce_real_loss
from ..nn.resnet import ResEncoder, ResGenerator
from .adversarial import BCEGAN, EQUILIBRIUM
from .aids import AidParams
from .autoencoding import AutoEncodingMethod
from .base import Batch, Plot
from .params import BaseParams, ConfigError, param
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
class VAEGANParams(VAEParams, AidParams):
    # The defaults are seed 004's variant, so runs recorded before the `paper` preset resume unchanged.
    optimizer: str = param("adam", "Optimizer of all three networks (Larsen et al.: RMSProp).",
                           choices=("adam", "rmsprop"))
    lr: float = param(2e-4, "Encoder and decoder learning rate.", low=1e-6, high=1e-1, log=True)
    lr_d: float = param(2e-4, "Discriminator learning rate.", low=1e-6, high=1e-1, log=True)
    beta1: float = param(0.5, "Adam β1.", low=0.0, high=0.999)
    vae_weight: float = param(1.0, "λ_VAE: weight of reconstruction + KL (seed 004: 1.0; Larsen et al.: 1).",
                              low=0.0, high=100.0)
    gan_weight: float = param(0.1, "λ_GAN: weight of the decoder's adversarial term (seed 004: 0.1; Larsen et al.: 1).",
                              low=0.0, high=100.0)
    gamma: float = param(1.0, "γ: weight of the reconstruction term against the GAN term in the decoder's loss "
                              "only (Larsen et al.'s γ; their CelebA code: 1e-6); 1 leaves seed 004's loss.",
                         low=0.0, high=100.0)
    feature_reconstruction: bool = param(
        False, "Measure reconstruction in a discriminator layer Dis_l, as Larsen et al. did, instead of in "
               "pixels (sharper; the reconstruction scalar is then L_llike, half the summed squared "
               "error of Dis_l: a unit Gaussian's negative log-likelihood).")
    feature_layer: int = param(0, "l: the discriminator convolution Dis_l whose output is compared, counted from 1 "
                                  "at the input; 0 is the last one (Larsen et al.: their last, fourth).",
                               low=0, high=16)
    discriminate_reconstructions: bool = param(
        False, "Show the discriminator the reconstructions Dec(Enc(x)) as fakes besides Dec(z), and give the "
               "decoder a GAN term on both (Larsen et al.); off: prior samples only (seed 004).")
    generator_loss: str = param("non-saturating", "The decoder's GAN term: -log D(fake) (non-saturating), or "
                                "log(1 - D(fake)) as in Larsen et al.'s Algorithm 1 and code (minimax).",
                                choices=("non-saturating", "minimax"))
    encoder_gan_gradient: bool = param(
        False, "Let the GAN term train the encoder too (through Dec(Enc(x)), or the U-Net's skip maps); "
               "off, the encoder learns from reconstruction + KL only, as Larsen et al.'s Algorithm 1 says.")
    conditional: bool = param(False, "Give the decoder the labels and the discriminator them as constant channels.")


@register
class VAEGAN(VAEBase):
    name = "vae-gan"
    title = "VAE-GAN"
    source = "Larsen et al., Autoencoding beyond pixels using a learned similarity metric (2016); seed 004"
    description = (
        "A VAE whose decoder doubles as a GAN generator. The `paper` preset is Larsen et al.'s "
        "Algorithm 1: reconstruction is measured inside the discriminator (its layer Dis_l), the "
        "discriminator judges real images against both reconstructions and decodings of random codes, "
        "the decoder weighs reconstruction (by γ) against fooling it on both, and the encoder learns "
        "from the KL and Dis_l terms only; all three networks update from one pass. The `seed004` "
        "preset is seed 004's simpler variant, L = λ_VAE·(MSE + KL) + λ_GAN·(-log D(Decoder(z))), "
        "λ_GAN = 0.1, whose samples stay about as blurry as a VAE's (seed 004: FID 254.7 against the "
        "VAE's 249.76)."
    )
    Params = VAEGANParams
    scalars = {
        **VAE_SCALARS,
        "g_loss": "the decoder's adversarial term over its fakes (Dec(z), and Dec(Enc(x)) when the discriminator "
                  "sees reconstructions): -log D or log(1 - D) per kind, summed over the kinds",
        "encoder_loss": "what the encoder minimises: λ_VAE·(reconstruction + kl)",
        "decoder_loss": "what the decoder minimises: γ·λ_VAE·reconstruction + λ_GAN·g_loss",
        "d_loss": "discriminator loss -log D(x) - Σ log(1 - D(fake)) over each kind of fake: 2 ln 2 ≈ 1.386 "
                  "at D = ½ with prior samples only, 3 ln 2 ≈ 2.079 with reconstructions too",
        "d_real": BCEGAN.scalars["d_real"],
        "d_fake": "mean D(Dec(z)), z ~ N(0, I): its probability that a decoded prior sample is real",
    }
    plots = (
        Plot("Reconstruction and KL", ("reconstruction", "kl")),
        Plot("Adversarial losses", ("d_loss", "g_loss"), {"2·ln 2": EQUILIBRIUM, "3·ln 2": 1.5 * EQUILIBRIUM}),
        Plot("Encoder and decoder losses", ("encoder_loss", "decoder_loss")),
        Plot("Discriminator outputs", ("d_real", "d_fake"), {"½": 0.5}),
    )
    presets = {
        # Larsen et al. (2016), Algorithm 1; optimizer, lr and batch from their §4, γ and layer from their code.
        "paper": {"latent_dim": 128, "width": 64, "batch_size": 64, "optimizer": "rmsprop", "lr": 3e-4,
                  "lr_d": 3e-4, "vae_weight": 1.0, "gan_weight": 1.0, "gamma": 1e-6, "feature_reconstruction": True,
                  "feature_layer": 0, "discriminate_reconstructions": True, "generator_loss": "minimax",
                  "encoder_gan_gradient": False},
        # Seed 004's variant: pixel MSE + KL, and a GAN term on prior samples at a tenth of the weight.
        "seed004": {"latent_dim": 128, "width": 64, "batch_size": 64, "optimizer": "adam", "lr": 2e-4, "lr_d": 2e-4,
                    "vae_weight": 1.0, "gan_weight": 0.1, "gamma": 1.0, "feature_reconstruction": False,
                    "discriminate_reconstructions": False, "generator_loss": "non-saturating"},
        "tiny": {"latent_dim": 8, "width": 8, "batch_size": 16},
    }

    def build(self) -> None:
        super().build()
        self._build_discriminator()

    def _build_discriminator(self) -> None:
        s = self.spec
        self.nets["discriminator"] = ConvCritic(s.channels, s.image_size, self.params.width, self.cond_dim)
        dcgan_init(self.nets["discriminator"])
        layers = self.nets["discriminator"].conv_layers
        if self.params.feature_layer > layers:
            raise ConfigError(f"feature_layer={self.params.feature_layer}: at {s.image_size} px the discriminator "
                              f"has {layers} convolutions; choose 1 to {layers}, or 0 for the last")

    def build_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        p = self.params
        vae_params = list(self.nets["encoder"].parameters()) + list(self.nets["decoder"].parameters())
        return {"vae": self.named_optimizer(p.optimizer, vae_params, p.lr, (p.beta1, p.beta2)),
                "discriminator": self.named_optimizer(p.optimizer, self.nets["discriminator"].parameters(), p.lr_d,
                                                      (p.beta1, p.beta2))}

    def train_phase(self, phase: str, batch: Batch) -> dict[str, torch.Tensor]:
        """One pass of Larsen et al.'s Algorithm 1 (or seed 004's variant): every loss from the same
        forward pass, each network stepped with the gradient of its own loss only."""
        p, D = self.params, self.nets["discriminator"]
        x, y, n = batch.x, self._batch_condition(batch), batch.x.shape[0]
        # The random draws in a fixed order: ε of the reparameterisation, z_p, then (U-Net) the skip noise.
        mu, logvar, context = self._encode(x)
        x_tilde = self._decode(reparameterize(mu, logvar), y, context)
        x_p = self._decode(self.latent(n), y, self._perturb(context))
        kl = gaussian_kl(mu, logvar)

        # As the discriminator sees them: x and its reconstruction transformed alike, so Dis_l compares like with like.
        x_seen, tilde_seen = self.for_discriminator(torch.cat([x, x_tilde], dim=1)).chunk(2, dim=1)
        real_logits, real_features = D.scores_and_features(x_seen, y, p.feature_layer)
        self.observe_real(real_logits)
        tilde_logits = None
        if p.feature_reconstruction:
            tilde_logits, tilde_features = D.scores_and_features(tilde_seen, y, p.feature_layer)
            # L_llike = -log N(Dis_l(x); Dis_l(x̃), I) = ½ Σ (Dis_l(x̃) - Dis_l(x))² + const (Larsen et al., "Beyond
            # element-wise reconstruction error"):
            # the ½ sets how the encoder weighs it against L_prior, so it is not folded into γ.
            reconstruction = 0.5 * summed_squared_error(tilde_features, real_features.detach())
        else:
            reconstruction = summed_squared_error(x_tilde, x)
        if p.discriminate_reconstructions and tilde_logits is None:
            tilde_logits = D(tilde_seen, y)
        p_logits = D(self.for_discriminator(x_p), y)
        fake_logits = [p_logits] + ([tilde_logits] if p.discriminate_reconstructions else [])

        # -L_GAN = -log D(x) - Σ log(1 - D(fake)), each term a batch mean, as the paper writes it.
        d_loss = bce_real_loss(real_logits) + sum(bce_fake_loss(f) for f in fake_logits)
        generator_term = bce_minimax_generator_loss if p.generator_loss == "minimax" else bce_generator_loss
        g_loss = sum(generator_term(f) for f in fake_logits)
        encoder_loss = p.vae_weight * (reconstruction + kl)
        decoder_loss = p.gamma * p.vae_weight * reconstruction + p.gan_weight * g_loss

        encoder, decoder = list(self.nets["encoder"].parameters()), list(self.nets["decoder"].parameters())
        for opt in self.opts.values():
            opt.zero_grad(set_to_none=True)
        # Each network gets the gradient of its own objective: the encoder's stops at L_prior + L_llike
        # (Algorithm 1) unless encoder_gan_gradient lets the GAN term through Dec(Enc(x)) or the skips.
        (encoder_loss + p.gan_weight * g_loss if p.encoder_gan_gradient else encoder_loss).backward(
            inputs=encoder, retain_graph=True)
        decoder_loss.backward(inputs=decoder, retain_graph=True)
        d_loss.backward(inputs=list(D.parameters()))
        self.opts["vae"].step()
        self.opts["discriminator"].step()
        return {"reconstruction": reconstruction.detach(), "kl": kl.detach(), "g_loss": g_loss.detach(),
                "encoder_loss": encoder_loss.detach(), "decoder_loss": decoder_loss.detach(),
                "d_loss": d_loss.detach(), "d_real": torch.sigmoid(real_logits.detach()).mean(),
                "d_fake": torch.sigmoid(p_logits.detach()).mean()}
