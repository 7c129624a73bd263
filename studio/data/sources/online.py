"""`torchvision:<name>`: MNIST, Fashion-MNIST, CIFAR-10 and CelebA through torchvision's downloaders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..dataset import Dataset, DatasetKind
from ..errors import DatasetError
from ..options import LoadOptions, cache_root
from .arrays import array_images

ONLINE = {
    "mnist": "70,000 28×28 handwritten digits, labelled 0-9 (downloads ~12 MB)",
    "fashion-mnist": "70,000 28×28 clothing images in 10 classes (downloads ~30 MB)",
    "cifar10": "60,000 32×32 colour photos in 10 classes (downloads ~170 MB)",
    "celeba": "202,599 face photos with 40 attributes (downloads ~1.4 GB from Google Drive; needs gdown)",
}


def torchvision_root(cache_dir: Path | str | None = None) -> Path:
    """Where torchvision's downloads are kept."""
    return cache_root(cache_dir) / "torchvision"


def _offline(source: str, exc: BaseException) -> DatasetError:
    return DatasetError(
        f"{source}: the download failed ({type(exc).__name__}: {exc}). Check the internet connection, or use "
        "a built-in set (builtin:shapes, builtin:rings, ...), which works offline, or a local copy of the files"
    )


def open_torchvision(name: str, opts: LoadOptions) -> Dataset:
    """Download (once) and load a torchvision dataset as a Dataset."""
    source = f"torchvision:{name}"
    if name not in ONLINE:
        raise DatasetError(f"{source}: unknown; choose one of {', '.join('torchvision:' + k for k in ONLINE)}")
    try:
        import torchvision.datasets as tvd
    except ImportError as exc:
        raise DatasetError(f"{source}: torchvision is not installed ({exc}); pip install torchvision") from None
    root = torchvision_root(opts.cache_dir)
    root.mkdir(parents=True, exist_ok=True)
    # torchvision's MNIST and CIFAR-10 have a train and a test part ("all" keeps the train part).
    train = name == "celeba" or opts.pick_split(source, {"train": True, "test": False, "all": True})
    try:
        if name == "celeba":
            split = opts.pick_split(source, {"train": "train", "val": "valid", "test": "test", "all": "all"})
            tvd.CelebA(str(root), split=split, target_type="attr", download=True)
        elif name == "cifar10":
            ds = tvd.CIFAR10(str(root), train=train, download=True)
        else:
            cls = tvd.MNIST if name == "mnist" else tvd.FashionMNIST
            ds = cls(str(root), train=train, download=True)
    except DatasetError:
        raise
    except Exception as exc:  # noqa: BLE001 - torchvision raises URLError, RuntimeError, OSError, ...
        raise _offline(source, exc) from None
    if name == "celeba":
        from .celeba import open_celeba

        return open_celeba(root / "celeba", opts, source=source)
    images = np.asarray(ds.data)
    data = array_images(images, source, opts)
    labels = torch.as_tensor(np.asarray(ds.targets)[: data.shape[0]], dtype=torch.int64)
    return Dataset(source=source, kind=DatasetKind.IMAGES, data=data, labels=labels, label_names=list(ds.classes))
