"""pix2pix and CycleGAN folders: aligned A|B images, A/+B/ paired by name, trainA/+trainB/ domains (issue 13)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from studio.data import DatasetError, open_dataset
from studio.data.cache import decoded_cache
from studio.data.dataset import DatasetKind

RED, BLUE, GREEN = (220, 20, 20), (20, 20, 220), (20, 200, 20)


def write_pair(path: Path, side: int, left=RED, right=BLUE, fmt: str = "PNG") -> Path:
    """One aligned image: `left` filling the left half, `right` the right half (2·side × side)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", (2 * side, side), left)
    image.paste(Image.new("RGB", (side, side), right), (side, 0))
    image.save(path, fmt, **({"quality": 95} if fmt == "JPEG" else {}))
    return path


def write_image(path: Path, size: tuple[int, int], colour, mode: str = "RGB") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, colour if mode == "RGB" else colour[0]).save(path)
    return path


@pytest.fixture
def aligned(tmp_path) -> Path:
    """facades-style: train/ (5 pairs, plus one square image) and val/ (2 pairs, green|red)."""
    root = tmp_path / "facades"
    for i in range(5):
        write_pair(root / "train" / f"{i}.jpg", 24, fmt="JPEG")
    write_image(root / "train" / "odd.png", (24, 24), RED)
    for i in range(2):
        write_pair(root / "val" / f"{i}.png", 20, left=GREEN, right=RED)
    return root


def mean_colour(images: torch.Tensor) -> list[float]:
    return images.float().mean(dim=(0, 2, 3)).tolist()


def close(images: torch.Tensor, colour, tol: float = 12) -> bool:
    return bool((images.float() - torch.tensor(colour, dtype=torch.float32).view(1, 3, 1, 1)).abs().max() <= tol)


# --- aligned A|B ---------------------------------------------------------------------------------


def test_aligned_folder_splits_each_image_into_input_and_target(aligned):
    ds = open_dataset(aligned, size=8)
    assert ds.kind == DatasetKind.PAIRED
    assert tuple(ds.data.shape) == (5, 3, 8, 8) and tuple(ds.targets.shape) == (5, 3, 8, 8)
    # Each half is cropped and resized on its own: no blue bleeds into the input, no red into the target.
    assert close(ds.data, RED) and close(ds.targets, BLUE), (mean_colour(ds.data), mean_colour(ds.targets))
    assert [s.path for s in ds.skipped] == ["train/odd.png"] and "side by side" in ds.skipped[0].reason
    assert any("train/" in n for n in ds.notes) and any("direction AtoB" in n for n in ds.notes)
    assert ds.describe()["kind"] == "paired" and ds.describe()["targets"] == 5


def test_aligned_split_and_direction(aligned):
    val = open_dataset(aligned, split="val")
    assert len(val) == 2 and val.image_size == 20 and close(val.data, GREEN) and close(val.targets, RED)
    swapped = open_dataset(aligned, split="val", direction="BtoA")
    assert torch.equal(swapped.data, val.targets) and torch.equal(swapped.targets, val.data)
    assert any("input right halves" in n and "BtoA" in n for n in swapped.notes)
    everything = open_dataset(aligned, split="all", size=8)
    assert len(everything) == 7
    with pytest.raises(DatasetError, match=r"no test/ sub-folder .*train/, val/"):
        open_dataset(aligned, split="test")


def test_aligned_images_at_the_top_level_and_count(tmp_path):
    for i in range(6):
        write_pair(tmp_path / "flat" / f"{i:02d}.png", 16)
    ds = open_dataset(tmp_path / "flat", count=4, seed=1)
    assert ds.kind == DatasetKind.PAIRED and len(ds) == 4 and ds.image_size == 16


def test_direction_applies_to_the_builtin_pairs_too():
    straight = open_dataset("builtin:outlines2shapes", size=8, count=4)
    swapped = open_dataset("builtin:outlines2shapes", size=8, count=4, direction="BtoA")
    assert torch.equal(swapped.data, straight.targets) and torch.equal(swapped.targets, straight.data)
    assert straight.notes[-1] == "input A → target B (direction AtoB)"


def test_bad_direction_is_refused_with_the_choices(aligned):
    with pytest.raises(DatasetError, match=r"direction='sideways' is not valid; give 'AtoB'.*'BtoA'"):
        open_dataset(aligned, direction="sideways")


def test_a_folder_of_wide_images_among_square_ones_stays_an_image_folder(tmp_path):
    # Mostly square photos: not an aligned set, even with one 2:1 image in it.
    for i in range(5):
        write_image(tmp_path / "photos" / f"{i}.png", (16, 16), RED)
    write_pair(tmp_path / "photos" / "wide.png", 16)
    assert open_dataset(tmp_path / "photos", size=8).kind == DatasetKind.IMAGES


def test_aligned_set_comes_back_from_the_decoded_cache_identical(tmp_path):
    for i in range(decoded_cache.MIN_ITEMS):
        write_pair(tmp_path / "many" / "train" / f"{i:03d}.png", 12, left=(i * 7, 0, 0), right=(0, 0, i * 7))
    cache = tmp_path / "cache"
    first = open_dataset(tmp_path / "many", cache_dir=cache)
    decoded_cache.wait_for_writes()
    assert decoded_cache.entries(cache), "the tiled decode was not cached"
    again = open_dataset(tmp_path / "many", cache_dir=cache)
    assert torch.equal(first.data, again.data) and torch.equal(first.targets, again.targets)
    assert first.data[:, 0].float().mean() > 10 and first.data[:, 2].float().max() < 10


# --- A/ + B/ paired by name ---------------------------------------------------------------------


def test_a_and_b_folders_pair_by_name_and_report_the_unmatched(tmp_path):
    root = tmp_path / "ab"
    for i in range(4):
        write_image(root / "A" / f"{i}.png", (12, 12), RED)
        write_image(root / "B" / f"{i}.jpg", (12, 12), BLUE)  # other extension: pairs by name alone
    write_image(root / "A" / "only_a.png", (12, 12), RED)
    write_image(root / "B" / "only_b.png", (12, 12), BLUE)
    (root / "B" / "2.jpg").write_bytes(b"\xff\xd8 broken")
    ds = open_dataset(root)
    assert ds.kind == DatasetKind.PAIRED and len(ds) == 3 and close(ds.data, RED) and close(ds.targets, BLUE, 20)
    reasons = {s.path: s.reason for s in ds.skipped}
    assert "no file named only_a.* in B/" in reasons["A/only_a.png"]
    assert "no file named only_b.* in A/" in reasons["B/only_b.png"]
    assert "B/2.jpg" in reasons and "its partner B/2.jpg could not be used" == reasons["A/2.png"]
    swapped = open_dataset(root, direction="BtoA")
    assert close(swapped.data, BLUE, 20) and close(swapped.targets, RED)


def test_input_and_target_folders_with_splits(tmp_path):
    root = tmp_path / "io"
    for split, n in (("train", 3), ("test", 2)):
        for i in range(n):
            write_image(root / "input" / split / f"{i}.png", (10, 10), GREEN, mode="L")
            write_image(root / "target" / split / f"{i}.png", (10, 10), RED)
    train = open_dataset(root)
    assert len(train) == 3 and train.channels == 3  # a grey side beside a colour one: both in colour
    assert len(open_dataset(root, split="test")) == 2 and len(open_dataset(root, split="all")) == 5


def test_a_and_b_folders_with_no_common_name_say_how_pairs_are_made(tmp_path):
    write_image(tmp_path / "two" / "A" / "cat.png", (8, 8), RED)
    write_image(tmp_path / "two" / "B" / "dog.png", (8, 8), BLUE)
    with pytest.raises(DatasetError, match=r"A/ and B/ share no file names; pix2pix pairs files by name"):
        open_dataset(tmp_path / "two")


# --- trainA/ + trainB/ -------------------------------------------------------------------------


@pytest.fixture
def domains(tmp_path) -> Path:
    """horse2zebra-style: 5 A images of 16 px, 3 B images of 24 px (one 30×20), 2 test images each."""
    root = tmp_path / "h2z"
    for i in range(5):
        write_image(root / "trainA" / f"a{i}.jpg", (16, 16), RED)
    for i in range(3):
        write_image(root / "trainB" / f"b{i}.png", (24, 24) if i else (30, 20), BLUE)
    for d in "AB":
        for i in range(2):
            write_image(root / f"test{d}" / f"{i}.png", (16, 16), GREEN)
    return root


def test_two_domains_of_different_counts_and_sizes(domains):
    ds = open_dataset(domains)
    assert ds.kind == DatasetKind.UNPAIRED
    assert tuple(ds.data.shape) == (5, 3, 16, 16) and tuple(ds.targets.shape) == (3, 3, 16, 16)
    assert close(ds.data, RED, 20) and close(ds.targets, BLUE)
    assert any("domain A's most common size" in n for n in ds.notes)
    assert any("5 A images, 3 B images" in n for n in ds.notes)
    sized = open_dataset(domains, size=8)
    assert sized.image_size == 8 and sized.targets.shape[-1] == 8
    assert not any("most common size" in n for n in sized.notes)


def test_domain_splits_count_and_missing_folders(domains, tmp_path):
    test = open_dataset(domains, split="test")
    assert len(test) == 2 and test.targets.shape[0] == 2 and close(test.data, GREEN)
    assert len(open_dataset(domains, split="all")) == 7
    assert len(open_dataset(domains, count=2)) == 2
    with pytest.raises(DatasetError, match=r"has no 'val' split"):
        open_dataset(domains, split="val")
    write_image(tmp_path / "half" / "testA" / "x.png", (8, 8), RED)
    write_image(tmp_path / "half" / "testB" / "x.png", (8, 8), RED)
    with pytest.raises(DatasetError, match=r"no trainA/ and trainB/ folders for split 'train'"):
        open_dataset(tmp_path / "half")


def test_a_grey_domain_beside_a_colour_one_becomes_colour(tmp_path):
    for i in range(2):
        write_image(tmp_path / "g" / "trainA" / f"{i}.png", (8, 8), (90, 90, 90), mode="L")
        write_image(tmp_path / "g" / "trainB" / f"{i}.png", (8, 8), BLUE)
    ds = open_dataset(tmp_path / "g")
    assert ds.channels == 3 and ds.targets.shape[1] == 3 and np.allclose(ds.data.float().numpy(), 90, atol=1)


def test_an_empty_domain_is_a_clear_error(tmp_path):
    write_image(tmp_path / "e" / "trainA" / "0.png", (8, 8), RED)
    (tmp_path / "e" / "trainB").mkdir()
    with pytest.raises(DatasetError, match=r"domain B.*no images found"):
        open_dataset(tmp_path / "e")


# --- the command line trains on them ---------------------------------------------------------------


@pytest.mark.parametrize("layout", ["aligned", "named", "domains"])
def test_studio_train_runs_on_a_translation_folder(layout, aligned, domains, tmp_path):
    from studio.cli import main

    if layout == "named":
        dataset = tmp_path / "named"
        for i in range(4):
            write_image(dataset / "A" / f"{i}.png", (12, 12), RED)
            write_image(dataset / "B" / f"{i}.jpg", (20, 20), BLUE)
    else:
        dataset = aligned if layout == "aligned" else domains
    method = "cyclegan" if layout == "domains" else "pix2pix"
    run_dir = tmp_path / f"run-{layout}"
    args = ["train", "--method", method, "--preset", "tiny", "--dataset", str(dataset), "--size", "16",
            "--steps", "3", "--device", "cpu", "--run-dir", str(run_dir), "--quiet", "--sample-every", "3"]
    assert main(args) == 0
    assert (run_dir / "checkpoints" / "last.pt").is_file() and '"finished"' in (run_dir / "status.json").read_text()


def test_turning_pairs_again_keeps_one_note_naming_the_sides_as_they_are(aligned):
    """Data loaded A→B and turned for a run (the trainer's chosen_data) says once which side is the input."""
    from studio.data.sources.paired import orient

    ds = open_dataset(aligned)
    assert [n for n in ds.notes if "direction" in n] == ["input left halves → target right halves (direction AtoB)"]
    orient(ds, "BtoA")
    assert [n for n in ds.notes if "direction" in n] == ["input right halves → target left halves (direction BtoA)"]


def test_an_empty_side_folder_is_named(tmp_path):
    (tmp_path / "ab" / "A").mkdir(parents=True)
    write_image(tmp_path / "ab" / "B" / "0.png", (8, 8), BLUE)
    with pytest.raises(DatasetError, match=r"A/ holds no images; pix2pix pairs each file in A/ with the file"):
        open_dataset(tmp_path / "ab")


def test_a_folder_meant_as_pairs_or_domains_is_refused_with_the_layout_the_method_needs(tmp_path, capsys):
    """Halves that are not 2:1, or trainA/ without trainB/, read as images: the method says what it needs."""
    from studio.cli import main

    for split in ("train", "val"):
        for i in range(3):
            write_image(tmp_path / "square" / split / f"{i}.png", (12, 8), RED)
    for i in range(3):
        write_image(tmp_path / "half" / "trainA" / f"{i}.png", (8, 8), RED)
    for method, folder, needed in (("pix2pix", "square", "twice as wide as high"),
                                   ("cyclegan", "half", "a folder holding trainA/ and trainB/")):
        assert main(["train", "--method", method, "--dataset", str(tmp_path / folder), "--steps", "1", "--quiet",
                     "--run-dir", str(tmp_path / f"run-{method}")]) == 1
        err = capsys.readouterr().err
        assert f"{tmp_path / folder} holds images; pick a dataset of the right kind" in err and needed in err
