"""Datasets: `open_dataset(source)` turns any supported source into a `Dataset`."""

from .dataset import Dataset, DatasetKind, Skipped
from .errors import DatasetError
from .open import open_dataset
from .sources import list_builtins, list_sources

__all__ = ["Dataset", "DatasetError", "DatasetKind", "Skipped", "list_builtins", "list_sources", "open_dataset"]
