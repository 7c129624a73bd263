"""Evaluation protocols: how a trained trial is judged, as the paper it reproduces judged it.

Each protocol takes the trained method, the dataset it learned and a seed, draws its samples, and
returns an `Evaluation`: the measured figures by name, the pictures to show (PNG bytes by file
name) and the raw samples. `METRICS` names each figure for the report's table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from ..data.dataset import Dataset
from ..engine.rundir import png_bytes
from ..grids import image_grid, scatter_image, to_uint8
from ..methods.base import Method, condition_vectors
from ..metrics.coverage import mode_coverage
from ..metrics.errors import MetricError
from ..metrics.features import to_unit_rgb

# figure name -> (label in the report, unit)
METRICS = {
    "modes": ("modes covered", ""),
    "high_quality": ("high-quality samples", "%"),
    "jsd": ("JSD of the mode histogram to uniform", "nats"),
    "accuracy": ("samples drawn as the asked class", "%"),
    "classes_covered": ("classes covered", ""),
    "judge_accuracy": ("judging classifier, held-out real digits", "%"),
}
JUDGE_STEPS = 1500  # the judging classifier trains longer than the diversity monitor's: it must be sure


@dataclass
class Evaluation:
    """One trial's figures, its pictures (file name -> PNG bytes) and its raw samples."""

    metrics: dict[str, float]
    pictures: dict[str, bytes] = field(default_factory=dict)
    samples: np.ndarray | None = None
    details: dict = field(default_factory=dict)


def _latents(method: Method, n: int, seed: int) -> torch.Tensor:
    return method.latent(n, generator=torch.Generator().manual_seed(seed)).to(method.device)


def mixture_2d(method: Method, dataset: Dataset, n: int, seed: int) -> Evaluation:
    """PacGAN's protocol on the ring and grid: n samples (2,500), a mode covered when at least one sample
    lies within 3σ of it, the share of samples within 3σ of some mode, and the JSD of the histogram to uniform."""
    if dataset.modes is None:
        raise MetricError(f"{dataset.source}: the 2-D protocol needs a mixture with known modes (builtin:rings or builtin:grid)")
    points = method.sample(_latents(method, n, seed)).float().cpu()
    cov = mode_coverage(points, dataset.modes, dataset.mode_std)
    return Evaluation(
        metrics={"modes": float(cov.modes_covered), "high_quality": 100.0 * cov.high_quality, "jsd": cov.jsd},
        pictures={"scatter.png": png_bytes(scatter_image(points, dataset.modes))},
        samples=points.numpy(),
        details={"counts": cov.counts, "modes_total": cov.modes},
    )


def _judge(dataset: Dataset, device: torch.device):
    from ..metrics.diversity import label_classifier

    return label_classifier(dataset, device=device, steps=JUDGE_STEPS)


def conditional_accuracy(method: Method, dataset: Dataset, n: int, seed: int) -> Evaluation:
    """n samples (1,000), an equal share asked of each class; the share a classifier trained on the
    real images names as the asked class."""
    if not method.conditional:
        raise MetricError(f"{method.name}: conditional accuracy needs a conditional model trained on labelled data")
    judge = _judge(dataset, method.device)
    classes = method.spec.label_dim
    asked = torch.arange(n) % classes
    images = method.sample(_latents(method, n, seed), condition_vectors(asked, method.spec, method.device)).cpu()
    predicted = judge.predict(to_unit_rgb(images)).cpu()
    per_class = [float((predicted[asked == c] == c).float().mean()) for c in range(classes)]
    order = torch.cat([torch.nonzero(asked == c)[:10, 0] for c in range(classes)])  # a row of 10 per class
    return Evaluation(
        metrics={"accuracy": 100.0 * float((predicted == asked).float().mean()), "judge_accuracy": 100.0 * judge.accuracy},
        pictures={"samples.png": png_bytes(image_grid(images[order], columns=10))},
        samples=to_uint8(images).numpy(),
        details={"per_class_accuracy": dict(zip(method.spec.label_names, per_class, strict=True)),
                 "picture_rows": asked[order].view(classes, -1)[:, 0].tolist()},
    )


def classes_covered(method: Method, dataset: Dataset, n: int, seed: int) -> Evaluation:
    """n unconditional samples (1,000) named by the classifier; a class is covered when it gets at least
    a quarter of its fair share (the diversity monitor's rule)."""
    from ..metrics.diversity import class_histogram
    from ..metrics.diversity import classes_covered as covered

    judge = _judge(dataset, method.device)
    images = method.sample(_latents(method, n, seed)).cpu()
    predicted = judge.predict(to_unit_rgb(images))
    histogram = class_histogram(predicted, judge.classes)
    return Evaluation(
        metrics={"classes_covered": float(covered(histogram)), "judge_accuracy": 100.0 * judge.accuracy},
        pictures={"samples.png": png_bytes(image_grid(images[:100], columns=10))},
        samples=to_uint8(images).numpy(),
        details={"histogram": dict(zip(dataset.label_names, histogram))},
    )


PROTOCOLS: dict[str, Callable[[Method, Dataset, int, int], Evaluation]] = {
    "mixture-2d": mixture_2d,
    "conditional-accuracy": conditional_accuracy,
    "classes-covered": classes_covered,
}
