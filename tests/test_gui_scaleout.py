"""Scale-out from the window (issue 9): File → Export model, the GPUs choice (studio train --gpus N in
processes the window follows), and the TensorBoard setting."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pyqtgraph")

import torch  # noqa: E402

from studio.gui.main_window import MainWindow  # noqa: E402

pytestmark = pytest.mark.gui
WAIT = 180_000


def load(qtbot, w, source="builtin:shapes", size=16, count=128):
    panel = w.train_tab.dataset_panel
    panel.set_options(size=size, count=count)
    with qtbot.waitSignal(panel.datasetChanged, timeout=WAIT):
        panel.load(source)


def form(w, run_dir: Path, steps: int, method: str = "dcgan", sample_every: int = 2) -> None:
    t = w.train_tab
    assert t.method_picker.set_current(method)
    t.params_form.preset.setCurrentIndex(t.params_form.preset.findData("tiny"))
    t.steps.setValue(steps)
    t.log_every.setValue(1)
    t.sample_every.setValue(sample_every)
    t.checkpoint_every.setValue(steps)
    t.run_dir.setText(str(run_dir))


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A finished tiny DCGAN run directory (trained headless)."""
    from studio.data import open_dataset
    from studio.engine import RunConfig, Trainer

    run_dir = tmp_path_factory.mktemp("export") / "run"
    config = RunConfig(method="dcgan", dataset="builtin:shapes", preset="tiny", steps=2, log_every=1,
                       sample_every=2, checkpoint_every=2, image_size=16, dataset_count=64, device="cpu")
    Trainer(config, run_dir=run_dir, dataset=open_dataset("builtin:shapes", size=16, count=64)).run()
    return run_dir


# ------------------------------------------------------------------------------------------ export model


@pytest.mark.parametrize("fmt, suffix", [("torchscript", ".pt"), ("onnx", ".onnx")])
def test_file_export_model_writes_the_model_and_its_sidecar(window, qtbot, trained_run, tmp_path, fmt, suffix):
    if fmt == "onnx":
        pytest.importorskip("onnx")
    assert window.menu_actions["export_model"] in window.menuBar().actions()[0].menu().actions()
    assert window.open_run(trained_run)
    out = tmp_path / f"G{suffix}"
    task = window.exports.model(out=out)  # the open run, like the menu item when it is not interactive
    assert task is not None and not window.status.progress.isHidden()
    qtbot.waitUntil(lambda: window.exports.model_task is None, timeout=WAIT)
    assert out.is_file() and out.with_suffix(".json").is_file()
    assert json.loads(out.with_suffix(".json").read_text())["format"] == fmt
    assert "Model exported" in window.banner.text and str(out) in window.banner.text
    assert window.status.progress.isHidden()


def test_export_model_errors_are_readable(window, qtbot, tmp_path):
    assert window.exports.model() is None and "no run is open" in window.last_error
    empty = tmp_path / "not-a-run"
    empty.mkdir()
    window.exports.model(run=empty, out=tmp_path / "G.pt")
    qtbot.waitUntil(lambda: window.exports.model_task is None, timeout=WAIT)
    assert "Model not exported" in window.banner.text and str(empty) in window.last_error
    window.exports.model(run=empty, out=tmp_path / "G.bin")  # no format from that suffix
    qtbot.waitUntil(lambda: window.exports.model_task is None, timeout=WAIT)
    assert "cannot tell the format" in window.last_error


# ------------------------------------------------------------------------------------------------- GPUs


@pytest.mark.parametrize("gpus", [0, 1])
def test_gpus_choice_is_hidden_without_several_gpus(qtbot, monkeypatch, tmp_path, gpus):
    monkeypatch.setenv("STUDIO_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setattr(torch.cuda, "device_count", lambda: gpus)
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    t = w.train_tab
    assert not t.run_form.isRowVisible(t.gpus) and t.gpu_count() == 1


def test_gpus_choice_with_two_gpus_builds_the_studio_train_command(qtbot, monkeypatch, tmp_path):
    from studio.engine.config import RunConfig
    from studio.engine.launch import train_command

    monkeypatch.setenv("STUDIO_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    w = MainWindow()
    w.interactive = False
    qtbot.addWidget(w)
    w.show()
    t = w.train_tab
    assert t.run_form.isRowVisible(t.gpus) and t.gpus.maximum() == 2 and "studio train --gpus" in t.gpus.toolTip()
    t.gpus.setValue(2)
    assert t.gpu_count() == 2
    load(qtbot, w, count=0)
    form(w, tmp_path / "run", steps=300)
    t.tensorboard.setChecked(True)
    config = t.build_config()
    command = train_command(config, tmp_path / "run", t.gpu_count(), t.tensorboard_enabled())
    assert command[:4] == [sys.executable, "-m", "studio", "train"]
    args = command[4:]
    pairs = {flag: args[i + 1] for i, flag in enumerate(args[:-1]) if flag.startswith("--")}
    assert pairs["--gpus"] == "2" and pairs["--run-dir"] == str(tmp_path / "run") and "--tensorboard" in args
    # Every setting travels in the run's config.json: the form's hyperparameters, Max items, all of it.
    assert pairs["--config"] == str(tmp_path / "run" / "config.json")
    carried = RunConfig.load(pairs["--config"])
    assert carried == config and carried.steps == 300 and carried.params["batch_size"] == 16
    t.params_form.fields["lr_g"].widget.setValue(1e-4)
    t.dataset_panel.set_options(size=16, count=64)
    load(qtbot, w, count=64)
    again = train_command(t.build_config(), tmp_path / "run", 2)
    carried = RunConfig.load(again[again.index("--config") + 1])
    assert carried.params["lr_g"] == 1e-4 and carried.dataset_count == 64
    # The command line parses back into the same run.
    from studio.cli import build_parser

    parsed = build_parser().parse_args(command[3:])
    assert parsed.gpus == 2 and parsed.config == pairs["--config"] and parsed.tensorboard


def test_a_multi_process_run_is_started_and_followed(window, qtbot, tmp_path, monkeypatch):
    """Start with GPUs = 2: the window runs `studio train --gpus 2` and follows the run directory.

    No GPUs here: the command is the real one but with --device cpu, which makes torchrun start two CPU
    processes (gloo), the same launch and the same run directory writing as on two GPUs.
    """
    import studio.engine.launch as launch

    real = launch.train_command
    monkeypatch.setattr(launch, "train_command", lambda *a, **k: [*real(*a, **k), "--device", "cpu"])
    window.train_tab.set_gpu_count(2)
    window.train_tab.gpus.setValue(2)
    load(qtbot, window, count=0)
    run_dir = tmp_path / "run"
    form(window, run_dir, steps=6)
    assert window.start_training()
    assert window.is_training() and window.runs.session is None and window.runs.follower is not None
    assert not window.train_tab.pause_button.isEnabled() and window.train_tab.stop_button.isEnabled()
    assert not window.train_tab.start_button.isEnabled()
    qtbot.waitUntil(lambda: not window.is_training(), timeout=WAIT)
    assert window.runs.process.exitCode() == 0, window.runs.backend.output
    monitor = window.monitor_tab
    assert monitor.state == "finished" and monitor.panels["Adversarial losses"].series["d_loss"].size == 6
    assert monitor.sample_grids >= 1 and window.run_state.is_final and window.train_tab.start_button.isEnabled()
    assert (run_dir / "checkpoints" / "last.pt").is_file()
    assert "step 6/6" in window.status.step_label.text()


# ------------------------------------------------------------------------------------------ TensorBoard


def test_tensorboard_setting_writes_event_files(window, qtbot, tmp_path):
    pytest.importorskip("tensorboard")
    t = window.train_tab
    assert t.tensorboard.isEnabled()
    load(qtbot, window)
    run_dir = tmp_path / "run"
    form(window, run_dir, steps=3)
    t.tensorboard.setChecked(True)
    assert window.start_training()
    assert window.run_outputs is not None and len(window.run_outputs.subscribers) == 1
    qtbot.waitUntil(lambda: window.run_state.is_final, timeout=WAIT)
    assert window.run_outputs is None  # closed with the run
    events = list((run_dir / "tensorboard").glob("events.out.tfevents.*"))
    assert events and events[0].stat().st_size > 0
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run_dir / "tensorboard"))
    acc.Reload()
    assert "d_loss" in acc.Tags()["scalars"]

    # Unticked: no TensorBoard folder.
    t.tensorboard.setChecked(False)
    other = tmp_path / "plain"
    form(window, other, steps=2)
    assert window.start_training()
    qtbot.waitUntil(lambda: window.run_state.is_final, timeout=WAIT)
    assert not (other / "tensorboard").exists()


def test_tensorboard_setting_is_disabled_with_a_reason_when_not_installed(qtbot, monkeypatch, tmp_path):
    import studio.engine.tensorboard as tb

    monkeypatch.setenv("STUDIO_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setattr(tb, "tensorboard_available", lambda: False)
    w = MainWindow()
    qtbot.addWidget(w)
    t = w.train_tab
    assert not t.tensorboard.isEnabled() and not t.tensorboard_enabled()
    assert "pip install tensorboard" in t.tensorboard.toolTip()
