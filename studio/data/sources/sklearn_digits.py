"""`sklearn:digits`: scikit-learn's bundled handwritten digits (1,797 8×8 images, labels 0-9, no download),
and two translation sets derived from them that a digit classifier can check.

The UCI optical-digits set, as scikit-learn ships it inside its package: real handwriting that
installs offline, which is why the experiments learn from it. Pixels are ink counts 0..16 (white
ink on black, as in MNIST); they become uint8 0..255 and are upscaled (bilinear, default 32×32)
so the convolutional methods' pyramids fit. scikit-learn is an optional dependency (`digits` extra).

The derived sets translate "ink" digits (domain A: the same digit with its strokes thickened and its
colours inverted, dark ink on white paper) back to the real digits (domain B). A classifier trained
on real digits reads few A images correctly but B images almost all, so reading a translation as the
source's digit shows both that the translation happened and that it kept the digit:
- `sklearn:digits-paired`: each A image with its own B image (pix2pix);
- `sklearn:digits-unpaired`: A images from the even rows and B images from the odd rows (CycleGAN),
  so no A image has its own B image in the set.
Both use only the first `TRAIN_DIGITS` rows; the last `HELD_OUT_DIGITS` are held out for evaluation
(`held_out_digits`), as they are for the `digits-*` experiments' `sklearn:digits` (`count` loads a prefix).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..dataset import Dataset, DatasetError, DatasetKind
from ..options import LoadOptions
from .arrays import fit_images

SKLEARN_SETS = {  # name -> (kind, description)
    "digits": (DatasetKind.IMAGES, "1,797 real handwritten digits 0-9 (8×8, upscaled to 32×32), bundled with scikit-learn"),
    "digits-paired": (DatasetKind.PAIRED, "1,617 pairs: a digit in thick dark ink on white -> the real digit (pix2pix)"),
    "digits-unpaired": (DatasetKind.UNPAIRED, "thick dark-ink digits (809) and real digits (808) "
                                              "from other rows (CycleGAN)"),
}
DEFAULT_SIZE = 32
TOTAL_DIGITS = 1797
HELD_OUT_DIGITS = 180  # the last tenth: never in the derived sets, nor in the experiments' training prefix
TRAIN_DIGITS = TOTAL_DIGITS - HELD_OUT_DIGITS
THICKEN = 5  # max-filter width in pixels at 32×32 (scaled with the size): strokes grow by 2 px a side
INSTALL_HINT = "pip install scikit-learn (or the studio's extra: pip install 'gan-studio[digits]')"


def _load(source: str, size: int, channels: int | None) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """All 1,797 digits as uint8 N×C×size×size (white ink on black), their labels and the class names."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise DatasetError(f"{source}: scikit-learn is not installed; {INSTALL_HINT}") from None
    bunch = load_digits()
    pixels = torch.as_tensor(bunch.images, dtype=torch.float32)  # (N, 8, 8), ink 0..16
    images = (pixels * (255.0 / 16.0)).round().clamp(0, 255).to(torch.uint8).unsqueeze(1)
    return (fit_images(images, size, channels), torch.as_tensor(bunch.target, dtype=torch.int64),
            [str(int(c)) for c in bunch.target_names])


def ink_form(digits: torch.Tensor) -> torch.Tensor:
    """Domain A of the translation sets: strokes thickened (a max filter) and colours inverted."""
    width = max(3, round(THICKEN * digits.shape[-1] / 32) | 1)  # odd, so the filter is centred
    thick = F.max_pool2d(digits.float(), width, stride=1, padding=width // 2)
    return (255 - thick).to(torch.uint8)


def open_sklearn(name: str, opts: LoadOptions) -> Dataset:
    """Load `sklearn:<name>` at `opts.size` (default 32) and `opts.channels` (default 1); `opts.count`
    keeps the first `count` digits (of the training rows, for the derived sets)."""
    source = f"sklearn:{name}"
    if name not in SKLEARN_SETS:
        raise DatasetError(f"{source}: unknown; the scikit-learn source has {', '.join('sklearn:' + k for k in SKLEARN_SETS)}")
    images, labels, names = _load(source, opts.size or DEFAULT_SIZE, opts.channels)
    side = images.shape[-1]
    kind = SKLEARN_SETS[name][0]
    if kind != DatasetKind.IMAGES:
        images, labels = images[:TRAIN_DIGITS], labels[:TRAIN_DIGITS]
    if opts.count is not None:
        images, labels = images[: opts.count], labels[: opts.count]
    if kind == DatasetKind.IMAGES:
        return Dataset(source=source, kind=kind, data=images, labels=labels, label_names=names,
                       notes=[f"scikit-learn's 8×8 digits upscaled to {side}×{side}"])
    if kind == DatasetKind.PAIRED:
        return Dataset(source=source, kind=kind, data=ink_form(images), targets=images, labels=labels,
                       label_names=names, notes=[f"{len(images):,} pairs: thick dark-ink digit -> real digit, {side}×{side}"])
    # Unpaired: A and B come from different rows, so a translation cannot be looked up.
    return Dataset(source=source, kind=kind, data=ink_form(images[0::2]), targets=images[1::2], labels=labels[0::2],
                   label_names=names, notes=[f"{len(images[0::2]):,} thick dark-ink digits and {len(images[1::2]):,} "
                                             f"real digits from other rows, {side}×{side}"])


def held_out_digits(size: int = DEFAULT_SIZE, channels: int | None = None) -> Dataset:
    """The last HELD_OUT_DIGITS digits as a PAIRED set: data the ink form, targets the real digits, with labels.
    No derived set holds them; `sklearn:digits` holds them only when loaded without a `count` ≤ TRAIN_DIGITS."""
    images, labels, names = _load("sklearn:digits", size, channels)
    images, labels = images[TRAIN_DIGITS:], labels[TRAIN_DIGITS:]
    return Dataset(source="sklearn:digits (held out)", kind=DatasetKind.PAIRED, data=ink_form(images), targets=images,
                   labels=labels, label_names=names)
