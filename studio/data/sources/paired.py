"""Paired images for pix2pix: the aligned A|B layout its datasets ship in, or A/ and B/ folders paired by name.

Aligned: every image holds the input (left half) and the target (right half) side by side, so it
is twice as wide as high; images sit in the folder itself or in `train/`, `val/` and `test/`
sub-folders (`split` picks one). Folders: `A/` and `B/` (or `input/` and `target/`) whose files
pair by name without extension (`A/0001.jpg` with `B/0001.png`), optionally each split the same
way (`A/train/...`). `direction="BtoA"` swaps input and target. Both sides go through the one
decoding path (collection.py), with its checks, progress and cancel.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import torch

from ..dataset import Dataset, DatasetKind, Skipped
from ..decode.collection import Item, LoadJob, decode_in_memory, subsample, tiles_reason
from ..decode.images import BadImage, is_image_name, path_opener, probe
from ..errors import DatasetError
from ..options import LoadOptions
from .folders import SPLIT_FOLDERS, folder_items, split_folder

PAIR_FOLDERS = (("A", "B"), ("input", "target"))
ALIGNED = "aligned"
_PROBED = 8  # images whose headers decide whether a folder is aligned


def paired_layout(root: Path) -> str | tuple[str, str] | None:
    """"aligned", the two side folders' names (("A", "B") or ("input", "target")), or None when `root` is neither.

    Cheap on a large folder: a few stats, and the headers of the first few images at most.
    """
    for sides in PAIR_FOLDERS:
        # Exactly the two folders: a set of letter classes A/, B/, C/, ... is not pairs.
        if all((root / s).is_dir() for s in sides) and _subfolders(root) == set(sides):
            return sides
    split = next((root / s for s in SPLIT_FOLDERS if (root / s).is_dir()), root)
    return ALIGNED if _looks_aligned(split) else None


def _subfolders(root: Path) -> set[str]:
    try:
        with os.scandir(root) as it:
            return {e.name for e in it if e.is_dir() and not e.name.startswith(".")}
    except OSError:
        return set()


def _looks_aligned(folder: Path) -> bool:
    """True when most of the first few images of `folder` are twice as wide as high (headers only;
    the odd one out is skipped with its reason when the folder is read)."""
    infos = []
    try:
        with os.scandir(folder) as it:
            for entry in it:
                if len(infos) == _PROBED:
                    break
                if entry.is_file() and is_image_name(entry.name) and not entry.name.startswith("."):
                    try:
                        infos.append(probe(path_opener(entry.path)))
                    except BadImage:
                        continue
    except OSError:
        return False
    return 2 * sum(tiles_reason(info, 2) is None for info in infos) > len(infos)


def open_paired(root: Path, layout, opts: LoadOptions, *, source: str | None = None) -> Dataset:
    """Load the pairs under `root` in `layout` (from `paired_layout`) as a PAIRED Dataset."""
    source = source or str(root)
    skipped: list[Skipped] = []
    if layout == ALIGNED:
        inputs, targets, notes = _aligned(root, opts, source, skipped)
    else:
        inputs, targets, notes = _by_name(root, layout, opts, source, skipped)
    skipped.sort(key=lambda s: s.path)
    dataset = Dataset(source=source, kind=DatasetKind.PAIRED, data=torch.from_numpy(inputs),
                      targets=torch.from_numpy(targets), skipped=skipped, notes=notes)
    sides = ("left halves", "right halves") if layout == ALIGNED else (f"{layout[0]}/", f"{layout[1]}/")
    return orient(dataset, opts.direction, sides)


_DIRECTION_NOTE = re.compile(r"^input (.+) → target (.+) \(direction \w+\)$")


def orient(dataset: Dataset, direction: str, sides: tuple[str, str] = ("A", "B")) -> Dataset:
    """Paired data as `direction` asks: "AtoB" keeps A (`sides[0]`) as the input, "BtoA" swaps input and target.

    Data turned before (loaded AtoB, then turned for a run) keeps one note, naming its sides as they now are."""
    first, second = sides
    earlier = [n for n in dataset.notes if _DIRECTION_NOTE.match(n)]
    if earlier:
        first, second = _DIRECTION_NOTE.match(earlier[-1]).groups()
        dataset.notes = [n for n in dataset.notes if n not in earlier]
    if direction == "BtoA":
        dataset.data, dataset.targets, first, second = dataset.targets, dataset.data, second, first
    dataset.notes.append(f"input {first} → target {second} (direction {direction})")
    return dataset


def _aligned(root: Path, opts: LoadOptions, source: str, skipped: list[Skipped]):
    items: list[Item] = []
    folders = split_folder(root, opts, source)
    for sub in folders:
        items += folder_items(root / sub if sub else root, opts, skipped, f"{sub}/" if sub else "")
    items = subsample(items, opts.count, opts.seed)
    data = decode_in_memory(LoadJob(source, items, opts, skipped, tiles=2, what="input|target images")).data
    side = data.shape[-2]
    where = ", ".join(f"{s}/" for s in folders if s) or "the folder itself"
    notes = [f"{data.shape[0]:,} aligned input|target images from {where}, each split into two {side}×{side} halves"]
    return np.ascontiguousarray(data[..., :side]), np.ascontiguousarray(data[..., side:]), notes


def _by_name(root: Path, sides: tuple[str, str], opts: LoadOptions, source: str, skipped: list[Skipped]):
    a_side, b_side = (_side_items(root / s, opts, source, skipped, s) for s in sides)
    for side, found in zip(sides, (a_side, b_side), strict=True):
        if not found:
            raise DatasetError(f"{source}: {side}/ holds no images; pix2pix pairs each file in {sides[0]}/ with the "
                               f"file of the same name in {sides[1]}/, so put the images of both sides there")
    common = [stem for stem in a_side if stem in b_side]
    for mine, other, theirs in ((a_side, b_side, sides[1]), (b_side, a_side, sides[0])):
        for stem, item in mine.items():
            if stem not in other:
                skipped.append(Skipped(item.name, f"no file named {stem}.* in {theirs}/ to pair it with"))
    if not common:
        raise DatasetError(
            f"{source}: {sides[0]}/ and {sides[1]}/ share no file names; pix2pix pairs files by name "
            f"({sides[0]}/0001.jpg with {sides[1]}/0001.jpg). Rename them to match (a two-class image set "
            "needs other folder names)"
        )
    common = subsample(common, opts.count, opts.seed)
    a_items, b_items = [a_side[s] for s in common], [b_side[s] for s in common]
    decoded = decode_in_memory(LoadJob(source, a_items + b_items, opts, skipped))
    data, ok = decoded.data, decoded.ok
    n = len(common)
    row = np.cumsum(ok) - 1  # the array's row of each decoded item
    keep = ok[:n] & ok[n:]
    for a, b, a_ok, b_ok in zip(a_items, b_items, ok[:n], ok[n:], strict=True):
        if a_ok != b_ok:
            kept, lost = (a, b) if a_ok else (b, a)
            skipped.append(Skipped(kept.name, f"its partner {lost.name} could not be used"))
    if not keep.any():
        raise DatasetError(f"{source}: no pair has both images usable; see the skipped files for why")
    idx = np.flatnonzero(keep)
    notes = [f"{len(idx):,} pairs of {sides[0]}/ and {sides[1]}/ files matched by name"]
    return data[row[idx]], data[row[idx + n]], notes


def _side_items(folder: Path, opts: LoadOptions, source: str, skipped: list[Skipped], name: str) -> dict[str, Item]:
    """One side's images by their path in `folder` without extension (`0001`, or `train/0001` in split folders)."""
    found: dict[str, Item] = {}
    for sub in split_folder(folder, opts, source):
        prefix = f"{name}/{sub}/" if sub else f"{name}/"
        for item in folder_items(folder / sub if sub else folder, opts, skipped, prefix):
            stem = os.path.splitext(item.name[len(name) + 1 :])[0]
            if stem in found:
                skipped.append(Skipped(item.name, f"another file in {name}/ is also named {stem}; the first is paired"))
            else:
                found[stem] = item
    return found
