"""CIFAR-10 (and CIFAR-100) "python version" batches, read with the restricted unpickler only."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..dataset import Dataset, DatasetKind, Skipped
from ..errors import DatasetError
from ..options import LoadOptions
from .arrays import array_images
from .safe_pickle import MAX_PICKLE_BYTES, safe_load

CIFAR10_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
_SUBFOLDERS = ("cifar-10-batches-py", "cifar-100-python")
_MARKERS = ("data_batch_1", "test_batch", "batches.meta")
_MARKERS_100 = ("train", "meta")


def find_cifar(root: Path) -> Path | None:
    """The folder holding CIFAR batches: `root` itself or its cifar-10-batches-py/ sub-folder."""
    for folder in (root, *(root / s for s in _SUBFOLDERS)):
        if any((folder / m).is_file() for m in _MARKERS) or all((folder / m).is_file() for m in _MARKERS_100):
            return folder
    return None


def is_cifar_batch(path: Path) -> bool:
    """True for a file named like a CIFAR batch."""
    return path.name.startswith("data_batch_") or path.name in ("test_batch", "batches.meta")


def _plain(obj: Any) -> Any:
    """Python 2 pickles may key dicts by bytes; use str keys throughout."""
    if isinstance(obj, dict):
        return {(k.decode("latin1") if isinstance(k, bytes) else k): v for k, v in obj.items()}
    return obj


def read_batch(path: Path) -> dict:
    """Unpickle one batch safely and check it is a dict with uint8 `data` and integer labels."""
    size = path.stat().st_size
    if size > MAX_PICKLE_BYTES:
        raise ValueError(f"file is {size:,} bytes, too large to be a CIFAR batch")
    with path.open("rb") as f:
        try:
            batch = _plain(safe_load(f))
        except pickle.UnpicklingError as exc:
            raise ValueError(f"unsafe or invalid pickle: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - a hostile pickle can raise almost anything
            raise ValueError(f"damaged pickle ({type(exc).__name__}: {exc})") from None
    if not isinstance(batch, dict):
        raise ValueError(f"not a CIFAR batch: holds a {type(batch).__name__}, not a dict of arrays")
    data = batch.get("data")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        got = f"{type(data).__name__} {getattr(data, 'dtype', '')} {getattr(data, 'shape', '')}".strip()
        raise ValueError(f"not a CIFAR batch: 'data' must be a uint8 N×3072 array, got {got}")
    labels = batch.get("labels", batch.get("fine_labels"))
    try:
        labels = np.asarray(labels, dtype=np.int64) if labels is not None else None
    except (TypeError, ValueError, OverflowError):
        labels = None
    if labels is None or labels.shape != (data.shape[0],) or (labels.size and labels.min() < 0):
        raise ValueError("not a CIFAR batch: 'labels' must be one integer per image")
    return {"data": data, "labels": labels}


def _names(folder: Path, skipped: list[Skipped], n_classes: int) -> list[str]:
    for meta_name, key in (("batches.meta", "label_names"), ("meta", "fine_label_names")):
        meta = folder / meta_name
        if not meta.is_file():
            continue
        try:
            with meta.open("rb") as f:
                names = _plain(safe_load(f)).get(key)
            names = [n.decode("latin1") if isinstance(n, bytes) else str(n) for n in names]
            if len(names) >= n_classes:
                return names
            skipped.append(Skipped(str(meta), f"has {len(names)} class names for {n_classes} classes; not used"))
        except Exception as exc:  # noqa: BLE001 - any failure here only costs the class names
            skipped.append(Skipped(str(meta), f"class names not used: {exc}"))
    return CIFAR10_NAMES if n_classes <= 10 else [str(i) for i in range(n_classes)]


def open_cifar(path: Path, opts: LoadOptions, *, source: str | None = None) -> Dataset:
    """Load CIFAR batches from a folder (train batches by default) or one batch file."""
    source = source or str(path)
    if path.is_file():
        folder, files = path.parent, [path]
    else:
        folder = find_cifar(path) or path
        train = sorted(folder.glob("data_batch_*")) or [p for p in [folder / "train"] if p.is_file()]
        test = [p for p in (folder / "test_batch", folder / "test") if p.is_file()]
        files = opts.pick_split(source, {"train": train or test, "test": test, "all": train + test})
    skipped: list[Skipped] = []
    datas, labels = [], []
    for f in files:
        if opts.count is not None and sum(len(d) for d in datas) >= opts.count:
            break
        try:
            batch = read_batch(f)
        except (ValueError, OSError) as exc:
            skipped.append(Skipped(str(f), str(exc)))
            continue
        datas.append(batch["data"])
        labels.append(batch["labels"])
    if not datas:
        detail = "; ".join(str(s) for s in skipped[:3]) or "no data_batch_N or test_batch files"
        raise DatasetError(
            f"{source}: no usable CIFAR batches ({detail}). Give the extracted cifar-10-batches-py folder "
            "from https://www.cs.toronto.edu/~kriz/cifar.html, or torchvision:cifar10 when online"
        )
    arr = np.concatenate(datas).reshape(-1, 3, 32, 32)
    label_arr = np.concatenate(labels)
    data = array_images(arr, source, opts)
    label_t = torch.from_numpy(label_arr[: data.shape[0]].copy())
    names = _names(folder, skipped, int(label_arr.max()) + 1)
    return Dataset(
        source=source, kind=DatasetKind.IMAGES, data=data, labels=label_t, label_names=names, skipped=skipped
    )
