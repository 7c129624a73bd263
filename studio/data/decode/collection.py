"""Turn a list of image files (on disk or in a zip) into a Dataset: probe, choose size, decode.

A set decoded before with the same files and options comes from the decoded cache
(decoded_cache.py). Otherwise, with the size known, each file is read once: its header is checked
(bombs refused before decoding) and its pixels decoded straight into a preallocated array. Without
a size, headers come first (cheap) to choose it, then the decode. Both run on every core
(parallel.py). When the decoded set would not fit in the memory budget, the files are streamed
instead (see streaming.py).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..cache import decoded_cache
from ..dataset import Dataset, DatasetKind, Skipped
from ..errors import DatasetError
from ..options import LoadOptions
from . import fastjpeg, parallel
from .images import BadImage, ImageInfo, Opener, decode, decode_squares, pil_guard, probe, read_bytes, tile_side
from .resize import ResizeBatch

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
    name = rel.replace("\\", "/").rsplit("/", 1)[-1]
    return name.startswith("._") or name.lower() in METADATA_NAMES or ("__MACOSX" in rel and "__MACOSX" in _parts(rel))


def _parts(rel: str) -> list[str]:
    """PurePosixPath(rel).parts for a relative name, at a tenth of the cost (it runs per file)."""
    parts = rel.replace("\\", "/").split("/")
    return [p for p in parts if p and p != "."] if "" in parts or "." in parts else parts


def folder_labels(rel_paths: Sequence[str]) -> tuple[list[str], list[int] | None]:
    """Class labels from the first sub-folder, after dropping folders that every file shares.

    `cats/a.png, dogs/b.png` gives two classes; `train/cats/...` the same; a single folder or files
    at the top level give no labels (None).
    """
    parts = [_parts(p) for p in rel_paths]
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


def _most_common_side(infos: Sequence[ImageInfo], tiles: int = 1) -> int:
    (w, h), _ = Counter((i.width, i.height) for i in infos).most_common(1)[0]
    return tile_side(w, h, tiles)


def tiles_reason(info: ImageInfo, tiles: int) -> str | None:
    """Why an image cannot be `tiles` images side by side (None when it can): its width must be
    `tiles` times its height, give or take a tenth."""
    if tiles == 1 or abs(info.width - tiles * info.height) <= 0.1 * tiles * info.height:
        return None
    return (f"not {tiles} images side by side: {info.width}×{info.height} is not {tiles}× as wide as high "
            f"(input|target pairs are {tiles * info.height}×{info.height})")


@dataclass
class LoadJob:
    """One load of a list of files, carried as one value from the loader that listed them to the decoders:
    where they come from, the caller's options, and what to make of them."""

    source: str  # as the user gave it, for messages
    items: list[Item]
    options: LoadOptions
    skipped: list[Skipped] = field(default_factory=list)  # every file rejected so far, and why (filled in)
    labels: Labels | None = None
    archive: Path | None = None  # the zip the items are members of (the cache's key, streaming's reopening)
    notes: list[str] = field(default_factory=list)
    what: str = "images"  # what the files are, in messages: "CelebA images", "input|target images"
    tiles: int = 1  # images side by side in each file (pix2pix's aligned input|target pairs: 2)

    @property
    def names(self) -> list[str]:
        """The items' names; a tiled decode of the same files gives other images, and says so."""
        return [it.name if self.tiles == 1 else f"{it.name}\0tiles={self.tiles}" for it in self.items]


@dataclass
class Decoded:
    """The images a load decoded (N×C×S×(S·tiles) uint8) and, per item, whether it is among them."""

    data: np.ndarray
    ok: np.ndarray  # bool per item of the job


@dataclass
class Streamed:
    """Images too large for memory together: the usable items, decoded from disk while training."""

    good: list[Item]
    channels: int
    side: int
    total_bytes: int


def load_items(job: LoadJob) -> Dataset:
    """Probe, decode and assemble the job's items (after `count`), or take them from the decoded cache;
    raise DatasetError if none is usable."""
    job = dataclasses.replace(job, items=subsample(job.items, job.options.count, job.options.seed),
                              notes=list(job.notes))
    decoded = _cached_decode(job)
    if isinstance(decoded, Streamed):
        return _streamed(job, decoded)
    kept = [it for it, k in zip(job.items, decoded.ok, strict=True) if k]
    return Dataset(source=job.source, kind=DatasetKind.IMAGES, data=torch.from_numpy(decoded.data),
                   skipped=job.skipped, notes=job.notes, **_label_fields(kept, job.labels))


def decode_in_memory(job: LoadJob) -> Decoded:
    """Every item decoded into one array held in memory (from the decoded cache when it has them). `count`
    is not applied (the caller chose the items); DatasetError when none is usable or they would not fit
    in the memory limit."""
    decoded = _cached_decode(dataclasses.replace(job, options=dataclasses.replace(job.options, stream=None)),
                             in_memory=True)
    assert isinstance(decoded, Decoded)  # in memory: a DatasetError rather than a stream
    return decoded


def _cached_decode(job: LoadJob, in_memory: bool = False) -> Decoded | Streamed:
    """The job's images from the decoded cache, or decoded now (and cached), or the plan to stream them."""
    skipped = job.skipped
    try:
        key = decoded_cache.entry_key(job.names, [it.key for it in job.items], job.options, job.archive,
                                      decoder=fastjpeg.available())
        cached = decoded_cache.load(key, job.options.cache_dir) if key else None
        if cached is not None:
            skipped.extend(cached.skipped)
            job.options.report(1, 1)
            return Decoded(cached.data, cached.ok)
        before = len(skipped)
        decoded = _decode_items(job, in_memory)
        if key and isinstance(decoded, Decoded):  # streamed from disk: nothing decoded to keep
            decoded_cache.store_later(key, decoded.data, decoded.ok, list(skipped[before:]), job.source,
                                      job.options.cache_dir)
        return decoded
    finally:
        skipped.sort(key=lambda s: s.path)  # one list in path order, whichever pass rejected a file


def _decode_items(job: LoadJob, in_memory: bool) -> Decoded | Streamed:
    """The decoded images and which items they are, or the plan to stream them when they would not fit in
    memory (`in_memory`: a DatasetError instead)."""
    source, items, opts, skipped, tiles, what = job.source, job.items, job.options, job.skipped, job.tiles, job.what
    n = len(items)
    side = opts.size
    # With the size known, each file is read once: header, checks and pixels in one go. Colour is
    # decoded unless asked otherwise; a set that turns out all grey keeps one channel afterwards.
    guess = opts.channels or 3
    one_pass = side is not None and opts.stream is not True and n * guess * side * side * tiles <= opts.memory_limit
    total = n if one_pass else 2 * n
    with pil_guard(opts.max_pixels):
        # Uninitialised: rows of files that fail are never used.
        out = parallel.output_array((n, guess, side, side * tiles)) if one_pass else None
        first: ProbeJob | ReadJob = (ReadJob(guess, side, opts.max_pixels, opts.background, tiles) if one_pass
                                     else ProbeJob(opts.max_pixels, tiles))
        results = _run(job, first, items, 0, total, out)
        good_idx = [i for i, r in enumerate(results) if isinstance(r, ImageInfo)]
        for item, r in zip(items, results, strict=True):
            if not isinstance(r, ImageInfo):
                skipped.append(Skipped(item.name, r))
        if not good_idx:
            _nothing_usable(source, skipped, what)
        infos = [results[i] for i in good_idx]
        good = [items[i] for i in good_idx]
        channels = opts.channels or (1 if all(i.grey for i in infos) else 3)
        side = side or _most_common_side(infos, tiles)
        total_bytes = len(good) * channels * side * side * tiles
        stream = opts.stream if opts.stream is not None else total_bytes > opts.memory_limit
        if stream and in_memory:
            raise DatasetError(
                f"{source}: {len(good):,} {what} at {side}×{side} would need {total_bytes / 2**30:.1f} GiB, over the "
                f"{opts.memory_limit / 2**30:.1f} GiB memory limit; pass a smaller size (e.g. 64) or count"
            )
        if stream:
            opts.report(total, total)
            return Streamed(good, channels, side, total_bytes)
        if one_pass and (channels == guess or _grey(opts.background)):
            # Grey sources decoded as colour repeat one channel (so does a grey background): keep the first.
            data = out[good_idx] if len(good_idx) < n else out
            data = data if channels == guess else np.ascontiguousarray(data[:, :1])
            ok = np.zeros(n, dtype=bool)
            ok[good_idx] = True
        else:
            decoded = parallel.output_array((len(good), channels, side, side * tiles))
            read = ReadJob(channels, side, opts.max_pixels, opts.background, tiles, probed=True)
            reasons = _run(job, read, good, total - len(good), total, decoded)
            good_ok = np.array([r is None for r in reasons])
            for item, reason in zip(good, reasons, strict=True):
                if reason is not None:
                    skipped.append(Skipped(item.name, reason))
            data = decoded if good_ok.all() else decoded[good_ok]
            ok = np.zeros(n, dtype=bool)
            ok[np.asarray(good_idx)[good_ok]] = True
    if not ok.any():
        _nothing_usable(source, skipped, what)
    return Decoded(data, ok)


def _grey(background: tuple[int, int, int]) -> bool:
    return len(set(background)) == 1


def _run(job: LoadJob, work: ProbeJob | ReadJob, items: list[Item], start: int, total: int,
         out: np.ndarray | None = None) -> list:
    """Run `work` over every item on every core, reporting progress from `start` of `total`."""
    try:
        return parallel.run(work, [it.opener for it in items], lambda done: job.options.report(start + done, total),
                            workers=parallel.worker_count(len(job.items)), out=out)
    except parallel.WorkerCrashed as exc:
        raise DatasetError(f"{job.source}: {_crash_message(exc, items)}") from None


def _crash_message(exc: parallel.WorkerCrashed, items: list[Item]) -> str:
    """What to tell the user when a decoder crashed a worker process: on which files, and what to do."""
    if exc.chunk is None:
        return f"{exc}; load again, and if it happens again, split the folder to find the file that crashes it"
    names = [items[i].name for i in exc.chunk]
    which, them = ((names[0], "it") if len(names) == 1 else
                   (f"one of {len(names)} files from {names[0]} to {names[-1]}", "those files"))
    return (f"the image decoder crashed (worker exit code {exc.exitcode}) on {which}; move {them} out of the "
            "dataset (or re-save them with an image editor) and load again")


# The jobs that run in worker processes, a chunk of files at a time: values carrying what they need, a small
# picklable result per file, its pixels written into its row.


@dataclass(frozen=True)
class ProbeJob:
    """Read each file's header: its ImageInfo, or the reason it cannot be used."""

    max_pixels: int
    tiles: int = 1

    def __call__(self, openers: Sequence[Opener], rows: None) -> list[ImageInfo | str]:
        results: list[ImageInfo | str] = []
        for opener in openers:
            try:
                info = probe(opener, self.max_pixels)
                results.append(tiles_reason(info, self.tiles) or info)
            except BadImage as exc:
                results.append(str(exc))
        return results


@dataclass(frozen=True)
class ReadJob:
    """Read, check and decode each file at once, its pixels into its row. The results are each file's
    ImageInfo (None for files already `probed`), or the reason it failed."""

    channels: int
    side: int
    max_pixels: int
    background: tuple[int, int, int]
    tiles: int = 1
    probed: bool = False

    def __call__(self, openers: Sequence[Opener], rows: np.ndarray) -> list[ImageInfo | str | None]:
        results: list[ImageInfo | str | None] = []
        batch = ResizeBatch(rows, self.side)
        for row, opener in enumerate(openers):
            try:
                info, squares = decode_squares(
                    read_bytes(opener), channels=self.channels, size=self.side, max_pixels=self.max_pixels,
                    background=self.background, tiles=self.tiles,
                )
            except BadImage as exc:
                results.append(str(exc))
                continue
            reason = None if self.probed else tiles_reason(info, self.tiles)
            if reason is None:
                batch.add(row, squares)
            results.append(reason or (None if self.probed else info))
        batch.flush()
        return results


def _label_fields(items: list[Item], labels: Labels | None) -> dict:
    if labels is None or not labels.names or not items or items[0].label is None:
        return {}
    if labels.multi_label:
        rows = np.stack([np.asarray(it.label, dtype=np.float32) for it in items])
        return {"labels": torch.from_numpy(rows), "label_names": list(labels.names), "multi_label": True}
    idx = np.asarray([int(it.label) for it in items], dtype=np.int64)
    return {"labels": torch.from_numpy(idx), "label_names": list(labels.names)}


def _streamed(job: LoadJob, plan: Streamed) -> Dataset:
    opts, skipped, notes = job.options, job.skipped, job.notes
    preview: list[np.ndarray] = []
    for item in plan.good:
        if len(preview) >= PREVIEW_COUNT:
            break
        try:
            preview.append(
                decode(
                    item.opener, channels=plan.channels, size=plan.side, max_pixels=opts.max_pixels,
                    background=opts.background,
                )
            )
        except BadImage as exc:
            skipped.append(Skipped(item.name, str(exc)))
    if not preview:
        _nothing_usable(job.source, skipped, "images")
    if plan.total_bytes > opts.memory_limit:
        notes.append(
            f"{len(plan.good):,} images at {plan.side}×{plan.side} would need {plan.total_bytes / 2**30:.1f} GiB; "
            "they are decoded from disk while training (pass a smaller size to hold them in memory)"
        )
    else:
        notes.append("images are decoded from disk while training (stream=True)")
    return Dataset(
        source=job.source,
        kind=DatasetKind.IMAGES,
        data=torch.from_numpy(np.stack(preview)),
        skipped=skipped,
        notes=notes,
        stream_paths=[Path(it.key) for it in plan.good],
        stream_archive=job.archive,
        **_label_fields(plan.good, job.labels),
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
