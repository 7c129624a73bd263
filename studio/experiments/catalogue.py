"""The experiments shipped with the studio. Bump a recipe's `version` whenever its settings change,
so reports from different versions are never mixed up."""

from __future__ import annotations

from ..data.sources.sklearn_digits import TRAIN_DIGITS
from .recipe import Published, Recipe, Target

PACGAN = "Lin, Khetan, Fanti & Oh, PacGAN: The power of two samples in generative adversarial networks (NeurIPS 2018)"
PACGAN_FIGURE = f"{PACGAN}, the 2-D ring and grid table: 2,500 samples, a mode counts with ≥ 1 sample within 3σ"
# Their setup: 400 epochs of 100,000 samples in batches of 100 = 400,000 updates.
PACGAN_STEPS = 400_000
# Mode coverage every 1,000 steps in training too: cheap on points, and the Monitor charts it.
POINTS_CONFIG = {"log_every": 100, "sample_every": 1000, "checkpoint_every": 5000, "eval_every": 1000}


def _paper(name: str, data: str, pack: int, modes: float, quality: float) -> Recipe:
    kind = "PacGAN2" if pack == 2 else "GAN"
    mixture = "ring of 8 Gaussians (std 0.01)" if data == "rings" else "5×5 grid of 25 Gaussians (std 0.05)"
    return Recipe(
        name=name, version=1, title=f"{kind} on the 2-D {'ring' if data == 'rings' else 'grid'}, the published setup",
        description=(f"PacGAN's {kind} row on the {mixture}: generator 4×400 ReLU+BatchNorm from a 2-d Gaussian z, "
                     "discriminator 3×200 LinearMaxout with 5 pieces, Adam lr 1e-4 β1 0.8, batch 100"
                     + (" packs of 2 samples (200 samples a batch)" if pack == 2 else "")
                     + ", 400 epochs of 100,000 samples (400,000 updates). Shorten it with --steps; the report "
                     "says how much of the budget ran."),
        dataset=f"builtin:{data}", method="gan", preset="pacgan",
        params={"pack": pack, "batch_size": 100 * pack} if pack > 1 else {},
        config=POINTS_CONFIG, evaluation="mixture-2d", steps=PACGAN_STEPS, published_steps=PACGAN_STEPS,
        samples=2500, figure=PACGAN_FIGURE, published_trials=10,
        published=(Published("modes", modes, PACGAN), Published("high_quality", quality, PACGAN)),
    )


def _fast(name: str, data: str, modes: float, description: str, method: str, preset: str | None, params: dict,
          steps: int, version: int) -> Recipe:
    return Recipe(
        name=name, version=version, title=f"Beyond PacGAN2 on the 2-D {'ring' if data == 'rings' else 'grid'} in 10 CPU minutes",
        description=description, dataset=f"builtin:{data}", method=method, preset=preset, params=dict(params),
        config={**POINTS_CONFIG, "lr_anneal": 0.75}, evaluation="mixture-2d", steps=steps, samples=2500,
        figure=PACGAN_FIGURE, published=(Published("modes", modes, PACGAN), Published("high_quality", 95.6 if data == "rings" else 91.3, PACGAN)),
        published_trials=10, targets=(Target("modes", modes), Target("high_quality", 90.0)), time_limit_minutes=10,
    )


# What the aids are: the small-data preset's settings (methods/aids.py).
AIDS = {"augment": "colour,translation,cutout", "augment_p": "auto", "ema": 0.999}
DIGITS_CONFIG = {"image_size": 16, "channels": 1, "log_every": 50, "sample_every": 250, "checkpoint_every": 1000}
ISSUE_TARGET = "no published figure for these digits: the targets are the studio's own (issues 15 and 19)"
# Unconditional image methods: ≥ 9 of 10 classes, each drawn by ≥ 2% of the samples, varied at least 0.6 as real.
UNCONDITIONAL = (Target("classes_covered", 9.0), Target("diversity", 0.6))
CONDITIONAL = (Target("accuracy", 97.0),)
ENCODER = (Target("reconstruction_accuracy", 90.0),)  # held-out digits the classifier still reads correctly
TRANSLATION = (Target("translation_accuracy", 90.0),)  # the studio's own, as the encoders'


def _digits(method: str, version: int, title: str, how: str, params: dict, steps: int,
            targets: tuple[Target, ...], dataset: str = "sklearn:digits", anneal: float = 0.5) -> Recipe:
    """A row of the digits table: trained on the first 1,617 digits (the last 180 held out), judged on
    1,000 samples by the `digits` protocol with a small CNN trained on the real digits."""
    return Recipe(
        name=f"digits-{method}", version=version, title=title,
        description=(f"{how}, on scikit-learn's real 8×8 digits upscaled to 16×16 (the first 1,617; the last 180 held "
                     f"out), {steps:,} steps" + (f", learning rates annealed over the last {anneal:.0%}" if anneal else "")
                     + "; judged by a small CNN trained on the real digits."),
        dataset=dataset, method=method, params=params,
        config={**DIGITS_CONFIG, "lr_anneal": anneal, "dataset_count": TRAIN_DIGITS if dataset == "sklearn:digits" else None},
        evaluation="digits", steps=steps, samples=1000, figure=ISSUE_TARGET, targets=targets, time_limit_minutes=10,
    )


DIGITS_RECIPES = [
    # Without packing or BatchNorm the MLP GAN drew only 3s (1 class, diversity 0.07 after 6,000 steps).
    _digits("gan", 1, "PacGAN2 MLP GAN on real handwritten digits",
            "gan (MLP G and D, 3×256, G with BatchNorm, D judging packs of 2 as PacGAN2, 64 packs a batch)",
            {"hidden": 256, "layers": 3, "latent_dim": 32, "g_norm": "batch", "pack": 2, "batch_size": 128}, 4000,
            UNCONDITIONAL),
    _digits("dcgan", 2, "Unconditional DCGAN on real handwritten digits", "dcgan (width 16)",
            {"width": 16, "latent_dim": 64, "batch_size": 64}, 2000, UNCONDITIONAL),
    # v2 (no aids) drew each asked digit as nearly one image: recall 0.17x its baseline, called partly collapsed.
    # Each class is a tenth of the data, which the discriminator memorises; augmenting what it sees lifted recall
    # to 0.75-0.79x on seeds 0-2 (packing: 0.38x; width 32: 0.62x at twice the time; docs/RESULTS.md).
    _digits("cgan", 3, "Conditional DCGAN on real handwritten digits",
            "cgan (DCGAN networks, width 16, with the small-data aids: DiffAugment's colour, translation and cutout "
            "of what the discriminator sees at ADA's adaptive p, and an averaged generator)",
            {"width": 16, "latent_dim": 64, "batch_size": 64, **AIDS}, 3000, CONDITIONAL),
    _digits("wgan", 1, "WGAN (weight clipping) on real handwritten digits", "wgan (DCGAN networks, width 16, RMSprop 5e-5)",
            {"width": 16, "latent_dim": 64, "batch_size": 64}, 1500, UNCONDITIONAL),
    _digits("wgan-gp", 1, "WGAN-GP on real handwritten digits", "wgan-gp (DCGAN networks, width 16, 5 critic steps)",
            {"width": 16, "latent_dim": 64, "batch_size": 64}, 800, UNCONDITIONAL),
    # v1 (the studio's first networks, from a 4×4 map; 5,000 steps annealed over the last half): 5 classes at
    # diversity 0.75. v2 (the paper's networks, an 8×8 first map, 1,000 steps) covered 10, 6 and 8 classes on seeds
    # 0-2 in blurred strokes (recall 0.30× its baseline) and, trained on, gathered onto 3, 8 and 9 (docs/RESULTS.md).
    # v3 augments what the auto-encoder sees (DiffAugment at p 0.5): 10 classes on seeds 0-2 at 4,000 steps, recall
    # 0.58-0.74×; without it, 2,000-4,000 steps collapsed.
    _digits("began", 3, "BEGAN on real handwritten digits, its discriminator shown augmented images",
            "began (the paper's networks: n = 16 filters, a 32-d embedding, 8×8 first map; γ 1.0, λ_k 0.01, Adam "
            "1e-4, batch 32; DiffAugment's colour, translation and cutout of every image the auto-encoder "
            "reconstructs, each at p 0.5)",
            {"width": 16, "hidden_dim": 32, "batch_size": 32, "gamma": 1.0, "lambda_k": 0.01, "lr": 1e-4,
             "augment": "colour,translation,cutout", "augment_p": "0.5"}, 4000,
            UNCONDITIONAL, anneal=0.0),
    _digits("alpha-gan", 1, "α-GAN on real handwritten digits", "alpha-gan (width 8, 16-d code)",
            {"width": 8, "latent_dim": 16, "batch_size": 64}, 1500, UNCONDITIONAL + ENCODER),
    _digits("ae", 1, "Auto-encoder on real handwritten digits", "ae (width 16, 16-d code)",
            {"width": 16, "latent_dim": 16, "batch_size": 64}, 2000, UNCONDITIONAL + ENCODER),
    _digits("vae", 1, "VAE on real handwritten digits", "vae (width 16, 16-d code)",
            {"width": 16, "latent_dim": 16, "batch_size": 64}, 2000, UNCONDITIONAL + ENCODER),
    _digits("vae-gan", 1, "VAE-GAN on real handwritten digits", "vae-gan (width 16, 16-d code)",
            {"width": 16, "latent_dim": 16, "batch_size": 64}, 1500, UNCONDITIONAL + ENCODER),
    _digits("unet-vae-gan", 1, "U-Net VAE-GAN on real handwritten digits", "unet-vae-gan (width 16, 16-d code)",
            {"width": 16, "latent_dim": 16, "batch_size": 64}, 1000, UNCONDITIONAL + ENCODER),
    _digits("pix2pix", 1, "pix2pix: thick dark-ink digits to real digits", "pix2pix (width 16, PatchGAN of 2 layers)",
            {"width": 16, "d_layers": 2, "batch_size": 32}, 2000, TRANSLATION, dataset="sklearn:digits-paired", anneal=0.0),
    # The identity loss (G_ab(b) ≈ b) assumes both domains share their colours; here A is inverted, and with
    # it (weight 0.5, the paper's) every translation drew another digit: 0% read as the source's.
    _digits("cyclegan", 1, "CycleGAN: thick dark-ink digits to real digits, unpaired",
            "cyclegan (U-Net generators width 16, PatchGAN of 2 layers, no identity loss)",
            {"width": 16, "d_layers": 2, "generator": "unet", "identity_weight": 0.0, "batch_size": 16}, 1500,
            TRANSLATION, dataset="sklearn:digits-unpaired", anneal=0.0),
]


# --- small data (issue 25): the same DCGAN with and without the aids, at one CPU budget -------------------
SMALL_DATA_TARGET = "no published figure for these sets: the targets are the studio's own (issue 25)"
OXYGEN = "/usr/share/icons/oxygen/base/128x128"
OXYGEN_CLASSES = ["apps", "categories", "devices", "emotes", "places", "status"]
OXYGEN_SOURCE = ("the Oxygen icon theme (KDE, LGPL-3), Debian's oxygen-icon-theme package: its 128×128 colour "
                 "icons of applications, categories, devices, emotes, places and status, 391 images")
OXYGEN_REQUIRES = ("the Oxygen icons, installed by Debian's package: sudo apt-get install oxygen-icon-theme "
                   f"(they land in {OXYGEN}); or give another folder with --dataset")
SMALL_DIGITS_CONFIG = {"image_size": 16, "channels": 1, "dataset_count": 180, "log_every": 50, "sample_every": 500,
                       "checkpoint_every": 2000}
SMALL_ICONS_CONFIG = {"image_size": 32, "channels": 3, "classes": OXYGEN_CLASSES, "log_every": 50,
                      "sample_every": 500, "checkpoint_every": 1000}
SMALL_DIGITS_NET = {"width": 16, "latent_dim": 64, "batch_size": 64}
SMALL_ICONS_NET = {"width": 32, "latent_dim": 100, "batch_size": 32}
SMALL_DIGITS_STEPS = 6000
SMALL_ICONS_STEPS = 3000
AVERAGE_BEATS_RAW = Target("precision", 0.0, relative_to="precision_raw")


def _small(name: str, aids: bool, version: int) -> Recipe:
    digits = name == "digits"
    what = ("scikit-learn's real 8×8 digits at 10%: the first 180 of them, upscaled to 16×16" if digits
            else f"{OXYGEN_SOURCE}, at 32×32")
    how = ("with the small-data aids: DiffAugment's colour, translation and cutout of every image the "
           "discriminator sees, its probability adapted as ADA does (target r_t 0.6), and samples drawn from "
           "an averaged generator (EMA 0.999)" if aids else "as it is, without any aid (the baseline)")
    steps = SMALL_DIGITS_STEPS if digits else SMALL_ICONS_STEPS
    targets: tuple[Target, ...] = ()
    if aids:
        targets = (*(UNCONDITIONAL if digits else ()), AVERAGE_BEATS_RAW)
    return Recipe(
        name=f"small-{name}-{'aids' if aids else 'plain'}", version=version,
        title=f"DCGAN on {'10% of the digits' if digits else 'a few hundred colour icons'}, "
              f"{'with' if aids else 'without'} the small-data aids",
        description=(f"DCGAN ({'width 16, 64-d z, batch 64' if digits else 'width 32, 100-d z, batch 32'}) on {what}, "
                     f"{how}; {steps:,} steps. Judged against "
                     + ("the 1,617 training digits" if digits else "the same icons")
                     + " in the features of a small CNN trained on their labels: precision, recall, density, "
                       "coverage, a real-vs-generated classifier's held-out accuracy"
                     + (", classes covered and diversity." if digits else ", diversity.")),
        dataset="sklearn:digits" if digits else OXYGEN, method="dcgan",
        params={**(SMALL_DIGITS_NET if digits else SMALL_ICONS_NET), **(AIDS if aids else {})},
        config=dict(SMALL_DIGITS_CONFIG if digits else SMALL_ICONS_CONFIG), evaluation="small-data", steps=steps,
        samples=1000, figure=SMALL_DATA_TARGET, targets=targets, time_limit_minutes=15,
        requires="" if digits else OXYGEN_REQUIRES,
    )


SMALL_DATA_RECIPES = [_small(name, aids, 1) for name in ("digits", "icons") for aids in (False, True)]


# ring-fast's and grid-fast's networks and optimiser: a narrow PacGAN2 without BatchNorm.
NARROW_PACGAN2 = {"pack": 2, "batch_size": 200, "hidden": 128, "layers": 3, "g_norm": "none",
                  "d_hidden": 128, "d_layers": 2, "lr_g": 1e-3, "lr_d": 1e-3, "beta1": 0.5}

RECIPES: dict[str, Recipe] = {r.name: r for r in [
    _paper("ring-gan", "rings", 1, 6.3, 98.2),
    _paper("grid-gan", "grid", 1, 17.3, 94.8),
    _paper("ring-pacgan2", "rings", 2, 7.9, 95.6),
    _paper("grid-pacgan2", "grid", 2, 23.8, 91.3),
    _fast("ring-fast", "rings", 7.9,
          "PacGAN2's ring figures on a CPU budget: a narrow PacGAN2 without BatchNorm (G 3×128 ReLU from a 2-d z, "
          "D 2×128 LinearMaxout with 5 pieces, pack 2, 100 packs a batch), Adam lr 1e-3 β1 0.5, and every learning "
          "rate annealed linearly to 2% over the last 75% of the 12,000 steps. Without BatchNorm the samples the "
          "generator draws in evaluation mode land where the trained ones did (its running statistics smeared "
          "the ring's 3σ = 0.03 targets).",
          "gan", "pacgan", NARROW_PACGAN2, 12_000, 2),
    _fast("grid-fast", "grid", 23.8,
          "PacGAN2's grid figures on a CPU budget: a narrow PacGAN2 without BatchNorm (G 3×128 ReLU from a 2-d z, "
          "D 2×128 LinearMaxout with 5 pieces, pack 2, 100 packs a batch), Adam lr 1e-3 β1 0.5, and every learning "
          "rate annealed linearly to 2% over the last 75% of the 30,000 steps: the anneal is what settles the "
          "samples within 3σ of the modes. v3 (with BatchNorm) left 91.4% and 75.5% there in two trials.",
          "gan", "pacgan", NARROW_PACGAN2, 30_000, 4),
    *DIGITS_RECIPES,
    *SMALL_DATA_RECIPES,
]}


def published_lines(name: object) -> dict[str, dict[str, float]]:
    """The Monitor's published lines for a run that is a trial of experiment `name` (see
    Recipe.monitor_lines); {} for a plain run or an experiment this version does not ship."""
    recipe = RECIPES.get(name) if isinstance(name, str) else None
    return recipe.monitor_lines() if recipe is not None else {}


def get_recipe(name: str) -> Recipe:
    """The recipe called `name`; KeyError listing the known ones otherwise."""
    if name not in RECIPES:
        raise KeyError(f"unknown experiment '{name}'; known experiments: {', '.join(RECIPES)} (see `studio experiments`)")
    return RECIPES[name]
