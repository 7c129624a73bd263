"""torch Datasets over a `Dataset`: in-memory tensors, or files decoded on demand for large folders."""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

import torch
import torch.utils.data

from ..options import BACKGROUND, MAX_FILE_BYTES, MAX_PIXELS
from .images import BadImage, decode, path_opener, pil_guard
from .openers import ZipMember

MAX_FALLBACKS = 16  # consecutive unreadable files before a batch gives up


class ImageTensors(torch.utils.data.Dataset):
    """Items of an in-memory image or point set: `(x, label)`, with label -1 when unlabelled."""

    def __init__(self, data: torch.Tensor, labels: torch.Tensor | None = None):
        self.data = data
        self.labels = labels

    def __len__(self) -> int:
        return int(self.data.shape[0])

    def __getitem__(self, index: int):
        label = self.labels[index] if self.labels is not None else torch.tensor(-1)
        return self.data[index], label


class StreamingImages(torch.utils.data.Dataset):
    """Decode image files (or zip members) on demand into uint8 C×H×W tensors: `(image, label)`.

    A file that fails to decode here (changed since it was probed) is replaced by the next readable
    one and its reason recorded in `failures` (per worker process), so an epoch never crashes.
    """

    def __init__(
        self,
        paths: Sequence[Path],
        *,
        size: int,
        channels: int,
        labels: torch.Tensor | None = None,
        archive: Path | None = None,
        max_pixels: int = MAX_PIXELS,
        background: tuple[int, int, int] = BACKGROUND,
    ):
        self.paths = list(paths)
        self.size = size
        self.channels = channels
        self.labels = labels
        self.archive = archive
        self.max_pixels = max_pixels
        self.background = background
        self.failures: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self.paths)

    def _opener(self, path: Path):
        if self.archive is None:
            return path_opener(path, MAX_FILE_BYTES)
        # Each DataLoader worker process reads through its own handle on the zip.
        return ZipMember(self.archive, PurePosixPath(path).as_posix())

    def load(self, index: int) -> torch.Tensor:
        """Decode one file; raises BadImage with the reason."""
        path = self.paths[index]
        with pil_guard(self.max_pixels):
            array = decode(
                self._opener(path),
                channels=self.channels,
                size=self.size,
                max_pixels=self.max_pixels,
                background=self.background,
            )
        return torch.from_numpy(array)

    def __getitem__(self, index: int):
        n = len(self.paths)
        for step in range(min(n, MAX_FALLBACKS)):
            i = (index + step) % n
            try:
                image = self.load(i)
            except (BadImage, OSError, zipfile.BadZipFile, KeyError) as exc:
                self.failures[str(self.paths[i])] = str(exc)
                continue
            label = self.labels[i] if self.labels is not None else torch.tensor(-1)
            return image, label
        raise RuntimeError(
            f"{MAX_FALLBACKS} files in a row could not be read near {self.paths[index]}; "
            f"for example: {next(iter(self.failures.items()), '')}"
        )


def torch_dataset(dataset) -> torch.utils.data.Dataset:
    """A torch Dataset yielding `(x, label)` for any `Dataset`, streamed when it has stream_paths."""
    if dataset.stream_paths is None:
        return ImageTensors(dataset.data, dataset.labels)
    return StreamingImages(
        dataset.stream_paths,
        size=dataset.image_size,
        channels=dataset.channels,
        labels=dataset.labels,
        archive=dataset.stream_archive,
    )
