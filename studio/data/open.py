"""`open_dataset(source)`: one entry point for every kind of source."""

from __future__ import annotations

from .builtin import open_builtin
from .dataset import Dataset, DatasetError


def open_dataset(source, *, size: int | None = None, channels: int | None = None, seed: int | None = None,
                 count: int | None = None, progress=None) -> Dataset:
    """Open a dataset source; raise DatasetError naming the source when nothing usable is found."""
    text = str(source)
    if text.startswith("builtin:"):
        return open_builtin(text.split(":", 1)[1], size=size, seed=seed, count=count)
    raise DatasetError(f"{text}: this kind of source is not supported yet")
