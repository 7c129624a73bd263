"""What pix2pix and CycleGAN share: no latent, an input image to translate, input | output previews."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import ClassVar

import torch

from ..nn.blocks import dcgan_init
from .aids import AidParams
from .base import Method
from .params import param


@dataclass
class TranslationParams(AidParams):
    """Settings both translation methods have."""

    width: int = param(64, "Channels of the first layer of G and D; deeper layers double it, up to 8×.",
                       low=4, high=256)
    norm: str = param("batch", "Normalisation in G and D.", choices=("batch", "instance", "none"))
    d_layers: int = param(3, "Stride-2 layers of the PatchGAN (3: 70×70 patches in the paper); fewer on small images.",
                          low=1, high=5)
    lr_g: float = param(2e-4, "Generator learning rate (Adam).", low=1e-6, high=1e-1, log=True)
    lr_d: float = param(2e-4, "Discriminator learning rate (Adam).", low=1e-6, high=1e-1, log=True)
    beta1: float = param(0.5, "Adam β1.", low=0.0, high=0.999)
    beta2: float = param(0.999, "Adam β2.", low=0.0, high=0.9999)


class TranslationMethod(Method):
    """Base of image-to-image methods: `sample` and `preview` translate `reference` images.

    Subclasses name the generator of each direction in `directions` ("ab": A -> B, "ba": B -> A).
    """

    needs_reference = True
    preview_layout = "pairs-side-by-side"
    directions: ClassVar[dict[str, str]] = {"ab": "generator"}

    def latent(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Translation methods have no latent space: this always raises."""
        raise ValueError(f"{self.name} has no latent space: it translates images; pass them as `reference`")

    def generator_nets(self) -> list[str]:
        """The networks that translate (one per direction)."""
        return list(self.directions.values())

    @torch.no_grad()
    def translate(self, x: torch.Tensor, direction: str = "ab") -> torch.Tensor:
        """Translate images in [-1, 1] (N, C, H, W) along `direction`; the output has the input's shape."""
        if direction not in self.directions:
            known = " or ".join(map(repr, self.directions))
            raise ValueError(f"direction {direction!r}: {self.name} translates {known}")
        x = self._check_images(x)
        with self._inference(self.directions[direction]):
            return self.nets[self.directions[direction]](x)

    @torch.no_grad()
    def sample(self, z: torch.Tensor | None, labels: torch.Tensor | None = None,
               reference: torch.Tensor | None = None, direction: str = "ab") -> torch.Tensor:
        """Translate `reference` (the latent and labels are ignored: there are none)."""
        if reference is None:
            raise ValueError(f"{self.name} translates input images and has no latent to sample from: "
                             f"pass the images to translate as `reference` (N×{self.spec.channels}×"
                             f"{self.spec.image_size}×{self.spec.image_size}, values in [-1, 1])")
        return self.translate(reference, direction)

    @torch.no_grad()
    def preview(self, z: torch.Tensor | None, labels: torch.Tensor | None = None,
                reference: torch.Tensor | None = None) -> torch.Tensor:
        """Each input beside its translation, as one double-width image per pair: any grid keeps pairs together."""
        out = self.sample(z, labels, reference)
        return torch.cat([self._check_images(reference), out], dim=3)

    # --- shared training helpers -----------------------------------------------------------------
    def _init_weights(self) -> None:
        # Both papers initialise from N(0, 0.02), as DCGAN does.
        for net in self.nets.values():
            dcgan_init(net)

    def _adam(self, *nets: str, lr: float) -> torch.optim.Adam:
        params = [p for name in nets for p in self.nets[name].parameters()]
        return self.optimizer(torch.optim.Adam, params, lr=lr, betas=(self.params.beta1, self.params.beta2))

    @contextmanager
    def _frozen(self, *nets: str) -> Iterator[None]:
        # The generator's loss flows through D: skip computing D's gradients, which its step would discard.
        for name in nets:
            self.nets[name].requires_grad_(False)
        try:
            yield
        finally:
            for name in nets:
                self.nets[name].requires_grad_(True)

    def _inference(self, net: str):
        """The mode `translate` runs `net` in (a subclass may translate as it trains: pix2pix's paper preset)."""
        return self._evaluating(net)

    @contextmanager
    def _as_trained(self, *nets: str) -> Iterator[None]:
        # Training mode: dropout on, each batch normalised by its own statistics. The running statistics
        # stay as training left them (momentum 0) and the dropout draws come from a forked RNG, so
        # translating never changes what training does next.
        modes = {name: self.nets[name].training for name in nets}
        norms = [m for name in nets for m in self.nets[name].modules()
                 if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
        momenta = [m.momentum for m in norms]
        devices = [self.device] if self.device.type == "cuda" else []
        try:
            with torch.random.fork_rng(devices=devices):
                for name in nets:
                    self.nets[name].train()
                for m in norms:
                    m.momentum = 0.0
                yield
        finally:
            for m, momentum in zip(norms, momenta, strict=True):
                m.momentum = momentum
            for name, mode in modes.items():
                self.nets[name].train(mode)

    @contextmanager
    def _evaluating(self, *nets: str) -> Iterator[None]:
        # Translate with running statistics and no dropout, so a translation is deterministic.
        modes = {name: self.nets[name].training for name in nets}
        for name in nets:
            self.nets[name].eval()
        try:
            yield
        finally:
            for name, mode in modes.items():
                self.nets[name].train(mode)

    def _check_images(self, x: torch.Tensor) -> torch.Tensor:
        c, s = self.spec.channels, self.spec.image_size
        if x.dim() != 4 or x.shape[1] != c or x.shape[2] != s or x.shape[3] != s:
            raise ValueError(f"{self.name} was trained on {c}×{s}×{s} images, but got a batch of shape "
                             f"{tuple(x.shape)}: give N×{c}×{s}×{s} images (resize to {s} pixels, {c} channel(s))")
        if x.dtype == torch.uint8:
            x = x.float() / 127.5 - 1.0
        return x.to(self.device)
