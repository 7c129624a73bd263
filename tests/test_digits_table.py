"""The digits table (issue 19): the shared protocol's figures on inputs with known answers, the
derived translation sources, the recipe for every image method, and the table command end to end."""

from __future__ import annotations

import json

import pytest
import torch

from studio.cli import main as cli_main
from studio.data import open_dataset
from studio.data.sources.sklearn_digits import HELD_OUT_DIGITS, TRAIN_DIGITS, held_out_digits, ink_form
from studio.experiments import protocols as protocols_mod
from studio.experiments.protocols import nearest_real_ratio, sample_figures
from studio.experiments.table import TABLES
from studio.methods.registry import all_methods
from studio.metrics.diversity import label_classifier

pytest.importorskip("sklearn")
SIZE = 16


@pytest.fixture(scope="module")
def digits():
    return open_dataset("sklearn:digits", size=SIZE, count=TRAIN_DIGITS)


@pytest.fixture(scope="module")
def judge(digits, tmp_path_factory):
    return label_classifier(digits, cache_dir=tmp_path_factory.mktemp("judge"), steps=300)


def test_real_digits_score_as_real_and_a_constant_image_collapses(digits, judge):
    held = held_out_digits(SIZE).targets  # real digits the training set does not hold
    real = sample_figures(held, judge, digits.data)
    assert real["classes_covered"] == 10 and real["class_tv"] < 10
    assert 0.9 < real["diversity"] < 1.1
    assert 0.8 < real["nearest_real"] < 1.3  # a fresh real digit is as far from the set as its members are
    constant = sample_figures(held[:1].repeat(200, 1, 1, 1), judge, digits.data)
    assert constant["classes_covered"] == 1 and constant["diversity"] < 1e-6
    assert constant["class_tv"] == pytest.approx(90.0) and constant["histogram"].count(200) == 1


def test_a_memorising_generator_sits_on_the_training_images(digits):
    copies = digits.data[torch.randperm(len(digits.data), generator=torch.Generator().manual_seed(1))[:300]]
    assert nearest_real_ratio(copies, digits.data) == pytest.approx(0.0, abs=1e-6)
    assert nearest_real_ratio(copies.float() / 127.5 - 1, digits.data) < 0.02  # float images in [-1, 1] too


def test_derived_translation_sources_are_deterministic_checkable_pairs():
    paired = open_dataset("sklearn:digits-paired", size=SIZE)
    again = open_dataset("sklearn:digits-paired", size=SIZE)
    unpaired = open_dataset("sklearn:digits-unpaired", size=SIZE, channels=1)
    real = open_dataset("sklearn:digits", size=SIZE)
    assert paired.kind.value == "paired" and unpaired.kind.value == "unpaired"
    assert paired.data.shape == paired.targets.shape == (TRAIN_DIGITS, 1, SIZE, SIZE)
    assert torch.equal(paired.data, again.data) and torch.equal(paired.targets, again.targets)
    assert torch.equal(paired.targets, real.data[:TRAIN_DIGITS]) and torch.equal(paired.labels, real.labels[:TRAIN_DIGITS])
    assert torch.equal(paired.data, ink_form(paired.targets))
    # Ink form: dark on white (inverted) with more ink (thickened) than the digit it came from.
    ink = 255 - paired.data.float()
    assert paired.data.float().mean() > 128 > paired.targets.float().mean()
    assert bool((ink >= paired.targets.float()).all()) and ink.mean() > 1.3 * paired.targets.float().mean()
    # Unpaired: A from the even training rows, B from the odd ones, so no A has its own B.
    assert unpaired.data.shape == (809, 1, SIZE, SIZE) and unpaired.targets.shape == (808, 1, SIZE, SIZE)
    assert torch.equal(unpaired.data, paired.data[0::2]) and torch.equal(unpaired.targets, paired.targets[1::2])
    assert torch.equal(unpaired.labels, paired.labels[0::2])
    # The held-out digits are the last ones, in neither derived set.
    held = held_out_digits(SIZE)
    assert len(held) == HELD_OUT_DIGITS and torch.equal(held.targets, real.data[TRAIN_DIGITS:])
    assert open_dataset("sklearn:digits-paired", size=SIZE, count=10).data.shape[0] == 10


def test_the_digits_table_has_a_recipe_for_every_image_method():
    methods = {r.method for r in TABLES["digits"]}
    assert methods == set(all_methods())  # every registered method trains on images
    assert [r.name for r in TABLES["digits"]] == [f"digits-{r.method}" for r in TABLES["digits"]]
    for recipe in TABLES["digits"]:
        assert recipe.evaluation == "digits" and recipe.samples == 1000 and recipe.time_limit_minutes == 10
        assert {t.metric for t in recipe.targets} & {"classes_covered", "accuracy", "translation_accuracy"}


def test_the_table_command_runs_end_to_end(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(protocols_mod, "JUDGE_STEPS", 100)
    run_dir = tmp_path / "table"
    code = cli_main(["experiment", "table", "digits", "--only", "gan,pix2pix", "--steps", "2",
                     "--run-dir", str(run_dir), "--quiet"])
    assert code == 0
    out = capsys.readouterr().out
    assert "| gan | 2 |" in out and "| pix2pix | 2 |" in out and "report:" in out
    report = json.loads((run_dir / "report.json").read_text())
    gan, pix2pix = report["rows"]
    assert {"classes_covered", "class_tv", "diversity", "nearest_real"} <= set(gan["metrics"])
    prdc = {"precision", "recall", "density", "coverage"}
    assert prdc | {f"{name}_baseline" for name in prdc} <= set(gan["metrics"])
    assert 0.5 < gan["metrics"]["coverage_baseline"] <= 1 and "in classifier features" in gan["details"]["prdc"]
    assert gan["collapse"] == []  # 2 steps: inside the monitors' warm-up
    assert {"translation_accuracy", "input_accuracy", "translation_error"} <= set(pix2pix["metrics"])
    assert gan["cpu_seconds"] > 0 and gan["seconds"] > 0 and not gan["reused"]
    assert [t["metric"] for t in gan["targets"]] == ["classes_covered", "diversity"]
    assert (run_dir / "grids" / "gan.png").exists() and (run_dir / "grids" / "pix2pix.png").exists()
    md = (run_dir / "report.md").read_text()
    assert "![gan](grids/gan.png)" in md and "FID/KID" in md
    assert "| coverage (real) |" in md and "| collapse flagged in training |" in md
    # Again: the finished trials are judged, not retrained, and say so.
    assert cli_main(["experiment", "table", "digits", "--only", "gan", "--steps", "2", "--run-dir", str(run_dir),
                     "--quiet"]) == 0
    again = json.loads((run_dir / "report.json").read_text())
    assert again["rows"][0]["reused"] and again["rows"][0]["cpu_seconds"] == gan["cpu_seconds"]
    assert cli_main(["experiment", "table", "digits", "--only", "nope"]) != 0
    assert "not in the digits table: nope" in capsys.readouterr().err
