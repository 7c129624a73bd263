"""Two unpaired image domains for CycleGAN: `trainA/` and `trainB/` (and `testA/`, `testB/`), as its datasets ship.

The domains may differ in count and in image size: both are decoded to one square size (the
`size` option, else domain A's most common size) and one channel count, through the one decoding
path (collection.py).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from ..dataset import Dataset, DatasetKind, Skipped
from ..decode.collection import Item, LoadJob, decode_in_memory, subsample
from ..errors import DatasetError
from ..options import LoadOptions
from .arrays import fit_images
from .folders import folder_items

SPLITS = {"train": ("train",), "test": ("test",), "all": ("train", "test")}


def is_unpaired(root: Path) -> bool:
    """True when `root` holds trainA/ and trainB/ (or testA/ and testB/)."""
    return any((root / f"{s}A").is_dir() and (root / f"{s}B").is_dir() for s in ("train", "test"))


def open_unpaired(root: Path, opts: LoadOptions, *, source: str | None = None) -> Dataset:
    """Load domain A (data) and domain B (targets) from the split's <split>A/ and <split>B/ folders."""
    source = source or str(root)
    wanted = opts.pick_split(source, SPLITS)
    splits = [s for s in wanted if (root / f"{s}A").is_dir() and (root / f"{s}B").is_dir()]
    if not splits:
        need = " and ".join(f"{s}{d}/" for s in wanted for d in "AB")
        raise DatasetError(
            f"{source}: no {need} folders for split '{opts.split}'; a CycleGAN folder holds one folder of "
            "images per domain: trainA/ and trainB/ (testA/ and testB/ for split 'test')"
        )
    skipped: list[Skipped] = []
    notes: list[str] = []
    a = _domain(root, "A", splits, opts, source, skipped)
    side = a.shape[-1]
    if opts.size is None:
        notes.append(f"both domains at {side}×{side}, domain A's most common size (pass a size to choose another)")
    b = _domain(root, "B", splits, dataclasses.replace(opts, size=side), source, skipped)
    if a.shape[1] != b.shape[1]:  # one domain grey, the other in colour: both in colour
        a, b = fit_images(a, None, 3), fit_images(b, None, 3)
    folders = ", ".join(f"{s}{{A,B}}/" for s in splits)
    notes.insert(0, f"unpaired domains from {folders}: {a.shape[0]:,} A images, {b.shape[0]:,} B images")
    skipped.sort(key=lambda s: s.path)
    return Dataset(source=source, kind=DatasetKind.UNPAIRED, data=a, targets=b, skipped=skipped, notes=notes)


def _domain(root: Path, domain: str, splits, opts: LoadOptions, source: str, skipped: list[Skipped]) -> torch.Tensor:
    items: list[Item] = []
    for split in splits:
        items += folder_items(root / f"{split}{domain}", opts, skipped, f"{split}{domain}/")
    items = subsample(items, opts.count, opts.seed)
    data = decode_in_memory(LoadJob(f"{source} (domain {domain})", items, opts, skipped)).data
    return torch.from_numpy(data)
