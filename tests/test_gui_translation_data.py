"""pix2pix and CycleGAN folders dropped on the window: kind, preview, facts and the method picker (issue 13)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pyqtgraph")

from PySide6.QtWidgets import QApplication, QFileDialog  # noqa: E402
from test_data_paired import BLUE, GREEN, RED, write_image, write_pair  # noqa: E402
from test_gui import WAIT, drop  # noqa: E402

from studio.gui.translation_preview import domains_grid, pairs_grid  # noqa: E402

pytestmark = pytest.mark.gui
# Where the screenshots of the previews go (STUDIO_SHOTS to change); the report looks at them.
SHOTS = Path(os.environ.get("STUDIO_SHOTS", "/tmp/shots-13"))


def aligned_folder(root: Path) -> Path:
    for i in range(6):
        write_pair(root / "train" / f"{i}.png", 16, left=(40 * i, 30, 30), right=BLUE)
    write_pair(root / "val" / "0.png", 16)
    return root


def named_folder(root: Path) -> Path:
    for i in range(3):
        write_image(root / "A" / f"{i}.png", (16, 16), RED)
        write_image(root / "B" / f"{i}.png", (16, 16), GREEN)
    write_image(root / "A" / "lonely.png", (16, 16), RED)
    return root


def domains_folder(root: Path) -> Path:
    for i in range(5):
        write_image(root / "trainA" / f"{i}.png", (16, 16), (200, 40 * i, 40))
    for i in range(3):
        write_image(root / "trainB" / f"{i}.png", (24, 24), (40, 40 * i, 200))
    return root


def dropped(window, qtbot, folder: Path):
    panel = window.train_tab.dataset_panel
    panel.set_options(size=None, count=None)
    with qtbot.waitSignal(panel.datasetChanged, timeout=WAIT):
        drop(panel.drop_zone, [folder])
    return panel


def shot(window, panel, name: str) -> Path:
    """The dataset area as a PNG, with the window tall enough to show the facts under the preview."""
    window.resize(1280, 1000)
    QApplication.processEvents()
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    assert panel.grab().save(str(path))
    return path


@pytest.mark.parametrize("layout", ["aligned", "named"])
def test_dropping_a_pix2pix_folder_shows_pairs_and_enables_pix2pix(window, qtbot, tmp_path, layout):
    folder = aligned_folder(tmp_path / "facades") if layout == "aligned" else named_folder(tmp_path / "ab")
    panel = dropped(window, qtbot, folder)
    ds = panel.dataset
    assert ds.kind.value == "paired" and len(ds) == (6 if layout == "aligned" else 3)
    # The preview is the input → target grid of these pairs, not a grid of inputs alone.
    assert np.array_equal(panel.image_preview.image, pairs_grid(ds.data, ds.targets))
    assert "input → target pairs (paired)" in panel.facts.text() and "kind: paired" in panel.facts.text()
    if layout == "named":
        assert "A/lonely.png" in panel.skipped_list.item(0).text()
    picker = window.train_tab.method_picker
    assert picker.set_current("pix2pix") and picker.current == "pix2pix"
    assert not picker.set_current("cyclegan") and not picker.set_current("dcgan")
    assert shot(window, panel, f"preview-paired-{layout}").stat().st_size > 1000


def test_dropping_a_cyclegan_folder_shows_two_labelled_rows_and_enables_cyclegan(window, qtbot, tmp_path):
    panel = dropped(window, qtbot, domains_folder(tmp_path / "h2z"))
    ds = panel.dataset
    assert ds.kind.value == "unpaired" and len(ds) == 5 and ds.targets.shape[0] == 3 and ds.image_size == 16
    image = panel.image_preview.image
    assert np.array_equal(image, domains_grid(ds.data, ds.targets))
    side = 16 + 2  # a cell and its padding: two rows, each a label cell then 8 images
    assert image.shape[0] == 2 * side + 2 and image.shape[1] == 9 * side + 2
    assert image[2:18, 2:18].max() > 150 and image[20:36, 2:18].max() > 150  # the "A" and "B" labels are drawn
    assert "5</b> A + <b>3</b> B images (unpaired domains)" in panel.facts.text()
    picker = window.train_tab.method_picker
    assert picker.set_current("cyclegan") and not picker.set_current("pix2pix")
    assert shot(window, panel, "preview-unpaired").stat().st_size > 1000


def test_the_online_list_offers_the_pix2pix_and_cyclegan_sets(window):
    panel = window.train_tab.dataset_panel
    panel.populate()
    names = [panel.online_list.item(i).text() for i in range(panel.online_list.count())]
    assert "pix2pix:facades   (paired)" in names and "cyclegan:horse2zebra   (unpaired)" in names


def test_open_folder_reads_a_translation_folder_too(window, qtbot, tmp_path, monkeypatch):
    folder = domains_folder(tmp_path / "h2z")
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    panel = window.train_tab.dataset_panel
    with qtbot.waitSignal(panel.datasetChanged, timeout=WAIT):
        panel.drop_zone.open_folder_button.click()
    assert panel.dataset.kind.value == "unpaired" and panel.source == str(folder)


def test_the_split_is_chosen_in_the_window_and_reaches_the_run(window, qtbot, tmp_path):
    """A pix2pix folder that holds only val/ could not be loaded from the window (no split to give):
    the dataset options have a Split choice, and the run trains on the split loaded."""
    folder = tmp_path / "valonly"
    for i in range(4):
        write_pair(folder / "val" / f"{i}.png", 16, left=(40 * i, 30, 30), right=BLUE)
    panel = window.train_tab.dataset_panel
    panel.set_options(split="val")
    with qtbot.waitSignal(panel.datasetChanged, timeout=WAIT):
        drop(panel.drop_zone, [folder])
    assert panel.dataset.kind.value == "paired" and len(panel.dataset) == 4
    assert panel.loaded_options["split"] == "val" and "pix2pix" in panel.split_combo.toolTip()
    window.train_tab.method_picker.set_current("pix2pix")
    assert window.train_tab.build_config().split == "val"
    panel.set_options(split="nonsense")
    assert panel.options()["split"] == "train"  # unknown values fall back to the default
