"""Datasets: `open_dataset(source)` turns any supported source into a `Dataset`."""

from .dataset import Dataset, DatasetError, DatasetKind, Skipped
from .open import open_dataset

__all__ = ["Dataset", "DatasetError", "DatasetKind", "Skipped", "open_dataset"]
