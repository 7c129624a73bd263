"""Mode coverage on the 2-D Gaussian mixtures, with the benchmark protocol of PacGAN and VEEGAN.

Each generated point is assigned to its nearest mode. It is *high quality* when it lies within
3 standard deviations (Euclidean distance ≤ 3σ) of that mode. A mode is *covered* when at least
`min_samples` high-quality points (default 1) are nearest to it. Evaluate 2,500 samples.
The balance of the coverage is the Jensen-Shannon divergence between the high-quality points'
histogram over the modes and the uniform one, as PacGAN's logger reports it: 0 for an even spread,
up to ln 2 as the points pile onto one mode, so lopsided coverage shows beside the mode count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .errors import MetricError

PROTOCOL_SAMPLES = 2500
QUALITY_STDS = 3.0


@dataclass
class Coverage:
    """How many modes a set of points covers and what share of the points is high quality."""

    modes_covered: int
    modes: int
    high_quality: float  # share of points within 3σ of their nearest mode, 0..1
    n: int
    counts: list[int]  # high-quality points per mode
    jsd: float = 0.0  # Jensen-Shannon divergence (nats) of the counts' histogram from uniform


def jsd_to_uniform(counts: list[int]) -> float:
    """JSD (natural log) between the histogram `counts` and the uniform distribution over its bins;
    ln 2 (the maximum) when there are no counts at all."""
    total = sum(counts)
    if total == 0:
        return math.log(2)
    p = torch.tensor(counts, dtype=torch.float64) / total
    q = torch.full_like(p, 1.0 / len(counts))
    m = (p + q) / 2

    def kl(a: torch.Tensor) -> float:
        nonzero = a > 0
        return float((a[nonzero] * (a[nonzero] / m[nonzero]).log()).sum())

    return max(0.0, 0.5 * kl(p) + 0.5 * kl(q))


def mode_coverage(points: torch.Tensor, modes: torch.Tensor, std: float, min_samples: int = 1) -> Coverage:
    """Coverage of `modes` (K×2) by `points` (N×2) for a mixture of standard deviation `std`."""
    points = torch.as_tensor(points, dtype=torch.float64).cpu()
    modes = torch.as_tensor(modes, dtype=torch.float64).cpu()
    if points.dim() != 2 or modes.dim() != 2 or points.shape[1] != modes.shape[1] or len(points) == 0:
        raise MetricError(f"mode coverage needs N×D points and K×D modes, got {tuple(points.shape)} and {tuple(modes.shape)}")
    if std <= 0:
        raise MetricError(f"mode coverage needs the mixture's standard deviation, got {std}")
    finite = torch.isfinite(points).all(1)
    distance, nearest = torch.cdist(points[finite], modes).min(1)
    good = distance <= QUALITY_STDS * std
    counts = torch.bincount(nearest[good], minlength=len(modes))
    return Coverage(int((counts >= min_samples).sum()), len(modes), float(good.sum()) / len(points), len(points),
                    counts.tolist(), jsd_to_uniform(counts.tolist()))
