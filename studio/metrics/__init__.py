"""Evaluation: FID and KID on pytorch-fid's Inception features, mode coverage on the 2-D mixtures,
the diversity / class-histogram monitor for mode collapse, and the in-training evaluator.

Importing this package is cheap: the Inception network is built only when features are asked for.
"""

from .coverage import Coverage, mode_coverage
from .diversity import class_histogram, classes_covered, diversity_score, label_classifier, mean_pairwise_distance
from .errors import MetricError
from .features import InceptionFeatures, PixelFeatures, extract, to_unit_rgb
from .frechet import frechet_distance
from .inception import build_inception, download_weights, find_weights, weights_path
from .kid import kernel_inception_distance
from .stats import Statistics, load_statistics, real_statistics, save_statistics

__all__ = ["Coverage", "InceptionFeatures", "MetricError", "PixelFeatures", "Statistics", "build_inception",
           "class_histogram", "classes_covered", "diversity_score", "download_weights", "extract", "find_weights",
           "frechet_distance", "kernel_inception_distance", "label_classifier", "load_statistics",
           "mean_pairwise_distance", "mode_coverage", "real_statistics", "save_statistics", "to_unit_rgb",
           "weights_path"]
