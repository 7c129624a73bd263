"""`open_dataset(source)`: one entry point for every kind of source; it only recognises and dispatches."""

from __future__ import annotations

import contextlib
import gc
import os
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .dataset import Dataset, DatasetKind
from .decode.images import is_image_name
from .errors import DatasetError
from .labels import choose_condition
from .options import LoadOptions
from .sources.arrays import fit_images, open_array
from .sources.builtin import open_builtin
from .sources.celeba import ATTR_FILE, find_attr_file, open_celeba
from .sources.cifar import find_cifar, is_cifar_batch, open_cifar
from .sources.folders import open_files, open_folder
from .sources.idx import find_idx_images, is_idx, open_idx
from .sources.online import open_torchvision
from .sources.paired import open_paired, orient, paired_layout
from .sources.quickdraw import open_quickdraw
from .sources.sklearn_digits import open_sklearn
from .sources.translation_sources import SCHEMES as TRANSLATION_SCHEMES
from .sources.translation_sources import open_translation_source
from .sources.unpaired import is_unpaired, open_unpaired
from .sources.zips import open_zip

HELP = (
    "give a folder of images, a .zip of one, a .npy/.npz array, MNIST IDX files, a CIFAR-10 batch folder, "
    "a CelebA folder, a pix2pix folder (A|B images, or A/ and B/), a CycleGAN folder (trainA/ and trainB/), "
    "quickdraw:<category>, torchvision:<name>, pix2pix:<name>, cyclegan:<name>, sklearn:digits or builtin:<name> "
    "(see `studio datasets`)"
)
_TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".7z", ".rar")


def open_dataset(
    source: str | os.PathLike | Sequence[str | os.PathLike],
    *,
    classes: Sequence[str] | None = None,
    **options: Any,
) -> Dataset:
    """Open a dataset source; raise DatasetError naming the source and what to do when nothing is usable.

    `options` are the fields of `LoadOptions` (options.py, each described there), carried as one value to
    the decoders: `size`/`channels` resize (square centre crop) and convert images; `count` caps how
    many are read; `progress(done, total)` reports bytes while downloading and files while decoding;
    `attributes` picks CelebA attributes and `classes` a labelled source's classes (relabelled 0..k-1 in
    the order given; studio/data/labels.py), DatasetError listing the known names otherwise; `split` is
    "train", "val", "test" or "all" where a source has splits; `stream` forces (True) or forbids (False)
    decoding folders lazily from disk;
    `decoded_cache` keeps decoded folders and zips in the cache for fast reloads (studio/data/cache/decoded_cache.py);
    `direction` ("AtoB" or "BtoA") says which side of paired data is the input; `translation_url`
    replaces the pix2pix/CycleGAN archives' server (else $STUDIO_TRANSLATION_URL, else the authors').
    """
    opts = LoadOptions.from_keywords(options)
    with _no_cyclic_gc():
        dataset = _open(source, opts)
    return choose_condition(dataset, classes=classes, attributes=opts.attributes)


@contextlib.contextmanager
def _no_cyclic_gc():
    """Pause the cyclic garbage collector while a source is listed and decoded.

    A folder of 200,000 files allocates a few small objects per file (names, openers, items),
    none in cycles; each time the allocations cross the collector's threshold it scans every
    object in the process, and with torch loaded that is seconds per load in all.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _open(source, opts: LoadOptions) -> Dataset:
    if isinstance(source, (list, tuple)):
        opts.check(f"{len(source)} files")
        if not source:
            raise DatasetError(f"an empty list of files was given; {HELP}")
        return open_files(source, opts)
    text = os.fspath(source) if isinstance(source, os.PathLike) else str(source)
    opts.check(text)
    scheme, sep, rest = text.partition(":")
    if sep and scheme == "builtin":
        dataset = _fit_builtin(open_builtin(rest, size=opts.size, seed=opts.seed, count=opts.count), opts.channels)
        return orient(dataset, opts.direction) if dataset.kind == DatasetKind.PAIRED else dataset
    if sep and scheme == "quickdraw":
        return open_quickdraw(rest, opts)
    if sep and scheme == "torchvision":
        return open_torchvision(rest, opts)
    if sep and scheme == "sklearn":
        return open_sklearn(rest, opts)
    if sep and scheme in TRANSLATION_SCHEMES:
        return open_translation_source(scheme, rest, opts)
    path = Path(text).expanduser()
    if not path.exists():
        raise DatasetError(f"{text}: no such file or folder; {HELP}")
    return _open_folder(path, opts, text) if path.is_dir() else _open_file(path, opts, text)


def _fit_builtin(dataset: Dataset, channels: int | None) -> Dataset:
    # Built-ins draw in colour; a grey model asks for channels=1 and gets converted images.
    if channels is not None and dataset.is_images and dataset.channels != channels:
        dataset.data = fit_images(dataset.data, None, channels)
        if dataset.targets is not None:
            dataset.targets = fit_images(dataset.targets, None, channels)
    return dataset


def _open_folder(path: Path, opts: LoadOptions, source: str) -> Dataset:
    if find_attr_file(path) is not None:
        return open_celeba(path, opts, source=source)
    if find_cifar(path) is not None:
        return open_cifar(path, opts, source=source)
    if find_idx_images(path):
        return open_idx(path, opts, source=source)
    return open_translation_folder(path, opts, source) or open_folder(path, opts, source=source)


def open_translation_folder(path: Path, opts: LoadOptions, source: str) -> Dataset | None:
    """A CycleGAN (trainA/ + trainB/) or pix2pix (aligned A|B, or A/ + B/) folder's Dataset; None for other folders."""
    if is_unpaired(path):
        return open_unpaired(path, opts, source=source)
    layout = paired_layout(path)
    return open_paired(path, layout, opts, source=source) if layout else None


def _open_file(path: Path, opts: LoadOptions, source: str) -> Dataset:
    name = path.name.lower()
    if name.endswith((".npy", ".npz")):
        return open_array(path, opts, source=source)
    if name.endswith(_TAR_SUFFIXES):
        raise DatasetError(
            f"{source}: tar/7z/rar archives are not opened directly; extract it and open the "
            "folder (a .zip can be opened as it is)"
        )
    if path.name == ATTR_FILE:
        return open_celeba(path, opts, source=source)
    if is_cifar_batch(path):
        return open_cifar(path, opts, source=source)
    if is_idx(path):
        return open_idx(path, opts, source=source)
    if name.endswith(".zip") or _is_zip(path):
        return open_zip(path, opts, source=source)
    if is_image_name(name):
        return open_files([path], opts)
    raise DatasetError(f"{source}: not a recognised dataset file; {HELP}")


def _is_zip(path: Path) -> bool:
    try:
        return zipfile.is_zipfile(path)
    except OSError:
        return False
