"""Feature statistics: pytorch-fid's .npz format, the real-image cache, and image preprocessing."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from studio.data import open_dataset
from studio.metrics import MetricError, PixelFeatures, Statistics, load_statistics, real_statistics, save_statistics
from studio.metrics.features import to_unit_rgb
from studio.metrics.stats import stats_cache_dir


class CountingPixels(PixelFeatures):
    """Pixel features that count the images they see (to tell a cache hit from a recomputation)."""

    def __init__(self):
        super().__init__(side=4)
        self.seen = 0

    def __call__(self, images):
        self.seen += images.shape[0]
        return super().__call__(images)


@pytest.fixture
def shapes():
    return open_dataset("builtin:shapes", count=64)


def test_statistics_match_numpy_and_round_trip_in_pytorch_fid_format(tmp_path):
    feats = torch.randn(20, 5)
    stats = Statistics.of(feats)
    np.testing.assert_allclose(stats.sigma, np.cov(feats.double().numpy(), rowvar=False), rtol=1e-12)
    save_statistics(tmp_path / "s.npz", stats)
    with np.load(tmp_path / "s.npz") as raw:  # the way pytorch-fid reads it
        np.testing.assert_array_equal(raw["mu"], stats.mu)
        np.testing.assert_array_equal(raw["sigma"], stats.sigma)
    back = load_statistics(tmp_path / "s.npz")
    assert back.n == 20
    np.savez(tmp_path / "bad.npz", mean=stats.mu)
    with pytest.raises(MetricError, match="bad.npz.*mu"):
        load_statistics(tmp_path / "bad.npz")


def test_real_statistics_are_cached_and_the_cache_is_hit_the_second_time(tmp_path, monkeypatch, shapes):
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(tmp_path))
    extractor = CountingPixels()
    first = real_statistics(shapes, extractor, n=40, keep_features=True)
    assert extractor.seen == 40 and first.n == 40
    files = list(stats_cache_dir().glob("*.npz"))
    assert len(files) == 1
    second = real_statistics(shapes, extractor, n=40, keep_features=True)
    assert extractor.seen == 40  # nothing recomputed
    np.testing.assert_array_equal(second.sigma, first.sigma)
    torch.testing.assert_close(second.features, first.features)
    # Other data (or another count) is another entry.
    real_statistics(open_dataset("builtin:shapes", count=64, seed=1), extractor, n=40)
    assert extractor.seen == 80 and len(list(stats_cache_dir().glob("*.npz"))) == 2


class Planted:
    """An object whose unpickling would record that code ran."""

    ran = False

    def __reduce__(self):
        return (_mark_ran, ())


def _mark_ran():
    Planted.ran = True
    return "ran"


def test_a_pickle_planted_in_the_cache_is_never_unpickled_and_is_replaced(tmp_path, monkeypatch, shapes):
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(tmp_path))
    extractor = CountingPixels()
    real_statistics(shapes, extractor, n=16)
    entry = next(stats_cache_dir().glob("*.npz"))
    np.savez(entry, mu=np.array([Planted()], dtype=object), sigma=np.zeros((1, 1)))
    stats = real_statistics(shapes, extractor, n=16)
    assert not Planted.ran
    assert extractor.seen == 32 and stats.mu.shape == (48,)  # recomputed (4×4×3 pixel features)
    with np.load(entry, allow_pickle=False) as data:  # and the entry is plain arrays again
        assert data["mu"].dtype == np.float64


def test_images_become_unit_range_rgb_like_a_png_read_by_pytorch_fid():
    grey = torch.tensor([[[[0, 255], [128, 64]]]], dtype=torch.uint8)
    unit = to_unit_rgb(grey)
    assert unit.shape == (1, 3, 2, 2) and torch.equal(unit[0, 0], unit[0, 2])
    assert unit[0, 0, 1, 0].item() == pytest.approx(128 / 255)
    # Generated images in [-1, 1] are quantised to 8 bits first, as saving a PNG would.
    generated = torch.tensor([[[[-1.0, 1.0], [0.0, 0.5]]]]).expand(1, 3, 2, 2)
    assert to_unit_rgb(generated)[0, 0, 1, 1].item() == pytest.approx(191 / 255)
