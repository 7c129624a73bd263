"""The dataset object every source turns into, and the one error a source raises."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import torch

from .errors import DatasetError  # noqa: F401 - named here too, beside the Dataset it guards


class DatasetKind(str, Enum):
    """What a dataset holds, which decides the methods that can train on it."""

    IMAGES = "images"  # images, with or without labels
    PAIRED = "paired"  # (input, target) image pairs: pix2pix
    UNPAIRED = "unpaired"  # two image domains of any sizes: CycleGAN
    POINTS = "points"  # 2-D points: the mode-collapse benchmarks


@dataclass
class Skipped:
    """A file that was not loaded, and why."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass
class Dataset:
    """Images (uint8, N×C×H×W) or points (float32, N×2), with optional labels.

    `labels` is an int64 vector of class indices (`multi_label` False) or a float32 N×K multi-hot
    matrix of attributes (`multi_label` True); `label_names` names the classes or attributes.
    For PAIRED sets `targets` holds the target image of each input; for UNPAIRED sets it holds the
    second domain's images (any count). For POINTS sets `modes` holds the mixture's centres and
    `mode_std` their standard deviation, so mode coverage can be measured.
    """

    source: str
    kind: DatasetKind
    data: torch.Tensor
    labels: torch.Tensor | None = None
    label_names: list[str] = field(default_factory=list)
    multi_label: bool = False
    targets: torch.Tensor | None = None
    modes: torch.Tensor | None = None
    mode_std: float = 0.0
    skipped: list[Skipped] = field(default_factory=list)
    # For sources too large to hold in memory: the files to stream (data then holds a preview).
    stream_paths: list[Path] | None = None
    # When streaming from a zip: the archive, and stream_paths are its member names.
    stream_archive: Path | None = None
    # Facts worth telling the user that are not errors (where labels came from, what was dropped).
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.stream_paths) if self.stream_paths is not None else int(self.data.shape[0])

    @property
    def is_images(self) -> bool:
        return self.kind != DatasetKind.POINTS

    @property
    def channels(self) -> int:
        return int(self.data.shape[1]) if self.is_images else 0

    @property
    def image_size(self) -> int:
        return int(self.data.shape[-1]) if self.is_images else 0

    @property
    def point_dim(self) -> int:
        return int(self.data.shape[1]) if not self.is_images else 0

    @property
    def label_dim(self) -> int:
        """Width of the condition vector: the number of classes or attributes (0: unlabelled)."""
        if self.labels is None:
            return 0
        return int(self.labels.shape[1]) if self.multi_label else len(self.label_names)

    def torch_dataset(self) -> torch.utils.data.Dataset:
        """A torch Dataset of `(x, label)` pairs (label -1 when unlabelled); streams large folders."""
        from .decode.streaming import torch_dataset

        return torch_dataset(self)

    def describe(self) -> dict:
        """Plain facts for the CLI and the GUI's preview."""
        facts = {
            "source": self.source,
            "kind": self.kind.value,
            "count": len(self),
            "labels": self.label_names,
            "multi_label": self.multi_label,
            "skipped": len(self.skipped),
            "streamed": self.stream_paths is not None,
            "notes": list(self.notes),
        }
        if self.is_images:
            facts.update(channels=self.channels, size=self.image_size)
        else:
            facts.update(point_dim=self.point_dim, modes=0 if self.modes is None else len(self.modes))
        if self.targets is not None:
            facts["targets"] = int(self.targets.shape[0])
        return facts
