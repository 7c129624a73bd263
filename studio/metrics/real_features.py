"""The real images' features, computed once per dataset and feature extractor and kept on disk, and the
real-vs-real split that precision, recall, density and coverage are read against.

The features are those of the dataset's images in the order of one fixed random permutation (seed 0),
so any smaller count is a prefix of a larger one: a file of m rows serves every request up to m, and
the two halves of a split are disjoint by construction.

Where they are kept:
- a dataset whose images are a decoded-cache entry (a folder or zip loaded through the cache) keeps
  them beside that entry (`decoded_cache.sidecar_path`): found without reading a byte of the images,
  and deleted with the entry when its files change, it is evicted or the cache is cleared;
- any other set (built-ins, arrays, `sklearn:digits`, a class-narrowed copy, a streamed folder) in
  `<cache>/features/`, under a fingerprint of its content (`stats.dataset_fingerprint`).
Either file name also carries the extractor's identity (its weights) and the preprocessing version.
Files are plain `.npy`, read without pickle; an unreadable one is recomputed.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..data.cache import decoded_cache
from ..data.dataset import Dataset
from ..data.options import cache_root
from ..fileio import atomic_write_bytes
from .errors import MetricError
from .features import PREPROCESSING, FeatureExtractor, extract
from .prdc import K_DENSITY_COVERAGE, K_PRECISION_RECALL, PRDC, prdc
from .stats import dataset_fingerprint

VERSION = 1  # bump when the order of the rows or the file's layout changes
MAX_IMAGES = 20_000  # features of more real images than this buy nothing for a k-NN estimate
ORDER_SEED = 0


def features_cache_dir(cache_dir: Path | None = None) -> Path:
    """Where the features of sets that are no decoded-cache entry are kept: <cache root>/features."""
    return cache_root(cache_dir) / "features"


def cache_path(dataset: Dataset, extractor: FeatureExtractor, cache_dir: Path | None = None) -> Path:
    """The file that holds (or will hold) `dataset`'s features by `extractor`."""
    tag = hashlib.sha1(f"{extractor.identity}|{PREPROCESSING}|{VERSION}".encode()).hexdigest()[:16]
    entry = decoded_cache.entry_of(dataset.data) if dataset.stream_paths is None else None
    if entry is not None:
        key, cache_dir = entry
        return decoded_cache.sidecar_path(key, f"features-{tag}.npy", cache_dir)
    content = hashlib.sha1(f"{dataset_fingerprint(dataset)}|{len(dataset)}|{tag}".encode()).hexdigest()
    return features_cache_dir(cache_dir) / f"{content}.npy"


def image_order(total: int) -> torch.Tensor:
    """The fixed permutation of a dataset's images that the cached features follow."""
    return torch.randperm(total, generator=torch.Generator().manual_seed(ORDER_SEED))


def _batches(dataset: Dataset, order: torch.Tensor, batch_size: int) -> Iterator[torch.Tensor]:
    if dataset.stream_paths is None:
        for part in order.split(batch_size):
            yield dataset.data[part]
        return
    subset = torch.utils.data.Subset(dataset.torch_dataset(), order.tolist())
    for images, _labels in torch.utils.data.DataLoader(subset, batch_size=batch_size, shuffle=False):
        yield images


def real_features(dataset: Dataset, extractor: FeatureExtractor, count: int, *, batch_size: int = 100,
                  progress: Callable[[int, int], None] | None = None, cache_dir: Path | None = None) -> torch.Tensor:
    """Features (float32, count×dim) of the first `count` images of the fixed order (all when fewer),
    from the disk cache when they were computed before, else computed now and kept (`cache_dir`: the
    cache root for sets that are no decoded-cache entry; an entry's are kept beside it)."""
    if not dataset.is_images:
        raise MetricError(f"{dataset.source} holds 2-D points, not images")
    count = min(count, len(dataset), MAX_IMAGES)
    path = cache_path(dataset, extractor, cache_dir)
    cached = _read(path)
    if cached is not None and cached.shape[0] >= count:
        return cached[:count]
    order = image_order(len(dataset))[:count]
    features = extract(extractor, _batches(dataset, order, batch_size), count, progress)
    buffer = io.BytesIO()
    np.save(buffer, features.numpy(), allow_pickle=False)
    try:
        atomic_write_bytes(path, buffer.getvalue())
    except OSError:
        pass  # a full disk or a read-only cache: the features are still right, only not kept
    return features


def _read(path: Path) -> torch.Tensor | None:
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    if array.ndim != 2 or array.dtype != np.float32:
        return None
    return torch.from_numpy(array)


def split_size(total: int, wanted: int, k: int = K_DENSITY_COVERAGE, source: str = "the dataset") -> int:
    """How many real images each half of the real-vs-real split holds: `wanted`, at most half the set
    (and MAX_IMAGES / 2); MetricError when a half would be too small for k neighbours."""
    if total < 2 * (k + 1):
        raise MetricError(f"{source} has {total} images: precision, recall, density and coverage need at least "
                          f"{2 * (k + 1)} (two disjoint halves of {k + 1}, each image with {k} neighbours besides "
                          "itself) for the real-vs-real baseline; use a larger dataset")
    return min(wanted, total // 2, MAX_IMAGES // 2)


@dataclass
class RealReference:
    """The real features a run's samples are measured against, and what the data itself scores."""

    reference: torch.Tensor  # the first half: what generated features are compared with
    baseline: PRDC  # the second half against the first: the real-vs-real figures
    features: str  # the extractor's name ("inception", "classifier", "pixels")

    @property
    def n(self) -> int:
        return int(self.reference.shape[0])

    def measure(self, generated: torch.Tensor) -> PRDC:
        """The generated features' figures against the reference half (as many samples as the halves hold)."""
        return prdc(self.reference, generated[:self.n], K_PRECISION_RECALL, K_DENSITY_COVERAGE)


def real_reference(dataset: Dataset, extractor: FeatureExtractor, wanted: int, *, batch_size: int = 100,
                   progress: Callable[[int, int], None] | None = None) -> RealReference:
    """Split the dataset's cached features into two disjoint halves of `split_size` images: the reference,
    and the held-out half whose figures against it are the baseline."""
    n = split_size(len(dataset), wanted, source=dataset.source)
    rows = real_features(dataset, extractor, 2 * n, batch_size=batch_size, progress=progress)
    reference, held_out = rows[:n], rows[n:2 * n]
    return RealReference(reference, prdc(reference, held_out, K_PRECISION_RECALL, K_DENSITY_COVERAGE), extractor.name)
