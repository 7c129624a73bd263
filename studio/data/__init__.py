"""Datasets: `open_dataset(source)` turns any supported source into a `Dataset`."""

from .catalogue import list_builtins, list_sources
from .dataset import Dataset, DatasetKind, Skipped
from .errors import DatasetError
from .open import open_dataset

__all__ = ["Dataset", "DatasetError", "DatasetKind", "Skipped", "list_builtins", "list_sources", "open_dataset"]
