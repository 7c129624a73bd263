"""The `data` section of `studio bench`: how fast a folder of JPEGs loads, first and from the cache.

- A folder of `n` 64×64 JPEGs through `open_dataset(folder, size=64)` with an empty decoded cache
  (first load) and again (cached load), against a one-thread loop of `torchvision.io.read_file`
  and `decode_jpeg` over the same files. The first load's cache entry is written on a background
  thread; the time it takes after the load returns is reported beside it.
- A CelebA-shaped folder (178×218 JPEGs, `n // 4` of them) to 64 px with the cache off, against a
  one-thread loop that decodes at full size, crops the centre square and resizes with antialiasing.

Each figure is the best of `rounds` runs, the studio and its reference measured in turns, so a
machine shared with other work slows both alike; the CPU seconds each used (worker processes
included) are reported beside the wall times. Qt-free; returns one plain dict.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

Log = Callable[[str], None]

TARGET_FIRST = 1.5  # one-thread decode_jpeg loop / the studio's first load
TARGET_CELEBA = 3.0  # full-size decode and resize / the studio's load at 64 px
TARGET_CACHED = 20.0  # first load / cached load


def write_jpegs(folder: Path, n: int, width: int, height: int, seed: int = 0) -> None:
    """`n` photo-like JPEGs: smooth colour fields with grain, quality 90 (about 10 KB at 178×218; CelebA's ~7 KB)."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        coarse = Image.fromarray(rng.integers(0, 256, (height // 16 + 2, width // 16 + 2, 3), dtype=np.uint8))
        smooth = np.asarray(coarse.resize((width, height), Image.Resampling.BILINEAR), dtype=np.int16)
        grain = rng.integers(-4, 5, (height, width, 3), dtype=np.int16)
        Image.fromarray(np.clip(smooth + grain, 0, 255).astype(np.uint8)).save(folder / f"{i:06d}.jpg", quality=90)


def _jpeg_files(folder: Path) -> list[str]:
    return sorted(os.path.join(folder, name) for name in os.listdir(folder))


def decode_jpeg_loop(folder: Path) -> np.ndarray:
    """The reference: read and decode every file with torchvision.io, one thread, stacked."""
    import torch
    from torchvision.io import decode_jpeg, read_file

    with _one_thread(torch):
        return torch.stack([decode_jpeg(read_file(p)) for p in _jpeg_files(folder)]).numpy()


def full_size_resize_loop(folder: Path, size: int) -> np.ndarray:
    """The reference for large images: decode at full size, crop the centre square, resize (antialiased)."""
    import torch
    from torchvision.io import decode_jpeg, read_file
    from torchvision.transforms.v2 import functional as F

    out = []
    with _one_thread(torch):
        for p in _jpeg_files(folder):
            img = decode_jpeg(read_file(p))
            side = min(img.shape[-2:])
            out.append(F.resize(F.center_crop(img, [side, side]), [size, size], antialias=True))
    return torch.stack(out).numpy()


@contextlib.contextmanager
def _one_thread(torch):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _timed(fn: Callable[[], object], cpu: list[float] | None = None) -> float:
    """Wall seconds of `fn()`; with `cpu`, also append the CPU seconds it used, its worker processes' included."""
    used = _cpu_seconds()
    start = time.perf_counter()
    fn()
    wall = time.perf_counter() - start
    if cpu is not None:
        multiprocessing.active_children()  # reap finished workers so their CPU time is counted
        time.sleep(0.2)
        multiprocessing.active_children()
        cpu.append(_cpu_seconds() - used)
    return wall


def _cpu_seconds() -> float:
    try:
        import resource
    except ImportError:  # Windows
        return time.process_time()
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure_data_loading(n: int = 20_000, log: Log = print, rounds: int = 2) -> dict:
    """Load times of the JPEG folders and their references (seconds), their ratios and the targets."""
    import warnings

    from ..data import open_dataset
    from ..data.cache import decoded_cache

    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torchvision\.")
    with tempfile.TemporaryDirectory(prefix="studio-bench-data-") as tmp:
        root = Path(tmp)
        small, large, cache = root / "jpeg64", root / "celeba-shaped", root / "cache"
        n_large = max(32, n // 4)
        log(f"data: writing {n:,} 64×64 JPEGs and {n_large:,} 178×218 JPEGs")
        write_jpegs(small, n, 64, 64)
        write_jpegs(large, n_large, 178, 218, seed=1)
        keys = ("reference", "first", "cache_write", "cached", "celeba_reference", "celeba")
        times: dict[str, list[float]] = {k: [] for k in keys}
        cpu: dict[str, list[float]] = {k: [] for k in ("reference", "first", "celeba_reference", "celeba")}
        for r in range(rounds):
            log(f"data: round {r + 1} of {rounds}")
            times["reference"].append(_timed(lambda: decode_jpeg_loop(small), cpu["reference"]))
            decoded_cache.clear(cache)
            times["first"].append(_timed(lambda: open_dataset(small, size=64, cache_dir=cache), cpu["first"]))
            # The first load returns while its cache entry is still being written on a background
            # thread: how much longer that takes is reported, and the cached load starts after it.
            times["cache_write"].append(_timed(decoded_cache.wait_for_writes))
            times["cached"].append(_timed(lambda: open_dataset(small, size=64, cache_dir=cache)))
            times["celeba_reference"].append(_timed(lambda: full_size_resize_loop(large, 64), cpu["celeba_reference"]))
            times["celeba"].append(_timed(lambda: open_dataset(large, size=64, decoded_cache=False), cpu["celeba"]))
        best = {k: min(v) for k, v in times.items()}
        result = {
            "images": n,
            "celeba_images": n_large,
            "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "reference_s": round(best["reference"], 3),
            "first_load_s": round(best["first"], 3),
            "cached_load_s": round(best["cached"], 4),
            "cache_write_after_first_s": round(best["cache_write"], 3),
            "celeba_reference_s": round(best["celeba_reference"], 3),
            "celeba_load_s": round(best["celeba"], 3),
            "first_vs_reference": round(best["reference"] / best["first"], 2),
            "cached_vs_first": round(best["first"] / best["cached"], 1),
            "celeba_vs_reference": round(best["celeba_reference"] / best["celeba"], 2),
            "rounds": {k: [round(t, 4) for t in v] for k, v in times.items()},
            # CPU seconds (worker processes included): on a machine shared with other work, wall time
            # shows the share of the cores this process got; this shows the work itself.
            "cpu_seconds": {k: round(min(v), 3) for k, v in cpu.items()},
        }
    log(
        f"data: first load {result['first_load_s']} s "
        f"({result['first_vs_reference']}× the one-thread decode_jpeg loop), "
        f"cached {result['cached_load_s']} s ({result['cached_vs_first']}× faster), CelebA-shaped "
        f"{result['celeba_vs_reference']}× full-size decode+resize"
    )
    return result


def data_targets(data: dict) -> dict:
    """Each data target with the figure measured and whether it holds (None: not measured, or fewer
    than 20,000 images, as with `studio bench --quick`)."""
    full = data.get("images", 0) >= 20_000
    rows = {
        "data_first_load": (f"first load of 20,000 64x64 JPEGs >= {TARGET_FIRST:g}x a one-thread decode_jpeg loop",
                            "first_vs_reference", TARGET_FIRST),
        "data_celeba": (f"178x218 JPEGs to 64 px >= {TARGET_CELEBA:g}x full-size decode and resize",
                        "celeba_vs_reference", TARGET_CELEBA),
        "data_cached_load": (f"cached load >= {TARGET_CACHED:g}x faster than the first", "cached_vs_first",
                             TARGET_CACHED),
    }
    out = {}
    for name, (target, key, need) in rows.items():
        value = data.get(key)
        out[name] = {"target": target, "value": value, "holds": None if value is None or not full else value >= need}
    return out


if __name__ == "__main__":  # python -m studio.bench.data [n]
    import json
    import sys

    print(json.dumps(measure_data_loading(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000), indent=2))
