"""The live collapse monitor: on by default for every image run, checked at each sample interval.

At each sample interval the trainer already generates the fixed sample batch; the monitor measures
how much those samples differ from one another and compares it with how much a real batch of the
same size differs, measured once at the start:

    ratio = mean pairwise distance of the samples / mean pairwise distance of real images

in a small, fixed feature space: every image shrunk to 8×8 thumbnails (`PixelFeatures`). Thumbnails
need no weights and no training, cost well under a millisecond for 64 images, and average away
pixel noise, so a generator that draws one image with a little noise on top does not pass for a
varied one. They are blind to what an image means (two different shapes at one place look alike),
which errs towards calling samples *less* varied: the threshold is set low for that reason.

The run is flagged when the ratio stays below `threshold` (default 0.25 of real) for `PATIENCE`
sample intervals in a row, after a warm-up of `warmup` steps (an untrained generator draws the
same grey blob for every z, which is not a collapse). It is flagged once per collapse: the monitor
re-arms when the samples are varied again. See docs/EVALUATION.md for the measurements behind
these numbers.

The monitor also owns the run's partial-collapse judge (partial_collapse.py), which reads the
evaluator's coverage and recall (`judge_evaluation`), and gives the end-of-run verdict for both
(`verdict`): a run that ends past its warm-up with collapsed samples is flagged, whatever the patience.
A total collapse's record says `kind: "total"`, a partial one's `kind: "partial"`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..data.dataset import DatasetKind
from .diversity import mean_pairwise_distance
from .errors import MetricError
from .features import PixelFeatures
from .collapse_words import collapse_message
from .partial_collapse import DEFAULT_THRESHOLD, PartialCollapse, PartialCollapseJudge

THUMBNAIL_SIDE = 8
PATIENCE = 3  # sample intervals in a row below the threshold before a collapse is called
MIN_SAMPLES = 8  # fewer samples than this say too little about diversity: the monitor stays off
NEAREST_PAIRS = 8  # at most this many nearest-duplicate pairs are outlined for a partial collapse
CLOSE_QUANTILE = 0.1  # ... each closer than this share of the real batch's images are to their nearest other


@dataclass
class Collapse:
    """What the monitor saw when it called a collapse: enough to word the warning and mark the grid."""

    step: int
    ratio: float  # the samples' diversity over the real batch's
    threshold: float
    since: int  # the first step of the run of low intervals
    duplicates: list[list[int]]  # groups of grid cells whose samples are near-copies of one another
    samples: int  # how many samples were judged
    cells: int  # cells of the sample grid
    final: bool = False  # called by the end-of-run verdict

    @property
    def message(self) -> str:
        copies = sum(len(group) for group in self.duplicates)
        return collapse_message(self.step, [f"since step {self.since} the samples have been less varied than "
                                            f"{self.threshold:g}× real images (now {self.ratio:.2f}×)",
                                            f"{copies} of {self.samples} are near-duplicates"], final=self.final)

    def detail(self) -> dict:
        """The facts a view needs beyond the message (written to metrics.jsonl with the event)."""
        return {"kind": "total", "ratio": round(self.ratio, 4), "threshold": self.threshold, "since": self.since,
                "duplicates": self.duplicates, "cells": self.cells, "final": self.final}


def collapse_remedies(method: str, resume: str, kind: str = "total") -> str:
    """The usual ways out of a collapse (`kind` total or partial) of `method`, `resume` naming how to resume
    with a lower learning rate."""
    remedies = [f"resume from the last checkpoint with a lower learning rate ({resume})"]
    if method == "began":
        remedies.append("raise gamma (γ: more varied, less sharp samples) and train again")
    if kind == "partial" and method in ("gan", "dcgan", "wgan", "wgan-gp"):
        remedies.append("train again with packing (--set pack=2: the discriminator judges samples in pairs, PacGAN)")
    if kind == "partial" and method == "cgan":
        # Each class is a tenth of the data, few enough for the discriminator to memorise, and the generator
        # then draws one image per class: augmentation lifted the digits recipe's recall from 0.17x to 0.79x
        # its baseline, packing only to 0.38x (docs/RESULTS.md).
        remedies.append("train again with the small-data aids (the small-data preset: the discriminator sees "
                        "augmented images, so it cannot memorise each class's few images)")
    remedies.append("or train again with another seed")
    return "; ".join(remedies)


def thumbnails(images: torch.Tensor) -> torch.Tensor:
    """N×C×H×W images (uint8, or float in [-1, 1] as generated) as N flattened 8×8 thumbnails in [-1, 1],
    float32 on the CPU."""
    images = images.float() / 127.5 - 1 if images.dtype == torch.uint8 else images.float()
    return PixelFeatures(THUMBNAIL_SIDE, images.device)(images).cpu()


def duplicate_groups(features: torch.Tensor, within: float) -> list[list[int]]:
    """Groups (two or more) of rows closer than `within` to another row of the group, largest first."""
    close = torch.cdist(features.double(), features.double()) < within
    parent = list(range(features.shape[0]))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in torch.nonzero(torch.triu(close, diagonal=1)).tolist():
        parent[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for i in range(features.shape[0]):
        groups.setdefault(root(i), []).append(i)
    return sorted((g for g in groups.values() if len(g) > 1), key=lambda g: (-len(g), g[0]))


def generated_part(preview: torch.Tensor, layout: str) -> torch.Tensor:
    """The generated images of a preview batch laid out as a method's `preview_layout` says: the
    batch itself, the right half of each input | output pair, or every second image of interleaved
    (reference, sample) pairs. Sample i is shown in cell `preview_cell(i, layout)`."""
    if layout == "pairs-side-by-side":
        return preview[..., preview.shape[-1] // 2:]
    if layout == "pairs-interleaved":
        return preview[1::2]
    return preview


def preview_cell(i: int, layout: str) -> int:
    """The grid cell showing generated image i of `generated_part(preview, layout)`."""
    return 2 * i + 1 if layout == "pairs-interleaved" else i


class CollapseMonitor:
    """Call with (step, samples) at each sample interval; returns a `Collapse` when one is called."""

    def __init__(self, real: torch.Tensor, threshold: float = 0.25, warmup: int = 500, patience: int = PATIENCE,
                 partial_threshold: float = DEFAULT_THRESHOLD):
        if real.shape[0] < 2:
            raise MetricError(f"the collapse monitor needs at least 2 real images, got {real.shape[0]}")
        real_features = thumbnails(real).double()
        self.real_spread = mean_pairwise_distance(real_features)
        if self.real_spread <= 0:
            raise MetricError("the real images are all identical, so diversity has no scale")
        self.threshold = threshold
        self.warmup = warmup
        self.patience = patience
        self.low: list[int] = []  # steps of the current run of low intervals
        self.flagged = False
        self.last_ratio: float | None = None
        self.last: tuple[int, torch.Tensor, str, int] | None = None  # (step, features, layout, cells) of the last call
        apart = torch.cdist(real_features, real_features)
        apart.fill_diagonal_(float("inf"))
        # Nearest-duplicate pairs of samples are closer than 9 in 10 real images are to any other of the batch.
        self.real_close = float(apart.min(1).values.quantile(CLOSE_QUANTILE))
        self.partial = PartialCollapseJudge(partial_threshold, warmup)

    def __call__(self, step: int, preview: torch.Tensor, layout: str = "samples") -> Collapse | None:
        """Judge this interval's preview batch (laid out as `layout`); the Collapse's duplicates are grid cells."""
        features = thumbnails(generated_part(preview, layout))
        ratio = mean_pairwise_distance(features) / self.real_spread
        self.last_ratio = ratio
        self.last = (step, features, layout, len(preview))
        if ratio >= self.threshold:
            self.low, self.flagged = [], False  # varied again: a later collapse is a new one
            return None
        if step < self.warmup:
            return None
        self.low.append(step)
        if self.flagged or len(self.low) < self.patience:
            return None
        self.flagged = True
        # Near-duplicates: pairs closer than the threshold's share of a typical real pair.
        groups = [[preview_cell(i, layout) for i in group]
                  for group in duplicate_groups(features, self.threshold * self.real_spread)]
        return Collapse(step, ratio, self.threshold, self.low[0], groups, len(features), len(preview))

    def judge_evaluation(self, step: int, metrics: list) -> PartialCollapse | None:
        """The partial-collapse judge's call on an evaluation's metrics, with the nearest-duplicate pairs of
        the latest sample grid; None while a total collapse is called, which says more."""
        partial = self.partial(step, metrics)
        return None if self.flagged else self._with_pairs(partial)

    def verdict(self) -> Collapse | PartialCollapse | None:
        """At the run's end: a collapse when the last samples (or the last evaluation) judged past the
        warm-up were collapsed and none is called yet; without the patience."""
        collapsed = self.last is not None and self.last_ratio < self.threshold and self.last[0] >= self.warmup
        if collapsed and not self.flagged:
            self.flagged = True
            last_step, features, layout, cells = self.last
            groups = [[preview_cell(i, layout) for i in group]
                      for group in duplicate_groups(features, self.threshold * self.real_spread)]
            return Collapse(last_step, self.last_ratio, self.threshold, self.low[0] if self.low else last_step, groups,
                            len(features), cells, final=True)
        partial = self.partial.verdict()
        return None if self.flagged else self._with_pairs(partial)

    def _with_pairs(self, partial: PartialCollapse | None) -> PartialCollapse | None:
        if partial is not None and self.last is not None:
            grid_step, features, layout, cells = self.last
            partial.duplicates = [[preview_cell(i, layout), preview_cell(j, layout)]
                                  for i, j in nearest_pairs(features, self.real_close)]
            partial.cells, partial.grid_step = cells, grid_step
        return partial


def nearest_pairs(features: torch.Tensor, closer_than: float, most: int = NEAREST_PAIRS) -> list[tuple[int, int]]:
    """The (at most `most`) pairs of rows nearest to each other, of those closer than `closer_than`, nearest first."""
    x = features.double()
    i, j = torch.triu_indices(x.shape[0], x.shape[0], offset=1)
    apart = torch.cdist(x, x)[i, j]
    close = apart < closer_than
    order = apart[close].argsort()[:most]
    return list(zip(i[close][order].tolist(), j[close][order].tolist(), strict=True))


def collapse_monitor_for(cfg, dataset) -> CollapseMonitor | None:
    """The monitor for a run (a `RunConfig`) on `dataset`, or None when it is switched off or has
    nothing to judge: 2-D points, a fixed batch of fewer than MIN_SAMPLES images, real images that
    are all the same."""
    if not cfg.collapse_check or not dataset.is_images or cfg.fixed_samples < MIN_SAMPLES:
        return None
    # Translation methods generate the second domain: their samples are compared with its images.
    real = dataset.data if dataset.kind == DatasetKind.IMAGES else dataset.targets
    if real is None or len(real) < 2:
        return None
    pick = torch.randperm(len(real), generator=torch.Generator().manual_seed(cfg.seed + 3))[:cfg.fixed_samples]
    try:
        return CollapseMonitor(real[pick], cfg.collapse_threshold, cfg.collapse_warmup,
                               partial_threshold=cfg.partial_threshold)
    except MetricError:
        return None  # real images without variety (one image, repeated): nothing to compare with
