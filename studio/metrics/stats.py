"""Feature statistics (mean, covariance, count) in pytorch-fid's .npz format, and the cache of the
real images' statistics, keyed by a fingerprint of the data, the preprocessing and the weights.

Cache files are plain .npz read with allow_pickle=False: a planted file cannot run code, and an
unreadable one is simply recomputed.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ..data.dataset import Dataset
from ..data.options import cache_root
from ..fileio import atomic_write_bytes
from .errors import MetricError
from .features import PREPROCESSING, FeatureExtractor, dataset_batches, extract

FEATURES_KEPT = 20_000  # cache entries keep the features themselves (for KID) up to this many rows


@dataclass
class Statistics:
    """Mean and covariance of N feature vectors; `features` kept where KID needs them."""

    mu: np.ndarray
    sigma: np.ndarray
    n: int
    features: torch.Tensor | None = None

    @classmethod
    def of(cls, features: torch.Tensor, keep: bool = False) -> "Statistics":
        """Statistics of N×dim features, in float64 (np.cov's unbiased covariance)."""
        if features.shape[0] < 2:
            raise MetricError(f"statistics need at least 2 images, got {features.shape[0]}")
        x = features.to(torch.float64)
        mu = x.mean(0)
        centred = x - mu
        sigma = centred.T @ centred / (x.shape[0] - 1)
        return cls(mu.numpy(), sigma.numpy(), int(x.shape[0]), features if keep else None)


def save_statistics(path: str | Path, stats: Statistics, with_features: bool = False) -> None:
    """Write pytorch-fid's .npz (mu, sigma) plus n (and the features where asked), atomically."""
    arrays = {"mu": stats.mu, "sigma": stats.sigma, "n": np.array(stats.n)}
    if with_features and stats.features is not None:
        arrays["features"] = stats.features.numpy()
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write_bytes(Path(path), buf.getvalue())


def read_npz(path: str | Path) -> dict[str, np.ndarray]:
    """Every array in an .npz, read without unpickling anything."""
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def is_statistics_file(path: str | Path) -> bool:
    """True for an .npz holding pytorch-fid statistics (mu and sigma)."""
    path = Path(path)
    if path.suffix.lower() != ".npz" or not path.is_file():
        return False
    try:
        with np.load(path, allow_pickle=False) as data:
            return "mu" in data.files and "sigma" in data.files
    except (OSError, ValueError, zipfile.BadZipFile):
        return False


def load_statistics(path: str | Path) -> Statistics:
    """Read pytorch-fid statistics (mu, sigma; n and features when the studio wrote them)."""
    try:
        data = read_npz(path)
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise MetricError(f"{path}: not a readable statistics file ({exc}); give an .npz with mu and sigma "
                          "as written by pytorch-fid or `studio fid --save-stats`") from None
    if "mu" not in data or "sigma" not in data:
        raise MetricError(f"{path}: has no 'mu' and 'sigma' arrays; give an .npz written by pytorch-fid or "
                          "`studio fid --save-stats`")
    mu, sigma = data["mu"].astype(np.float64), data["sigma"].astype(np.float64)
    if mu.ndim != 1 or sigma.shape != (mu.shape[0], mu.shape[0]):
        raise MetricError(f"{path}: mu has shape {mu.shape} and sigma {sigma.shape}; expected (d,) and (d, d)")
    n = int(data["n"]) if "n" in data else 0
    features = torch.from_numpy(data["features"]) if "features" in data else None
    return Statistics(mu, sigma, n, features)


def dataset_fingerprint(dataset: Dataset) -> str:
    """sha1 of the dataset's content: its image tensor bytes (or, when streamed, its file list, sizes and times)."""
    digest = hashlib.sha1()
    digest.update(f"{tuple(dataset.data.shape)}|{dataset.data.dtype}|".encode())
    if dataset.stream_paths is None:
        digest.update(dataset.data.contiguous().numpy())  # hashed in place: no copy of the images
    else:
        digest.update(str(dataset.stream_archive).encode())
        for path in dataset.stream_paths:
            where = Path(dataset.stream_archive) if dataset.stream_archive else Path(path)
            st = where.stat() if where.exists() else None
            digest.update(f"{path}|{st.st_size if st else -1}|{st.st_mtime_ns if st else -1}\n".encode())
    return digest.hexdigest()


def stats_cache_dir() -> Path:
    """Where cached statistics live: $STUDIO_CACHE_DIR/fid-stats, or ~/.cache/gan-studio/fid-stats."""
    return cache_root() / "fid-stats"


def real_statistics(dataset: Dataset, extractor: FeatureExtractor, *, n: int | None = None, seed: int = 0,
                    batch_size: int = 64, keep_features: bool = False, cache_dir: Path | None = None,
                    progress: Callable[[int, int], None] | None = None) -> Statistics:
    """Statistics of `n` of the dataset's images (all when None), from the cache when computed before."""
    count = len(dataset) if n is None else min(n, len(dataset))
    key = hashlib.sha1("|".join([dataset_fingerprint(dataset), PREPROCESSING, extractor.identity,
                                 str(count), str(seed)]).encode()).hexdigest()
    path = (cache_dir or stats_cache_dir()) / f"{key}.npz"
    cached = _read_cache(path, keep_features)
    if cached is not None:
        return cached
    features = extract(extractor, dataset_batches(dataset, batch_size, count, seed), count, progress)
    stats = Statistics.of(features, keep=True)
    save_statistics(path, stats, with_features=count <= FEATURES_KEPT)
    if not keep_features:
        stats.features = None
    return stats


def _read_cache(path: Path, keep_features: bool) -> Statistics | None:
    """A cache entry, or None when absent, unreadable, refused (pickled objects) or lacking the features asked for."""
    if not path.is_file():
        return None
    try:
        stats = load_statistics(path)
    except MetricError:
        return None
    if keep_features and stats.features is None:
        return None
    if not keep_features:
        stats.features = None
    return stats
