"""The Fréchet distance between two Gaussians, in float64, without scipy's sqrtm.

For any factor A with Σ1 = A Aᵀ, the eigenvalues of Σ1 Σ2 are those of the symmetric PSD matrix
Aᵀ Σ2 A, so Tr((Σ1 Σ2)^½) is the sum of their square roots: a symmetric eigenproblem replaces
the general matrix square root, and the result is never complex. Tiny negative eigenvalues
(rounding, or rank-deficient covariances from fewer samples than dimensions) are clamped to 0.

- On a CUDA GPU the factor is sqrt(Σ1) from torch's eigh, in float64 on the device.
- Elsewhere it is LAPACK's pivoted Cholesky (dpstrf), which stops at Σ1's numerical rank: for
  statistics of N < d samples the eigenproblem is N×N, and 2048-d takes a fraction of a second.
"""

from __future__ import annotations

import numpy as np
import torch

from .errors import MetricError

ArrayLike = np.ndarray | torch.Tensor


def metric_device(device: str | torch.device | None = None) -> torch.device:
    """The device for metric arithmetic: the GPU when one is available, unless one is named."""
    if device is None or str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _as_float64(value: ArrayLike, name: str) -> np.ndarray:
    array = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
    array = array.astype(np.float64)
    if not np.isfinite(array).all():
        raise MetricError(f"{name} holds NaN or infinite values; recompute the statistics from finite features")
    return array


def trace_sqrt_product_torch(sigma1: torch.Tensor, sigma2: torch.Tensor) -> float:
    """Tr((Σ1 Σ2)^½) with A = sqrt(Σ1) from a symmetric eigendecomposition (float64, any torch device)."""
    values, vectors = torch.linalg.eigh((sigma1 + sigma1.T) / 2)
    root = (vectors * values.clamp(min=0).sqrt()) @ vectors.T
    inner = root @ sigma2 @ root
    return float(torch.linalg.eigvalsh((inner + inner.T) / 2).clamp(min=0).sqrt().sum())


def trace_sqrt_product_lapack(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """Tr((Σ1 Σ2)^½) with A from a rank-revealing pivoted Cholesky of Σ1 (float64, CPU)."""
    from scipy.linalg import lapack

    lower, pivots, rank, info = lapack.dpstrf((sigma1 + sigma1.T) / 2, lower=1, tol=-1)
    if info < 0:
        raise MetricError(f"sigma1 could not be factorised (LAPACK dpstrf argument {-info}); check its shape and values")
    if rank == 0:
        return 0.0
    factor = np.empty((sigma1.shape[0], rank))
    factor[pivots - 1] = np.tril(lower)[:, :rank]  # Σ1 = P L Lᵀ Pᵀ: undo the pivoting on L's rows
    inner = factor.T @ sigma2 @ factor
    return float(np.sqrt(np.clip(np.linalg.eigvalsh((inner + inner.T) / 2), 0, None)).sum())


def frechet_distance(mu1: ArrayLike, sigma1: ArrayLike, mu2: ArrayLike, sigma2: ArrayLike,
                     device: str | torch.device | None = None) -> float:
    """‖μ1 − μ2‖² + Tr(Σ1 + Σ2 − 2 (Σ1 Σ2)^½), in float64 (on the GPU when one is available)."""
    m1, m2 = _as_float64(mu1, "mu1").reshape(-1), _as_float64(mu2, "mu2").reshape(-1)
    s1, s2 = _as_float64(sigma1, "sigma1"), _as_float64(sigma2, "sigma2")
    d = m1.shape[0]
    if m2.shape[0] != d or s1.shape != (d, d) or s2.shape != (d, d):
        raise MetricError(f"the two statistics do not match: means of {d} and {m2.shape[0]} values, covariances "
                          f"{s1.shape} and {s2.shape}; compute both with the same feature extractor")
    dev = metric_device(device)
    if dev.type == "cuda":
        as_tensor = lambda a: torch.as_tensor(a, device=dev)  # noqa: E731
        cross = trace_sqrt_product_torch(as_tensor(s1), as_tensor(s2))
    else:  # CPU, and MPS, which has no float64
        cross = trace_sqrt_product_lapack(s1, s2)
    diff = m1 - m2
    value = diff @ diff + np.trace(s1) + np.trace(s2) - 2 * cross
    # The distance is ≥ 0; rounding can leave about -1e-12 for identical statistics.
    return max(float(value), 0.0)
