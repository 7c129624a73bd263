"""The in-training evaluator: `make_evaluator(cfg, dataset, device)` gives the trainer a callable
`evaluator(method, step) -> list[Metric]`, run at every step `cfg.evaluates_at`.

- 2-D point sets: mode coverage on 2,500 samples (the benchmark protocol), whatever eval_metrics says.
- Images: the metrics named in `cfg.eval_metrics` ("kid", "fid", "diversity") on `cfg.eval_samples`
  samples. Without the Inception weights FID/KID are skipped and the diversity score (with a
  fallback feature extractor) stands in, with the reason in its first Metric's extra["message"].
- Images, every `cfg.prdc_every` steps (on by default) and once more when the run ends: precision,
  recall, density and coverage in the same features as the diversity score, each Metric with its k,
  N, the features' name and the real-vs-real baseline (`metrics/real_features.py`) in its extra. The
  trainer hands them to the collapse monitor's partial-collapse judge. The trainer calls the
  evaluator at both intervals; each evaluator measures what is due at the step it is given.
- A sharp fall in diversity, classes or modes covered adds a Metric named "alert" whose
  extra["message"] says "possible mode collapse at step N: ..." (worded as the live monitor words its
  collapses: metrics/collapse.py's collapse_message); the trainer turns it into a Status("alert").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from ..data.dataset import Dataset, DatasetKind
from ..methods.base import Method
from ..metrics.collapse import collapse_message
from ..metrics.coverage import PROTOCOL_SAMPLES, mode_coverage
from ..metrics.diversity import (
    ClassifierFeatures,
    class_histogram,
    classes_covered,
    diversity_features,
    diversity_score,
    has_single_labels,
    label_classifier,
    mean_pairwise_distance,
)
from ..metrics.errors import MetricError
from ..metrics.features import (
    FeatureExtractor,
    InceptionFeatures,
    dataset_batches,
    extract,
    generated_batches,
    sample_labels,
    to_unit_rgb,
)
from ..metrics.frechet import frechet_distance
from ..metrics.inception import find_weights, missing_weights_message
from ..metrics.kid import kernel_inception_distance
from ..metrics.real_features import RealReference, real_reference
from ..metrics.stats import Statistics, real_statistics
from .config import RunConfig
from .events import Metric

KNOWN = ("kid", "fid", "coverage", "diversity")
BATCH = 100
COLLAPSE_RATIO = 0.5  # alert when diversity falls below this share of its best, or coverage to half
Evaluator = Callable[[Method, int], list[Metric]]


def make_evaluator(cfg: RunConfig, dataset: Dataset, device: torch.device) -> Evaluator | None:
    """The evaluator for this run's config and data, or None when there is nothing to measure."""
    wanted = [m.strip().lower() for m in cfg.eval_metrics]
    unknown = [m for m in wanted if m not in KNOWN]
    if unknown:
        raise MetricError(f"eval_metrics: unknown {', '.join(unknown)}; choose from {', '.join(KNOWN)}")
    if not dataset.is_images:
        if dataset.modes is None or not cfg.eval_every:
            return None
        return PointsEvaluator(dataset, seed=cfg.seed, every=cfg.eval_every)
    image_metrics = [m for m in wanted if m != "coverage"] if cfg.eval_every else []
    if not image_metrics and not cfg.prdc_every:
        return None
    return ImageEvaluator(dataset, image_metrics, cfg.eval_samples, device, seed=cfg.seed, every=cfg.eval_every,
                          prdc_every=cfg.prdc_every)


@dataclass
class CollapseWatch:
    """Remembers the best diversity and coverage so far and words an alert on a sharp fall (once per fall)."""

    best_diversity: float = 0.0
    best_covered: int = 0
    best_step: int = 0
    alerting: bool = False
    reasons: list[str] = field(default_factory=list)

    def check(self, step: int, diversity: float | None = None, covered: int | None = None, of: int = 0,
              what: str = "classes") -> str | None:
        """The alert message if this evaluation shows a collapse that the previous one did not."""
        reasons = []
        if diversity is not None:
            if diversity < COLLAPSE_RATIO * self.best_diversity:
                reasons.append(f"diversity {diversity:.2f} is below half its best ({self.best_diversity:.2f})")
            # More varied than the data is not better (early noise is very varied): cap the best at 1.
            self.best_diversity = max(self.best_diversity, min(diversity, 1.0))
        if covered is not None:
            if self.best_covered >= 2 and covered <= self.best_covered * COLLAPSE_RATIO:
                reasons.append(f"{what} covered fell to {covered} of {of} (best {self.best_covered})")
            self.best_covered = max(self.best_covered, covered)
        was, self.alerting = self.alerting, bool(reasons)
        if reasons and not was:
            return collapse_message(step, reasons)
        return None


def alert_metric(step: int, message: str) -> Metric:
    """The Metric the trainer turns into a Status("alert")."""
    return Metric(step, "alert", 1.0, 0, {"message": message})


class PointsEvaluator:
    """Mode coverage of 2,500 generated points (modes covered, share of high-quality points)."""

    def __init__(self, dataset: Dataset, seed: int = 0, every: int = 1):
        self.modes = dataset.modes
        self.std = dataset.mode_std
        self.seed = seed + 2  # its own latents, fixed across evaluations
        self.every = every
        self.watch = CollapseWatch()

    def __call__(self, method: Method, step: int) -> list[Metric]:
        if step % self.every:
            return []  # the trainer also calls at the image-only precision/recall interval
        points = torch.cat([b.float().cpu() for b in generated_batches(method, PROTOCOL_SAMPLES, 500, self.seed)])
        cov = mode_coverage(points, self.modes, self.std)
        metrics = [Metric(step, "modes_covered", float(cov.modes_covered), cov.n, {"of": cov.modes, "counts": cov.counts}),
                   Metric(step, "high_quality", cov.high_quality, cov.n)]
        message = self.watch.check(step, covered=cov.modes_covered, of=cov.modes, what="modes")
        return metrics + ([alert_metric(step, message)] if message else [])


class ImageEvaluator:
    """KID / FID against the real images and the diversity monitor on n generated images every `every`
    steps (the metrics in `wanted`), and precision, recall, density and coverage every `prdc_every` steps
    against the real-vs-real baseline."""

    def __init__(self, dataset: Dataset, wanted: list[str], n: int, device: torch.device, seed: int = 0,
                 every: int = 1, prdc_every: int = 0):
        self.dataset = dataset
        # Translation methods generate the second domain: compare with the targets.
        self.real = dataset.data if dataset.kind == DatasetKind.IMAGES else dataset.targets
        self.wanted = wanted
        self.n = n
        self.device = device
        self.seed = seed + 2
        self.every = every if wanted else 0
        self.prdc_every = prdc_every
        self.watch = CollapseWatch()
        self.note = ""  # said once, on the first metric of the first evaluation
        self.prdc_problem = ""  # why precision/recall cannot be measured on this data: said once, as an alert
        self.last_prdc_step: int | None = None
        self._ready = False

    # --- set-up on the first evaluation (it can take a while; the trainer is already running) ---
    def _setup(self) -> None:
        wants_inception = any(m in self.wanted for m in ("kid", "fid"))
        weights = find_weights() if wants_inception or self.prdc_every else None
        self.inception: InceptionFeatures | None = InceptionFeatures(weights, self.device) if weights else None
        self.show_diversity = "diversity" in self.wanted or (wants_inception and self.inception is None)
        if wants_inception and self.inception is None:
            self.note = f"{missing_weights_message()}; showing the diversity score instead"
        self.classifier: ClassifierFeatures | None = None
        if self.show_diversity and has_single_labels(self.dataset):
            self.classifier = label_classifier(self.dataset, self.device)
        real_set = Dataset(self.dataset.source, DatasetKind.IMAGES, self.real)
        if self.dataset.kind == DatasetKind.IMAGES:
            real_set.labels, real_set.label_names = self.dataset.labels, self.dataset.label_names
            real_set.multi_label = self.dataset.multi_label
            if self.dataset.stream_paths is not None:
                real_set = self.dataset  # streamed: its files (data holds only a preview), decoded as read
        elif self.dataset.kind == DatasetKind.PAIRED and self.dataset.labels is not None:
            # A translator's real images are the targets, labelled as their pairs: their classifier, not the inputs'.
            real_set.labels, real_set.label_names = self.dataset.labels, self.dataset.label_names
        # Diversity and precision/recall share one choice: Inception, else the classifier, else shrunken pixels.
        self.features: FeatureExtractor = (self.inception or self.classifier
                                           or diversity_features(real_set, self.device))
        self.real_stats: Statistics | None = None
        if self.inception is not None and wants_inception:
            self.real_stats = real_statistics(real_set, self.inception, n=self.n, seed=self.seed, batch_size=BATCH,
                                              keep_features="kid" in self.wanted or self.show_diversity)
        if self.show_diversity:
            if self.features is self.inception and self.real_stats is not None:
                real_feats = self.real_stats.features
            else:
                real_feats = extract(self.features, dataset_batches(real_set, BATCH, min(self.n, 2000), self.seed))
            self.real_spread = mean_pairwise_distance(real_feats)
        self.reference: RealReference | None = None
        if self.prdc_every:
            try:
                self.reference = real_reference(real_set, self.features, self.n, batch_size=BATCH)
            except MetricError as exc:
                self.prdc_problem = f"precision, recall, density and coverage are not measured: {exc}"
        self._ready = True

    def __call__(self, method: Method, step: int) -> list[Metric]:
        main = bool(self.every) and step % self.every == 0
        return self.evaluate(method, step, main, bool(self.prdc_every) and step % self.prdc_every == 0)

    def final(self, method: Method, step: int) -> list[Metric]:
        """The end-of-run evaluation: precision, recall, density and coverage at `step` unless measured there."""
        if not self.prdc_every or self.last_prdc_step == step:
            return []
        return self.evaluate(method, step, False, True)

    def evaluate(self, method: Method, step: int, main: bool, prdc_due: bool) -> list[Metric]:
        """The metrics of `wanted` (`main`) and precision, recall, density and coverage (`prdc_due`) at `step`."""
        if not main and not prdc_due:
            return []
        if not self._ready:
            self._setup()
        said: list[Metric] = []
        if prdc_due and self.prdc_problem:  # said once; the figures are off for the rest of the run
            said.append(alert_metric(step, self.prdc_problem))
            self.prdc_problem, self.prdc_every, prdc_due = "", 0, False
            if not main:
                return said
        if prdc_due:
            self.last_prdc_step = step
        wants_inception = main and self.real_stats is not None
        wants_features = (main and self.show_diversity) or prdc_due
        # Precision and recall alone use as many samples as the real halves hold: no more are drawn.
        n = self.n if main else min(self.n, self.reference.n)
        labels = sample_labels(method, n, self.dataset, self.seed)
        reference = self.dataset.data if method.needs_reference else None
        inception_feats, feats, predictions = [], [], []
        for batch in generated_batches(method, n, BATCH, self.seed, labels, reference):
            images = to_unit_rgb(batch.to(self.device))  # every extractor lives on self.device
            if self.inception is not None and (wants_inception or (wants_features and self.features is self.inception)):
                inception_feats.append(self.inception(images).float().cpu())
            if wants_features and self.features is not self.inception:
                feats.append(self.features(images).float().cpu())
            if main and self.classifier is not None:
                predictions.append(self.classifier.predict(images).cpu())
        metrics: list[Metric] = []
        if wants_inception:
            metrics += self._inception_metrics(step, torch.cat(inception_feats))
        generated = torch.cat(inception_feats if self.features is self.inception else feats) if wants_features else None
        diversity = covered = None
        if main and self.show_diversity:
            diversity = diversity_score(generated, self.real_spread)
            metrics.append(Metric(step, "diversity", diversity, self.n, {"features": self.features.name}))
        if main and self.classifier is not None:
            histogram = class_histogram(torch.cat(predictions), self.classifier.classes)
            covered = classes_covered(histogram)
            metrics.append(Metric(step, "classes_covered", float(covered), self.n,
                                  {"histogram": histogram, "of": self.classifier.classes,
                                   "classifier_accuracy": round(self.classifier.accuracy, 4)}))
        if prdc_due:
            metrics += self._prdc_metrics(step, generated)
        if self.note and metrics:
            metrics[0].extra["message"], self.note = self.note, ""
        message = None
        if main:
            message = self.watch.check(step, diversity, covered, self.classifier.classes if self.classifier else 0)
        return said + metrics + ([alert_metric(step, message)] if message else [])

    def _prdc_metrics(self, step: int, generated: torch.Tensor) -> list[Metric]:
        """Precision, recall, density and coverage with their k, N, features and real-vs-real baseline."""
        ref = self.reference
        try:
            figures = ref.measure(generated)
        except MetricError as exc:  # NaN features from a broken generator: said, not a crash
            return [alert_metric(step, f"precision, recall, density and coverage not measured at step {step}: {exc}")]
        baseline = ref.baseline.as_dict()
        return [Metric(step, name, value, figures.n_generated,
                       {"k": figures.k_of(name), "baseline": round(baseline[name], 6), "n_real": figures.n_real,
                        "features": ref.features})
                for name, value in figures.as_dict().items()]

    def _inception_metrics(self, step: int, generated: torch.Tensor) -> list[Metric]:
        real, n_real = self.real_stats, self.real_stats.n
        out = []
        if "kid" in self.wanted:
            mean, std = kernel_inception_distance(generated, real.features, device=self.device)
            out.append(Metric(step, "kid", mean, self.n, {"kid_std": std, "n_real": n_real}))
        if "fid" in self.wanted:
            gen = Statistics.of(generated)
            out.append(Metric(step, "fid", frechet_distance(gen.mu, gen.sigma, real.mu, real.sigma, self.device),
                              self.n, {"n_real": n_real}))
        return out
