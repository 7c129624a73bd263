"""Keeping a discriminator smooth: WGAN's weight clipping and spectral normalisation (the penalty is in `losses`)."""

from __future__ import annotations

import torch
from torch import nn


@torch.no_grad()
def clip_weights_(module: nn.Module, bound: float) -> None:
    """Clamp every parameter of `module` to [-bound, bound] in place (WGAN's crude Lipschitz constraint)."""
    if bound <= 0:
        raise ValueError(f"clip bound {bound} must be positive: use a small value such as 0.01")
    for p in module.parameters():
        p.clamp_(-bound, bound)


SPECTRAL_LAYERS = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)


def spectral_normalize(module: nn.Module) -> nn.Module:
    """Spectral normalisation (Miyato et al. 2018) of every convolution and linear layer of `module`, in place:
    each weight is divided by its largest singular value, estimated by one power iteration per training
    forward pass (torch.nn.utils.parametrizations.spectral_norm). Returns `module`."""
    for layer in list(module.modules()):
        if isinstance(layer, SPECTRAL_LAYERS) and not nn.utils.parametrize.is_parametrized(layer, "weight"):
            nn.utils.parametrizations.spectral_norm(layer)
    return module
