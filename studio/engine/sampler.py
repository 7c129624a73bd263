"""Drawing training batches from a dataset held on the training device as one tensor.

The whole dataset lives on the device as uint8 and a batch is an index draw plus one normalise,
so a step does no host work and no host-device copy.
"""

from __future__ import annotations

import torch

from ..data.dataset import Dataset, DatasetKind
from ..methods.base import Batch, DataSpec, condition_vectors


def to_unit_range(images: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float [-1, 1]."""
    return images.float().div_(127.5).sub_(1.0)



class DeviceSampler:
    """Random batches (with replacement across steps, without within a batch) drawn on the device."""

    def __init__(self, dataset: Dataset, spec: DataSpec, batch_size: int, device: torch.device, seed: int = 0):
        self.spec = spec
        self.batch_size = batch_size
        self.device = device
        self.data = dataset.data.to(device)
        self.labels = dataset.labels.to(device) if dataset.labels is not None else None
        self.targets = dataset.targets.to(device) if dataset.targets is not None else None
        self.kind = dataset.kind
        # A CPU generator keeps draws identical across devices and makes resume exact.
        self.generator = torch.Generator().manual_seed(seed)

    def _indices(self, n: int) -> torch.Tensor:
        if n >= self.batch_size:
            idx = torch.randperm(n, generator=self.generator)[: self.batch_size]
        else:
            idx = torch.randint(n, (self.batch_size,), generator=self.generator)
        return idx.to(self.device, non_blocking=True)

    def draw(self) -> Batch:
        """The next random batch."""
        idx = self._indices(self.data.shape[0])
        x = self.data[idx]
        x = to_unit_range(x) if self.kind != DatasetKind.POINTS else x.float()
        y = condition_vectors(self.labels[idx], self.spec) if self.labels is not None else None
        target = None
        if self.targets is not None:
            t_idx = idx if self.kind == DatasetKind.PAIRED else self._indices(self.targets.shape[0])
            target = to_unit_range(self.targets[t_idx])
        return Batch(x=x, y=y, target=target)

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])
