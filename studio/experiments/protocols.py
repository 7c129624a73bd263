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
from ..methods.translation import TranslationMethod
from ..metrics.coverage import jsd_to_uniform, mode_coverage
from ..metrics.diversity import ClassifierFeatures, class_histogram, classes_covered, diversity_score
from ..metrics.errors import MetricError
from ..metrics.features import pick_indices, to_unit_rgb

# figure name -> (label in the report, unit)
METRICS = {
    "modes": ("modes covered", ""),
    "high_quality": ("high-quality samples", "%"),
    "jsd": ("JSD of the mode histogram to uniform", "nats"),
    "accuracy": ("samples drawn as the asked class", "%"),
    "classes_covered": ("classes covered (≥ a fifth of a fair share each: 2% of the samples among 10)", ""),
    "class_tv": ("class histogram's total variation from uniform", "%"),
    "class_jsd": ("class histogram's JSD to uniform", "nats"),
    "diversity": ("diversity (mean pairwise classifier-feature distance) / real's", "× real"),
    "nearest_real": ("distance to the nearest training image / real's (0: copies)", "× real"),
    "reconstruction_error": ("held-out reconstruction error, mean |Δ| of [0, 1] pixels", "L1"),
    "reconstruction_accuracy": ("held-out reconstructions read as their digit", "%"),
    "translation_accuracy": ("held-out translations read as the source's digit", "%"),
    "input_accuracy": ("held-out inputs, untranslated, read as their digit (baseline)", "%"),
    "translation_error": ("held-out translation error to the true target, mean |Δ|", "L1"),
    "input_error": ("held-out inputs' error to the true target (baseline)", "L1"),
    "target_accuracy": ("held-out true targets read as their digit (the ceiling)", "%"),
    # k differs by protocol (digits: 3 for precision and recall, 5 for density and coverage; small-data: 5
    # for all four, as the prdc package): each evaluation's details say which.
    "precision": ("precision: samples within the real images' k-NN balls", "share"),
    "recall": ("recall: real images within the samples' k-NN balls", "share"),
    "density": ("density: real k-NN balls holding each sample, / k", "balls / k"),
    "coverage": ("coverage: real images with a sample inside their k-NN ball", "share"),
    "precision_baseline": ("precision of real digits against real digits (the baseline)", "share"),
    "recall_baseline": ("recall of real digits against real digits (the baseline)", "share"),
    "density_baseline": ("density of real digits against real digits (the baseline)", "balls / k"),
    "coverage_baseline": ("coverage of real digits against real digits (the baseline)", "share"),
    "fid": ("FID (Inception), N = the samples", ""),
    "kid": ("KID (Inception) × 1000", ""),
    "judge_accuracy": ("judging classifier, held-out real digits", "%"),
    "two_sample": ("real-vs-generated classifier, held-out accuracy (50: indistinguishable)", "%"),
    "feature_accuracy": ("feature classifier, held-out real images", "%"),
}
# A run with an averaged generator is judged from it, and from its raw generator too (experiments/runner.py).
RAW = "_raw"
METRICS.update({f"{name}{RAW}": (f"{label} — raw generator", unit) for name, (label, unit) in list(METRICS.items())
                if name not in ("judge_accuracy", "feature_accuracy", "input_accuracy", "input_error",
                                "target_accuracy")})
NEAREST_K = 5  # PRDC's k (Naeem et al. 2020 recommend 5)
TWO_SAMPLE_FOLDS = 5
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



BATCH = 250  # samples drawn per forward pass


def _judge(dataset: Dataset, device: torch.device) -> ClassifierFeatures:
    from ..metrics.diversity import label_classifier

    return label_classifier(dataset, device=device, steps=JUDGE_STEPS)


def _pixels(images: torch.Tensor) -> torch.Tensor:
    """Images (uint8, or float in [-1, 1]) as float rows of [0, 1] pixels."""
    return to_uint8(images).flatten(1).float().div_(255.0)


def _distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    # Exact differences, not the |a|²+|b|²-2ab shortcut, whose rounding would hide a copy's zero.
    return torch.cdist(a, b, compute_mode="donot_use_mm_for_euclid_dist")


def nearest_real_ratio(images: torch.Tensor, train: torch.Tensor, seed: int = 0) -> float:
    """Mean pixel distance from each image to its nearest training image, over the same for real images:
    training images to their nearest *other* training image (leave one out, which is what a fresh real
    image scores in expectation). About 1 for new images drawn like the data, 0 for copies."""
    train_rows = _pixels(train)
    own = pick_indices(len(train_rows), min(len(images), len(train_rows)), seed)
    loo = _distances(train_rows[own], train_rows)
    loo[torch.arange(len(own)), own] = float("inf")
    reference = float(loo.min(1).values.mean())
    if reference <= 0:
        raise MetricError("every training image has an exact duplicate, so nearest-real distance has no scale")
    generated = torch.cat([_distances(part, train_rows).min(1).values for part in _pixels(images).split(BATCH)])
    return float(generated.mean()) / reference


def sample_figures(images: torch.Tensor, judge: ClassifierFeatures, train: torch.Tensor, seed: int = 0) -> dict[str, float]:
    """The unconditional figures of n samples: classes covered (metrics/diversity.py's rule), the class histogram's
    distance to uniform, diversity in the judge's features relative to as many training images, and the
    nearest-training-image distance relative to real images'."""
    unit = to_unit_rgb(images.cpu())
    histogram = class_histogram(judge.predict(unit.to(judge.device)), judge.classes)
    n, k = len(images), judge.classes
    share = np.asarray(histogram, dtype=np.float64) / n
    real = train[pick_indices(len(train), min(n, len(train)), seed)]
    diversity = diversity_score(judge(unit.to(judge.device)).cpu(), judge(to_unit_rgb(real).to(judge.device)).cpu())
    return {"classes_covered": float(classes_covered(histogram)),
            "class_tv": 100.0 * 0.5 * float(np.abs(share - 1.0 / k).sum()), "class_jsd": jsd_to_uniform(histogram),
            "diversity": diversity, "nearest_real": nearest_real_ratio(images, train, seed),
            "histogram": histogram}


def _read(judge: ClassifierFeatures, images: torch.Tensor, labels: torch.Tensor) -> float:
    """The share (%) of images the judge names as their label."""
    return 100.0 * float((judge.predict(to_unit_rgb(images.cpu()).to(judge.device)).cpu() == labels).float().mean())


def _generate(method: Method, n: int, seed: int, asked: torch.Tensor | None, references: torch.Tensor) -> torch.Tensor:
    z = _latents(method, n, seed)
    cond = condition_vectors(asked, method.spec, method.device) if asked is not None else None
    out = []
    for i in range(0, n, BATCH):
        ref = references[i:i + BATCH].float().div(127.5).sub(1).to(method.device) if method.needs_reference else None
        out.append(method.sample(z[i:i + BATCH], None if cond is None else cond[i:i + BATCH], ref).cpu())
    return torch.cat(out)


def _inception_figures(images: torch.Tensor, dataset: Dataset, device: torch.device) -> tuple[dict[str, float], str]:
    """FID and KID of the samples against as many real images, when pytorch-fid's weights are present."""
    from ..metrics import Statistics, extract, frechet_distance, kernel_inception_distance, real_statistics
    from ..metrics.features import InceptionFeatures, tensor_batches
    from ..metrics.inception import find_weights, missing_weights_message

    weights = find_weights()
    if weights is None:
        return {}, f"FID/KID not measured: {missing_weights_message()}"
    extractor = InceptionFeatures(weights, device)
    real = real_statistics(dataset, extractor, n=len(images), keep_features=True)
    fake = extract(extractor, tensor_batches(images, 50), len(images))
    stats = Statistics.of(fake)
    kid, _ = kernel_inception_distance(fake, real.features)
    return ({"fid": frechet_distance(real.mu, real.sigma, stats.mu, stats.sigma), "kid": 1000.0 * kid},
            f"FID/KID on {len(images):,} samples against {real.n:,} real images")


def _prdc_figures(images: torch.Tensor, dataset: Dataset, judge: ClassifierFeatures,
                  device: torch.device) -> tuple[dict[str, float], str]:
    """Precision and recall (k=3), density and coverage (k=5) of the samples against one half of the training
    digits, and of the other half against it (the real-vs-real baseline): in Inception's features where
    pytorch-fid's weights are present, else in the judge's."""
    from ..metrics.features import InceptionFeatures, extract, tensor_batches
    from ..metrics.inception import find_weights
    from ..metrics.real_features import real_reference

    weights = find_weights()
    extractor = InceptionFeatures(weights, device) if weights is not None else judge
    reference = real_reference(dataset, extractor, len(images), batch_size=BATCH)
    figures = reference.measure(extract(extractor, tensor_batches(images, BATCH), len(images)))
    baseline = {f"{name}_baseline": value for name, value in reference.baseline.as_dict().items()}
    return ({**figures.as_dict(), **baseline},
            f"precision and recall (k={figures.k_precision_recall}), density and coverage "
            f"(k={figures.k_density_coverage}) in {extractor.name} features: {figures.n_generated:,} samples against "
            f"{figures.n_real:,} training digits; the baseline is the other {figures.n_real:,} against the same")


def _translation(method: TranslationMethod, dataset: Dataset, seed: int) -> Evaluation:
    """Translate the held-out digits' ink forms (never trained on) to real digits; the judge, trained on
    real digits, must name each translation as its source's digit. The untranslated inputs are the baseline."""
    from ..data import open_dataset
    from ..data.sources.sklearn_digits import TRAIN_DIGITS, held_out_digits

    real = open_dataset("sklearn:digits", size=dataset.image_size, channels=dataset.channels, count=TRAIN_DIGITS)
    judge = _judge(real, method.device)
    held = held_out_digits(dataset.image_size, dataset.channels)
    inputs = held.data.float().div(127.5).sub(1)
    out = torch.cat([method.translate(part.to(method.device)).cpu() for part in inputs.split(BATCH)])
    truth = _pixels(held.targets)
    shown = torch.cat([torch.cat([held.data[i:i + 10], to_uint8(out[i:i + 10]), held.targets[i:i + 10]]) for i in (0, 10, 20)])
    return Evaluation(
        metrics={"translation_accuracy": _read(judge, out, held.labels), "input_accuracy": _read(judge, held.data, held.labels),
                 "target_accuracy": _read(judge, held.targets, held.labels),
                 "translation_error": float((_pixels(out) - truth).abs().mean()),
                 "input_error": float((_pixels(held.data) - truth).abs().mean()), "judge_accuracy": 100.0 * judge.accuracy},
        pictures={"samples.png": png_bytes(image_grid(shown, columns=10))},
        samples=to_uint8(out).numpy(),
        details={"held_out": len(held), "picture_rows": "input, translation, true target; three times"},
    )


def digits(method: Method, dataset: Dataset, n: int, seed: int) -> Evaluation:
    """The digits table's one protocol, whatever the method: n samples (1,000; an equal share asked of each
    class for a conditional model) judged by a classifier trained on the real digits (`sample_figures`,
    and the conditional accuracy); reconstructions of the held-out digits for a method with an encoder;
    translations of them for pix2pix and CycleGAN; precision, recall, density and coverage against the
    training digits with their real-vs-real baseline (`_prdc_figures`); FID/KID where the Inception weights
    are present."""
    if isinstance(method, TranslationMethod):
        return _translation(method, dataset, seed)
    from ..data.sources.sklearn_digits import TRAIN_DIGITS, held_out_digits

    judge = _judge(dataset, method.device)
    asked = torch.arange(n) % judge.classes if method.conditional else None
    references = dataset.data[pick_indices(len(dataset.data), n, seed)]
    references = references[torch.arange(n) % len(references)]
    images = _generate(method, n, seed, asked, references)
    figures = sample_figures(images, judge, dataset.data, seed)
    metrics = {k: v for k, v in figures.items() if k != "histogram"}
    details = {"histogram": dict(zip(dataset.label_names, figures["histogram"], strict=True))}
    order = torch.arange(min(n, 100))
    if asked is not None:
        metrics["accuracy"] = _read(judge, images, asked)
        order = torch.cat([torch.nonzero(asked == c)[:10, 0] for c in range(judge.classes)])  # a row per class
        details["picture_rows"] = list(range(judge.classes))
    if method.needs_reference:
        details["references"] = "each sample varies a random training image (the method needs one)"
    if method.has_encoder:
        held = held_out_digits(dataset.image_size, dataset.channels)
        x = held.targets.float().div(127.5).sub(1)
        cond = held.labels if method.conditional else None
        recon = torch.cat([method.reconstruct(part.to(method.device), None if cond is None else cond[i * BATCH:(i + 1) * BATCH]).cpu()
                           for i, part in enumerate(x.split(BATCH))])
        metrics["reconstruction_error"] = float((_pixels(recon) - _pixels(held.targets)).abs().mean())
        metrics["reconstruction_accuracy"] = _read(judge, recon, held.labels)
        details["held_out"] = f"the last {len(held)} digits" + (
            " (also in this run's training set)" if dataset.source == "sklearn:digits" and len(dataset) > TRAIN_DIGITS else "")
    inception, details["fid"] = _inception_figures(images, dataset, method.device)
    prdc_figures, details["prdc"] = _prdc_figures(images, dataset, judge, method.device)
    metrics.update(inception, **prdc_figures, judge_accuracy=100.0 * judge.accuracy)
    return Evaluation(metrics=metrics, pictures={"samples.png": png_bytes(image_grid(images[order], columns=10))},
                      samples=to_uint8(images).numpy(), details=details)


def reference_images(dataset: Dataset) -> Dataset:
    """The real images samples are judged against: for a part of scikit-learn's digits (the 10% a small-data
    run learns from), the 1,617 training digits it was taken from — the distribution, not only the few
    seen; for any other dataset, the images themselves."""
    from ..data import open_dataset
    from ..data.sources.sklearn_digits import TRAIN_DIGITS

    if dataset.source == "sklearn:digits" and len(dataset) < TRAIN_DIGITS:
        return open_dataset("sklearn:digits", size=dataset.image_size, channels=dataset.channels, count=TRAIN_DIGITS)
    return dataset


def prdc(real: np.ndarray, fake: np.ndarray, k: int = NEAREST_K) -> dict[str, float]:
    """Precision, recall, density and coverage (Naeem, Oh, Uh, Choi & Yoo 2020) of `fake` against `real`
    features, all four with one k as the authors' `prdc` package computes them (studio.metrics.prdc, checked
    against that package in tests/test_metrics_prdc.py)."""
    from ..metrics.prdc import prdc as measure

    return measure(real, fake, k_precision_recall=k, k_density_coverage=k).as_dict()


def two_sample_accuracy(real: np.ndarray, fake: np.ndarray, seed: int = 0) -> float:
    """A classifier two-sample test (Lopez-Paz & Oquab 2017): logistic regression on standardised features
    told real from generated, its accuracy (%) on held-out folds (5-fold cross-validation); 50 means it
    cannot tell them apart, 100 that every sample gives itself away."""
    try:
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold, cross_val_score
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
    except ImportError:
        raise MetricError("the two-sample test needs scikit-learn: pip install scikit-learn") from None
    x = np.concatenate([real, fake]).astype(np.float64)
    y = np.concatenate([np.ones(len(real)), np.zeros(len(fake))])
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
    folds = StratifiedKFold(TWO_SAMPLE_FOLDS, shuffle=True, random_state=seed)
    return 100.0 * float(cross_val_score(model, x, y, cv=folds, scoring="accuracy").mean())


def small_data(method: Method, dataset: Dataset, n: int, seed: int) -> Evaluation:
    """Issue 25's protocol for a generator trained on few images: m = min(n, real images) samples against as
    many real ones (`reference_images`), in the features of the classifier the diversity monitor uses (a
    small CNN trained on the real images' labels): precision, recall, density and coverage (k = 5), a
    two-sample classifier's held-out accuracy, diversity, and for labelled images the classes covered
    and the distance to the nearest training image."""
    reference = reference_images(dataset)
    judge = _judge(reference, method.device)
    m = min(n, len(reference))
    real = reference.data[pick_indices(len(reference.data), m, seed)]
    references = dataset.data[torch.arange(m) % len(dataset.data)]
    images = _generate(method, m, seed, None, references)
    real_feats = judge(to_unit_rgb(real).to(judge.device)).cpu().numpy()
    fake_feats = torch.cat([judge(to_unit_rgb(part).to(judge.device)).cpu() for part in images.split(BATCH)]).numpy()
    metrics = prdc(real_feats, fake_feats)
    metrics["two_sample"] = two_sample_accuracy(real_feats, fake_feats, seed)
    figures = sample_figures(images, judge, dataset.data, seed)
    metrics.update({k: v for k, v in figures.items() if k != "histogram"}, feature_accuracy=100.0 * judge.accuracy)
    details = {"real_images": len(reference), "samples": m, "features": "classifier (the diversity monitor's)",
               "histogram": dict(zip(reference.label_names, figures["histogram"], strict=True)),
               "prdc": f"studio.metrics.prdc (Naeem et al. 2020; equal to their prdc package), k = {NEAREST_K}"}
    return Evaluation(metrics=metrics, pictures={"samples.png": png_bytes(image_grid(images[:100], columns=10))},
                      samples=to_uint8(images).numpy(), details=details)


PROTOCOLS: dict[str, Callable[[Method, Dataset, int, int], Evaluation]] = {
    "mixture-2d": mixture_2d,
    "digits": digits,
    "small-data": small_data,
}
