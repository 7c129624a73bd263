"""Precision, recall, density and coverage: equal to the authors' `prdc` package, bounded in memory, and
clear about bad input."""

import numpy as np
import pytest
import torch

from studio.metrics import prdc as prdc_module
from studio.metrics.errors import MetricError
from studio.metrics.prdc import prdc

reference = pytest.importorskip("prdc")  # the test extra installs it (pyproject.toml)


def random_sets(seed: int, n: int = 300, m: int = 250, dim: int = 16):
    rng = np.random.default_rng(seed)
    real = rng.normal(size=(n, dim))
    fake = rng.normal(loc=0.3, scale=1.2, size=(m, dim))
    return real, fake


def clustered_sets(seed: int, n: int = 400, m: int = 300, dim: int = 8):
    """Real: ten tight clusters. Generated: four of them, sharper, plus a few outliers far away."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=6.0, size=(10, dim))
    real = centres[rng.integers(0, 10, n)] + rng.normal(scale=0.5, size=(n, dim))
    fake = centres[rng.integers(0, 4, m)] + rng.normal(scale=0.3, size=(m, dim))
    fake[:10] = rng.normal(scale=30.0, size=(10, dim))
    return real, fake


@pytest.mark.parametrize("k", [3, 5])
@pytest.mark.parametrize("sets", [random_sets, clustered_sets])
def test_equals_the_prdc_package(sets, k, capsys):
    for seed in (0, 1):
        real, fake = sets(seed)
        expected = reference.compute_prdc(real, fake, nearest_k=k)
        measured = prdc(real, fake, k, k)
        for name in ("precision", "recall", "density", "coverage"):
            assert abs(getattr(measured, name) - float(expected[name])) <= 1e-6, (name, seed)
        assert (measured.n_real, measured.n_generated, measured.k_precision_recall) == (len(real), len(fake), k)


def test_the_papers_ks_mix_two_runs_of_the_package(capsys):
    real, fake = clustered_sets(2)
    k3 = reference.compute_prdc(real, fake, nearest_k=3)
    k5 = reference.compute_prdc(real, fake, nearest_k=5)
    measured = prdc(real, fake)  # k = 3 for precision and recall, 5 for density and coverage
    assert (measured.k_precision_recall, measured.k_density_coverage) == (3, 5)
    assert abs(measured.precision - k3["precision"]) <= 1e-6 and abs(measured.recall - k3["recall"]) <= 1e-6
    assert abs(measured.density - k5["density"]) <= 1e-6 and abs(measured.coverage - k5["coverage"]) <= 1e-6


def test_a_clustered_partial_generator_reads_precise_but_low_coverage():
    real, fake = clustered_sets(3)
    fake = fake[10:]  # without the outliers: four of ten clusters, drawn sharply
    figures = prdc(real, fake)
    assert figures.precision > 0.9 and figures.density > 0.9
    assert figures.recall < 0.6 and figures.coverage < 0.6


def test_blocks_bound_memory_and_change_nothing(monkeypatch):
    real, fake = random_sets(4, n=257, m=131)
    whole = prdc(real, fake)
    seen = []
    original = torch.cdist

    def counting_cdist(a, b, *args, **kwargs):
        seen.append(a.shape[0] * b.shape[0])
        return original(a, b, *args, **kwargs)

    monkeypatch.setattr(prdc_module, "BLOCK_BYTES", 8 * 257 * 10)  # ten rows of 257 distances per block
    monkeypatch.setattr(torch, "cdist", counting_cdist)
    blocked = prdc(real, fake)
    assert blocked == whole
    assert max(seen) <= 10 * 257 and len(seen) > 40


def test_bad_input_says_what_is_wrong():
    real, fake = random_sets(5, n=20, m=20)
    with pytest.raises(MetricError, match=r"at least 6 generated samples .* got 4"):
        prdc(real, fake[:4])
    with pytest.raises(MetricError, match=r"at least 6 real images .* got 5"):
        prdc(real[:5], fake)
    broken = fake.copy()
    broken[3, 2] = np.nan
    with pytest.raises(MetricError, match=r"1 of the 20 generated feature vectors hold NaN"):
        prdc(real, broken)
    with pytest.raises(MetricError, match="same feature extractor"):
        prdc(real, fake[:, :8])
