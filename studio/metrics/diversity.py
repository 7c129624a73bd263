"""The mode-collapse monitor for images: a diversity score and, for labelled sets, a class histogram.

- Diversity = mean pairwise feature distance of generated samples / that of real samples:
  about 1 when the samples vary as much as the data, near 0 when they collapse onto one image.
- A small classifier, trained once on the dataset's own labels and cached by the dataset's
  fingerprint, names the class of each generated sample; a class counts as covered when it gets
  at least a fifth of its fair share (n / K / 5, and at least one sample): `classes_covered`, the one
  rule, for the in-training monitor and the experiments' protocols alike (2% of the samples among 10).
"""

from __future__ import annotations

import hashlib
import io
import pickle
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..data.dataset import Dataset
from ..data.options import cache_root
from ..fileio import atomic_write_bytes
from .errors import MetricError
from .features import FeatureExtractor, PixelFeatures, to_unit_rgb
from .stats import dataset_fingerprint

PAIRS_MAX = 2000  # rows used for the pairwise mean: O(n²) memory beyond this buys nothing
CLASSIFIER_SIDE = 16
CLASSIFIER_STEPS = 300
CLASSIFIER_VERSION = "v1"  # bump when the architecture or training changes: old cache files go stale
FAIR_SHARE = 0.2  # a class is covered by a fifth of its fair share of the samples (2% among 10 classes)


def mean_pairwise_distance(features: torch.Tensor, seed: int = 0) -> float:
    """Mean Euclidean distance between distinct rows (a random PAIRS_MAX of them when there are more)."""
    x = torch.as_tensor(features, dtype=torch.float64)
    if x.shape[0] < 2:
        raise MetricError(f"diversity needs at least 2 samples, got {x.shape[0]}")
    if x.shape[0] > PAIRS_MAX:
        x = x[torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(seed))[:PAIRS_MAX]]
    n = x.shape[0]
    return float(torch.cdist(x, x).sum() / (n * (n - 1)))


def diversity_score(generated: torch.Tensor, real: torch.Tensor | float) -> float:
    """Mean pairwise distance of generated features over that of real ones (or a precomputed real mean)."""
    reference = real if isinstance(real, float) else mean_pairwise_distance(real)
    if reference <= 0:
        raise MetricError("the real samples are all identical, so diversity has no scale; use more varied data")
    return mean_pairwise_distance(generated) / reference


def class_histogram(predictions: torch.Tensor, classes: int) -> list[int]:
    """How many samples were predicted as each class."""
    return torch.bincount(predictions.cpu().long(), minlength=classes).tolist()


def classes_covered(histogram: list[int]) -> int:
    """Classes that got at least a fifth of their fair share of the samples (and at least one)."""
    n, k = sum(histogram), len(histogram)
    need = max(1.0, FAIR_SHARE * n / k)
    return sum(1 for count in histogram if count >= need)


class LabelClassifier(nn.Module):
    """A small CNN on images shrunk to 16×16; its 128-d hidden layer doubles as a feature extractor."""

    def __init__(self, classes: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, 32, 3, 2, 1), nn.ReLU(),  # 16 -> 8
            nn.Conv2d(32, 64, 3, 2, 1), nn.ReLU(),  # 8 -> 4
            nn.Flatten(), nn.Linear(64 * 4 * 4, 128), nn.ReLU(),  # keep where things are: shape is geometry
        )
        self.head = nn.Linear(128, classes)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Penultimate features of images in [0, 1] (N×3×H×W)."""
        x = F.interpolate(images, size=(CLASSIFIER_SIDE, CLASSIFIER_SIDE), mode="bilinear", align_corners=False)
        return self.body(x * 2 - 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images))


class ClassifierFeatures:
    """A trained LabelClassifier as a feature extractor (and class predictor) for the diversity score."""

    name = "classifier"

    def __init__(self, model: LabelClassifier, identity: str, accuracy: float, device: torch.device | str = "cpu"):
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.identity = identity
        self.accuracy = accuracy  # on held-out images: how far to trust the class histogram
        self.classes = model.head.out_features

    @torch.no_grad()
    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        return self.model.features(images)

    @torch.no_grad()
    def predict(self, images: torch.Tensor) -> torch.Tensor:
        """Class indices of images in [0, 1]."""
        return self.model(images).argmax(1)


def has_single_labels(dataset: Dataset) -> bool:
    """True when a class histogram makes sense: one class per image, at least two classes."""
    return dataset.is_images and dataset.labels is not None and not dataset.multi_label and dataset.label_dim >= 2


def train_classifier(dataset: Dataset, steps: int = CLASSIFIER_STEPS, batch_size: int = 64, seed: int = 0,
                     device: torch.device | str = "cpu") -> tuple[LabelClassifier, float]:
    """Train on the dataset's labels (a tenth held out); return the model and its held-out accuracy."""
    gen = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(dataset.data), generator=gen)
    held = max(1, len(order) // 10)
    test_idx, train_idx = order[:held], order[held:] if len(order) > held else order
    torch.manual_seed(seed)
    model = LabelClassifier(dataset.label_dim).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    labels = dataset.labels.long()
    model.train()
    for _ in range(steps):
        pick = train_idx[torch.randint(len(train_idx), (batch_size,), generator=gen)]
        loss = F.cross_entropy(model(to_unit_rgb(dataset.data[pick].to(device))), labels[pick].to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        correct = sum(int((model(to_unit_rgb(dataset.data[part].to(device))).argmax(1).cpu() == labels[part]).sum())
                      for part in test_idx.split(256))
    return model, correct / len(test_idx)


def classifier_cache_dir() -> Path:
    """Where trained label classifiers are kept: $STUDIO_CACHE_DIR/classifiers (or ~/.cache/gan-studio/...)."""
    return cache_root() / "classifiers"


def label_classifier(dataset: Dataset, device: torch.device | str = "cpu", cache_dir: Path | None = None,
                     steps: int = CLASSIFIER_STEPS) -> ClassifierFeatures:
    """The dataset's label classifier: loaded from the cache (tensors only), or trained once (`steps`
    Adam steps; experiments judge with a longer-trained one) and cached."""
    if not has_single_labels(dataset):
        raise MetricError(f"{dataset.source}: a class histogram needs one label per image and at least two classes")
    trained = "" if steps == CLASSIFIER_STEPS else f"steps={steps}"  # the default keeps its old cache key
    digest = hashlib.sha1(f"{dataset_fingerprint(dataset)}|{CLASSIFIER_VERSION}|{trained}".encode())
    digest.update(dataset.labels.contiguous().numpy().tobytes())
    key = digest.hexdigest()
    path = (cache_dir or classifier_cache_dir()) / f"{key}.pt"
    model = LabelClassifier(dataset.label_dim)
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(saved["state"])
        accuracy = float(saved["accuracy"])
    except (OSError, RuntimeError, KeyError, TypeError, ValueError, EOFError, pickle.UnpicklingError):
        model, accuracy = train_classifier(dataset, steps=steps, device=device)
        buf = io.BytesIO()
        torch.save({"state": {k: v.cpu() for k, v in model.state_dict().items()}, "accuracy": torch.tensor(accuracy)}, buf)
        atomic_write_bytes(path, buf.getvalue())
    return ClassifierFeatures(model, f"classifier:{key}", accuracy, device)


def diversity_features(dataset: Dataset, device: torch.device | str = "cpu",
                       inception: FeatureExtractor | None = None) -> FeatureExtractor:
    """The features the diversity score (and precision, recall, density and coverage) are measured in:
    Inception's where pytorch-fid's weights gave one (`inception`), else the dataset's label classifier for
    a set with one label per image, else images shrunk to 16×16 pixels. Its `name` says which."""
    if inception is not None:
        return inception
    if has_single_labels(dataset):
        return label_classifier(dataset, device)
    return PixelFeatures(device=device)
