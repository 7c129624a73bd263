"""The small-data experiments (issue 25): the protocol's figures on generators with known answers, the
runner judging an averaged generator beside its raw one, and the recipes' data requirements."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from studio.data import DatasetError, open_dataset
from studio.experiments import PROTOCOLS, RECIPES, Recipe, Target, run_experiment
from studio.experiments import protocols as protocols_mod
from studio.experiments.protocols import two_sample_accuracy
from studio.methods import DataSpec, get_method

pytest.importorskip("sklearn")
pytest.importorskip("prdc")


class Copies(nn.Module):
    """A 'generator' that returns training images: sample i is image (i · step) mod N."""

    def __init__(self, images: torch.Tensor, step: int = 1):
        super().__init__()
        self.register_buffer("images", images.float() / 127.5 - 1)
        self.step = step

    def forward(self, z, y=None):
        index = (torch.arange(z.shape[0]) * self.step) % len(self.images)
        return self.images[index]


def test_the_two_sample_classifier_is_at_chance_on_one_distribution_and_sure_on_two():
    rng = np.random.default_rng(0)
    same = two_sample_accuracy(rng.normal(size=(300, 8)), rng.normal(size=(300, 8)))
    apart = two_sample_accuracy(rng.normal(size=(300, 8)), rng.normal(size=(300, 8)) + 1.5)
    assert 40 < same < 60 and apart > 95


def test_the_small_data_protocol_tells_a_faithful_generator_from_a_collapsed_one(monkeypatch):
    monkeypatch.setattr(protocols_mod, "JUDGE_STEPS", 250)
    data = open_dataset("sklearn:digits", size=16, channels=1, count=180)
    dcgan = get_method("dcgan")
    method = dcgan(dcgan.make_params("tiny", {"width": 4}), DataSpec.from_dataset(data), "cpu")
    method.nets["generator"] = Copies(data.data)
    faithful = PROTOCOLS["small-data"](method, data, 400, 0)
    method.nets["generator"] = Copies(data.data[data.labels == 3][:1])  # one image, over and over
    collapsed = PROTOCOLS["small-data"](method, data, 400, 0)
    f, c = faithful.metrics, collapsed.metrics
    assert faithful.details["real_images"] == 1617  # judged against the training digits the 180 came from
    assert f["classes_covered"] == 10 and c["classes_covered"] == 1
    assert f["coverage"] > 0.5 > 0.05 > c["coverage"] and f["recall"] > 0.5 > c["recall"]
    assert f["two_sample"] < 70 < 95 < c["two_sample"]
    assert f["diversity"] > 0.8 > 0.1 > c["diversity"]
    assert f["nearest_real"] < 0.01  # copies of the training digits


def test_an_averaged_generator_is_judged_beside_its_raw_one_and_reused_trials_keep_both(tmp_path, monkeypatch):
    monkeypatch.setattr(protocols_mod, "JUDGE_STEPS", 100)
    recipe = Recipe(name="small-test", version=1, title="tiny", description="a tiny small-data run",
                    dataset="sklearn:digits", method="dcgan", preset="tiny",
                    params={"augment": "colour,translation,cutout", "augment_p": "auto", "ema": 0.9},
                    evaluation="small-data", steps=12, samples=200,
                    targets=(Target("precision", 0.0, relative_to="precision_raw"),),
                    config={"image_size": 16, "channels": 1, "dataset_count": 60, "log_every": 4,
                            "sample_every": 12, "checkpoint_every": 12})
    report = run_experiment(recipe, tmp_path / "exp", command="test")
    trial = report["trials"][0]
    metrics = trial["metrics"]
    for name in ("precision", "recall", "density", "coverage", "two_sample", "classes_covered"):
        assert name in metrics and f"{name}_raw" in metrics, name
    assert "judge_accuracy_raw" not in metrics and "feature_accuracy" in metrics
    assert (tmp_path / "exp" / "trial-1" / "samples.png").exists()
    assert (tmp_path / "exp" / "trial-1" / "samples-raw.png").exists()
    assert (tmp_path / "exp" / "trial-1" / "samples.png").read_bytes() != \
        (tmp_path / "exp" / "trial-1" / "samples-raw.png").read_bytes()
    row = next(r for r in report["table"] if r["metric"] == "precision")
    assert row["target"] == "≥ precision_raw" and row["met"] is (metrics["precision"] >= metrics["precision_raw"])
    again = run_experiment(recipe, tmp_path / "exp")  # judged again from the checkpoint: the same figures
    # (the cached feature classifier's accuracy comes back as float32: that one figure is rounded)
    same = {k: v for k, v in again["trials"][0]["metrics"].items() if k != "feature_accuracy"}
    assert again["trials"][0]["reused"] and same == {k: v for k, v in metrics.items() if k != "feature_accuracy"}


def test_a_recipe_says_how_to_get_data_the_studio_does_not_ship(tmp_path):
    recipe = RECIPES["small-icons-aids"]
    assert "apt-get install oxygen-icon-theme" in recipe.requires
    missing = Recipe(**{**recipe.__dict__, "dataset": str(tmp_path / "no-icons-here")})
    with pytest.raises(DatasetError, match="apt-get install oxygen-icon-theme"):
        run_experiment(missing, tmp_path / "exp")


def test_the_small_data_recipes_differ_only_by_the_aids():
    for data in ("digits", "icons"):
        plain, aids = RECIPES[f"small-{data}-plain"], RECIPES[f"small-{data}-aids"]
        assert plain.steps == aids.steps and plain.config == aids.config and plain.dataset == aids.dataset
        extra = {k: v for k, v in aids.params.items() if plain.params.get(k) != v}
        assert extra == {k: v for k, v in get_method("dcgan").presets["small-data"].items()
                         if k in extra} and extra, "the aids arm adds the small-data preset's settings, nothing else"
