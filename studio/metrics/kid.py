"""Kernel Inception Distance: the unbiased MMD² between two feature sets with the cubic polynomial
kernel k(x, y) = (x·y / d + 1)³, averaged over random subsets (Bińkowski et al. 2018).

Unlike FID it is unbiased at small N, which makes it the figure for quick checks during training.
"""

from __future__ import annotations

import numpy as np
import torch

from .errors import MetricError
from .frechet import metric_device

SUBSET_SIZE = 1000
SUBSETS = 100


def polynomial_kernel(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(x·y / d + 1)³ for every pair of rows."""
    return (x @ y.T / x.shape[1] + 1) ** 3


def mmd2_unbiased(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Unbiased MMD² estimate (the kernel's diagonal left out of the within-set means)."""
    m, n = x.shape[0], y.shape[0]
    k_xx, k_yy, k_xy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    within_x = (k_xx.sum() - k_xx.diagonal().sum()) / (m * (m - 1))
    within_y = (k_yy.sum() - k_yy.diagonal().sum()) / (n * (n - 1))
    return within_x + within_y - 2 * k_xy.mean()


def kernel_inception_distance(features_a: torch.Tensor | np.ndarray, features_b: torch.Tensor | np.ndarray, *,
                              subsets: int = SUBSETS, subset_size: int = SUBSET_SIZE, seed: int = 0,
                              device: str | torch.device | None = None) -> tuple[float, float]:
    """(mean, std) of the unbiased MMD² over `subsets` random subsets of min(subset_size, n) rows of each set."""
    dev = metric_device(device)
    a = torch.as_tensor(features_a).to(dev, torch.float64)
    b = torch.as_tensor(features_b).to(dev, torch.float64)
    if a.dim() != 2 or b.dim() != 2 or a.shape[1] != b.shape[1]:
        raise MetricError(f"KID needs two feature sets of the same width, got {tuple(a.shape)} and {tuple(b.shape)}")
    size = min(subset_size, a.shape[0], b.shape[0])
    if size < 2:
        raise MetricError(f"KID needs at least 2 images on each side, got {a.shape[0]} and {b.shape[0]}")
    gen = torch.Generator().manual_seed(seed)
    values = torch.stack([
        mmd2_unbiased(a[torch.randperm(a.shape[0], generator=gen)[:size].to(dev)],
                      b[torch.randperm(b.shape[0], generator=gen)[:size].to(dev)])
        for _ in range(subsets)
    ])
    return float(values.mean()), float(values.std(correction=0))
