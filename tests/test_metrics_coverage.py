"""Mode coverage on hand-made point sets, with the 2-D benchmark protocol (3σ, nearest mode)."""

from __future__ import annotations

import math

import pytest
import torch

from studio.data import open_dataset
from studio.metrics import MetricError, mode_coverage


@pytest.fixture(scope="module")
def rings():
    return open_dataset("builtin:rings")


def test_samples_of_every_mode_cover_all_and_are_high_quality(rings):
    cov = mode_coverage(rings.data[:2500], rings.modes, rings.mode_std)
    assert (cov.modes_covered, cov.modes, cov.n) == (8, 8, 2500)
    assert cov.high_quality > 0.98  # 3σ holds 98.9% of a 2-D Gaussian
    assert sum(cov.counts) == round(cov.high_quality * 2500)


def test_a_collapsed_generator_covers_one_mode(rings):
    points = rings.modes[3] + rings.mode_std * torch.randn(2500, 2, generator=torch.Generator().manual_seed(0))
    cov = mode_coverage(points, rings.modes, rings.mode_std)
    assert cov.modes_covered == 1 and cov.counts[3] == sum(cov.counts)


def test_off_mode_noise_is_not_high_quality_and_covers_nothing(rings):
    # Points at radius 0.5: every mode is 0.5 away, i.e. 50σ: nearest to some mode but never within 3σ.
    angles = torch.rand(2500, generator=torch.Generator().manual_seed(1)) * 6.283
    points = 0.5 * torch.stack([angles.cos(), angles.sin()], 1)
    cov = mode_coverage(points, rings.modes, rings.mode_std)
    assert cov.modes_covered == 0 and cov.high_quality == 0.0


def test_one_good_sample_covers_a_mode_and_nan_points_count_as_misses():
    modes = torch.tensor([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0]])
    points = torch.tensor([[0.01, 0.0], [2.2, 0.0], [float("nan"), 0.0], [0.0, 2.0]])
    cov = mode_coverage(points, modes, std=0.05)
    # (2.2, 0) is 4σ from its mode: not high quality, so mode 1 is not covered.
    assert cov.modes_covered == 2 and cov.counts == [1, 0, 1] and cov.high_quality == pytest.approx(0.5)
    with pytest.raises(MetricError):
        mode_coverage(points, modes, std=0.0)


def test_coverage_balance_is_the_jsd_of_the_mode_histogram_to_uniform(rings):
    from studio.metrics.coverage import jsd_to_uniform

    assert jsd_to_uniform([10, 10, 10, 10]) == pytest.approx(0.0, abs=1e-12)
    # Everything on one of K modes: JSD = ½[ln(2K/(K+1))] + ½[(1/K)ln(2/(K+1)) + (1-1/K)ln 2], for K = 2: 0.2158.
    assert jsd_to_uniform([7, 0]) == pytest.approx(0.5 * math.log(4 / 3) + 0.25 * math.log(2 / 3) + 0.25 * math.log(2))
    assert jsd_to_uniform([0, 0, 0]) == pytest.approx(math.log(2))
    # 2,500 points spread evenly over 8 modes, and all on two of them (PacGAN's lopsided case).
    even = mode_coverage(rings.data[:2500], rings.modes, rings.mode_std)
    assert even.jsd < 0.01
    gen = torch.Generator().manual_seed(1)
    two = torch.cat([rings.modes[0] + 0.01 * torch.randn(1250, 2, generator=gen),
                     rings.modes[4] + 0.01 * torch.randn(1250, 2, generator=gen)])
    lopsided = mode_coverage(two, rings.modes, rings.mode_std)
    assert lopsided.modes_covered == 2
    # p = (½, ½, 0 × 6), q = 1/8 each, m = (5/16, 5/16, 1/16 × 6)
    expected = 0.5 * math.log(8 / 5) + 0.5 * (2 / 8 * math.log(2 / 5) + 6 / 8 * math.log(2))
    assert lopsided.jsd == pytest.approx(expected, rel=1e-3)
