"""Drawing training batches: from a dataset held on the training device as one tensor, or streamed.

Small and medium sets live on the device as uint8 and a batch is an index draw plus one normalise,
so a step does no host work and no host-device copy (`DeviceSampler`). Large folders that were
not loaded into memory (`Dataset.stream_paths`) are decoded by DataLoader workers into pinned
memory and copied asynchronously (`StreamSampler`). `make_sampler` picks the right one.
"""

from __future__ import annotations

import collections
import os
from collections.abc import Iterator

import torch
import torch.utils.data

from ..data.dataset import Dataset, DatasetKind
from ..grids import to_unit_range
from ..methods.base import Batch, DataSpec, condition_vectors


def make_sampler(dataset: Dataset, spec: DataSpec, batch_size: int, device: torch.device, seed: int = 0,
                 memory_format: torch.memory_format = torch.contiguous_format, workers: int | None = None):
    """A StreamSampler for streamed folders, a DeviceSampler for everything held in memory."""
    if dataset.stream_paths is not None:
        return StreamSampler(dataset, spec, batch_size, device, seed, memory_format, workers)
    return DeviceSampler(dataset, spec, batch_size, device, seed, memory_format)


class DeviceSampler:
    """Random batches (with replacement across steps, without within a batch) drawn on the device."""

    def __init__(self, dataset: Dataset, spec: DataSpec, batch_size: int, device: torch.device, seed: int = 0,
                 memory_format: torch.memory_format = torch.contiguous_format):
        self.spec = spec
        self.batch_size = batch_size
        self.device = device
        self.memory_format = memory_format
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
        x = to_unit_range(x, self.memory_format) if self.kind != DatasetKind.POINTS else x.float()
        y = condition_vectors(self.labels[idx], self.spec) if self.labels is not None else None
        target = None
        if self.targets is not None:
            t_idx = idx if self.kind == DatasetKind.PAIRED else self._indices(self.targets.shape[0])
            target = to_unit_range(self.targets[t_idx], self.memory_format)
        return Batch(x=x, y=y, target=target)

    def state_dict(self) -> dict:
        return {"generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        self.generator.set_state(state["generator"])


class _EpochBatches(torch.utils.data.Sampler):
    """Index batches forever: a fresh permutation per epoch from `generator`, dropping the ragged end.

    The DataLoader runs ahead of training (prefetching), so each batch handed out is remembered
    with the position it came from; `StreamSampler` pops them in order as training consumes them.
    """

    def __init__(self, n: int, batch_size: int, generator: torch.Generator, start: dict | None = None):
        self.n, self.batch_size, self.generator = n, batch_size, generator
        self.issued: collections.deque = collections.deque()
        self.start = start  # {"epoch_state": ..., "offset": ...} to continue a saved position

    def __iter__(self) -> Iterator[list[int]]:
        per_epoch = max(1, self.n // self.batch_size)
        start, self.start = self.start, None
        while True:
            if start is not None:
                self.generator.set_state(start["epoch_state"])
                offset = int(start["offset"])
                start = None
            else:
                offset = 0
            epoch_state = self.generator.get_state()
            if self.n >= self.batch_size:
                order = torch.randperm(self.n, generator=self.generator)
            else:  # fewer items than a batch: draw with replacement
                order = torch.randint(self.n, (self.batch_size,), generator=self.generator)
            for b in range(offset, per_epoch):
                self.issued.append({"epoch_state": epoch_state, "offset": b + 1})
                yield order[b * self.batch_size:(b + 1) * self.batch_size].tolist()


class StreamSampler:
    """Batches of a streamed folder: DataLoader workers decode files into pinned memory, the copy to
    the device is asynchronous and the normalise runs there. Its position is saved in checkpoints,
    so a resumed run reads the same batches it would have read."""

    def __init__(self, dataset: Dataset, spec: DataSpec, batch_size: int, device: torch.device, seed: int = 0,
                 memory_format: torch.memory_format = torch.contiguous_format, workers: int | None = None):
        self.spec = spec
        self.batch_size = batch_size
        self.device = torch.device(device)
        self.memory_format = memory_format
        self.dataset = dataset.torch_dataset()
        self.size = len(dataset)
        self.has_labels = dataset.labels is not None
        self.workers = default_workers() if workers is None else workers
        self.generator = torch.Generator().manual_seed(seed)
        self._position: dict | None = None  # where the next batch comes from (None: a fresh start)
        self._batches: _EpochBatches | None = None
        self._iter = None

    def _start(self) -> None:
        self._batches = _EpochBatches(self.size, self.batch_size, self.generator, self._position)
        loader = torch.utils.data.DataLoader(
            self.dataset, batch_sampler=self._batches, num_workers=self.workers,
            pin_memory=self.device.type == "cuda", persistent_workers=self.workers > 0,
            prefetch_factor=4 if self.workers > 0 else None)
        self._iter = iter(loader)

    def draw(self) -> Batch:
        """The next batch, on the device."""
        if self._iter is None:
            self._start()
        images, labels = next(self._iter)
        self._position = self._batches.issued.popleft()
        x = to_unit_range(images.to(self.device, non_blocking=True), self.memory_format)
        y = None
        if self.has_labels:
            y = condition_vectors(labels.to(self.device, non_blocking=True), self.spec)
        return Batch(x=x, y=y)

    def state_dict(self) -> dict:
        position = self._position or {"epoch_state": self.generator.get_state(), "offset": 0}
        return {"generator": position["epoch_state"], "offset": position["offset"]}

    def load_state_dict(self, state: dict) -> None:
        self.close()
        self._position = {"epoch_state": state["generator"], "offset": int(state.get("offset", 0))}

    def close(self) -> None:
        """Stop the worker processes (a later draw starts them again)."""
        it, self._iter, self._batches = self._iter, None, None
        shutdown = getattr(it, "_shutdown_workers", None)
        if shutdown is not None:
            shutdown()


def default_workers() -> int:
    """DataLoader worker processes for streaming: one per core beyond the training thread, 1 to 8."""
    return max(1, min(8, (os.cpu_count() or 2) - 1))
