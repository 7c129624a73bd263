"""Latent directions, GANSpace style: the latent moves that change the output the most.

Härkönen et al. (GANSpace, 2020) take PCA of generator activations and, where the latent is not
the PCA space itself, regress the latents onto the PCA coordinates. We do the same on the outputs:

1. draw n latents z from the prior and generate x = G(z) (with one fixed label state);
2. PCA of the (downsampled) outputs: coordinates c = U^T (x - mean), one column per component;
3. least squares z ≈ c·V: row k of V is the latent move that goes with one unit of component k;
4. scale each row by the spread (std) of c_k, so a slider at ±1 moves one typical step of it.

It is linear and approximate (the generator is not), costs n forward passes and one SVD, and needs
no gradients. Computed on demand, not while training.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..methods.base import Method
from .errors import Cancelled, KeyframeError
from .render import generate
from .timeline import has_latent

FEATURE_SIDE = 32  # outputs are averaged down to at most this size: PCA of pixels beyond it adds little


@dataclass
class Directions:
    """k latent directions (k, *latent_shape), each one std of its component, and the share of
    output variance each component explains."""

    vectors: torch.Tensor
    explained: list[float]

    def __len__(self) -> int:
        return self.vectors.shape[0]


def principal_directions(method: Method, k: int = 5, n: int = 512, labels: torch.Tensor | None = None,
                         seed: int = 0, batch_size: int = 64, cancel: Callable[[], bool] | None = None,
                         progress: Callable[[int, int], None] | None = None) -> Directions:
    """The k principal latent directions of `method`'s generator (see the module docstring)."""
    if not has_latent(method):
        raise KeyframeError(f"{method.name} has no latent space to explore")
    if n < 2 * k:
        raise ValueError(f"need at least {2 * k} samples for {k} directions, got n={n}")
    z = method.latent(n, generator=torch.Generator().manual_seed(seed))
    latent_shape = z.shape[1:]
    features = []
    for start in range(0, n, batch_size):
        if cancel is not None and cancel():
            raise Cancelled("direction search cancelled")
        images = generate(method, z[start:start + batch_size], labels, batch_size=batch_size).float()
        side = images.shape[-1]
        if side > FEATURE_SIDE:
            images = F.adaptive_avg_pool2d(images, FEATURE_SIDE)
        features.append(images.flatten(1))
        if progress is not None:
            progress(min(start + batch_size, n), n)
    x = torch.cat(features).double()
    x = x - x.mean(dim=0, keepdim=True)
    # Economy SVD: x = U S Vt; the PCA coordinates of each sample are U·S.
    u, s, _ = torch.linalg.svd(x, full_matrices=False)
    k = min(k, s.numel())
    coords = u[:, :k] * s[:k]
    total = float((s ** 2).sum()) or 1.0
    explained = [float(v) / total for v in (s[:k] ** 2)]
    zf = z.reshape(n, -1).double().cpu()
    zf = zf - zf.mean(dim=0, keepdim=True)
    v = torch.linalg.lstsq(coords, zf).solution  # (k, latent): latent move per unit of coordinate
    vectors = v * coords.std(dim=0, unbiased=True)[:, None]
    return Directions(vectors.float().reshape(k, *latent_shape), explained)


def apply_directions(z: torch.Tensor, directions: Directions | None, amounts: Sequence[float]) -> torch.Tensor:
    """z moved by amounts[i] along direction i (missing amounts count as 0)."""
    if directions is None:
        return z
    out = z.clone()
    vecs = directions.vectors.to(z.device, z.dtype)
    for i, amount in enumerate(amounts[:len(directions)]):
        if amount:
            out = out + float(amount) * vecs[i].reshape(z.shape[1:])
    return out
