"""FID against pytorch-fid: feature extraction images/s, and the Fréchet distance's time and value.

Extraction: the studio's batched in-memory path (channels_last) against pytorch-fid's
`get_activations` on the same images (written as PNGs, which is how pytorch-fid reads them), both
through InceptionV3 with the same weights (untrained unless pytorch-fid's are installed: the speed
does not depend on them). Fréchet distance: the studio's against pytorch-fid's
`calculate_frechet_distance` on the same full-rank statistics: both times, both values, their
relative difference.
"""

from __future__ import annotations

import contextlib
import copy
import io
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from .common import SIZE, Log, sync


@contextlib.contextmanager
def _silenced():
    """Keep third-party progress bars and warnings (pytorch-fid's tqdm) out of the report."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield


def measure_fid_extraction(device: str, n: int, batch_size: int = 50, log: Log = print) -> dict[str, Any]:
    """Images/s of the studio's feature extraction and of pytorch-fid's `get_activations`, same images and network."""
    import numpy as np
    import torch
    from PIL import Image
    from pytorch_fid import fid_score

    from ..engine.device import pick_device
    from ..metrics.features import InceptionFeatures, extract, tensor_batches
    from ..metrics.inception import find_weights

    dev = pick_device(device)
    weights = find_weights()
    extractor = InceptionFeatures(weights, dev)
    images = torch.randint(0, 256, (n, 3, SIZE, SIZE), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    extract(extractor, [images[:2]])  # warm-up
    sync(dev)
    start = time.perf_counter()
    ours = extract(extractor, tensor_batches(images, batch_size))
    sync(dev)
    studio_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory(prefix="studio-bench-fid-") as tmp:
        files = []
        for i, image in enumerate(images):
            path = Path(tmp) / f"{i:05d}.png"
            Image.fromarray(image.permute(1, 2, 0).numpy()).save(path)
            files.append(str(path))
        # pytorch-fid's side: the same weights in the layout pytorch-fid builds them (NCHW).
        model = copy.deepcopy(extractor.model).to(memory_format=torch.contiguous_format)
        with _silenced():
            fid_score.get_activations(files[:2], model, batch_size=2, dims=2048, device=dev)  # warm-up
            sync(dev)
            start = time.perf_counter()
            theirs = fid_score.get_activations(files, model, batch_size=min(batch_size, n), dims=2048, device=dev)
            sync(dev)
            pf_s = time.perf_counter() - start
    diff = float(np.abs(ours.double().numpy() - theirs).max())
    log(f"  features: studio {n / studio_s:.1f} images/s, pytorch-fid {n / pf_s:.1f} images/s")
    return {
        "studio_images_per_sec": n / studio_s, "pytorch_fid_images_per_sec": n / pf_s, "ratio": pf_s / studio_s,
        "images": n, "batch_size": batch_size, "image_size": SIZE,
        "weights": "pytorch-fid" if weights is not None else "untrained (speed only)",
        "max_abs_feature_difference": diff,
    }


def measure_frechet(dims: int, device: str, repeats: int = 3, log: Log = print) -> dict[str, Any]:
    """The studio's Fréchet distance against pytorch-fid's on the same full-rank statistics of `dims` dimensions."""
    import numpy as np
    import torch
    from pytorch_fid.fid_score import calculate_frechet_distance

    from ..metrics.frechet import frechet_distance, metric_device

    gen = torch.Generator().manual_seed(0)
    n = dims + 1000  # more samples than dimensions: full-rank covariances, as with real FID statistics

    def statistics_of(shift: float) -> tuple[np.ndarray, np.ndarray]:
        mixing = torch.randn(dims, dims, generator=gen, dtype=torch.float64) / dims**0.5
        x = torch.randn(n, dims, generator=gen, dtype=torch.float64) @ mixing + shift
        mu = x.mean(0)
        centred = x - mu
        return mu.numpy(), (centred.T @ centred / (n - 1)).numpy()

    mu1, s1 = statistics_of(0.0)
    mu2, s2 = statistics_of(0.05)
    times, value = [], 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        value = frechet_distance(mu1, s1, mu2, s2, device=device if device != "auto" else None)
        times.append(time.perf_counter() - start)
    with _silenced():
        start = time.perf_counter()
        reference = float(np.real(calculate_frechet_distance(mu1, s1, mu2, s2)))
        pf_s = time.perf_counter() - start
    studio_s = statistics.median(times)
    rel = abs(value - reference) / max(abs(reference), 1e-300)
    log(f"  Fréchet at {dims} dims: studio {studio_s:.3f} s, pytorch-fid {pf_s:.3f} s, relative difference {rel:.2e}")
    return {"dims": dims, "samples": n, "studio_seconds": studio_s, "pytorch_fid_seconds": pf_s,
            "speedup": pf_s / studio_s, "studio_value": value, "pytorch_fid_value": reference,
            "relative_difference": rel, "studio_runs": times,
            "device": str(metric_device(device if device != "auto" else None))}


def fid_section(device, quick: bool, log: Log) -> dict[str, Any]:
    """The `fid` section: extraction on 2,000 images on a GPU, 50 on a CPU, 8 with `quick`; the Fréchet
    distance at 2048 dimensions (128 with `quick`, where its targets are not judged)."""
    n = 8 if quick else (2000 if device.type == "cuda" else 50)
    return {"extraction": measure_fid_extraction(str(device), n, batch_size=8 if quick else 50, log=log),
            "frechet": measure_frechet(128 if quick else 2048, str(device), repeats=1 if quick else 3, log=log)}
