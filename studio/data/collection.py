"""Turn a list of image files (on disk or in a zip) into a Dataset: probe, choose size, decode.

Two passes keep memory bounded: headers first (cheap) to choose the size and channel count and
to reject bombs, then one decode per file straight into a preallocated array. When the decoded
set would not fit in the memory budget, the files are streamed instead (see streaming.py).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
import torch

from .dataset import Dataset, DatasetKind, Skipped
from .errors import DatasetError
from .images import BadImage, ImageInfo, Opener, decode, pil_guard, probe
from .options import LoadOptions

PREVIEW_COUNT = 64
# Names that operating systems and archivers leave behind: reported, never decoded.
METADATA_NAMES = frozenset({".ds_store", "thumbs.db", "desktop.ini", ".directory"})


@dataclass
class Item:
    """One candidate image: the name shown to the user, how to open it, its label if any."""

    name: str
    opener: Opener
    key: str | Path  # what the streaming dataset needs to find the file again
    label: int | np.ndarray | None = None


@dataclass
class Labels:
    """Labels for a set of items: class indices or multi-hot rows, and their names."""

    names: list[str] = field(default_factory=list)
    multi_label: bool = False


def is_metadata(rel: str) -> bool:
    """True for macOS/Windows droppings such as .DS_Store, ._x.png and __MACOSX/."""
    parts = PurePosixPath(rel.replace("\\", "/")).parts
    name = parts[-1] if parts else rel
    return "__MACOSX" in parts or name.startswith("._") or name.lower() in METADATA_NAMES


def folder_labels(rel_paths: Sequence[str]) -> tuple[list[str], list[int] | None]:
    """Class labels from the first sub-folder, after dropping folders that every file shares.

    `cats/a.png, dogs/b.png` gives two classes; `train/cats/...` the same; a single folder or files
    at the top level give no labels (None).
    """
    parts = [PurePosixPath(p.replace("\\", "/")).parts for p in rel_paths]
    if not parts:
        return [], None
    # Drop leading folders common to all files (a zip of "mydata/cats/..." or "img_align_celeba/").
    while all(len(p) > 1 for p in parts) and len({p[0] for p in parts}) == 1:
        parts = [p[1:] for p in parts]
    if any(len(p) < 2 for p in parts):
        return [], None
    names = sorted({p[0] for p in parts})
    if len(names) < 2:
        return [], None
    index = {n: i for i, n in enumerate(names)}
    return names, [index[p[0]] for p in parts]


def subsample(items: list[Item], count: int | None, seed: int | None) -> list[Item]:
    """A seeded random subset of `count` items, kept in their original order."""
    if count is None or count >= len(items):
        return items
    rng = np.random.default_rng(0 if seed is None else seed)
    keep = np.sort(rng.choice(len(items), size=count, replace=False))
    return [items[i] for i in keep]


def _most_common_side(infos: Sequence[ImageInfo]) -> int:
    (w, h), _ = Counter((i.width, i.height) for i in infos).most_common(1)[0]
    return min(w, h)


def _workers(n: int) -> int:
    # Pillow releases the GIL while decoding; a few threads help, more only contend.
    return 1 if n < 32 else max(1, min(4, os.cpu_count() or 1))


def load_items(
    source: str,
    items: list[Item],
    opts: LoadOptions,
    *,
    skipped: list[Skipped],
    labels: Labels | None = None,
    archive: Path | None = None,
    notes: list[str] | None = None,
    what: str = "images",
) -> Dataset:
    """Probe, decode and assemble `items`; raise DatasetError when none can be used."""
    items = subsample(items, opts.count, opts.seed)
    notes = list(notes or [])
    try:
        return _load_items(source, items, opts, skipped, labels, archive, notes, what)
    finally:
        skipped.sort(key=lambda s: s.path)  # one list in path order, whichever pass rejected a file


def _load_items(source, items, opts, skipped, labels, archive, notes, what) -> Dataset:
    with pil_guard(opts.max_pixels):
        good: list[Item] = []
        infos: list[ImageInfo] = []
        # Progress runs over both passes: headers (first half), then decoding (second half).
        total, step = 2 * len(items), max(1, len(items) // 100)
        for i, item in enumerate(items):
            try:
                infos.append(probe(item.opener, opts.max_pixels))
                good.append(item)
            except BadImage as exc:
                skipped.append(Skipped(item.name, str(exc)))
            if (i + 1) % step == 0:
                opts.report(i + 1, total)
        if not good:
            _nothing_usable(source, skipped, what)
        channels = opts.channels or (1 if all(i.grey for i in infos) else 3)
        side = opts.size or _most_common_side(infos)
        total_bytes = len(good) * channels * side * side
        stream = opts.stream if opts.stream is not None else total_bytes > opts.memory_limit
        if stream:
            opts.report(total, total)
            return _streamed(source, good, opts, channels, side, skipped, labels, archive, notes, total_bytes)
        data, ok = _decode_all(good, opts, channels, side, skipped, len(items))
    if not ok.any():
        _nothing_usable(source, skipped, what)
    kept = [it for it, k in zip(good, ok, strict=True) if k]
    return Dataset(
        source=source,
        kind=DatasetKind.IMAGES,
        data=torch.from_numpy(data if ok.all() else data[ok]),  # no second copy in the common case
        skipped=skipped,
        notes=notes,
        **_label_fields(kept, labels),
    )


def _decode_all(good: list[Item], opts: LoadOptions, channels: int, side: int, skipped: list[Skipped], probed: int):
    data = np.zeros((len(good), channels, side, side), dtype=np.uint8)
    ok = np.zeros(len(good), dtype=bool)

    def one(i: int) -> str | None:
        try:
            data[i] = decode(
                good[i].opener, channels=channels, size=side, max_pixels=opts.max_pixels, background=opts.background
            )
            ok[i] = True
            return None
        except BadImage as exc:
            return str(exc)

    n = len(good)
    step = max(1, n // 100)
    total = probed + n
    workers = _workers(n)
    with ThreadPoolExecutor(workers) if workers > 1 else _Inline() as pool:
        try:
            for i, reason in enumerate(pool.map(one, range(n))):
                if reason is not None:
                    skipped.append(Skipped(good[i].name, reason))
                if (i + 1) % step == 0 or i + 1 == n:
                    opts.report(probed + i + 1, total)
        except BaseException:
            # A cancelled load (the progress callback raised) stops now, not after decoding every queued file.
            if isinstance(pool, ThreadPoolExecutor):
                pool.shutdown(wait=False, cancel_futures=True)
            raise
    return data, ok


class _Inline:
    """A stand-in for an executor that maps in the calling thread (small sets, no thread cost)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def map(self, fn, it):
        return map(fn, it)


def _label_fields(items: list[Item], labels: Labels | None) -> dict:
    if labels is None or not labels.names or not items or items[0].label is None:
        return {}
    if labels.multi_label:
        rows = np.stack([np.asarray(it.label, dtype=np.float32) for it in items])
        return {"labels": torch.from_numpy(rows), "label_names": list(labels.names), "multi_label": True}
    idx = np.asarray([int(it.label) for it in items], dtype=np.int64)
    return {"labels": torch.from_numpy(idx), "label_names": list(labels.names)}


def _streamed(source, good, opts, channels, side, skipped, labels, archive, notes, total_bytes) -> Dataset:
    preview: list[np.ndarray] = []
    for item in good:
        if len(preview) >= PREVIEW_COUNT:
            break
        try:
            preview.append(
                decode(
                    item.opener, channels=channels, size=side, max_pixels=opts.max_pixels, background=opts.background
                )
            )
        except BadImage as exc:
            skipped.append(Skipped(item.name, str(exc)))
    if not preview:
        _nothing_usable(source, skipped, "images")
    if total_bytes > opts.memory_limit:
        notes.append(
            f"{len(good):,} images at {side}×{side} would need {total_bytes / 2**30:.1f} GiB; "
            "they are decoded from disk while training (pass a smaller size to hold them in memory)"
        )
    else:
        notes.append("images are decoded from disk while training (stream=True)")
    return Dataset(
        source=source,
        kind=DatasetKind.IMAGES,
        data=torch.from_numpy(np.stack(preview)),
        skipped=skipped,
        notes=notes,
        stream_paths=[Path(it.key) for it in good],
        stream_archive=archive,
        **_label_fields(good, labels),
    )


def _nothing_usable(source: str, skipped: list[Skipped], what: str):
    if skipped:
        reasons = Counter(s.reason.split(" (")[0] for s in skipped).most_common(3)
        summary = "; ".join(f"{n}× {r}" for r, n in reasons)
        example = skipped[0]
        raise DatasetError(
            f"{source}: no usable {what}: all {len(skipped)} files were skipped ({summary}; "
            f"e.g. {example}). Check that the files are PNG/JPEG/BMP/GIF/WebP/TIFF images and not damaged."
        )
    raise DatasetError(
        f"{source}: no {what} found. Put image files (PNG, JPEG, ...) in the folder, one sub-folder per class "
        "if you want labels, or give a .npy/.npz array, MNIST IDX files, CIFAR-10 batches or a builtin: set."
    )
