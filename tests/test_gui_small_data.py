"""The small-data aids in the window (issue 25): the hint beside the preset box for a small dataset, the
form's Small data section, the Sample tab's raw-generator toggle and the Monitor's adaptive-augmentation chart."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
import torch  # noqa: E402

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from studio.engine import RunConfig, Trainer  # noqa: E402
from studio.engine.events import Scalars  # noqa: E402
from studio.methods import get_method  # noqa: E402

pytestmark = pytest.mark.gui
WAIT = 60_000


def test_a_small_dataset_gets_a_hint_that_chooses_the_small_data_preset_only_when_clicked(qtbot):
    from studio.gui.params_form import ParamsForm

    form = ParamsForm()
    qtbot.addWidget(form)
    form.show()
    form.set_method(get_method("dcgan"))
    assert not form.preset_hint.isVisible()  # no dataset yet
    form.set_dataset_size(391)
    assert form.preset_hint.isVisible() and "391 images" in form.preset_hint.text()
    assert form.preset_name is None and form.values()["augment"] == "none", "the hint changed nothing by itself"
    form.preset_hint.linkActivated.emit("small-data")  # the user clicks the link
    values = form.values()
    assert form.preset_name == "small-data" and values["augment"] == "colour,translation,cutout"
    assert values["augment_p"] == "auto" and values["ema"] == 0.999
    assert not form.preset_hint.isVisible()
    assert form.undo() and form.preset_name is None and form.values()["augment"] == "none"
    assert form.preset_hint.isVisible()
    form.set_dataset_size(50_000)
    assert not form.preset_hint.isVisible()
    form.set_dataset_size(300)
    form.set_method(get_method("vae"))  # no discriminator: no aids, no hint
    assert not form.preset_hint.isVisible()


def test_the_aids_have_their_own_section_after_the_methods_settings(qtbot):
    from PySide6.QtWidgets import QComboBox, QLabel

    from studio.gui.params_form import ParamsForm

    form = ParamsForm()
    qtbot.addWidget(form)
    form.set_method(get_method("wgan-gp"))
    names = list(form.fields)
    assert names[-6:] == ["augment", "augment_p", "augment_target", "augment_kimg", "ema", "spectral_norm"]
    assert [w.text() for w in form.findChildren(QLabel) if w.objectName() == "paramGroup"] == ["Small data"]
    combo = form.fields["augment"].widget
    assert isinstance(combo, QComboBox) and combo.findData("translation,cutout") >= 0
    assert "DiffAugment" in combo.toolTip() and "ADA" in form.fields["augment_p"].widget.toolTip()


def test_the_sample_tab_shows_the_averaged_generator_and_can_show_the_raw_one(qtbot, tmp_path):
    from studio.gui.sample import SampleTab

    run = tmp_path / "run"
    Trainer(RunConfig(method="dcgan", preset="tiny", params={"ema": 0.9}, steps=8, image_size=16, dataset_count=64,
                      sample_every=8, checkpoint_every=8, device="cpu"), run_dir=run).run()
    tab = SampleTab()
    qtbot.addWidget(tab)
    tab.resize(1280, 800)
    tab.show()
    try:
        bar = tab.model_bar
        tab.load_run(run)
        qtbot.waitUntil(lambda: tab.method is not None and not tab.busy(), timeout=WAIT)
        assert tab.run.averaged and "averaged generator" in bar.info_label.text() and bar.raw_check.isEnabled()
        averaged = {k: v.clone() for k, v in tab.method.nets["generator"].state_dict().items()}
        bar.raw_check.setChecked(True)
        qtbot.waitUntil(lambda: tab.run is not None and not tab.run.averaged and not tab.busy(), timeout=WAIT)
        assert "raw generator" in bar.info_label.text()
        raw = tab.method.nets["generator"].state_dict()
        assert any(not torch.equal(raw[k], averaged[k]) for k in raw)
    finally:
        tab.shutdown()


def test_the_monitor_charts_p_and_r_t_when_they_are_logged(qtbot):
    from studio.gui.monitor_tab import MonitorTab

    tab = MonitorTab()
    qtbot.addWidget(tab)
    tab.begin(method="dcgan", kind="images", total_steps=100)
    assert "Adaptive augmentation" not in tab.charts.panels  # a run without it shows no empty chart
    tab.consume([Scalars(4, {"d_loss": 1.0, "augment_p": 0.1, "augment_rt": 0.7}, 1.0)])
    assert "Adaptive augmentation" in tab.charts.panels
    assert tab.charts.panels["Adaptive augmentation"].reference_values == [0.6]  # the target
    assert "Other" not in tab.charts.panels
