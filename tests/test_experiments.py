"""Experiments: the shipped recipes, the evaluation protocols on samples with known answers, a whole
(tiny) experiment run through the CLI with its report, and `studio sample --out X.npy`."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from studio.cli import main as cli_main
from studio.data import open_dataset
from studio.engine import RunDirectory
from studio.experiments import PROTOCOLS, RECIPES, Published, Recipe, Target, run_experiment
from studio.experiments import protocols as protocols_mod
from studio.methods import DataSpec, get_method

REQUIRED = {"ring-gan", "grid-gan", "ring-pacgan2", "grid-pacgan2", "ring-fast", "grid-fast", "digits-cgan"}


def test_experiments_json_lists_the_required_recipes_with_their_figures(capsys):
    assert cli_main(["experiments", "--json"]) == 0
    listed = {d["name"]: d for d in json.loads(capsys.readouterr().out)}
    assert REQUIRED <= set(listed)
    grid = listed["grid-pacgan2"]
    assert grid["params"]["pack"] == 2 and grid["published_steps"] == 400_000
    assert {p["metric"]: p["value"] for p in grid["published"]} == {"modes": 23.8, "high_quality": 91.3}
    assert "PacGAN" in grid["figure"]
    fast = listed["grid-fast"]
    assert {t["metric"]: t["value"] for t in fast["targets"]} == {"modes": 23.8, "high_quality": 90.0}
    assert fast["time_limit_minutes"] == 10
    assert {t["metric"]: t["value"] for t in listed["digits-cgan"]["targets"]} == {"accuracy": 97.0}


def test_every_recipe_builds_its_run_config_and_method():
    for recipe in RECIPES.values():
        config = recipe.run_config(seed=3)
        assert config.seed == 3 and config.steps == recipe.steps and recipe.evaluation in PROTOCOLS
        cls = get_method(recipe.method)
        cls.make_params(recipe.preset, recipe.params)  # the settings are valid for the method


class ToModes(nn.Module):
    """A 'generator' that puts sample i on mode i mod K, `spread` away in a random direction."""

    def __init__(self, modes: torch.Tensor, spread: float, off_mode: int = 0):
        super().__init__()
        self.register_buffer("modes", modes)
        self.spread, self.off_mode = spread, off_mode

    def forward(self, z, y=None):
        n = z.shape[0]
        angle = z[:, 0] * 10
        points = self.modes[torch.arange(n) % len(self.modes)] + self.spread * torch.stack([angle.cos(), angle.sin()], 1)
        points[: self.off_mode] = 100.0  # far from every mode
        return points


@pytest.mark.parametrize("source", ["builtin:rings", "builtin:grid"])
def test_mixture_protocol_on_known_points(source):
    data = open_dataset(source, count=100)
    method = get_method("gan")(get_method("gan").make_params("tiny"), DataSpec.from_dataset(data), "cpu")
    method.nets["generator"] = ToModes(data.modes, 2.9 * data.mode_std, off_mode=250)
    result = PROTOCOLS["mixture-2d"](method, data, 2500, 0)
    k = len(data.modes)
    assert result.metrics["modes"] == k
    assert result.metrics["high_quality"] == pytest.approx(90.0)  # 2,250 of 2,500 within 3σ
    assert result.metrics["jsd"] < 1e-3  # near-even spread
    assert result.samples.shape == (2500, 2) and result.pictures["scatter.png"][:4] == b"\x89PNG"
    # Just outside 3σ: nothing is high quality and no mode counts.
    method.nets["generator"] = ToModes(data.modes, 3.1 * data.mode_std)
    outside = PROTOCOLS["mixture-2d"](method, data, 2500, 0)
    assert outside.metrics["modes"] == 0 and outside.metrics["high_quality"] == 0
    assert outside.metrics["jsd"] == pytest.approx(math.log(2))


class RealDigits(nn.Module):
    """A conditional 'generator' that returns a real image of the asked class (or class 0 when unconditional)."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor):
        super().__init__()
        self.register_buffer("images", images.float() / 127.5 - 1)
        self.register_buffer("labels", labels)

    def forward(self, z, y=None):
        want = y.argmax(1) if y is not None else torch.zeros(z.shape[0], dtype=torch.long)
        picks = [torch.nonzero(self.labels == c)[i % 5, 0] for i, c in enumerate(want.tolist())]
        return self.images[torch.stack(picks)]


def test_digit_protocols_judge_real_digits_as_their_class(monkeypatch, tmp_path):
    pytest.importorskip("sklearn")
    monkeypatch.setattr(protocols_mod, "JUDGE_STEPS", 250)
    data = open_dataset("sklearn:digits", size=16)
    spec = DataSpec.from_dataset(data)
    cgan = get_method("cgan")(get_method("cgan").make_params("tiny", {"width": 4}), spec, "cpu")
    cgan.nets["generator"] = RealDigits(data.data, data.labels)
    result = PROTOCOLS["digits"](cgan, data, 200, 0)
    assert result.metrics["judge_accuracy"] > 85
    assert result.metrics["accuracy"] > 85  # real digits of the asked class are named as it
    assert result.samples.shape == (200, 1, 16, 16) and result.samples.dtype == np.uint8
    grid = np.asarray(Image.open(io.BytesIO(result.pictures["samples.png"])))
    assert grid.shape[0] // 18 == 10 and result.details["picture_rows"] == list(range(10))  # a row per class
    # An unconditional generator that only ever draws a 0 covers one class.
    dcgan = get_method("dcgan")(get_method("dcgan").make_params("tiny", {"width": 4}), spec, "cpu")
    dcgan.nets["generator"] = RealDigits(data.data, data.labels)
    collapsed = PROTOCOLS["digits"](dcgan, data, 200, 0)
    assert collapsed.metrics["classes_covered"] == 1
    assert result.metrics["nearest_real"] < 0.01  # the 'generator' copies training digits


def test_a_tiny_experiment_runs_trials_as_run_directories_and_reports(tmp_path):
    recipe = Recipe(name="ring-test", version=1, title="tiny", description="a tiny ring run", dataset="builtin:rings",
                    method="gan", preset="tiny", params={"pack": 2, "batch_size": 32}, evaluation="mixture-2d",
                    steps=20, samples=500, published=(Published("modes", 7.9, "PacGAN"),),
                    targets=(Target("modes", 7.9),), published_steps=400_000, time_limit_minutes=10,
                    config={"log_every": 10, "sample_every": 10, "checkpoint_every": 10})
    report = run_experiment(recipe, tmp_path / "exp", trials=2, command="test")
    assert [t["state"] for t in report["trials"]] == ["finished", "finished"]
    for k in (1, 2):
        trial = tmp_path / "exp" / f"trial-{k}"
        assert (trial / "checkpoints" / "last.pt").exists() and (trial / "scatter.png").exists()
        assert np.load(trial / "samples.npy").shape == (500, 2)
    rows = {r["metric"]: r for r in report["table"]}
    modes = [t["metrics"]["modes"] for t in report["trials"]]
    assert rows["modes"]["mean"] == pytest.approx(sum(modes) / 2) and rows["modes"]["n"] == 2
    assert rows["modes"]["published"] == 7.9 and rows["modes"]["met"] is (rows["modes"]["mean"] >= 7.9)
    assert report["budget_fraction"] == pytest.approx(20 / 400_000)
    saved = json.loads((tmp_path / "exp" / "report.json").read_text())
    assert saved["table"] == json.loads(json.dumps(report["table"]))
    md = (tmp_path / "exp" / "report.md").read_text()
    assert "| modes covered |" in md and "trial-2/scatter.png" in md and "0.01% of the budget" in md
    # Run again with a third trial: the finished trials are judged again, not retrained.
    before = (tmp_path / "exp" / "trial-1" / "checkpoints" / "last.pt").stat().st_mtime_ns
    again = run_experiment(recipe, tmp_path / "exp", trials=3)
    assert len(again["trials"]) == 3
    assert (tmp_path / "exp" / "trial-1" / "checkpoints" / "last.pt").stat().st_mtime_ns == before
    assert again["trials"][0]["metrics"] == report["trials"][0]["metrics"]
    # A trial of other settings (here: steps) is trained again from scratch, its old records gone, not appended to.
    longer = run_experiment(recipe, tmp_path / "exp", trials=1, steps=30)
    logged = [r["step"] for r in RunDirectory(tmp_path / "exp" / "trial-1").read_metrics() if "event" not in r
              and "metric" not in r]
    assert longer["trials"][0]["steps"] == 30 and logged == sorted(set(logged)) and logged[-1] == 30


def test_cli_runs_an_experiment_shortened_and_samples_arrays(tmp_path, capsys):
    run_dir = tmp_path / "ring"
    assert cli_main(["experiment", "run", "ring-pacgan2", "--steps", "3", "--run-dir", str(run_dir), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "| modes covered |" in out and "report:" in out
    report = json.loads((run_dir / "report.json").read_text())
    assert report["steps"] == 3 and report["trials"][0]["steps"] == 3
    assert report["trials"][0]["amp"] == "off"  # auto keeps the 2-D sets' small MLPs in float32
    # --amp bf16 checks a recipe under bf16 (a new trial: the precision is part of what a trial reuses)
    forced = tmp_path / "ring-bf16"
    assert cli_main(["experiment", "run", "ring-pacgan2", "--steps", "3", "--run-dir", str(forced), "--quiet",
                     "--amp", "bf16"]) == 0
    assert json.loads((forced / "report.json").read_text())["trials"][0]["amp"] == "bf16"
    assert cli_main(["sample", str(run_dir / "trial-1"), "--n", "2500", "--out", str(tmp_path / "p.npy")]) == 0
    points = np.load(tmp_path / "p.npy")
    assert points.shape == (2500, 2) and points.dtype == np.float32
    capsys.readouterr()


def test_cli_names_an_unknown_experiment(capsys):
    code = cli_main(["experiment", "run", "no-such-experiment"])
    assert code != 0
    assert "unknown experiment 'no-such-experiment'" in capsys.readouterr().err


def test_sample_writes_uint8_image_arrays(tmp_path):
    run_dir = tmp_path / "run"
    assert cli_main(["train", "--method", "dcgan", "--preset", "tiny", "--dataset", "builtin:shapes", "--size", "16",
                     "--steps", "2", "--run-dir", str(run_dir), "--quiet"]) == 0
    assert cli_main(["sample", str(run_dir), "--n", "5", "--out", str(tmp_path / "x.npy")]) == 0
    images = np.load(tmp_path / "x.npy")
    assert images.shape == (5, 3, 16, 16) and images.dtype == np.uint8
