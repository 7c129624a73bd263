"""`sklearn:digits`: scikit-learn's bundled handwritten digits (1,797 8×8 images, labels 0-9, no download).

The UCI optical-digits set, as scikit-learn ships it inside its package: real handwriting that
installs offline, which is why the experiments learn from it. Pixels are ink counts 0..16 (white
ink on black, as in MNIST); they become uint8 0..255 and are upscaled (bilinear, default 32×32)
so the convolutional methods' pyramids fit. scikit-learn is an optional dependency (`digits` extra).
"""

from __future__ import annotations

import torch

from .arrays import fit_images
from .dataset import Dataset, DatasetError, DatasetKind
from .options import LoadOptions

SKLEARN_SETS = {"digits": "1,797 real handwritten digits 0-9 (8×8, upscaled to 32×32), bundled with scikit-learn"}
DEFAULT_SIZE = 32
INSTALL_HINT = "pip install scikit-learn (or the studio's extra: pip install 'gan-studio[digits]')"


def open_sklearn(name: str, opts: LoadOptions) -> Dataset:
    """Load `sklearn:<name>` (only `digits`) at `opts.size` (default 32) and `opts.channels` (default 1)."""
    source = f"sklearn:{name}"
    if name not in SKLEARN_SETS:
        raise DatasetError(f"{source}: unknown; the scikit-learn source has {', '.join('sklearn:' + k for k in SKLEARN_SETS)}")
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise DatasetError(f"{source}: scikit-learn is not installed; {INSTALL_HINT}") from None
    bunch = load_digits()
    pixels = torch.as_tensor(bunch.images, dtype=torch.float32)  # (N, 8, 8), ink 0..16
    labels = torch.as_tensor(bunch.target, dtype=torch.int64)
    if opts.count is not None:
        pixels, labels = pixels[: opts.count], labels[: opts.count]
    images = (pixels * (255.0 / 16.0)).round().clamp(0, 255).to(torch.uint8).unsqueeze(1)
    data = fit_images(images, opts.size or DEFAULT_SIZE, opts.channels)
    return Dataset(source=source, kind=DatasetKind.IMAGES, data=data, labels=labels,
                   label_names=[str(int(c)) for c in bunch.target_names],
                   notes=[f"scikit-learn's 8×8 digits upscaled to {data.shape[-1]}×{data.shape[-1]}"])
