"""The one conditioning mechanism every method uses.

A condition vector y (one-hot class or multi-hot attributes, float, N×K) is concatenated to the
generator's latent, and broadcast as K constant channels concatenated to a critic's image input
(as in the CGAN of seed 003). With K = 0 both are the identity, so one network serves both cases.
"""

from __future__ import annotations

import torch


def join_latent(z: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    """[z, y] along features; z alone when there is no condition."""
    return z if y is None else torch.cat([z, y.to(z.dtype)], dim=1)


def join_channels(x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    """Images with one constant channel per condition entry appended; x alone without one."""
    if y is None:
        return x
    planes = y.to(x.dtype).view(y.shape[0], y.shape[1], 1, 1).expand(-1, -1, x.shape[2], x.shape[3])
    return torch.cat([x, planes], dim=1)


def join_input(x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    """Condition an input of either kind: channels for images, features for vectors."""
    return join_channels(x, y) if x.dim() == 4 else join_latent(x, y)
