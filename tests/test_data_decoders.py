"""The JPEG fast path (studio/data/decode/fastjpeg.py): scaled while decoding, the same picture as a full decode."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from studio.data import open_dataset
from studio.data.decode import fastjpeg, parallel


def _photo(path, width=178, height=218, seed=0):
    # Smooth colour with a little grain, as photos are: what a resize keeps, so decoders can be compared.
    rng = np.random.default_rng(seed)
    coarse = Image.fromarray(rng.integers(0, 256, (height // 16 + 2, width // 16 + 2, 3), dtype=np.uint8))
    smooth = np.asarray(coarse.resize((width, height), Image.Resampling.BILINEAR), dtype=np.int16)
    grain = rng.integers(-3, 4, smooth.shape, dtype=np.int16)
    Image.fromarray(np.clip(smooth + grain, 0, 255).astype(np.uint8)).save(path, quality=92)


def _reference(path, size, mode="RGB") -> np.ndarray:
    """Full-size decode by Pillow, centre square, Lanczos: the plain way."""
    img = Image.open(path).convert(mode)
    w, h = img.size
    side = min(w, h)
    box = ((w - side) // 2, (h - side) // 2, (w - side) // 2 + side, (h - side) // 2 + side)
    a = np.asarray(img.resize((size, size), Image.Resampling.LANCZOS, box=box), dtype=np.float64)
    return a[None] if a.ndim == 2 else a.transpose(2, 0, 1)


@pytest.fixture
def faces(tmp_path):
    for i in range(4):
        _photo(tmp_path / f"{i}.jpg", seed=i)
    return tmp_path


@pytest.mark.parametrize("channels", [3, 1])
@pytest.mark.parametrize("decoder", ["default", "without simplejpeg"])
def test_scaled_decoding_gives_the_full_decodes_picture(faces, monkeypatch, channels, decoder):
    if decoder == "default" and fastjpeg.available() != "simplejpeg":
        pytest.skip("simplejpeg is not installed")
    if decoder != "default":
        monkeypatch.setattr(fastjpeg, "simplejpeg", None)
    monkeypatch.setattr(parallel, "worker_count", lambda n: 1)
    ds = open_dataset(faces, size=64, channels=channels, decoded_cache=False)
    assert tuple(ds.data.shape) == (4, channels, 64, 64) and not ds.skipped
    for i in range(4):
        expected = _reference(faces / f"{i}.jpg", 64, "L" if channels == 1 else "RGB")
        error = np.abs(ds.data[i].numpy().astype(np.float64) - expected)
        # DCT-domain scaling and a bicubic filter against a full decode and Lanczos: the same picture.
        assert error.mean() < 2.5 and np.percentile(error, 99) < 16, (error.mean(), np.percentile(error, 99))


def test_scaled_decoding_never_decodes_below_the_target(tmp_path):
    if fastjpeg.available() != "simplejpeg":
        pytest.skip("simplejpeg is not installed")
    _photo(tmp_path / "a.jpg")
    data = (tmp_path / "a.jpg").read_bytes()
    for size in (16, 32, 64, 80, 178):
        pixels = fastjpeg.decode(data, 3, size, -(-size * 218 // 178))
        assert min(pixels.shape[:2]) >= size and pixels.shape[2] == 3
    assert fastjpeg.decode(data, 3, 89, 109).shape[:2] == (109, 89)  # half scale, never decoded at full size
