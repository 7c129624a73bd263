"""Keeping a Wasserstein critic Lipschitz by weight clipping (WGAN); the gradient penalty is in `losses`."""

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
