"""Improved precision and recall (Kynkäänniemi et al. 2019) and density and coverage (Naeem et al. 2020)
of generated features against real ones.

Each real feature x gets a radius r(x): the distance to its k-th nearest other real feature; each
generated y likewise among the generated (recall only). Then

- precision = share of y inside some real ball (‖y − x‖ < r(x)): how much of what is drawn looks real;
- recall = share of x inside some generated ball: how much of the real data the samples reach;
- density = (1 / kM) Σ_y #{x : ‖y − x‖ < r(x)}: precision that counts how many balls, robust to real outliers;
- coverage = share of x with some y inside r(x): recall robust to generated outliers.

The comparisons are strict and the radii count the point itself as its own nearest neighbour, as in
the authors' `prdc` package, which a test checks these figures against (to 1e-6). Distances are
computed in float64, a block of rows at a time: no N×M matrix is ever held, so 10,000 × 10,000
features take a bounded amount of memory (`BLOCK_BYTES` per block).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .errors import MetricError

K_PRECISION_RECALL = 3  # Kynkäänniemi et al.
K_DENSITY_COVERAGE = 5  # Naeem et al.
BLOCK_BYTES = 64 * 2**20  # float64 distances held at once per block of rows
NAMES = ("precision", "recall", "density", "coverage")


@dataclass
class PRDC:
    """The four figures with the k and the feature counts they were measured with."""

    precision: float
    recall: float
    density: float
    coverage: float
    k_precision_recall: int
    k_density_coverage: int
    n_real: int
    n_generated: int

    def k_of(self, name: str) -> int:
        """The k that figure `name` was measured with."""
        return self.k_precision_recall if name in ("precision", "recall") else self.k_density_coverage

    def as_dict(self) -> dict[str, float]:
        """{"precision": ..., "recall": ..., "density": ..., "coverage": ...}"""
        return {name: getattr(self, name) for name in NAMES}

    def describe(self) -> str:
        """One line: 'precision 0.810, recall 0.620 (k=3), density 0.950, coverage 0.770 (k=5); N=…, M=…'."""
        return (f"precision {self.precision:.3f}, recall {self.recall:.3f} (k={self.k_precision_recall}), "
                f"density {self.density:.3f}, coverage {self.coverage:.3f} (k={self.k_density_coverage}); "
                f"N={self.n_real:,} real, M={self.n_generated:,} generated")


def _rows(features, what: str) -> torch.Tensor:
    x = torch.as_tensor(features)
    if x.dim() != 2:
        raise MetricError(f"the {what} features must be an N×dim array, got shape {tuple(x.shape)}")
    x = x.to(torch.float64)
    if not torch.isfinite(x).all():
        bad = int((~torch.isfinite(x).all(1)).sum())
        raise MetricError(f"{bad} of the {x.shape[0]:,} {what} feature vectors hold NaN or infinite values: "
                          f"the {what} images (or the network that made them) are broken; precision, recall, density "
                          "and coverage are not measured on them")
    return x


def _block(rows: int, columns: int) -> int:
    return max(1, min(rows, BLOCK_BYTES // (8 * max(columns, 1))))


def kth_neighbour_radii(features: torch.Tensor, ks: tuple[int, ...]) -> dict[int, torch.Tensor]:
    """For each k in `ks`: every row's distance to its k-th nearest other row (the row itself counts as
    the first neighbour, at distance 0), computed a block of rows at a time."""
    x = features
    top = max(ks) + 1
    radii = {k: torch.empty(x.shape[0], dtype=torch.float64) for k in ks}
    step = _block(x.shape[0], x.shape[0])
    for start in range(0, x.shape[0], step):
        d = torch.cdist(x[start:start + step], x)
        nearest = torch.topk(d, top, dim=1, largest=False).values  # ascending
        for k in ks:
            radii[k][start:start + step] = nearest[:, k]
    return radii


def check_counts(n_real: int, n_generated: int, k: int) -> None:
    """MetricError naming what is short when a k-nearest-neighbour radius cannot exist."""
    for what, n in (("real images", n_real), ("generated samples", n_generated)):
        if n < k + 1:
            raise MetricError(f"precision, recall, density and coverage with k = {k} need at least {k + 1} {what} "
                              f"(each needs {k} neighbours besides itself), got {n}")


def prdc(real, generated, k_precision_recall: int = K_PRECISION_RECALL,
         k_density_coverage: int = K_DENSITY_COVERAGE) -> PRDC:
    """Precision and recall with k_precision_recall neighbours, density and coverage with k_density_coverage,
    of `generated` (M×dim) against `real` (N×dim) features. One k for all four gives the `prdc` package's figures."""
    x, y = _rows(real, "real"), _rows(generated, "generated")
    if x.shape[1] != y.shape[1]:
        raise MetricError(f"real features have {x.shape[1]} dimensions and generated ones {y.shape[1]}: "
                          "they must come from the same feature extractor")
    kp, kd = k_precision_recall, k_density_coverage
    check_counts(x.shape[0], y.shape[0], max(kp, kd))
    real_radii = kth_neighbour_radii(x, (kp, kd))
    fake_radii = kth_neighbour_radii(y, (kp,))[kp]
    r_p, r_d = real_radii[kp], real_radii[kd]
    inside_some_real = torch.zeros(y.shape[0], dtype=torch.bool)  # precision
    balls_around = torch.zeros(y.shape[0], dtype=torch.float64)  # density's count per sample
    reached = torch.empty(x.shape[0], dtype=torch.bool)  # recall
    covered = torch.empty(x.shape[0], dtype=torch.bool)  # coverage
    step = _block(x.shape[0], y.shape[0])
    for start in range(0, x.shape[0], step):
        stop = min(start + step, x.shape[0])
        d = torch.cdist(x[start:stop], y)  # real block × every generated
        inside_some_real |= (d < r_p[start:stop, None]).any(0)
        balls_around += (d < r_d[start:stop, None]).sum(0)
        reached[start:stop] = (d < fake_radii[None, :]).any(1)
        covered[start:stop] = d.min(1).values < r_d[start:stop]
    return PRDC(
        precision=float(inside_some_real.double().mean()),
        recall=float(reached.double().mean()),
        density=float(balls_around.sum() / (kd * y.shape[0])),
        coverage=float(covered.double().mean()),
        k_precision_recall=kp, k_density_coverage=kd, n_real=int(x.shape[0]), n_generated=int(y.shape[0]),
    )
