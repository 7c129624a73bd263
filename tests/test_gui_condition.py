"""The Train tab's condition and run length (issue 13), and carrying every RunConfig field an experiment sets
(issue 15): the checkable class/attribute list, cgan greyed for unlabelled data with the reason, epochs,
time limit and LR anneal reaching the RunConfig, and the Sample tab's toggles showing the chosen labels."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

import torch  # noqa: E402
from PIL import Image  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402

from studio.engine import RunConfig, Trainer  # noqa: E402
from studio.engine.launch import train_command  # noqa: E402
from studio.experiments import get_recipe  # noqa: E402
from studio.gui.experiments_dialog import fill_train_tab  # noqa: E402
from studio.gui.sample import SampleTab  # noqa: E402
from studio.gui.tasks import live_tasks  # noqa: E402
from studio.gui.train_tab import TrainTab  # noqa: E402
from studio.gui.translation_preview import pairs_grid  # noqa: E402
from studio.methods.params import ConfigError  # noqa: E402

pytestmark = pytest.mark.gui
WAIT = 60_000  # ms: the test machines are shared


def write_folder(root: Path, classes: dict[str, int] | None = None, flat: int = 0) -> Path:
    for name, n in (classes or {}).items():
        (root / name).mkdir(parents=True)
        for i in range(n):
            Image.new("RGB", (8, 8), (40 * len(name) % 256, 20 * i, 90)).save(root / name / f"{i}.png")
    root.mkdir(parents=True, exist_ok=True)
    for i in range(flat):
        Image.new("RGB", (8, 8), (10 * i, 50, 90)).save(root / f"{i}.png")
    return root


def write_celeba(root: Path, attributes=("Bald", "Blond_Hair", "Male")) -> Path:
    (root / "img_align_celeba").mkdir(parents=True)
    lines = ["6", " ".join(attributes)]
    for i in range(1, 7):
        Image.new("RGB", (8, 8), (30 * i, 80, 80)).save(root / "img_align_celeba" / f"{i:06d}.jpg")
        lines.append(f"{i:06d}.jpg " + " ".join("1" if (i >> k) & 1 else "-1" for k in range(len(attributes))))
    (root / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture
def tab(qtbot):
    widget = TrainTab()
    qtbot.addWidget(widget)
    widget.populate()
    return widget


def load(qtbot, tab: TrainTab, source) -> None:
    tab.dataset_panel.set_options(size=8, count=None)
    with qtbot.waitSignal(tab.dataset_panel.datasetChanged, timeout=WAIT):
        tab.dataset_panel.load(str(source))
    qtbot.waitUntil(lambda: not any(t.is_running() for t in live_tasks()), timeout=WAIT)  # its thread has ended


def uncheck(tab: TrainTab, *names: str) -> None:
    for i in range(tab.condition_list.list.count()):
        item = tab.condition_list.list.item(i)
        if item.text() in names:
            item.setCheckState(Qt.CheckState.Unchecked)


def test_classes_are_a_checkable_list_that_reaches_the_run_config(qtbot, tab, tmp_path):
    load(qtbot, tab, write_folder(tmp_path / "shapes", {"circle": 3, "square": 4, "triangle": 5}))
    box = tab.condition_list
    assert box.isVisibleTo(tab) and box.title() == "Classes" and box.names() == ["circle", "square", "triangle"]
    assert box.checked() == box.names()  # all checked by default
    assert tab.method_picker.set_current("cgan")
    assert tab.build_config().classes is None  # all of them: the config says so by leaving the choice out
    uncheck(tab, "square")
    config = tab.build_config()
    assert config.classes == ["circle", "triangle"] and config.attributes is None
    assert "2 of 3 classes" in box.summary.text()
    box.none_button.click()
    with pytest.raises(ConfigError, match="no classes are checked"):
        tab.build_config()
    box.all_button.click()
    assert tab.build_config().classes is None
    # Shown again for a run being continued: its choice is checked.
    tab.apply_config(RunConfig(method="cgan", classes=["triangle"]))
    assert box.checked() == ["triangle"]


def test_celeba_attributes_are_listed_and_chosen(qtbot, tab, tmp_path):
    load(qtbot, tab, write_celeba(tmp_path / "celeba"))
    box = tab.condition_list
    assert box.title() == "Attributes" and box.names() == ["Bald", "Blond_Hair", "Male"]
    uncheck(tab, "Bald", "Male")
    assert tab.method_picker.set_current("cgan")
    config = tab.build_config()
    assert config.attributes == ["Blond_Hair"] and config.classes is None


def test_cgan_is_greyed_with_the_reason_for_unlabelled_data(qtbot, tab, tmp_path):
    load(qtbot, tab, write_folder(tmp_path / "flat", flat=6))
    picker = tab.method_picker
    assert not tab.condition_list.isVisibleTo(tab)
    index = picker.combo.findData("cgan")
    item = picker.combo.model().item(index)
    assert not item.isEnabled() and item.text().endswith("(needs labels)")
    assert "needs labelled data" in item.toolTip() and "one sub-folder per class" in item.toolTip()
    assert not picker.set_current("cgan") and picker.set_current("dcgan")
    # A method made conditional in its form is refused at Start with the same reason.
    tab.params_form.set_method(picker.methods["dcgan"], values={"conditional": True})
    with pytest.raises(ConfigError, match="needs labelled data"):
        tab.build_config()
    load(qtbot, tab, write_folder(tmp_path / "labelled", {"a": 2, "b": 2}))
    assert picker.combo.model().item(index).isEnabled() and picker.set_current("cgan")


def test_epochs_time_limit_and_lr_anneal_reach_the_run_config(qtbot, tab, tmp_path):
    load(qtbot, tab, write_folder(tmp_path / "imgs", {"x": 24, "y": 24, "z": 24}))
    assert tab.method_picker.set_current("dcgan")
    tab.params_form.preset.setCurrentIndex(tab.params_form.preset.findData("tiny"))  # batch 16
    uncheck(tab, "z")  # 48 items
    tab.epochs.setValue(2)
    assert not tab.steps.isEnabled() and tab.steps.value() == 6 and "2 epochs of 48 items" in tab.epochs_hint.text()
    tab.time_limit.setText("1h30m")
    tab.lr_anneal.setValue(0.5)
    config = tab.build_config()
    assert (config.epochs, config.steps, config.time_limit, config.lr_anneal) == (2, 6, 5400, 0.5)
    command = train_command(config, tmp_path / "run", 2)
    carried = RunConfig.load(command[command.index("--config") + 1])
    assert (carried.epochs, carried.time_limit, carried.classes, carried.lr_anneal) == (2, 5400, ["x", "y"], 0.5)
    tab.time_limit.setText("soon")
    with pytest.raises(ConfigError, match="Time limit 'soon' is not a duration"):
        tab.build_config()
    tab.time_limit.setText("")
    tab.epochs.setValue(0)
    assert tab.steps.isEnabled() and tab.build_config().epochs is None and tab.build_config().time_limit is None
    for name, tip in (("epochs", "passes over the data"), ("time_limit", "90m"), ("lr_anneal", "share of the last")):
        assert tip in getattr(tab, name).toolTip()


def test_an_experiment_fills_the_train_tab_with_its_whole_run_config(qtbot, tab):
    recipe = get_recipe("ring-fast")
    assert recipe.run_config().lr_anneal > 0
    with qtbot.waitSignal(tab.dataset_panel.datasetChanged, timeout=WAIT):
        fill_train_tab(tab, recipe)
    qtbot.waitUntil(lambda: tab.method_picker.current == recipe.method, timeout=5_000)
    qtbot.waitUntil(lambda: not any(t.is_running() for t in live_tasks()), timeout=WAIT)
    filled, wanted = tab.build_config().to_dict(), recipe.run_config().to_dict()
    # The form lists every hyperparameter, the recipe only those it changes: the same resolved values.
    method = tab.method_picker.methods[recipe.method]
    assert method.make_params(filled["preset"], filled.pop("params")) == \
        method.make_params(wanted["preset"], wanted.pop("params"))
    assert filled == wanted and filled["lr_anneal"] == 0.75


def test_the_sample_tab_shows_exactly_the_chosen_classes(qtbot, tmp_path):
    folder = write_folder(tmp_path / "shapes", {"circle": 3, "square": 4, "triangle": 5})
    run = tmp_path / "run"
    Trainer(RunConfig(method="cgan", dataset=str(folder), preset="tiny", steps=2, image_size=8,
                      classes=["triangle", "circle"], sample_every=100, checkpoint_every=100, collapse_check=False),
            run_dir=run).run()
    assert json.loads((run / "config.json").read_text())["spec"]["label_names"] == ["triangle", "circle"]
    sample = SampleTab()
    qtbot.addWidget(sample)
    sample.show()
    try:
        sample.load_run(run)
        qtbot.waitUntil(lambda: sample.method is not None and not sample.busy(), timeout=WAIT)
        assert [b.text() for b in sample.label_bar.buttons] == ["triangle", "circle"]
    finally:
        sample.shutdown()


def test_paired_data_offers_the_direction(qtbot, tab, tmp_path):
    tab.dataset_panel.set_options(size=16, count=16)
    with qtbot.waitSignal(tab.dataset_panel.datasetChanged, timeout=WAIT):
        tab.dataset_panel.load("builtin:outlines2shapes")
    qtbot.waitUntil(lambda: not any(t.is_running() for t in live_tasks()), timeout=WAIT)
    box = tab.condition_list
    assert box.isVisibleTo(tab) and box.direction.isVisibleTo(tab)
    assert box.title() == "Classes and direction" and box.names() == ["circle", "square", "triangle", "cross"]
    assert tab.method_picker.set_current("pix2pix") and tab.build_config().direction == "AtoB"
    panel = tab.dataset_panel
    assert "(direction AtoB)" in panel.facts.text()
    box.set_direction("BtoA")
    # The preview and facts show the pairs as the run will read them: targets → inputs.
    ds = panel.dataset
    assert np.array_equal(panel.image_preview.image, pairs_grid(ds.targets, ds.data))
    assert "(direction BtoA)" in panel.facts.text() and "(direction AtoB)" not in panel.facts.text()
    assert np.array_equal(panel.preview["grid"], pairs_grid(ds.data, ds.targets))  # the loaded preview stays
    config = tab.build_config()
    assert config.direction == "BtoA" and config.classes is None and "BtoA" in box.direction.toolTip()
    command = train_command(config, tmp_path / "gpus", 2)
    assert RunConfig.load(command[command.index("--config") + 1]).direction == "BtoA"
    load(qtbot, tab, write_folder(tmp_path / "flat", flat=3))  # not paired: no direction to choose
    assert not box.isVisibleTo(tab) and not box.direction.isVisibleTo(tab)
    assert tab.method_picker.set_current("dcgan") and tab.build_config().direction == "AtoB"


def test_the_monitors_real_images_are_the_chosen_classes(tmp_path):
    """Beside a run's samples the Monitor shows what the run trains on: only the chosen classes, for a new run
    (from the loaded data) and for a run reopened from its config.json settings."""
    from studio.data import open_dataset
    from studio.gui.dataset_panel import make_preview
    from studio.gui.real_preview import narrows, preview_for_run

    folder = write_folder(tmp_path / "shapes", {"circle": 3, "square": 4, "triangle": 5})
    dataset = open_dataset(folder)
    everything = make_preview(dataset)
    config = RunConfig(method="cgan", dataset=str(folder), classes=["square"])
    preview = preview_for_run(everything, dataset, config)
    assert narrows(config.to_dict()) and not narrows(RunConfig(method="cgan").to_dict())
    assert (preview["grid"] == make_preview(open_dataset(folder, classes=["square"]))["grid"]).all()
    assert preview["grid"].shape != everything["grid"].shape or (preview["grid"] != everything["grid"]).any()
    assert preview_for_run(everything, dataset, RunConfig(method="cgan")) is everything


def test_a_long_class_list_does_not_make_the_window_taller_than_a_laptop_screen(window, qtbot, tmp_path):
    """The Train tab's left column fills its height while that fits and scrolls past it: ten classes listed below
    the preview (and a load error above it) leave the window at 800 px, its Start button on the screen."""
    from PySide6.QtWidgets import QApplication

    tab = window.train_tab
    column = tab.splitter.widget(0)
    load(qtbot, tab, "builtin:rings")  # a scatter, whose preferred height is more than there is
    qtbot.wait(50)
    QApplication.processEvents()
    assert column.widget().height() == column.viewport().height()  # it fits: no scrolling, the preview fills it
    load(qtbot, tab, write_folder(tmp_path / "digits", {str(d): 1 for d in range(10)}))
    tab.dataset_panel._show_error("a message of two lines above the preview, as a failed load leaves it " * 2)
    qtbot.wait(50)
    window.layout().activate()
    QApplication.processEvents()
    assert tab.condition_list.isVisibleTo(window) and len(tab.condition_list.names()) == 10
    assert window.minimumSizeHint().height() <= 800 and window.height() == 800
    preview = tab.dataset_panel.preview_stack
    assert preview.height() >= preview.minimumSizeHint().height()  # not squeezed: the grid is not cut off
    assert tab.start_button.mapTo(window, tab.start_button.rect().bottomLeft()).y() < 800


def test_a_reopened_translation_run_shows_its_own_split_and_direction_beside_its_samples(window, qtbot, tmp_path):
    """File → Open run of a pix2pix run trained on val/ from B to A: the real images are val/'s pairs, each
    target beside its input as the run reads them, laid out as the samples are (the trainer's real grid)."""
    from test_data_paired import BLUE, GREEN, RED, write_pair

    from studio.data import open_dataset
    from studio.engine.trainer import real_images_grid

    folder = tmp_path / "facades"
    for i in range(4):
        write_pair(folder / "train" / f"{i}.png", 8, left=RED, right=BLUE)
    for i in range(2):
        write_pair(folder / "val" / f"{i}.png", 8, left=GREEN, right=(200, 200, 20 * i))
    run = tmp_path / "run"
    Trainer(RunConfig(method="pix2pix", dataset=str(folder), preset="tiny", steps=1, split="val", direction="BtoA",
                      sample_every=100, checkpoint_every=100, collapse_check=False), run_dir=run).run()
    assert window.open_run(run)
    qtbot.waitUntil(lambda: window.monitor_tab.real_view.image is not None, timeout=WAIT)
    shown = open_dataset(folder, split="val", direction="BtoA")
    assert np.array_equal(window.monitor_tab.real_view.image, real_images_grid(shown, torch.arange(2)))


def test_a_trial_keeps_its_experiment_on_the_command_line_too(tmp_path, capsys):
    """The window's multi-GPU command and `studio train --experiment` mark a run as a trial of an experiment,
    as a run started in the window is (config.json's `experiment`: the Monitor's published lines)."""
    from studio.cli import main

    config = get_recipe("ring-fast").run_config()
    command = train_command(config, tmp_path / "gpus", 2)
    assert RunConfig.load(command[command.index("--config") + 1]).experiment == "ring-fast"
    run = tmp_path / "run"
    assert main(["train", "--method", "gan", "--dataset", "builtin:rings", "--preset", "tiny", "--steps", "2",
                 "--experiment", "ring-fast", "--run-dir", str(run), "--quiet"]) == 0
    assert json.loads((run / "config.json").read_text())["run"]["experiment"] == "ring-fast"
    assert main(["train", "--method", "gan", "--dataset", "builtin:rings", "--steps", "2",
                 "--experiment", "no-such", "--run-dir", str(tmp_path / "bad"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "'no-such' is not a shipped experiment" in err and "ring-fast" in err
    assert not (tmp_path / "bad").exists()
