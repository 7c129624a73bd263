"""sklearn:digits: scikit-learn's bundled real digits as a source, and its message when sklearn is absent."""

from __future__ import annotations

import builtins
import sys

import pytest
import torch

from studio.data import DatasetError, list_sources, open_dataset

pytest.importorskip("sklearn")


def test_digits_are_1797_grey_32px_labelled_images():
    ds = open_dataset("sklearn:digits")
    assert ds.data.shape == (1797, 1, 32, 32) and ds.data.dtype == torch.uint8
    assert ds.label_names == [str(i) for i in range(10)]
    assert ds.labels.shape == (1797,) and set(ds.labels.tolist()) == set(range(10))
    # White ink on black: the border is dark, the centre holds the strokes, and ink reaches full white.
    assert ds.data[:, :, :, :2].float().mean() < 20 and ds.data[:, :, 12:20, 12:20].float().mean() > 100
    assert int(ds.data.max()) > 200


def test_digits_size_channels_and_count_options():
    ds = open_dataset("sklearn:digits", size=16, channels=3, count=100)
    assert ds.data.shape == (100, 3, 16, 16) and len(ds.labels) == 100
    assert torch.equal(ds.data[:, 0], ds.data[:, 1])  # grey made colour: equal planes


def test_digits_listed_and_unknown_name_explained():
    assert any(s["name"] == "sklearn:digits" and not s["online"] for s in list_sources())
    with pytest.raises(DatasetError, match="sklearn:iris: unknown.*sklearn:digits"):
        open_dataset("sklearn:iris")


def test_missing_sklearn_names_the_install(monkeypatch):
    real_import = builtins.__import__

    def no_sklearn(name, *args, **kwargs):
        if name == "sklearn" or name.startswith("sklearn."):
            raise ImportError("No module named 'sklearn'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sklearn)
    for mod in [m for m in sys.modules if m == "sklearn" or m.startswith("sklearn.")]:
        monkeypatch.delitem(sys.modules, mod)
    with pytest.raises(DatasetError, match=r"sklearn:digits: scikit-learn is not installed; pip install scikit-learn.*digits"):
        open_dataset("sklearn:digits")
