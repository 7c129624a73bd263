"""Choosing the condition (issue 13): --classes and --attributes reach the spec, are kept on resume, and a
conditional method refuses data without labels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from PIL import Image

from studio.cli import main
from studio.data import DatasetError, open_dataset
from studio.data.labels import chosen_count, select_classes
from studio.engine import RunConfig, Trainer, load_checkpoint

TINY = ("--preset", "tiny", "--size", "8", "--log-every", "1", "--sample-every", "100", "--checkpoint-every", "100",
        "--no-collapse-check", "--quiet")
CELEBA_ATTRIBUTES = ["Bald", "Blond_Hair", "Male", "Smiling"]


def write_images(folder: Path, n: int, colour: tuple[int, int, int], size: int = 8) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.new("RGB", (size, size), (colour[0], colour[1], (colour[2] + 20 * i) % 256)).save(folder / f"{i}.png")


@pytest.fixture
def three_classes(tmp_path) -> Path:
    """A folder with one sub-folder per class: circle (4), square (5), triangle (6)."""
    root = tmp_path / "shapes"
    for name, n, colour in (("circle", 4, (200, 0, 0)), ("square", 5, (0, 200, 0)), ("triangle", 6, (0, 0, 200))):
        write_images(root / name, n, colour)
    return root


@pytest.fixture
def celeba(tmp_path) -> Path:
    """A CelebA-layout folder: img_align_celeba/ and list_attr_celeba.txt with four attributes."""
    root = tmp_path / "celeba"
    lines = ["8", " ".join(CELEBA_ATTRIBUTES)]
    (root / "img_align_celeba").mkdir(parents=True)
    for i in range(1, 9):
        name = f"{i:06d}.jpg"
        Image.new("RGB", (10, 12), (i * 25, 90, 120)).save(root / "img_align_celeba" / name)
        lines.append(name + " " + " ".join("1" if (i >> k) & 1 else "-1" for k in range(len(CELEBA_ATTRIBUTES))))
    (root / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")
    return root


def train(*args: str) -> int:
    return main(["train", *TINY, *args])


def spec_of(run: Path) -> dict:
    return json.loads((run / "config.json").read_text())["spec"]


def test_attributes_choose_the_celeba_condition(celeba, tmp_path):
    run = tmp_path / "run"
    assert train("--method", "cgan", "--dataset", str(celeba), "--attributes", "Blond_Hair", "--steps", "2",
                 "--run-dir", str(run)) == 0
    spec = spec_of(run)
    assert spec["label_dim"] == 1 and spec["label_names"] == ["Blond_Hair"] and spec["multi_label"]
    assert json.loads((run / "config.json").read_text())["run"]["attributes"] == ["Blond_Hair"]


def test_names_given_in_another_case_are_recorded_as_the_data_spells_them(celeba, tmp_path, capsys):
    """--attributes blond_hair,MALE chooses Blond_Hair and Male: config.json records those, and resuming with
    either spelling is the same choice, not a change of data."""
    run = tmp_path / "run"
    assert train("--method", "cgan", "--dataset", str(celeba), "--attributes", "blond_hair,MALE", "--steps", "2",
                 "--run-dir", str(run)) == 0
    saved = json.loads((run / "config.json").read_text())
    assert saved["run"]["attributes"] == saved["spec"]["label_names"] == ["Blond_Hair", "Male"]
    for spelling in ("Blond_Hair,Male", "blond_hair,MALE"):
        assert main(["train", "--quiet", "--resume", str(run), "--steps", "3", "--attributes", spelling]) == 0, \
            capsys.readouterr().err
    assert main(["train", "--quiet", "--resume", str(run), "--steps", "4", "--attributes", "Male"]) == 2


def test_classes_choose_and_relabel_and_resume_keeps_them(three_classes, tmp_path, capsys):
    run = tmp_path / "run"
    assert train("--method", "cgan", "--dataset", str(three_classes), "--classes", "square,circle", "--steps", "2",
                 "--run-dir", str(run)) == 0
    spec = spec_of(run)
    assert spec["label_dim"] == 2 and spec["label_names"] == ["square", "circle"]
    assert json.loads((run / "config.json").read_text())["dataset"]["count"] == 9  # 5 squares and 4 circles

    assert main(["train", "--quiet", "--resume", str(run), "--steps", "4"]) == 0
    assert spec_of(run)["label_names"] == ["square", "circle"]
    assert json.loads((run / "config.json").read_text())["run"]["classes"] == ["square", "circle"]
    assert load_checkpoint(run / "checkpoints" / "last.pt")["step"] == 4
    # The data a run's networks were built for cannot change on resume.
    assert main(["train", "--quiet", "--resume", str(run), "--steps", "6", "--classes", "circle"]) == 2
    assert "--classes square,circle" in capsys.readouterr().err


def test_unknown_class_lists_the_known_ones(three_classes, tmp_path, capsys):
    assert train("--method", "cgan", "--dataset", str(three_classes), "--classes", "circle,hexagon",
                 "--steps", "1", "--run-dir", str(tmp_path / "run")) == 1
    err = capsys.readouterr().err
    assert "unknown class hexagon" in err and "circle, square, triangle" in err


def test_conditional_method_refuses_unlabelled_data(tmp_path, capsys):
    flat = tmp_path / "flat"
    write_images(flat, 6, (100, 100, 100))
    assert train("--method", "cgan", "--dataset", str(flat), "--steps", "1", "--run-dir", str(tmp_path / "r")) != 0
    err = capsys.readouterr().err
    assert "needs labelled data" in err and "no labels" in err
    assert "one sub-folder per class" in err and "--classes" in err and "--attributes" in err
    # Any method with `conditional` on is refused the same way; off, it trains.
    assert train("--method", "dcgan", "--set", "conditional=true", "--dataset", str(flat), "--steps", "1",
                 "--run-dir", str(tmp_path / "r2")) != 0
    assert "dcgan is conditional" in capsys.readouterr().err
    assert train("--method", "cgan", "--set", "conditional=false", "--dataset", str(flat), "--steps", "1",
                 "--run-dir", str(tmp_path / "r3")) == 0


def test_a_refused_run_leaves_no_run_folder_behind(tmp_path, capsys, monkeypatch):
    """A run refused once its data is open (cgan without labels, an unknown class) made its folder and took
    its writer lock first: the folder goes again, unless it was the user's own."""
    flat = tmp_path / "flat"
    write_images(flat, 6, (100, 100, 100))
    monkeypatch.chdir(tmp_path)
    assert train("--method", "cgan", "--dataset", str(flat), "--steps", "1") == 1
    assert list((tmp_path / "runs").iterdir()) == []  # no runs/cgan-<time> holding only writer.lock
    assert train("--method", "cgan", "--dataset", str(flat), "--steps", "1", "--run-dir", "new") == 1
    assert not (tmp_path / "new").exists()
    (tmp_path / "mine").mkdir()
    assert train("--method", "cgan", "--dataset", str(flat), "--steps", "1", "--run-dir", "mine") == 1
    assert (tmp_path / "mine").is_dir()
    assert "needs labelled data" in capsys.readouterr().err


def test_select_classes_on_every_labelled_kind(three_classes):
    ds = open_dataset(three_classes, size=8)
    chosen = select_classes(ds, ["triangle", "circle"])
    assert chosen.label_names == ["triangle", "circle"] and len(chosen) == 10
    assert chosen.labels.tolist() == [1] * 4 + [0] * 6  # circles were first on disk, now class 1
    assert chosen_count(ds, ["triangle", "circle"]) == 10 and chosen_count(ds, None) == 15
    assert select_classes(ds, ["circle", "square", "triangle"]) is ds  # all, in order: unchanged
    assert open_dataset(three_classes, size=8, classes=["Square"]).label_names == ["square"]  # case-insensitive
    digits = open_dataset("sklearn:digits", size=8, classes=["3", "5"])
    assert digits.label_names == ["3", "5"] and set(digits.labels.tolist()) == {0, 1} and len(digits) == 182 + 183
    with pytest.raises(DatasetError, match="named twice"):
        select_classes(ds, ["circle", "circle"])
    with pytest.raises(DatasetError, match="has no class labels"):
        open_dataset("builtin:rings", count=8, classes=["circle"])
    streamed = open_dataset(three_classes, size=8, stream=True, classes=["triangle"])
    assert streamed.stream_paths is not None and len(streamed) == 6 and streamed.data.shape[0] == 6
    assert all("triangle" in str(p) for p in streamed.stream_paths)
    assert int(streamed.data[:, :2].max()) == 0  # the preview is decoded again: triangles only (blue)


def test_attributes_need_a_multi_label_source(three_classes, celeba):
    with pytest.raises(DatasetError, match="choose some with classes"):
        open_dataset(three_classes, attributes=["Male"])
    with pytest.raises(DatasetError, match="has attributes, not classes"):
        open_dataset(celeba, classes=["Male"])
    with pytest.raises(DatasetError, match="unknown attribute"):
        open_dataset(celeba, attributes=["Wings"])


def test_trainer_narrows_a_dataset_the_window_loaded(three_classes, tmp_path):
    """The window hands the Trainer the dataset it loaded, with every class; the run's choice applies to it."""
    full = open_dataset(three_classes, size=8)
    config = RunConfig(method="cgan", dataset=str(three_classes), preset="tiny", steps=1, classes=["triangle"],
                       sample_every=100, checkpoint_every=100, collapse_check=False)
    trainer = Trainer(config, run_dir=tmp_path / "run", dataset=full)
    assert trainer.run() == "finished"
    assert trainer.method.spec.label_names == ("triangle",) and len(trainer.dataset) == 6
    assert full.label_names == ["circle", "square", "triangle"] and len(full) == 15  # the window's copy is intact
    assert torch.equal(trainer.fixed_labels[0], torch.ones(1))


def test_quickdraw_categories_make_classes(tmp_path, monkeypatch):
    """quickdraw:cat,dog is one class per category (served from the cache here: no download)."""
    import numpy as np

    for name, n in (("cat", 3), ("dog", 5)):
        (tmp_path / "quickdraw").mkdir(exist_ok=True)
        np.save(tmp_path / "quickdraw" / f"{name}.npy", np.full((n, 784), 7 if name == "cat" else 200, np.uint8))
    monkeypatch.setattr("studio.data.sources.quickdraw.fetch_into_cache", lambda *args, **kwargs: None)
    ds = open_dataset("quickdraw:cat,dog", cache_dir=tmp_path)
    assert ds.label_names == ["cat", "dog"] and ds.labels.tolist() == [0] * 3 + [1] * 5 and len(ds) == 8
    dogs = open_dataset("quickdraw:cat,dog", cache_dir=tmp_path, classes=["dog"])
    assert len(dogs) == 5 and int(dogs.data.float().mean()) == 200
    with pytest.raises(DatasetError, match="each category once"):
        open_dataset("quickdraw:cat,cat", cache_dir=tmp_path)


def test_direction_turns_paired_data_for_the_run(tmp_path):
    """--direction BtoA is saved in config.json and swaps input and target, for data opened by the trainer
    and for data the window loaded (which keeps its own orientation)."""
    run = tmp_path / "run"
    assert main(["train", "--method", "pix2pix", "--dataset", "builtin:outlines2shapes", "--preset", "tiny",
                 "--size", "16", "--steps", "1", "--direction", "BtoA", "--split", "all", "--no-collapse-check", "--quiet",
                 "--run-dir", str(run)]) == 0
    saved = json.loads((run / "config.json").read_text())
    assert saved["run"]["split"] == "all"
    assert saved["run"]["direction"] == "BtoA"
    # One note, as the run trains (loaded A→B, then turned): not "… (direction AtoB)" beside "… (direction BtoA)".
    assert [n for n in saved["dataset"]["notes"] if "direction" in n] == ["input B → target A (direction BtoA)"]
    loaded = open_dataset("builtin:outlines2shapes", size=16, count=8)
    config = RunConfig(method="pix2pix", dataset="builtin:outlines2shapes", preset="tiny", steps=1, image_size=16,
                       direction="BtoA", sample_every=100, checkpoint_every=100, collapse_check=False)
    trainer = Trainer(config, dataset=loaded)
    trainer.setup()
    assert torch.equal(trainer.dataset.data, loaded.targets) and torch.equal(trainer.dataset.targets, loaded.data)
    assert not any("BtoA" in n for n in loaded.notes)  # the window's copy is as it was


def test_a_direction_on_data_without_pairs_is_refused_not_ignored(tmp_path, capsys):
    """--direction BtoA on two domains or on images would be recorded in config.json and do nothing."""
    for method, dataset, held in (("cyclegan", "builtin:outlines|shapes", "holds unpaired data (CycleGAN learns"),
                                  ("dcgan", "builtin:shapes", "holds images: leave the direction out")):
        assert train("--method", method, "--dataset", dataset, "--direction", "BtoA", "--steps", "1",
                     "--run-dir", str(tmp_path / method)) == 1
        err = capsys.readouterr().err
        assert "direction BtoA turns input → target pairs round" in err and held in err
        assert not (tmp_path / method).exists()
