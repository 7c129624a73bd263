"""The partial-collapse alarm: samples that are varied, even sharp, but reach only part of the data.

The live collapse monitor (collapse.py) calls a collapse onto essentially one image. A generator that
draws five of ten digits passes it (its samples vary), and FID folds that into one number with
quality. Recall (Kynkäänniemi et al. 2019: the share of real images inside the generated samples'
k-nearest-neighbour balls) and coverage (Naeem et al. 2020: the share of real images with a generated
sample inside their own ball) measure what is missing, and are read against what the data itself
scores: the real-vs-real baseline, one half of the real images measured against the other
(real_features.py).

    share = recall / baseline recall

The run is flagged when the share stays below `threshold` for PATIENCE evaluations running, after the
warm-up, and has stopped climbing (it rose less than RISING over those evaluations: a generator still
learning its classes is not a collapse); once per collapse (re-armed when it recovers). Coverage is reported beside it but not judged:
it asks each real image for a sample inside its own neighbourhood, so it falls with the samples'
quality as well as their variety. On the digits, healthy GANs drawing all ten classes in slightly
blurred strokes kept coverage at 0.40-0.54× its baseline, no higher than a generator of three
classes (0.31-0.36×), while their recall stayed at 0.87-1.02× against 0.00-0.33× for the partial
ones (docs/EVALUATION.md shows every measurement and the threshold chosen from them).

When a run ends (finished, time limit or stopped) past its warm-up, its last evaluation is judged
without the patience (`verdict`): a run shorter than warm-up plus patience still gets a verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .collapse_words import collapse_message

# Evaluations in a row below the threshold: a GAN still learning dipped for two (docs/EVALUATION.md).
PATIENCE = 3
DEFAULT_THRESHOLD = 0.6  # share of the real-vs-real recall (docs/EVALUATION.md shows the measurements)
# Still learning, not collapsed: the share rose at least this much over the PATIENCE low evaluations (the MLP
# GAN under bf16 climbed 0.03, 0.22, 0.55 and then sat at 0.74-0.81; collapsed runs rose 0.01 or fell).
RISING = 0.15
JUDGED = "recall"  # the figure whose share is judged
REPORTED = ("recall", "coverage")  # the figures the warning states, each beside its baseline


@dataclass
class PartialCollapse:
    """What the judge saw when it called a partial collapse: enough to word the warning."""

    step: int
    since: int  # the first evaluation of the run of low ones
    figures: dict[str, tuple[float, float]]  # name -> (value, real-vs-real baseline), for recall and coverage
    threshold: float
    features: str  # which features the figures were measured in
    n: int  # samples (and real images) each figure used
    k: dict[str, int]
    final: bool = False  # called by the end-of-run verdict
    duplicates: list[list[int]] = field(default_factory=list)  # nearest-duplicate pairs of grid cells
    cells: int = 0
    grid_step: int | None = None  # the step of the sample grid the pairs are on

    def share(self, name: str) -> float:
        value, baseline = self.figures[name]
        return value / baseline if baseline > 0 else 0.0

    @property
    def message(self) -> str:
        recall, recall_real = self.figures["recall"]
        parts = [f"the samples reach {recall:.0%} of the real images against {recall_real:.0%} for real images "
                 f"themselves (recall, {self.share('recall'):.2f}× the real-vs-real baseline)"]
        if "coverage" in self.figures:
            coverage, covered_real = self.figures["coverage"]
            parts.append(f"they cover {coverage:.0%} of the real images' neighbourhoods against {covered_real:.0%} "
                         f"(coverage, {self.share('coverage'):.2f}×)")
        parts.append(f"flagged below {self.threshold:g}× the baseline recall ({self.features} features, N={self.n:,})")
        return collapse_message(self.step, parts, kind="partial", final=self.final, since=self.since)

    def detail(self) -> dict[str, Any]:
        """The facts a view needs beyond the message (written to metrics.jsonl with the event)."""
        out: dict[str, Any] = {"kind": "partial", "since": self.since, "threshold": self.threshold,
                               "features": self.features, "n": self.n, "final": self.final,
                               "duplicates": self.duplicates, "cells": self.cells, "grid_step": self.grid_step}
        for name, (value, baseline) in self.figures.items():
            out[name] = round(value, 4)
            out[f"{name}_baseline"] = round(baseline, 4)
            out[f"k_{name}"] = self.k.get(name)
        return out


def judged_figures(metrics: list[Any]) -> dict[str, Any]:
    """The metrics (events with name, value, n, extra) the judge reads: recall and coverage with a baseline."""
    return {m.name: m for m in metrics if m.name in REPORTED and "baseline" in m.extra}


class PartialCollapseJudge:
    """Call with (step, an evaluation's metrics) at each evaluation; returns a `PartialCollapse` when one is
    called. `verdict()` at the end of a run judges the last evaluation without the patience."""

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, warmup: int = 500, patience: int = PATIENCE,
                 rising: float = RISING):
        self.threshold = threshold
        self.warmup = warmup
        self.patience = patience
        self.rising = rising
        # The current run of low evaluations past the warm-up: (step, share of the baseline) each.
        self.low: list[tuple[int, float]] = []
        self.flagged = False
        self.last: tuple[int, dict[str, Any]] | None = None  # the last evaluation judged: (step, figures)

    def __call__(self, step: int, metrics: list[Any]) -> PartialCollapse | None:
        """Judge one evaluation's metrics (None when they hold no recall with a baseline)."""
        figures = judged_figures(metrics)
        if JUDGED not in figures:
            return None
        self.last = (step, figures)
        judged = figures[JUDGED]
        baseline = float(judged.extra["baseline"])
        share = judged.value / baseline if baseline > 0 else 1.0
        if share >= self.threshold:
            self.low, self.flagged = [], False  # recovered: a later collapse is a new one
            return None
        if step < self.warmup:
            return None
        self.low.append((step, share))
        if self.flagged or len(self.low) < self.patience:
            return None
        if self.low[-1][1] - self.low[-self.patience][1] >= self.rising:
            return None  # still climbing towards the data: learning, not collapsed
        return self._called()

    def verdict(self) -> PartialCollapse | None:
        """At the run's end: a collapse when the last evaluation (past the warm-up) was low and none is called yet."""
        if self.flagged or self.last is None or not self.low or self.low[-1][0] != self.last[0]:
            return None
        return self._called(final=True)

    def _called(self, final: bool = False) -> PartialCollapse:
        self.flagged = True
        step, figures = self.last
        judged = figures[JUDGED]
        return PartialCollapse(
            step=step, since=self.low[0][0], threshold=self.threshold,
            figures={name: (float(m.value), float(m.extra["baseline"])) for name, m in figures.items()},
            features=str(judged.extra.get("features", "?")), n=int(judged.n),
            k={name: int(m.extra.get("k", 0)) for name, m in figures.items()}, final=final,
        )
