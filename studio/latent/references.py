"""Reference images for methods that generate from one (U-Net VAE-GAN, the translators): from a dataset source."""

from __future__ import annotations

import torch

from ..data import DatasetError, open_dataset
from ..grids import to_unit_range
from ..methods.base import Method


def reference_images(source: str, method: Method, n: int, seed: int, direction: str = "AtoB") -> torch.Tensor:
    """`n` images of `source`, drawn with `seed`, in [-1, 1] on the method's device at its size and channels
    (for paired data, the inputs of `direction`: the side the translator was trained to read)."""
    if not source:
        raise DatasetError("this method generates from reference images: give a dataset source to take them from "
                           "(e.g. --reference builtin:shapes)")
    ds = open_dataset(source, size=method.spec.image_size, channels=method.spec.channels, direction=direction)
    idx = torch.randperm(len(ds.data), generator=torch.Generator().manual_seed(seed))[:n]
    return to_unit_range(ds.data[idx].to(method.device))


def run_direction(config: dict) -> str:
    """The direction a run translated paired data in, from its config (the `run` part of config.json or the whole)."""
    direction = config.get("run", config).get("direction") if isinstance(config, dict) else None
    return direction if direction in ("AtoB", "BtoA") else "AtoB"
