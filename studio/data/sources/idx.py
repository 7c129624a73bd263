"""MNIST-style IDX files (plain or gzip): images N×H×W and labels N, as used by MNIST and Fashion-MNIST."""

from __future__ import annotations

import gzip
import math
import os
import re
import struct
import zlib
from pathlib import Path

import numpy as np

from ..dataset import Dataset, DatasetKind, Skipped
from ..errors import DatasetError
from ..options import LoadOptions
from .arrays import array_images

# IDX type codes (big-endian on disk).
_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_MAX_BYTES = 4 * 1024**3  # a header may claim any size; refuse before allocating
FASHION_NAMES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]
_IMAGES_RE = re.compile(r"^(train|t10k)-images[.-]idx3-ubyte(\.gz)?$", re.IGNORECASE)
GZIP_MAGIC = b"\x1f\x8b"


class IdxError(Exception):
    """An IDX file that cannot be read; the message says why."""


def is_idx(path: Path) -> bool:
    """True for a file whose name or first bytes say it is an IDX file."""
    if "idx" in path.name.lower() and "ubyte" in path.name.lower():
        return True
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return False
    return len(head) == 4 and head[:2] == b"\x00\x00" and head[2] in _DTYPES and 1 <= head[3] <= 4


def read_idx(path: Path, expect_ndim: int | None = None, limit: int | None = None) -> np.ndarray:
    """Read an IDX array (first `limit` items only, when given); raise IdxError on a bad header or short data."""
    try:
        with path.open("rb") as raw:
            gzipped = raw.read(2) == GZIP_MAGIC
        with gzip.open(path, "rb") if gzipped else path.open("rb") as f:
            return _read(f, expect_ndim, limit)
    except (OSError, EOFError, zlib.error) as exc:
        raise IdxError(f"cannot read ({exc}); the file may be truncated or not gzip as its name says") from None


def _read(f, expect_ndim, limit) -> np.ndarray:
    head = f.read(4)
    if len(head) < 4 or head[:2] != b"\x00\x00" or head[2] not in _DTYPES or not 1 <= head[3] <= 4:
        raise IdxError(f"wrong magic number {head.hex() or '(empty file)'}; not an IDX file")
    ndim = head[3]
    if expect_ndim is not None and ndim != expect_ndim:
        raise IdxError(f"has {ndim} dimensions, expected {expect_ndim}")
    dims_raw = f.read(4 * ndim)
    if len(dims_raw) < 4 * ndim:
        raise IdxError("header is cut short")
    dims = list(struct.unpack(f">{ndim}I", dims_raw))
    if limit is not None:
        dims[0] = min(dims[0], limit)
    dtype = np.dtype(_DTYPES[head[2]])
    nbytes = math.prod(dims) * dtype.itemsize  # Python ints: a hostile header cannot overflow it
    if nbytes > _MAX_BYTES:
        raise IdxError(
            f"header claims {'×'.join(map(str, dims))} items ({nbytes:,} bytes), more than any IDX set holds"
        )
    data = f.read(nbytes)
    if len(data) < nbytes:
        raise IdxError(f"data is cut short: {len(data):,} of {nbytes:,} bytes; re-download the file")
    return np.frombuffer(data, dtype=dtype).reshape(dims).astype(dtype.newbyteorder("="))


def _find(root: Path, pattern: re.Pattern) -> list[Path]:
    # torchvision keeps them in <root>/MNIST/raw/; users unpack them anywhere under a folder.
    # Names are matched before any Path is made, and the folder is listed once: a folder of 200,000
    # images holds no IDX file, and opening it from the decoded cache should cost little more than a listing.
    found: list[Path] = []
    raw_folders: list[str] = []
    try:
        with os.scandir(root) as it:
            for e in it:
                # Every IDX name starts with train or t10k: the regular expression only for those.
                if e.name[:1] in "tT" and pattern.match(e.name) and e.is_file():
                    found.append(root / e.name)
                elif e.is_dir():
                    raw_folders.append(os.path.join(e.path, "raw"))
    except OSError:
        return []
    found.sort()
    raw_folders.sort()
    top_raw = os.path.join(root, "raw")
    if top_raw in raw_folders:  # <root>/raw/* after <root>/*/raw/*, as listed before
        raw_folders.remove(top_raw)
        raw_folders.append(top_raw)
    for folder in raw_folders:
        try:
            with os.scandir(folder) as it:
                found += sorted(Path(e.path) for e in it if pattern.match(e.name) and e.is_file())
        except OSError:
            continue
    return found


def find_idx_images(root: Path) -> list[Path]:
    """IDX image files directly in `root`, in `root/raw` or in `root/*/raw`."""
    return _find(root, _IMAGES_RE)


def _labels_path(images: Path) -> Path | None:
    stem = images.name.replace("images", "labels").replace("idx3", "idx1")
    for name in (stem, stem + ".gz", stem.removesuffix(".gz")):
        candidate = images.with_name(name)
        if candidate.is_file():
            return candidate
    return None


def open_idx(path: Path, opts: LoadOptions, *, source: str | None = None) -> Dataset:
    """Open an IDX images file or a folder of them (train by default; `split` picks test or all)."""
    source = source or str(path)
    if path.is_dir():
        files = find_idx_images(path)
        train = [p for p in files if p.name.lower().startswith("train")]
        test = [p for p in files if p.name.lower().startswith("t10k")]
        chosen = opts.pick_split(source, {"train": train or test, "test": test, "all": train + test})
        # A folder with both plain and .gz copies: use one of them.
        chosen = _dedupe(chosen)
        if not chosen:
            raise DatasetError(
                f"{source}: no IDX image files for split '{opts.split}' "
                "(expected train-images-idx3-ubyte[.gz] or t10k-images-idx3-ubyte[.gz])"
            )
    else:
        chosen = [path]
    skipped: list[Skipped] = []
    notes: list[str] = []
    images, labels = [], []
    for img_path in chosen:
        remaining = None if opts.count is None else opts.count - sum(len(a) for a in images)
        if remaining is not None and remaining <= 0:
            break
        try:
            arr = read_idx(img_path, 3, remaining)
        except IdxError as exc:
            raise DatasetError(f"{img_path}: {exc}") from None
        images.append(arr)
        labels.append(_read_labels(img_path, len(arr), skipped))
    arr = np.concatenate(images)
    # Counting and slicing are done above; fit only size and channels here.
    data = array_images(arr, source, LoadOptions(size=opts.size, channels=opts.channels))
    label_t = None
    names: list[str] = []
    if all(lab is not None for lab in labels):
        import torch

        label_t = torch.from_numpy(np.concatenate(labels).astype(np.int64))
        fashion = "fashion" in str(path).lower()
        names = FASHION_NAMES if fashion else [str(i) for i in range(10)]
        if len(label_t) and int(label_t.max()) >= len(names):
            names = [str(i) for i in range(int(label_t.max()) + 1)]
    elif any(lab is not None for lab in labels):
        notes.append("some image files have no matching labels; the set is unlabelled")
    return Dataset(
        source=source,
        kind=DatasetKind.IMAGES,
        data=data,
        labels=label_t,
        label_names=names,
        skipped=skipped,
        notes=notes,
    )


def _dedupe(paths: list[Path]) -> list[Path]:
    seen, out = set(), []
    for p in paths:
        key = p.name.lower().removesuffix(".gz").replace("images.", "images-")
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def _read_labels(images: Path, n: int, skipped: list[Skipped]) -> np.ndarray | None:
    path = _labels_path(images)
    if path is None:
        return None
    try:
        labels = read_idx(path, 1, n)
    except IdxError as exc:
        skipped.append(Skipped(str(path), f"labels not used: {exc}"))
        return None
    if len(labels) != n or labels.dtype.kind not in "iu":
        skipped.append(Skipped(str(path), f"labels not used: {len(labels)} labels for {n} images"))
        return None
    return labels
