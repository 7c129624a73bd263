"""The experiments shipped with the studio. Bump a recipe's `version` whenever its settings change,
so reports from different versions are never mixed up."""

from __future__ import annotations

from .recipe import Published, Recipe, Target

PACGAN = "Lin, Khetan, Fanti & Oh, PacGAN: The power of two samples in generative adversarial networks (NeurIPS 2018)"
PACGAN_FIGURE = f"{PACGAN}, the 2-D ring and grid table: 2,500 samples, a mode counts with ≥ 1 sample within 3σ"
# Their setup: 400 epochs of 100,000 samples in batches of 100 = 400,000 updates.
PACGAN_STEPS = 400_000
POINTS_CONFIG = {"log_every": 100, "sample_every": 1000, "checkpoint_every": 5000}


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


RECIPES: dict[str, Recipe] = {r.name: r for r in [
    _paper("ring-gan", "rings", 1, 6.3, 98.2),
    _paper("grid-gan", "grid", 1, 17.3, 94.8),
    _paper("ring-pacgan2", "rings", 2, 7.9, 95.6),
    _paper("grid-pacgan2", "grid", 2, 23.8, 91.3),
]}


def get_recipe(name: str) -> Recipe:
    """The recipe called `name`; KeyError listing the known ones otherwise."""
    if name not in RECIPES:
        raise KeyError(f"unknown experiment '{name}'; known experiments: {', '.join(RECIPES)} (see `studio experiments`)")
    return RECIPES[name]
