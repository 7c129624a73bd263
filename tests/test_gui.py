"""The studio window end to end (offscreen): drops, training on the QThread, pause/resume/stop, following
a run another thread writes, closing mid-run, errors and divergence, remembered settings."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pyqtgraph")

import torch  # noqa: E402
from PIL import Image  # noqa: E402
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl  # noqa: E402
from PySide6.QtGui import QDragEnterEvent, QDropEvent  # noqa: E402
from PySide6.QtWidgets import QApplication, QTextBrowser  # noqa: E402

from studio.engine.state import RunState  # noqa: E402
from studio.gui import main_window  # noqa: E402
from studio.gui.main_window import MainWindow  # noqa: E402
from studio.gui.tasks import live_tasks  # noqa: E402

pytestmark = pytest.mark.gui

WAIT = 120_000  # ms; generous because CI machines are shared


def load(qtbot, w: MainWindow, source: str = "builtin:shapes", size: int | None = 16, count: int | None = 256) -> None:
    panel = w.train_tab.dataset_panel
    panel.set_options(size=size, count=count)
    with qtbot.waitSignal(panel.datasetChanged, timeout=WAIT):
        panel.load(source)


def tiny_run(w: MainWindow, run_dir: Path, steps: int, log_every: int = 1, sample_every: int = 5,
             checkpoint_every: int = 1000) -> None:
    t = w.train_tab
    assert t.method_picker.set_current("dcgan")
    t.params_form.preset.setCurrentIndex(t.params_form.preset.findData("tiny"))
    t.steps.setValue(steps)
    t.log_every.setValue(log_every)
    t.sample_every.setValue(sample_every)
    t.checkpoint_every.setValue(checkpoint_every)
    t.device.setCurrentIndex(t.device.findData("cpu"))
    t.run_dir.setText(str(run_dir))


def drop(widget, paths: list[Path]) -> None:
    """A real drag-enter and drop of file URLs onto `widget`."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    enter = QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted()
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def write_pngs(folder: Path, n: int, size: int = 16) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.new("RGB", (size, size), (i * 30 % 256, 100, 200)).save(folder / f"img{i}.png")
    return folder


# ------------------------------------------------------------------------------------------- dropping


def test_dropping_a_folder_shows_preview_facts_and_skipped_files(window, qtbot, tmp_path):
    folder = write_pngs(tmp_path / "pngs", 6)
    (folder / "broken.png").write_bytes(b"\x89PNG not really")
    panel = window.train_tab.dataset_panel
    panel.set_options(size=None, count=None)
    with qtbot.waitSignal(panel.datasetChanged, timeout=WAIT):
        drop(panel.drop_zone, [folder])
    assert panel.dataset is not None and len(panel.dataset) == 6
    assert panel.source == str(folder)
    facts = panel.facts.text()
    assert "6</b> images" in facts and "16×16 px" in facts and "3 channels" in facts
    assert panel.image_preview.image is not None and panel.image_preview.updates == 1
    assert not panel.skipped_list.isHidden() and "broken.png" in panel.skipped_list.item(0).text()
    assert window.train_tab.method_picker.current is not None


@pytest.mark.parametrize("bad", ["text", "empty"])
def test_a_bad_drop_shows_a_message_and_changes_nothing(window, qtbot, tmp_path, bad):
    load(qtbot, window)
    panel = window.train_tab.dataset_panel
    before, facts = panel.dataset, panel.facts.text()
    if bad == "text":
        target = tmp_path / "notes.txt"
        target.write_text("not a dataset")
    else:
        target = tmp_path / "empty"
        target.mkdir()
    with qtbot.waitSignal(panel.loadFailed, timeout=WAIT) as failed:
        drop(panel.drop_zone, [target])
    assert str(target.name) in failed.args[0]
    assert panel.dataset is before and panel.facts.text() == facts and panel.source == "builtin:shapes"
    assert not panel.message_label.isHidden() and target.name in panel.message_label.text()
    assert "still loaded" in panel.message_label.text()


def test_loading_can_be_cancelled_and_keeps_the_old_dataset(window, qtbot, tmp_path):
    load(qtbot, window)
    panel = window.train_tab.dataset_panel
    before = panel.dataset
    panel.set_options(size=None, count=None)
    panel.load(str(write_pngs(tmp_path / "many", 40)))
    panel.cancel()
    assert not panel.is_loading() and panel.dataset is before and "cancelled" in panel.message_label.text()
    qtbot.waitUntil(lambda: not any(t.is_running() for t in live_tasks()), timeout=WAIT)
    assert panel.dataset is before


# ------------------------------------------------------------------------------------------- training


def test_start_pause_resume_stop_and_checkpoint(window, qtbot, tmp_path):
    load(qtbot, window)
    run_dir = tmp_path / "run"
    tiny_run(window, run_dir, steps=100_000, log_every=1, sample_every=3)
    states, ends = [], []
    window.runs.stateChanged.connect(states.append)
    window.runs.ended.connect(lambda state, message: ends.append((state, message)))
    assert window.start_training()
    session, monitor = window.runs.session, window.monitor_tab
    qtbot.waitUntil(lambda: monitor.scalar_updates >= 3 and monitor.sample_grids >= 1, timeout=WAIT)
    assert window.run_state == "running" and not window.train_tab.start_button.isEnabled()
    assert monitor.panels["Adversarial losses"].series["d_loss"].size >= 3
    curve = monitor.panels["Adversarial losses"].curves["d_loss"]
    qtbot.waitUntil(lambda: curve.xData is not None and len(curve.xData) >= 1, timeout=WAIT)  # drawn, ≤ 2 Hz
    assert window.status.device_label.text() == "device: CPU" and "/100000" in window.status.step_label.text()

    window.toggle_pause()
    qtbot.waitUntil(lambda: window.run_state == "paused", timeout=WAIT)
    assert window.train_tab.pause_button.text() == "Resume"
    paused_at = session.trainer.step
    time.sleep(0.5)
    qtbot.wait(100)
    assert session.trainer.step == paused_at  # no steps while paused

    window.toggle_pause()
    qtbot.waitUntil(lambda: window.run_state == "running", timeout=WAIT)
    qtbot.waitUntil(lambda: session.trainer.step > paused_at + 1, timeout=WAIT)

    started = time.monotonic()
    window.train_tab.stop_button.click()
    qtbot.waitUntil(lambda: not session.is_running(), timeout=WAIT)
    assert time.monotonic() - started < 30  # stop answers within a step; the rest is writing the checkpoint
    qtbot.waitUntil(lambda: window.run_state.is_final, timeout=WAIT)
    assert window.runs.state is RunState.STOPPED
    assert (run_dir / "checkpoints" / "last.pt").is_file()
    assert window.train_tab.start_button.isEnabled()
    assert monitor.state is RunState.STOPPED
    # The controller said each change once, as the enum, and the end once.
    assert states == [RunState.STARTING, RunState.RUNNING, RunState.PAUSED, RunState.RUNNING, RunState.STOPPED]
    assert all(type(s) is RunState for s in states)
    assert [(type(s), s) for s, _ in ends] == [(RunState, RunState.STOPPED)] and "step" in ends[0][1]


def test_finished_run_then_timelapse_gif_and_continue(window, qtbot, tmp_path):
    from PIL import Image as PILImage

    load(qtbot, window)
    run_dir = tmp_path / "run"
    tiny_run(window, run_dir, steps=6, log_every=2, sample_every=2)
    window.start_training()
    qtbot.waitUntil(lambda: window.run_state.is_final, timeout=WAIT)
    assert window.runs.state == "finished"
    monitor = window.monitor_tab
    assert len(monitor.timelapse_frames()) == 4  # steps 0, 2, 4, 6
    monitor.show_frame(0)
    assert "step 0" in monitor.slider_label.text()
    with qtbot.waitSignal(monitor.exportFinished, timeout=WAIT) as done:
        assert window.exports.timelapse() is not None
    gif = Path(done.args[0])
    assert gif == run_dir / "exports" / "timelapse.gif"
    with PILImage.open(gif) as img:
        assert img.n_frames == 4

    # Continue the same run to more steps: it resumes from step 6 and keeps its history.
    window.train_tab.steps.setValue(10)
    assert window.continue_run(run_dir)
    qtbot.waitUntil(lambda: window.run_state.is_final, timeout=WAIT)
    assert window.runs.state == "finished" and window.runs.session.trainer.step == 10
    series = window.monitor_tab.panels["Adversarial losses"].series["d_loss"]
    assert series.x.tolist()[:3] == [2, 4, 6] and series.x[-1] == 10


def test_closing_mid_run_asks_stops_and_keeps_the_checkpoint(window, qtbot, tmp_path, monkeypatch):
    load(qtbot, window)
    run_dir = tmp_path / "run"
    tiny_run(window, run_dir, steps=100_000)
    window.start_training()
    qtbot.waitUntil(lambda: window.monitor_tab.scalar_updates >= 1, timeout=WAIT)
    asked = []
    window.ask_before_close = True
    monkeypatch.setattr(main_window, "confirm_close_while_training", lambda *a, **k: asked.append(1) or False)
    assert not window.close()  # "No": the window stays and training goes on
    assert window.runs.session.is_running() and asked == [1]
    monkeypatch.setattr(main_window, "confirm_close_while_training", lambda *a, **k: asked.append(2) or True)
    assert window.close()
    assert asked == [1, 2]
    assert not window.runs.session.is_running() and window.runs.state == "stopped"
    assert (run_dir / "checkpoints" / "last.pt").is_file()
    from studio import settings

    assert settings.get_setting("last_train", {}).get("method") == "dcgan"


def test_worker_errors_show_a_readable_banner(window, qtbot, tmp_path):
    from studio.engine.config import RunConfig

    missing = tmp_path / "no-such-folder"
    config = RunConfig(method="dcgan", dataset=str(missing), preset="tiny", steps=5)
    window.train_in_window(config, tmp_path / "run", dataset=None)
    qtbot.waitUntil(lambda: window.run_state.is_final, timeout=WAIT)
    assert window.runs.state == "error"
    assert not window.banner.isHidden() and "Training failed" in window.banner.text
    assert str(missing) in window.banner.text and not window.runs.session.is_running()


def test_divergence_offers_resume_with_a_lower_learning_rate(window, qtbot, tmp_path, monkeypatch):
    from studio.methods.adversarial import BCEGAN

    real_phase = BCEGAN.train_phase
    calls = {"n": 0}

    def exploding(self, phase, batch):
        out = real_phase(self, phase, batch)
        calls["n"] += 1
        if calls["n"] > 12:  # after 6 steps (and a checkpoint at step 4) the loss turns NaN
            out = {k: v * float("nan") for k, v in out.items()}
        return out

    monkeypatch.setattr(BCEGAN, "train_phase", exploding)
    shown = []
    show_error = window.show_error
    monkeypatch.setattr(window, "show_error", lambda *args: shown.append(args[0]) or show_error(*args))
    load(qtbot, window)
    run_dir = tmp_path / "run"
    tiny_run(window, run_dir, steps=12, log_every=1, sample_every=50, checkpoint_every=4)
    window.start_training()
    qtbot.waitUntil(lambda: window.run_state.is_final, timeout=WAIT)
    assert window.runs.state is RunState.DIVERGED
    qtbot.wait(600)  # two more polls: the end is told once
    assert shown == ["Training diverged"]
    assert "Training diverged" in window.banner.text and "step 7" in window.banner.text
    assert window.banner.action_button.text() == "Resume from last checkpoint with a lower learning rate"

    monkeypatch.setattr(BCEGAN, "train_phase", real_phase)
    window.banner.action_button.click()
    session = window.runs.session
    qtbot.waitUntil(lambda: window.run_state.is_final, timeout=WAIT)
    assert window.runs.state == "finished" and session.trainer.step == 12  # from the step-4 checkpoint
    method = session.trainer.method
    assert method.params.lr_g == pytest.approx(1e-4) and method.params.lr_d == pytest.approx(1e-4)
    assert all(g["lr"] == pytest.approx(1e-4) for opt in method.opts.values() for g in opt.param_groups)


# ------------------------------------------------------------------------------------------ following


def test_following_a_run_written_by_another_thread(window, qtbot, tmp_path):
    from studio.data import open_dataset
    from studio.engine import RunConfig, Trainer

    run_dir = tmp_path / "other"
    config = RunConfig(method="dcgan", dataset="builtin:shapes", preset="tiny", steps=12, log_every=2,
                       sample_every=4, image_size=16, dataset_count=256, device="cpu")
    trainer = Trainer(config, run_dir=run_dir, dataset=open_dataset("builtin:shapes", size=16, count=256))
    go = threading.Event()

    def train():
        trainer.setup()
        go.set()
        trainer.run()

    thread = threading.Thread(target=train, name="other-writer")  # a plain thread: not the GUI's worker
    thread.start()
    try:
        assert go.wait(60)
        assert window.open_run(run_dir)
        monitor = window.monitor_tab
        assert window.runs.follower is not None and window.runs.timer.isActive()
        qtbot.waitUntil(lambda: window.runs.follower.finished, timeout=WAIT)
        qtbot.waitUntil(lambda: monitor.scalar_updates >= 6, timeout=WAIT)
        assert monitor.panels["Adversarial losses"].series["d_loss"].x.tolist() == [2, 4, 6, 8, 10, 12]
        assert monitor.state == "finished" and "step 12/12" in window.status.step_label.text()
        qtbot.waitUntil(lambda: monitor.sample_grids >= 1 and len(monitor.timelapse_frames()) == 4, timeout=WAIT)
        qtbot.waitUntil(lambda: monitor.real_view.image is not None, timeout=WAIT)  # real images, loaded aside
    finally:
        trainer.stop()
        thread.join(60)
    from studio import settings

    assert str(run_dir.resolve()) in settings.get_setting("recent_runs", [])
    assert not window.open_run(tmp_path / "nothing-here") and "no such folder" in window.last_error


# ---------------------------------------------------------------------------------------- remembering


def test_window_and_train_settings_are_remembered(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_CONFIG_DIR", str(tmp_path / "config"))
    first = MainWindow()
    first.interactive = False
    qtbot.addWidget(first)
    first.resize(700, 500)  # inside the offscreen screen (800×600): restoreGeometry keeps windows on screen
    first.train_tab.steps.setValue(1234)
    first.train_tab.method_picker.set_current("dcgan")
    first.train_tab.params_form.fields["batch_size"].widget.setValue(24)
    first.set_theme("light")
    first.close()

    second = MainWindow()
    second.interactive = False
    qtbot.addWidget(second)
    assert second.train_tab.steps.value() == 1234
    assert second.train_tab.params_form.values()["batch_size"] == 24
    assert second.theme == "light" and second.menu_actions["theme_light"].isChecked()
    assert (second.size().width(), second.size().height()) == (700, 500)
    second.set_theme("dark")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the OpenMP runtime is found in /proc")
def test_the_gui_thread_runs_its_torch_work_on_one_cpu_thread(qtbot, tmp_path, monkeypatch):
    # An OpenMP team held by the GUI thread would slow the training thread's (studio/threads.py).
    monkeypatch.setenv("STUDIO_CONFIG_DIR", str(tmp_path / "config"))
    before = torch.get_num_threads()
    torch.set_num_threads(2)  # torch's default on a user's 2-core machine (the tests run with one)
    try:
        w = MainWindow()
        w.interactive = False
        qtbot.addWidget(w)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)

def test_menus_shortcuts_and_tooltips(window):
    titles = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert titles == ["File", "Edit", "Run", "View", "Help"]
    assert [s.toString() for s in window.menu_actions["start"].shortcuts()] == ["Ctrl+R", "F5"]
    assert [s.toString() for s in window.menu_actions["stop"].shortcuts()] == ["Ctrl+.", "Shift+F5"]
    assert window.menu_actions["pause"].shortcut().toString() == "Ctrl+P"
    for w in (window.train_tab.start_button, window.train_tab.dataset_panel.drop_zone, window.monitor_tab.slider,
              window.train_tab.steps, window.status.device_label):
        assert w.toolTip()
    dialog = window.show_method_descriptions()
    assert "DCGAN" in dialog.findChild(QTextBrowser).toPlainText()
    assert not window.start_training() and "no dataset is loaded" in window.last_error
