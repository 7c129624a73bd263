"""alpha-GAN (Rosca et al. 2017; seed 001): an auto-encoder GAN with a code discriminator.

Four networks: encoder E (x -> z), generator G (z -> x), image discriminator D and code
discriminator C. The code discriminator replaces the VAE's KL term (the density-ratio trick):
it calls prior samples real and encodings fake, and E tries to make its codes look real.
D treats both G(z) and the reconstructions G(E(x)) as fake. By default E and G are updated `ae_steps`
times per discriminator update, as seed 001 did, because the discriminators otherwise learn too fast;
the `paper` preset is Rosca et al.'s Algorithm 1 (one update of each, a loss term per kind of fake).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from ..nn.blocks import MLPCritic
from ..nn.losses import bce_discriminator_loss, bce_fake_loss, bce_generator_loss, bce_real_loss
from ..nn.resnet import ResCritic, ResEncoder, ResGenerator
from .adversarial import EQUILIBRIUM
from .aids import AidParams
from .autoencoding import AutoEncodingMethod
from .base import Batch, Plot
from .params import param
from .registry import register


@dataclass
class AlphaGANParams(AidParams):
    latent_dim: int = param(128, "Size of the latent code z.", low=1, high=1024)
    width: int = param(64, "Channels at full resolution in E, G and D; they double at each halving (capped at 512).",
                       low=4, high=512)
    code_hidden: int = param(750, "Units in each of the code discriminator's two hidden layers.", low=4, high=4096)
    reconstruction_weight: float = param(20.0, "λ: weight of the L1 reconstruction error ‖x - G(E(x))‖₁ "
                                               "(public implementations: 10 to 40).", low=1.0, high=100.0)
    ae_steps: int = param(2, "Encoder/generator updates per discriminator update (seed 001: 2; Rosca et al.'s "
                             "Algorithm 1: 1).", low=1, high=10)
    per_kind_fake_terms: bool = param(
        False, "Give each kind of fake, reconstructions G(E(x)) and samples G(z), its own term in the image "
               "discriminator's and the generator's losses, each weighted as the real term (Rosca et al.'s "
               "Algorithm 1); off: one mean over both kinds together, so each has half that weight.")
    lr: float = param(2e-4, "Encoder and generator learning rate (Adam).", low=1e-6, high=1e-1, log=True)
    lr_d: float = param(2e-4, "Image and code discriminator learning rate (Adam).", low=1e-6, high=1e-1, log=True)
    beta1: float = param(0.5, "Adam β1 (seed 001: a wrong Adam setting stops it learning at all).", low=0.0, high=0.999)
    beta2: float = param(0.9, "Adam β2.", low=0.0, high=0.9999)
    conditional: bool = param(False, "Give G the labels and D them as constant channels (E and C stay label-free).")


@register
class AlphaGAN(AutoEncodingMethod):
    name = "alpha-gan"
    title = "alpha-GAN"
    source = ("Rosca, Lakshminarayanan, Warde-Farley & Mohamed, Variational Approaches for Auto-Encoding GANs "
              "(2017); seed 001")
    description = (
        "An auto-encoder and a GAN trained together. An encoder maps images to codes and a generator "
        "maps codes back to images; the generator must reconstruct its input (an L1 loss) and also fool "
        "an image discriminator, which sees both random samples and reconstructions as fake. Instead "
        "of a VAE's KL term, a small code discriminator learns to tell codes drawn from N(0, I) from "
        "the encoder's codes, and the encoder learns to fool it, so the codes fill the prior without "
        "assuming a Gaussian posterior. Sharper than a VAE, less prone to mode collapse than a GAN, and "
        "it can encode real images: seed 001 encoded two Quick, Draw! doodles and morphed between their "
        "codes. The auto-encoder is updated twice per discriminator update by default."
    )
    Params = AlphaGANParams
    decoder_net = "generator"
    scalars = {
        "reconstruction": "mean absolute error |x - G(E(x))| per pixel (weighted by λ in E's and G's losses)",
        "e_loss": "the encoder's code-adversarial loss -log C(E(x)): low when its codes pass for prior samples",
        "g_loss": "the generator's image-adversarial loss -log D over G(z) and G(E(x)): one mean over both, or "
                  "with per_kind_fake_terms the sum of each kind's mean (2 ln 2 at D = ½)",
        "d_loss": "image discriminator loss, real x against G(z) and G(E(x)); 2 ln 2 ≈ 1.386 at equilibrium, "
                  "3 ln 2 ≈ 2.079 with per_kind_fake_terms",
        "code_d_loss": "code discriminator loss, prior z as real against E(x) as fake; 2 ln 2 at equilibrium",
        "d_real": "mean D(x): the image discriminator's probability that real data is real",
        "d_fake": "mean D over G(z) and G(E(x)): its probability that generated data is real",
    }
    plots = (
        Plot("Reconstruction", ("reconstruction",)),
        Plot("Adversarial losses", ("d_loss", "g_loss"), {"2·ln 2": EQUILIBRIUM, "3·ln 2": 1.5 * EQUILIBRIUM}),
        Plot("Code adversarial losses", ("code_d_loss", "e_loss"), {"2·ln 2": EQUILIBRIUM}),
        Plot("Discriminator outputs", ("d_real", "d_fake"), {"½": 0.5}),
    )
    presets = {
        # Rosca et al.'s Algorithm 1: one encoder, generator, discriminator and code-discriminator update per
        # iteration, each loss a sum over the kinds of sample it names.
        "paper": {"latent_dim": 128, "width": 64, "batch_size": 64, "reconstruction_weight": 20.0, "ae_steps": 1,
                  "per_kind_fake_terms": True},
        # Seed 001's: the auto-encoder updated twice per discriminator update.
        "seed001": {"latent_dim": 128, "width": 64, "batch_size": 64, "reconstruction_weight": 20.0, "ae_steps": 2},
        "tiny": {"latent_dim": 8, "width": 8, "code_hidden": 32, "batch_size": 16},
    }

    def build(self) -> None:
        p, s = self.params, self.spec
        self.nets["encoder"] = ResEncoder(s.channels, s.image_size, p.latent_dim, p.width)
        self.nets["generator"] = ResGenerator(p.latent_dim, s.channels, s.image_size, p.width, self.cond_dim)
        self.nets["discriminator"] = ResCritic(s.channels, s.image_size, p.width, self.cond_dim)
        # Three dense layers with LeakyReLU and no normalisation; the sigmoid is inside the BCE loss.
        self.nets["code_discriminator"] = MLPCritic((p.latent_dim,), p.code_hidden, 2)

    def build_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        p = self.params

        def adam(net: str, lr: float) -> torch.optim.Optimizer:
            return self.optimizer(torch.optim.Adam, self.nets[net].parameters(), lr=lr, betas=(p.beta1, p.beta2))

        return {"encoder": adam("encoder", p.lr), "generator": adam("generator", p.lr),
                "discriminator": adam("discriminator", p.lr_d),
                "code_discriminator": adam("code_discriminator", p.lr_d)}

    def schedule(self) -> list[tuple[str, int]]:
        return [("autoencoder", self.params.ae_steps), ("discriminators", 1)]

    def _code(self, x: torch.Tensor) -> torch.Tensor:
        return self.nets["encoder"](x)

    def _fakes(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """(codes E(x), reconstructions G(E(x)) and samples G(z) stacked, their doubled conditions)."""
        y = batch.y if self.conditional else None
        codes = self._code(batch.x)
        fakes = torch.cat([self._generate(codes, y), self._generate(self.latent(batch.x.shape[0]), y)])
        return codes, fakes, None if y is None else torch.cat([y, y])

    def _fake_terms(self, loss: Callable[[torch.Tensor], torch.Tensor], fake_logits: torch.Tensor,
                    n: int) -> torch.Tensor:
        """`loss` over the fakes' logits (n reconstructions, then n samples): Algorithm 1 of Rosca et al. sums a
        term per kind, each as heavy as the real term; pooled, one mean over the 2n gives each kind half that."""
        if self.params.per_kind_fake_terms:
            return loss(fake_logits[:n]) + loss(fake_logits[n:])
        return loss(fake_logits)

    def train_phase(self, phase: str, batch: Batch) -> dict[str, torch.Tensor]:
        D, C = self.nets["discriminator"], self.nets["code_discriminator"]
        n = batch.x.shape[0]
        if phase == "autoencoder":
            codes, fakes, y2 = self._fakes(batch)
            reconstruction = (fakes[:n] - batch.x).abs().mean()
            e_adv = bce_generator_loss(C(codes))  # E wants its codes called "real" (prior)
            g_adv = self._fake_terms(bce_generator_loss, D(self.for_discriminator(fakes), y2), n)  # G wants both fakes called real
            weighted = self.params.reconstruction_weight * reconstruction
            # Each network minimises its own objective: E's gradient comes only from e_loss, G's from g_loss.
            for name in ("encoder", "generator"):
                self.opts[name].zero_grad(set_to_none=True)
            (weighted + e_adv).backward(inputs=list(self.nets["encoder"].parameters()), retain_graph=True)
            (weighted + g_adv).backward(inputs=list(self.nets["generator"].parameters()))
            self.opts["encoder"].step()
            self.opts["generator"].step()
            return {"reconstruction": reconstruction.detach(), "e_loss": e_adv.detach(), "g_loss": g_adv.detach()}
        y = batch.y if self.conditional else None
        with torch.no_grad():
            codes, fakes, y2 = self._fakes(batch)
        real_logits = self.observe_real(D(self.for_discriminator(batch.x), y))
        fake_logits = D(self.for_discriminator(fakes), y2)
        d_loss = bce_real_loss(real_logits) + self._fake_terms(bce_fake_loss, fake_logits, n)
        # Prior samples are "real", encodings "fake" (the v1 paper's eqs. 16-17 had them swapped).
        code_d_loss = bce_discriminator_loss(C(self.latent(n)), C(codes))
        for name in ("discriminator", "code_discriminator"):
            self.opts[name].zero_grad(set_to_none=True)
        (d_loss + code_d_loss).backward()
        self.opts["discriminator"].step()
        self.opts["code_discriminator"].step()
        return {"d_loss": d_loss.detach(), "code_d_loss": code_d_loss.detach(),
                "d_real": torch.sigmoid(real_logits).mean().detach(),
                "d_fake": torch.sigmoid(fake_logits).mean().detach()}
