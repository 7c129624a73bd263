"""`quickdraw:<category>[,<category>…]`: Google's Quick, Draw! 28×28 bitmaps, downloaded once into the cache.

Several categories make a labelled set with one class per category, in the order given.
"""

from __future__ import annotations

import os
import urllib.parse
from pathlib import Path

import torch

from ..dataset import Dataset, DatasetKind
from ..errors import DatasetError
from ..options import LoadOptions, cache_root
from .arrays import open_array
from .download import fetch_into_cache

DEFAULT_URL = "https://storage.googleapis.com/quickdraw_dataset/full/numpy_bitmap"
EXAMPLES = "cat, dog, apple, bicycle, face, house, tree, The Eiffel Tower"


def quickdraw_url(base: str | None = None) -> str:
    """The base URL: the argument, else $STUDIO_QUICKDRAW_URL, else Google's public bucket."""
    return (base or os.environ.get("STUDIO_QUICKDRAW_URL") or DEFAULT_URL).rstrip("/")


def quickdraw_path(category: str, cache_dir: Path | str | None = None) -> Path:
    """Where the category's .npy is cached."""
    return cache_root(cache_dir) / "quickdraw" / f"{category}.npy"


def _check_category(category: str) -> None:
    # The name becomes a file name in the cache: no path tricks.
    bad = not category.strip() or category in (".", "..") or any(c in category for c in "/\\\x00")
    if bad:
        raise DatasetError(f"quickdraw:{category}: not a valid category name; try one of: {EXAMPLES}")


def open_quickdraw(categories: str, opts: LoadOptions) -> Dataset:
    """One category (unlabelled), or several separated by commas, each a class; `count` limits how many
    drawings are read from each category."""
    names = [c.strip() for c in categories.split(",")]
    if len(names) == 1:
        return _open_category(categories, opts)
    if len(set(names)) != len(names) or not all(names):
        raise DatasetError(f"quickdraw:{categories}: name each category once, e.g. quickdraw:cat,dog")
    parts = [_open_category(name, opts) for name in names]
    sizes = ", ".join(f"{name} ({len(part):,})" for name, part in zip(names, parts, strict=True))
    counts = torch.tensor([len(part) for part in parts])
    return Dataset(source=f"quickdraw:{categories}", kind=DatasetKind.IMAGES,
                   data=torch.cat([part.data for part in parts]),
                   labels=torch.repeat_interleave(torch.arange(len(parts)), counts), label_names=names,
                   skipped=[s for part in parts for s in part.skipped],
                   notes=[f"one class per category: {sizes}", *(note for part in parts for note in part.notes)])


def _open_category(category: str, opts: LoadOptions) -> Dataset:
    """Download (or reuse) `<category>.npy` and load it; `count` limits how many drawings are read."""
    source = f"quickdraw:{category}"
    _check_category(category)
    dest = quickdraw_path(category, opts.cache_dir)
    url = f"{quickdraw_url(opts.quickdraw_url)}/{urllib.parse.quote(category)}.npy"
    not_found = f"there is no such Quick, Draw! category; names are case-sensitive, e.g. {EXAMPLES}"
    fetch_into_cache(url, dest, opts, source, not_found)
    try:
        dataset = open_array(dest, opts, source=source)
    except DatasetError as exc:
        # A cached file that does not load is useless and would fail every time: remove it.
        dest.unlink(missing_ok=True)
        raise DatasetError(f"{exc}. The cached file was deleted; open {source} again to re-download it") from None
    dataset.notes.append(f"cached at {dest}")
    return dataset
