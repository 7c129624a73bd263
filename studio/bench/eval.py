"""The `eval` section of `studio bench`: what the live evaluation behind the partial-collapse alarm costs.

- A 32×32 DCGAN (batch 64, the train section's data and width) trained by the trainer's own step
  loop (`Trainer.train_steps`), and the trainer's own evaluator measuring precision, recall, density
  and coverage of 1,000 samples (`ImageEvaluator.evaluate`): seconds per step, seconds per evaluation
  (median of `rounds`, after a first one that computes the real features and trains the label
  classifier once per dataset: reported apart, as `setup_s`), and the share of a run's wall time that
  an evaluation every `RunConfig.prdc_every` steps takes: eval / (interval × step + eval).
- The real images' cached features loaded for 10,000 images: 10,000 × 2048 float32 rows (Inception's
  size) written where `real_features` keeps them, then read back through `real_features` (the lookup
  of the cache key included), for a set loaded through the decoded-dataset cache (an entry: found by
  the array's identity) and for one held in memory (found by a fingerprint of its content). Best of
  `rounds` reads, the file in the page cache as it is after the first evaluation.

Qt-free; returns one plain dict.
"""

from __future__ import annotations

import io
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from .common import BATCH, SIZE, Log

TARGET_SHARE = 0.10  # the live evaluation's share of a 32×32 DCGAN run's wall time, at the default interval
TARGET_LOAD_MS = 100.0  # the cached real features of 10,000 images loaded
LOAD_IMAGES = 10_000
LOAD_DIMS = 2048  # Inception's pool features: the largest the studio caches


class StoredFeatures:
    """A stand-in extractor whose features are already on disk: it only names them (never called)."""

    name = "inception-sized"

    def __init__(self, dims: int):
        self.identity = f"bench-{dims}"
        self.device = None

    def __call__(self, images):
        raise RuntimeError("the bench's stored features are read from the cache, never computed")


def measure_evaluation_cost(device, quick: bool, width: int | None, log: Log, rounds: int = 3) -> dict[str, Any]:
    """Seconds per training step and per live evaluation of a 32×32 DCGAN, and the evaluation's share."""
    import torch

    from ..data import open_dataset
    from ..engine import RunConfig, Trainer

    data = open_dataset("builtin:shapes", size=SIZE, count=512 if quick else 2048)
    samples = 100 if quick else 1000
    config = RunConfig(method="dcgan", dataset=data.source, steps=10**9, device=str(device), log_every=10,
                       sample_every=10**9, checkpoint_every=10**9, eval_samples=samples,
                       params={"batch_size": BATCH, "width": width or (8 if quick else 32)})
    trainer = Trainer(config, dataset=data)
    trainer.setup()
    evaluator, method = trainer.evaluator, trainer.method
    steps = 2 if quick else 20
    trainer.train_steps(1)  # warm-up: allocations and lazy initialisation
    started = time.perf_counter()
    trainer.train_steps(steps)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    step_s = (time.perf_counter() - started) / steps
    started = time.perf_counter()
    first = evaluator.evaluate(method, trainer.step, False, True)
    setup_s = time.perf_counter() - started
    times = []
    for _ in range(1 if quick else rounds):
        started = time.perf_counter()
        evaluator.evaluate(method, trainer.step, False, True)
        times.append(time.perf_counter() - started)
    eval_s = statistics.median(times)
    interval = config.prdc_every
    share = eval_s / (interval * step_s + eval_s)
    coverage = next(m for m in first if m.name == "coverage")
    log(f"  {step_s:.3f} s/step, {eval_s:.2f} s per evaluation of {samples} samples every {interval} steps: "
        f"{share:.1%} of the run (first evaluation {setup_s:.1f} s)")
    return {"method": "dcgan", "image_size": SIZE, "batch_size": BATCH, "width": method.params.width,
            "samples": samples, "compared_with": coverage.n, "features": coverage.extra["features"],
            "interval_steps": interval, "step_s": step_s, "eval_s": eval_s, "eval_runs_s": times, "setup_s": setup_s,
            "share": share}


def measure_feature_load(images: int, dims: int, rounds: int, log: Log) -> dict[str, Any]:
    """Milliseconds to load `images` × `dims` cached real features, by decoded-cache entry and by content."""
    import numpy as np
    import torch

    from ..data import Dataset, DatasetKind
    from ..data.cache import decoded_cache
    from ..fileio import atomic_write_bytes
    from ..metrics.real_features import cache_path, real_features

    extractor = StoredFeatures(dims)
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (images, 3, SIZE, SIZE), dtype=np.uint8)
    features = rng.standard_normal((images, dims), dtype=np.float32)
    buffer = io.BytesIO()
    np.save(buffer, features, allow_pickle=False)
    out: dict[str, Any] = {"images": images, "dims": dims, "megabytes": features.nbytes / 1e6}
    with tempfile.TemporaryDirectory(prefix="studio-bench-eval-") as tmp:
        cache = Path(tmp)
        key = "0" * 32
        sets = {"in_memory": Dataset("bench array", DatasetKind.IMAGES, torch.from_numpy(pixels.copy()))}
        if decoded_cache.store(key, pixels, np.ones(images, bool), [], "bench", cache) is not None:
            entry = decoded_cache.load(key, cache)  # as a folder's load returns it: memory-mapped
            sets["decoded_entry"] = Dataset("bench folder", DatasetKind.IMAGES, torch.from_numpy(entry.data))
        for name, dataset in sets.items():
            atomic_write_bytes(cache_path(dataset, extractor, cache), buffer.getvalue())
            times = []
            for _ in range(rounds):
                started = time.perf_counter()
                loaded = real_features(dataset, extractor, images, cache_dir=cache)
                times.append(time.perf_counter() - started)
            if loaded.shape != (images, dims):
                raise RuntimeError(f"the bench's cached features read back as {tuple(loaded.shape)}")
            out[f"{name}_ms"] = 1000 * min(times)
            out[f"{name}_runs_ms"] = [1000 * t for t in times]
    out["ms"] = max(out.get("decoded_entry_ms", 0.0), out["in_memory_ms"])
    entry_text = (f"{out['decoded_entry_ms']:.0f} ms (a decoded-cache entry), " if "decoded_entry_ms" in out
                  else "the decoded cache is off (dataset_cache_gb 0), ")
    log(f"  {images:,} × {dims} cached features: {entry_text}{out['in_memory_ms']:.0f} ms (a set in memory, "
        "fingerprinted)")
    return out


def eval_section(device, quick: bool, width: int | None, log: Log) -> dict[str, Any]:
    """The `eval` section: the live evaluation's cost and the cached real features' load time."""
    return {"cost": measure_evaluation_cost(device, quick, width, log),
            "features_load": measure_feature_load(1000 if quick else LOAD_IMAGES, 64 if quick else LOAD_DIMS,
                                                  2 if quick else 5, log)}


def eval_targets(section: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The section's two targets (None where not measured; a --quick run measures neither at full size)."""
    cost, load = section.get("cost", {}), section.get("features_load", {})
    share, ms = cost.get("share"), load.get("ms")
    full_cost = cost.get("samples") == 1000 and cost.get("image_size") == SIZE
    full_load = load.get("images") == LOAD_IMAGES
    return {
        "eval_share": {"target": f"a live evaluation of 1,000 samples every {cost.get('interval_steps', '?')} steps "
                                 f"<= {TARGET_SHARE:.0%} of a 32x32 DCGAN run", "value": share,
                       "holds": None if share is None or not full_cost else share <= TARGET_SHARE},
        "eval_features_load": {"target": f"cached real features of {LOAD_IMAGES:,} images load < {TARGET_LOAD_MS:g} ms",
                               "value": ms, "holds": None if ms is None or not full_load else ms < TARGET_LOAD_MS},
    }


def describe(section: dict[str, Any]) -> list[str]:
    """The section as lines of the readable report."""
    c, f = section["cost"], section["features_load"]
    return [f"Live evaluation ({c['method']} {c['image_size']}x{c['image_size']}, width {c['width']}): "
            f"{c['step_s']:.3f} s/step; precision/recall/density/coverage of {c['samples']:,} samples against "
            f"{c['compared_with']:,} real in {c['features']} features {c['eval_s']:.2f} s every "
            f"{c['interval_steps']} steps = {c['share']:.1%} of the run (first evaluation, real features and "
            f"classifier: {c['setup_s']:.1f} s)",
            f"Cached real features, {f['images']:,} x {f['dims']} ({f['megabytes']:.0f} MB): "
            + (f"{f['decoded_entry_ms']:.1f} ms from beside a decoded-cache entry, " if "decoded_entry_ms" in f else "")
            + f"{f['in_memory_ms']:.1f} ms for a set in memory (content fingerprint)"]
