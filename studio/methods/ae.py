"""A plain auto-encoder: the baseline the sources set alpha-GAN and the VAE against (seed 001).

alpha-GAN's encoder and decoder (ResNet stacks) trained on reconstruction alone, L1 or L2. With no
prior on its codes, it samples by decoding codes distributed like its encodings of dataset items:
running statistics of the training batches' codes whiten the code space, so `encode(x)` gives
(E(x) - mean) / std, `sample(z)` decodes mean + std·z, and z ~ N(0, I) lands where the data's codes
lie (each dimension; their correlations are not modelled, which is part of what the comparison shows).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..nn.resnet import ResEncoder, ResGenerator
from .autoencoding import AutoEncodingMethod
from .base import Batch, Plot
from .params import BaseParams, param
from .registry import register


@dataclass
class AEParams(BaseParams):
    latent_dim: int = param(128, "Size of the code z.", low=1, high=1024)
    width: int = param(64, "Channels at full resolution in E and the decoder; they double at each halving "
                           "(capped at 512).", low=4, high=512)
    reconstruction: str = param("l1", "Reconstruction error: mean |x - D(E(x))| (l1, as alpha-GAN) or mean "
                                      "squared (l2).", choices=("l1", "l2"))
    code_momentum: float = param(0.01, "How fast the running mean and spread of the codes (used to sample) follow "
                                       "the training batches.", low=1e-4, high=1.0, log=True)
    lr: float = param(2e-4, "Encoder and decoder learning rate (Adam).", low=1e-6, high=1e-1, log=True)
    beta1: float = param(0.5, "Adam β1 (alpha-GAN's setting, so the comparison changes only the losses).",
                         low=0.0, high=0.999)
    beta2: float = param(0.9, "Adam β2.", low=0.0, high=0.9999)
    conditional: bool = param(False, "Give the decoder the dataset's labels (the encoder stays label-free).")


class CodeStatistics(nn.Module):
    """Running mean and variance of the codes, per dimension (buffers: saved with the weights)."""

    def __init__(self, dim: int, momentum: float):
        super().__init__()
        self.momentum = momentum
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("var", torch.ones(dim))

    @torch.no_grad()
    def update(self, codes: torch.Tensor) -> None:
        codes = codes.detach().to(self.mean.dtype)
        self.mean.lerp_(codes.mean(0), self.momentum)
        self.var.lerp_(codes.var(0, unbiased=False) if codes.shape[0] > 1 else self.var, self.momentum)

    @property
    def std(self) -> torch.Tensor:
        return (self.var + 1e-8).sqrt()


@register
class AutoEncoder(AutoEncodingMethod):
    name = "ae"
    title = "Auto-encoder (plain)"
    source = "the baseline of Rosca et al. (alpha-GAN, 2017) and seed 001; Hinton & Salakhutdinov (2006)"
    description = (
        "A plain auto-encoder: an encoder squeezes each image into a code and a decoder rebuilds the "
        "image from it, trained on the reconstruction error alone (L1 or L2). It is the baseline the "
        "sources compare alpha-GAN and the VAE with: reconstructions are good, but nothing shapes the "
        "space between codes, so random codes and walks between codes decode less well than a VAE's "
        "or alpha-GAN's. It samples by decoding codes spread like its encodings of dataset items, and "
        "it can encode images for morphs. Same networks as alpha-GAN's encoder and generator."
    )
    Params = AEParams
    scalars = {"reconstruction": "the reconstruction error |x - D(E(x))| (l1) or (x - D(E(x)))² (l2), mean per pixel"}
    plots = (Plot("Reconstruction", ("reconstruction",)),)
    presets = {
        "paper": {"latent_dim": 128, "width": 64, "batch_size": 64, "reconstruction": "l1", "lr": 2e-4},
        "tiny": {"latent_dim": 8, "width": 8, "batch_size": 16, "lr": 1e-3},
    }

    def build(self) -> None:
        p, s = self.params, self.spec
        self.nets["encoder"] = ResEncoder(s.channels, s.image_size, p.latent_dim, p.width)
        self.nets["decoder"] = ResGenerator(p.latent_dim, s.channels, s.image_size, p.width, self.cond_dim)
        self.nets["code_stats"] = CodeStatistics(p.latent_dim, p.code_momentum)

    def build_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        p = self.params
        params = list(self.nets["encoder"].parameters()) + list(self.nets["decoder"].parameters())
        return {"autoencoder": self.optimizer(torch.optim.Adam, params, lr=p.lr, betas=(p.beta1, p.beta2))}

    def schedule(self) -> list[tuple[str, int]]:
        return [("autoencoder", 1)]

    def _code(self, x: torch.Tensor) -> torch.Tensor:
        stats = self.nets["code_stats"]
        return (self.nets["encoder"](x) - stats.mean) / stats.std

    def _generate(self, z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        stats = self.nets["code_stats"]
        return self.nets["decoder"](stats.mean + stats.std * z, y)

    def train_phase(self, phase: str, batch: Batch) -> dict[str, torch.Tensor]:
        y = batch.y if self.conditional else None
        codes = self.nets["encoder"](batch.x)
        error = self.nets["decoder"](codes, y) - batch.x
        reconstruction = error.abs().mean() if self.params.reconstruction == "l1" else error.pow(2).mean()
        self.update("autoencoder", reconstruction)
        self.nets["code_stats"].update(codes)
        return {"reconstruction": reconstruction.detach()}
