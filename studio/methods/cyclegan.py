"""CycleGAN (Zhu et al. 2017; seed 003): unpaired translation between two image domains."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from ..data.dataset import DatasetKind
from ..nn.losses import lsgan_discriminator_loss, lsgan_generator_loss
from ..nn.patchgan import PatchDiscriminator
from ..nn.translators import ResNetGenerator, UNetGenerator
from .base import Batch, Plot, linear_decay
from .params import param
from .registry import register
from .translation import TranslationMethod, TranslationParams

LS_EQUILIBRIUM = 0.25  # a least-squares D's (halved) loss when it outputs ½ on both sides


class ImagePool:
    """The paper's history of generated images: D sees a mix of old and new fakes, which steadies it.

    Until full, each fake goes in and is returned; then each is, with probability ½, swapped for a
    random stored one. Draws come from torch's global RNG (on the CPU, so no device sync) and the
    buffer is saved with the checkpoint, so a resumed run continues exactly.
    """

    def __init__(self, size: int, shape: tuple[int, ...], device: torch.device):
        self.size = size
        self.count = 0
        self.images = torch.zeros((size, *shape), device=device)

    def query(self, fakes: torch.Tensor) -> torch.Tensor:
        """The batch D should see in place of `fakes` (detached)."""
        fakes = fakes.detach()
        if self.size == 0:
            return fakes
        out = fakes.clone()
        swap = (torch.rand(fakes.shape[0]) < 0.5).tolist()
        slot = torch.randint(self.size, (fakes.shape[0],)).tolist()
        for i in range(fakes.shape[0]):
            if self.count < self.size:
                self.images[self.count] = fakes[i]
                self.count += 1
            elif swap[i]:
                out[i] = self.images[slot[i]]
                self.images[slot[i]] = fakes[i]
        return out

    def state(self) -> dict[str, Any]:
        return {"images": self.images.clone(), "count": self.count}

    def load(self, state: dict[str, Any]) -> None:
        self.images.copy_(state["images"])
        self.count = int(state["count"])


@dataclass
class CycleGANParams(TranslationParams):
    norm: str = param("instance", "Normalisation in G and D (paper: instance).", choices=("batch", "instance", "none"))
    generator: str = param("resnet", "Generator: the paper's ResNet, or pix2pix's U-Net.", choices=("resnet", "unet"))
    res_blocks: int = param(6, "Residual blocks of the ResNet generator (paper: 6 at 128 px, 9 at 256 px).",
                            low=1, high=12)
    cycle_weight: float = param(10.0, "λ: weight of the cycle-consistency loss (paper: 10).", low=0.0, high=1000.0)
    identity_weight: float = param(0.5, "Weight of the identity loss as a fraction of λ (paper: 0.5, so 5); "
                                   "0 turns it off.", low=0.0, high=10.0)
    decay_start: float = param(0.5, "Fraction of the steps at the initial learning rate; after it the rate falls "
                                    "linearly to zero at the last step (paper: 100 + 100 epochs, so 0.5); 1 keeps "
                                    "it constant.", low=0.0, high=1.0)
    pool_size: int = param(50, "Generated images kept to show D a history of fakes (paper: 50); 0 turns it off.",
                           low=0, high=1000)


@register
class CycleGAN(TranslationMethod):
    name = "cyclegan"
    title = "CycleGAN"
    source = ("Zhu, Park, Isola & Efros, Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial "
              "Networks (2017); seed 003")
    description = (
        "Translates between two kinds of image without any matched pairs: only a pile of each. Two "
        "generators map A to B and B to A, and two PatchGAN discriminators, one per domain, judge "
        "whether an image belongs there. Because many mappings would fool a discriminator, each "
        "translation must survive a round trip: A to B and back must return the original A, and "
        "likewise for B (the cycle-consistency loss). An optional identity loss asks each generator "
        "to leave images already in its target domain alone, which keeps colours stable. Losses are "
        "least squares rather than cross-entropy, and the learning rate falls linearly to zero over "
        "the second half of training, as in the paper. Sampling translates given A images to B, or B to A."
    )
    kinds = (DatasetKind.UNPAIRED,)
    Params = CycleGANParams
    directions = {"ab": "g_ab", "ba": "g_ba"}
    real_threshold = 0.5  # least squares: D aims at 1 for real, 0 for fake
    presets = {
        "paper": {"width": 64, "batch_size": 1, "norm": "instance", "generator": "resnet", "res_blocks": 6,
                  "cycle_weight": 10.0, "identity_weight": 0.5, "pool_size": 50, "d_layers": 3,
                  "lr_g": 2e-4, "lr_d": 2e-4, "beta1": 0.5, "beta2": 0.999, "decay_start": 0.5},
        "tiny": {"width": 8, "batch_size": 8, "res_blocks": 2, "d_layers": 2, "pool_size": 16},
    }
    scalars = {
        "g_loss": "the generators' least-squares adversarial loss, (D_B(G_AB(a)) - 1)² + (D_A(G_BA(b)) - 1)²; "
                  "0.5 when both discriminators output ½",
        "d_a_loss": "D_A's loss, ½ ((D_A(a) - 1)² + D_A(G_BA(b))²); 0.25 when it outputs ½ everywhere",
        "d_b_loss": "D_B's loss, ½ ((D_B(b) - 1)² + D_B(G_AB(a))²); 0.25 when it outputs ½ everywhere",
        "cycle": "cycle-consistency error, |G_BA(G_AB(a)) - a| + |G_AB(G_BA(b)) - b| (mean L1, before λ): "
                 "how well a round trip returns the original",
        "identity": "identity error, |G_AB(b) - b| + |G_BA(a) - a| (mean L1, before weighting); 0 when turned off",
        "lr": "the generators' learning rate this step: the linear decay times the run's lr_anneal",
    }
    plots = (
        Plot("Adversarial losses", ("g_loss", "d_a_loss", "d_b_loss"), {"D = ½": LS_EQUILIBRIUM}),
        Plot("Reconstruction", ("cycle", "identity")),
        Plot("Learning rate", ("lr",)),
    )

    def build(self):
        p, c, s = self.params, self.spec.channels, self.spec.image_size
        for name in ("g_ab", "g_ba"):
            if p.generator == "resnet":
                self.nets[name] = ResNetGenerator(c, c, s, p.width, p.res_blocks, p.norm)
            else:
                self.nets[name] = UNetGenerator(c, c, s, p.width, norm=p.norm, dropout=0.0)
        self.nets["d_a"] = PatchDiscriminator(c, s, p.width, p.d_layers, p.norm)
        self.nets["d_b"] = PatchDiscriminator(c, s, p.width, p.d_layers, p.norm)
        self._init_weights()
        self.pools = {d: ImagePool(p.pool_size, (c, s, s), self.device) for d in ("a", "b")}

    def build_optimizers(self):
        p = self.params
        # One optimizer for both generators (their losses are coupled by the cycle), one for both Ds.
        return {"generator": self._adam("g_ab", "g_ba", lr=p.lr_g),
                "discriminator": self._adam("d_a", "d_b", lr=p.lr_d)}

    def schedule(self):
        # One iteration as the authors' code runs it (optimize_parameters in junyanz/pytorch-CycleGAN-and-pix2pix):
        # the generators' step, then the discriminators' on the same batch and on the fakes that step made.
        return [("step", 1)]

    def learning_rate_factor(self, step: int, total_steps: int) -> float:
        """Constant, then linear decay to zero over the last (1 - decay_start) of the steps, as in the paper."""
        return linear_decay(step, total_steps, self.params.decay_start)

    def train_phase(self, phase: str, batch: Batch) -> dict[str, torch.Tensor]:
        if batch.target is None:
            raise ValueError("cyclegan needs two image domains: train it on an unpaired dataset such as "
                             "builtin:outlines|shapes")
        a, b = batch.x, batch.target
        out, fake_a, fake_b = self._generator_phase(a, b)
        return {**out, **self._discriminator_phase(a, b, fake_a, fake_b)}

    def _generator_phase(self, a: torch.Tensor, b: torch.Tensor) -> tuple[dict[str, torch.Tensor], torch.Tensor,
                                                                          torch.Tensor]:
        p, n = self.params, self.nets
        fake_b, fake_a = n["g_ab"](a), n["g_ba"](b)
        with self._frozen("d_a", "d_b"):
            g_loss = (lsgan_generator_loss(n["d_b"](self.for_discriminator(fake_b)))
                      + lsgan_generator_loss(n["d_a"](self.for_discriminator(fake_a))))
        cycle = F.l1_loss(n["g_ba"](fake_b), a) + F.l1_loss(n["g_ab"](fake_a), b)
        loss = g_loss + p.cycle_weight * cycle
        if p.identity_weight > 0:
            identity = F.l1_loss(n["g_ab"](b), b) + F.l1_loss(n["g_ba"](a), a)
            loss = loss + p.identity_weight * p.cycle_weight * identity
        else:
            identity = torch.zeros((), device=a.device)
        self.update("generator", loss)
        return ({"g_loss": g_loss.detach(), "cycle": cycle.detach(), "identity": identity.detach(),
                 "lr": self.learning_rate_scalar("generator")}, fake_a.detach(), fake_b.detach())

    def _discriminator_phase(self, a: torch.Tensor, b: torch.Tensor, fake_a: torch.Tensor,
                             fake_b: torch.Tensor) -> dict[str, torch.Tensor]:
        # The fakes of the generators' step, through the pool (backward_D_A/B in the authors' code): not made
        # again by the generators just updated, which would also cost two more generator passes.
        n, seen = self.nets, self.for_discriminator
        d_a_loss = lsgan_discriminator_loss(self.observe_real(n["d_a"](seen(a))),
                                            n["d_a"](seen(self.pools["a"].query(fake_a))))
        d_b_loss = lsgan_discriminator_loss(self.observe_real(n["d_b"](seen(b))),
                                            n["d_b"](seen(self.pools["b"].query(fake_b))))
        self.update("discriminator", d_a_loss + d_b_loss)
        return {"d_a_loss": d_a_loss.detach(), "d_b_loss": d_b_loss.detach()}

    def extra_state(self) -> dict[str, Any]:
        return {f"pool_{d}": pool.state() for d, pool in self.pools.items()}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        for d, pool in self.pools.items():
            if f"pool_{d}" in state:
                pool.load(state[f"pool_{d}"])
