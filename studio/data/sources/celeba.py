"""CelebA: face images plus list_attr_celeba.txt, giving 40 multi-hot attributes per image."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..dataset import Dataset, Skipped
from ..decode.collection import Item, Labels, LoadJob, is_metadata, load_items
from ..decode.images import is_image_name, path_opener
from ..errors import DatasetError
from ..options import LoadOptions
from .folders import walk_files
from .zips import member_opener, open_archive, zip_members

ATTR_FILE = "list_attr_celeba.txt"
PARTITION_FILE = "list_eval_partition.txt"
_SPLITS = {"train": {0}, "val": {1}, "test": {2}}
_IMAGE_FOLDERS = ("img_align_celeba", "Img/img_align_celeba", "img_celeba", "Img/img_celeba", "images", ".")


def find_attr_file(root: Path) -> Path | None:
    """list_attr_celeba.txt in `root`, `root/Anno` or `root/celeba` (torchvision's layout)."""
    for folder in (root, root / "Anno", root / "celeba", root / "celeba" / "Anno"):
        if (folder / ATTR_FILE).is_file():
            return folder / ATTR_FILE
    return None


def read_attributes(path: Path, skipped: list[Skipped]) -> tuple[list[str], dict[str, np.ndarray]]:
    """Attribute names and, per image file name, a 0/1 row (the file stores -1/1)."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read the attribute file ({exc.strerror or exc})") from None
    if len(lines) < 2 or not lines[0].strip().isdigit():
        raise DatasetError(
            f"{path}: not a CelebA attribute file (the first line should be the image count, "
            "the second the attribute names)"
        )
    names = lines[1].split()
    rows: dict[str, np.ndarray] = {}
    for number, line in enumerate(lines[2:], start=3):
        fields = line.split()
        if not fields:
            continue
        try:
            values = np.array([int(v) for v in fields[1:]], dtype=np.int64)
        except ValueError:
            values = np.empty(0)
        if len(values) != len(names) or not np.isin(values, (-1, 0, 1)).all():
            skipped.append(
                Skipped(f"{path.name} line {number}", f"expected a file name and {len(names)} values of -1/1")
            )
            continue
        rows[fields[0]] = (values > 0).astype(np.float32)
    if not rows:
        raise DatasetError(f"{path}: the attribute file lists no images")
    return names, rows


def _select(names: list[str], wanted: Sequence[str] | None, source: str) -> list[int]:
    if not wanted:
        return list(range(len(names)))
    lookup = {n.lower(): i for i, n in enumerate(names)}
    missing = [w for w in wanted if w.lower() not in lookup]
    if missing:
        raise DatasetError(f"{source}: unknown attribute(s) {', '.join(missing)}; CelebA has: {', '.join(names)}")
    return [lookup[w.lower()] for w in wanted]


def _partition(base: Path, split: str) -> set[str] | None:
    path = base / PARTITION_FILE
    if split == "all" or not path.is_file():
        return None
    keep = set()
    for line in path.read_text(errors="replace").splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[1].isdigit() and int(fields[1]) in _SPLITS[split]:
            keep.add(fields[0])
    return keep or None


def open_celeba(root: Path, opts: LoadOptions, *, source: str | None = None) -> Dataset:
    """Load CelebA from a folder holding the images (or img_align_celeba.zip) and list_attr_celeba.txt."""
    source = source or str(root)
    attr_path = root if root.is_file() else find_attr_file(root)
    if attr_path is None:
        raise DatasetError(f"{source}: no {ATTR_FILE} found; put it next to the img_align_celeba folder")
    base = attr_path.parent.parent if attr_path.parent.name == "Anno" else attr_path.parent
    skipped: list[Skipped] = []
    names, rows = read_attributes(attr_path, skipped)
    columns = _select(names, opts.attributes, source)
    wanted = _partition(base, opts.split)
    labels = Labels([names[i] for i in columns], multi_label=True)
    notes = [f"split '{opts.split}' from {PARTITION_FILE}: {len(wanted):,} images"] if wanted else []

    zip_path = next(
        (p for p in (base / "img_align_celeba.zip", base / "Img" / "img_align_celeba.zip") if p.is_file()), None
    )
    folder = next(
        (
            base / f
            for f in _IMAGE_FOLDERS
            if (base / f).is_dir() and any(is_image_name(p.name) for p in (base / f).iterdir())
        ),
        None,
    )
    if folder is None and zip_path is not None:
        with open_archive(zip_path, source) as zf:
            members = zip_members(zf, opts, skipped)
            openers = {n: member_opener(zf, info, zip_path) for n, info in members.items()}
            items = _match(openers, rows, columns, wanted, skipped)
            return load_items(LoadJob(source, items, opts, skipped, labels=labels, archive=zip_path, notes=notes,
                                      what="CelebA images"))
    if folder is None:
        raise DatasetError(
            f"{source}: no CelebA images found; put the img_align_celeba folder (or "
            f"img_align_celeba.zip) next to {ATTR_FILE}"
        )
    base = os.path.join(folder, "")
    paths = {rel: base + rel for rel in walk_files(folder, skipped)}
    openers = {rel: path_opener(p, opts.max_file_bytes) for rel, p in paths.items()}
    items = _match(openers, rows, columns, wanted, skipped, keys=paths)
    return load_items(LoadJob(source, items, opts, skipped, labels=labels, notes=notes, what="CelebA images"))


def _match(
    openers: dict,
    rows: dict[str, np.ndarray],
    columns: list[int],
    wanted: set[str] | None,
    skipped: list[Skipped],
    keys: dict | None = None,
) -> list[Item]:
    items = []
    for rel, opener in openers.items():
        name = rel.rsplit("/", 1)[-1]
        if name in (ATTR_FILE, PARTITION_FILE) or name.startswith("list_") or is_metadata(rel):
            continue
        row = rows.get(name)
        if row is None:
            skipped.append(Skipped(rel, f"not listed in {ATTR_FILE}, so it has no attributes"))
        elif wanted is None or name in wanted:
            items.append(Item(rel, opener, keys[rel] if keys else rel, row[columns]))
    return items
