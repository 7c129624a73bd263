"""The small-data aids every adversarial image method has: augmentation of what its discriminator sees
(DiffAugment, with ADA's adaptive probability), an averaged generator (EMA) and spectral normalisation
of the discriminator. Their settings, shown in their own section of the form, and the `small-data` preset.

The mechanisms live once: the augmentation in `studio/nn/augment.py`, the average in `averaging.py`,
spectral normalisation in `studio/nn/critics.py`; `Method` (base.py) wires them to any method whose
Params derive from `AidParams`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..nn.augment import canonical_policy, canonical_probability, policy_choices
from .params import BaseParams, param

SMALL_DATA = "Small data"  # the form's section for these settings
SMALL_DATA_PRESET = "small-data"
SMALL_DATASET = 5000  # below this many images the window offers the small-data preset (beside the preset box)

AUGMENT_HELP = (
    "Differentiable augmentation (DiffAugment, Zhao et al. 2020) of every image the discriminator judges, real and "
    "generated alike, so it cannot memorise a small dataset and the generator never learns the augmentations: colour "
    "(brightness, saturation, contrast), translation (up to 1/8 of the size, zero padded), cutout (a square of half "
    "the size). For datasets of a few hundred to a few thousand images; none: off.")
AUGMENT_P_HELP = (
    "How often each augmentation is applied to each image: a probability (1: always, as DiffAugment), or auto: "
    "adapted every 4 steps so that r_t = E[sign(D(real))] stays at augment_target (ADA, Karras et al. 2020); "
    "the Monitor draws p and r_t. auto needs a real/fake discriminator (not a Wasserstein critic or BEGAN's).")


@dataclass
class AidParams(BaseParams):
    """Settings shared by the adversarial image methods (defaults: every aid off)."""

    augment: str = param("none", AUGMENT_HELP, choices=policy_choices(), normalize=canonical_policy, group=SMALL_DATA)
    augment_p: str = param("1", AUGMENT_P_HELP, normalize=canonical_probability, group=SMALL_DATA)
    augment_target: float = param(0.6, "With augment_p auto: the r_t that p steers towards (ADA: 0.6). r_t near 1 "
                                  "means the discriminator is sure of every real image: it is memorising them.",
                                  low=0.0, high=1.0, group=SMALL_DATA)
    augment_kimg: float = param(100.0, "With augment_p auto: thousands of images over which p can climb from 0 to 1 "
                                "(ADA: 500, for runs of millions of images; a short run needs faster).",
                                low=0.1, high=100_000.0, log=True, group=SMALL_DATA)
    ema: float = param(0.0, "Averaged generator: the decay of an exponential moving average of the generator's weights "
                       "and buffers, ramped up from the start; sample grids, evaluation, the Sample tab, studio sample "
                       "and export use it (the raw generator stays selectable). 0: off; 0.999 is typical.",
                       low=0.0, high=0.99999, group=SMALL_DATA)
    spectral_norm: bool = param(False, "Spectral normalisation of every layer of the discriminator (Miyato et al. "
                                "2018): divides each weight by its largest singular value, keeping the discriminator "
                                "smooth so it cannot sharpen around a few memorised images.", group=SMALL_DATA)


def small_data_preset(real_threshold: float | None) -> dict[str, Any]:
    """The `small-data` preset's settings for a method whose discriminator has a real/fake threshold
    (`real_threshold`; None for a critic or BEGAN's auto-encoder, which take a fixed probability)."""
    adaptive = real_threshold is not None
    return {"augment": "colour,translation,cutout", "augment_p": "auto" if adaptive else "1", "ema": 0.999,
            "spectral_norm": False}


def aid_settings(params: Any) -> dict[str, Any]:
    """The aids' settings in `params` ({} for a method without them)."""
    return {k: getattr(params, k) for k in ("augment", "augment_p", "augment_target", "augment_kimg", "ema",
                                            "spectral_norm") if hasattr(params, k)}
