"""Reference images for methods that generate from one (U-Net VAE-GAN, the translators): from a dataset source."""

from __future__ import annotations

import torch

from ..data import DatasetError, open_dataset
from ..grids import to_unit_range
from ..methods.base import Method


def reference_images(source: str, method: Method, n: int, seed: int) -> torch.Tensor:
    """`n` images of `source`, drawn with `seed`, in [-1, 1] on the method's device at its size and channels."""
    if not source:
        raise DatasetError("this method generates from reference images: give a dataset source to take them from "
                           "(e.g. --reference builtin:shapes)")
    ds = open_dataset(source, size=method.spec.image_size, channels=method.spec.channels)
    idx = torch.randperm(len(ds.data), generator=torch.Generator().manual_seed(seed))[:n]
    return to_unit_range(ds.data[idx].to(method.device))
