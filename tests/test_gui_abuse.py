"""GUI abuse (issue 7): what an impatient or unlucky user does to the window, and what must not happen.

Each test removes nothing but drives the real widgets; each would fail without the protection it names:
Start disabled while a run starts (and the window's own guard), the Train tab locked while training,
closing asking first and stopping cleanly, dataset loading on a thread with progress and Cancel, and
readable messages for damaged run directories.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pyqtgraph")

from PIL import Image  # noqa: E402
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QTimer, QUrl  # noqa: E402
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QKeySequence  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402

from studio.gui.tasks import live_tasks  # noqa: E402

pytestmark = pytest.mark.gui
WAIT = 120_000


def load(qtbot, w, source="builtin:shapes", size=16, count=128):
    panel = w.train_tab.dataset_panel
    panel.set_options(size=size, count=count)
    with qtbot.waitSignal(panel.datasetChanged, timeout=WAIT):
        panel.load(source)


def form(w, run_dir: Path, steps: int, checkpoint_every: int = 100_000) -> None:
    t = w.train_tab
    assert t.method_picker.set_current("dcgan")
    t.params_form.preset.setCurrentIndex(t.params_form.preset.findData("tiny"))
    t.steps.setValue(steps)
    t.log_every.setValue(1)
    t.sample_every.setValue(5)
    t.checkpoint_every.setValue(checkpoint_every)
    t.device.setCurrentIndex(t.device.findData("cpu"))
    t.run_dir.setText(str(run_dir))


def send_drop(widget, paths: list[Path]) -> bool:
    """A drag-enter and drop of file URLs, as the window system delivers them; True if the drop was taken."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    enter = QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    if not (enter.isAccepted() and widget.acceptDrops() and widget.isEnabled()):
        return False  # the window system delivers no drop where the enter was refused
    drop = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, drop)
    return True


def write_pngs(folder: Path, n: int, size: int = 16) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.new("RGB", (size, size), (i % 256, (7 * i) % 256, 200)).save(folder / f"img{i:05d}.png")
    return folder


class LoopLateness:
    """How late a 10 ms timer fires in the GUI thread: the window's responsiveness."""

    def __init__(self):
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self.last = None
        self.worst = 0.0

    def _tick(self):
        now = time.perf_counter()
        if self.last is not None:
            self.worst = max(self.worst, now - self.last - 0.010)
        self.last = now

    def __enter__(self):
        self.timer.start()
        return self

    def __exit__(self, *exc):
        self.timer.stop()


def answer_next_question(button: QMessageBox.StandardButton, asked: list) -> None:
    """Click `button` in the next modal message box (the real dialog, in its own event loop)."""

    def poll():
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            asked.append(box.text())
            box.button(button).click()
        else:
            QTimer.singleShot(20, poll)

    QTimer.singleShot(20, poll)


# ------------------------------------------------------------------------------------------ Start twice


def test_double_clicking_start_starts_one_run(window, qtbot, tmp_path, monkeypatch):
    import studio.gui.run_control as run_control

    made = []

    class CountingSession(run_control.SessionRun):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(run_control, "SessionRun", CountingSession)
    load(qtbot, window)
    run_dir = tmp_path / "run"
    form(window, run_dir, steps=100_000)
    start = window.train_tab.start_button
    # A double-click, then the menu item and both shortcuts, before the event loop catches up.
    QTest.mouseDClick(start, Qt.MouseButton.LeftButton)
    QTest.mouseClick(start, Qt.MouseButton.LeftButton)
    window.menu_actions["start"].trigger()
    QTest.keyClick(window, Qt.Key.Key_F5)
    QTest.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.monitor_tab.scalar_updates >= 2, timeout=WAIT)
    assert len(made) == 1 and window.runs.session is made[0]
    assert not start.isEnabled() and not window.menu_actions["start"].isEnabled()
    window.stop_training()
    qtbot.waitUntil(lambda: window.run_state.is_final, timeout=WAIT)
    assert start.isEnabled() and len(made) == 1


# -------------------------------------------------------------------- change the data or method mid-run


def test_dataset_and_method_cannot_change_under_a_running_run(window, qtbot, tmp_path):
    load(qtbot, window)
    panel, picker = window.train_tab.dataset_panel, window.train_tab.method_picker
    dataset_before = panel.dataset
    form(window, tmp_path / "run", steps=100_000)
    assert window.start_training()
    session = window.runs.session
    qtbot.waitUntil(lambda: window.monitor_tab.scalar_updates >= 2, timeout=WAIT)

    # Dropping another folder: refused at the drag (no load starts).
    other = write_pngs(tmp_path / "other", 4)
    assert not send_drop(panel.drop_zone, [other])
    # The lists, File → Open dataset, and a double-click that slips through: no load, a reason instead.
    assert not panel.source_tabs.isEnabled() and not window.menu_actions["open_dataset"].isEnabled()
    assert not window.menu_actions["open_folder"].isEnabled()
    item = panel.builtin_list.item(0)
    panel.builtin_list.itemActivated.emit(item)
    assert not panel.is_loading() and "stop it" in panel.message_label.text()
    assert panel.dataset is dataset_before and panel.source == "builtin:shapes"

    # The method: the picker and the form are locked; keys do nothing.
    assert not picker.isEnabled() and not window.train_tab.params_form.isEnabled()
    QTest.keyClick(picker.combo, Qt.Key.Key_Down)
    assert picker.current == "dcgan"
    window.menu_actions["undo"].trigger()
    window.menu_actions["reset"].trigger()
    assert window.train_tab.params_form.preset_name == "tiny"

    # Training went on undisturbed, and the charts are still this run's.
    step = session.trainer.step
    qtbot.waitUntil(lambda: session.trainer.step > step + 2, timeout=WAIT)
    assert set(window.monitor_tab.panels) >= {"Adversarial losses", "Discriminator outputs"}

    window.stop_training()
    qtbot.waitUntil(lambda: window.run_state.is_final, timeout=WAIT)
    # Unlocked again: the drop is taken now.
    assert picker.isEnabled() and panel.source_tabs.isEnabled() and window.menu_actions["open_dataset"].isEnabled()
    with qtbot.waitSignal(panel.datasetChanged, timeout=WAIT):
        panel.set_options(size=None, count=None)
        assert send_drop(panel.drop_zone, [other])
    assert panel.source == str(other) and len(panel.dataset) == 4


# ---------------------------------------------------------------------------------- close mid-run


def test_closing_mid_run_asks_then_stops_cleanly_and_keeps_the_checkpoint(window, qtbot, tmp_path):
    from studio.engine.checkpoint import load_checkpoint

    load(qtbot, window)
    run_dir = tmp_path / "run"
    form(window, run_dir, steps=100_000)  # no periodic checkpoint: the one on disk must be the stop's
    assert window.start_training()
    session = window.runs.session
    qtbot.waitUntil(lambda: window.monitor_tab.scalar_updates >= 2, timeout=WAIT)
    window.ask_before_close = True  # the real question box, answered by "clicking" it
    asked: list[str] = []

    answer_next_question(QMessageBox.StandardButton.No, asked)
    assert not window.close()
    assert len(asked) == 1 and "Stop it and quit" in asked[0]
    assert window.isVisible() and session.is_running()  # "No": nothing happened
    assert not (run_dir / "checkpoints" / "last.pt").exists()

    answer_next_question(QMessageBox.StandardButton.Yes, asked)
    started = time.monotonic()
    assert window.close()
    assert len(asked) == 2 and time.monotonic() - started < 60
    assert not session.is_running() and not session.thread.isRunning()
    assert window.runs.state == "stopped"
    assert not any(t.is_running() for t in live_tasks())
    state = load_checkpoint(run_dir / "checkpoints" / "last.pt")
    assert state["step"] == session.trainer.step > 0  # the newest step, written at the stop
    status = json.loads((run_dir / "status.json").read_text())
    assert status["state"] == "stopped"
    # (the autouse fixture fails this test if any QThread is still running)


# ------------------------------------------------------------------------------------ huge folder


@pytest.fixture(scope="module")
def huge_folder(tmp_path_factory):
    return write_pngs(tmp_path_factory.mktemp("huge") / "pngs", 3000)


def test_dropping_a_huge_folder_loads_in_the_background_with_progress_and_cancel(window, qtbot, huge_folder,
                                                                                 monkeypatch):
    import studio.gui.tasks as tasks

    reports = []
    real_report = tasks._TaskWorker.report

    def counting_report(self, done, total):
        reports.append((done, total))
        return real_report(self, done, total)

    monkeypatch.setattr(tasks._TaskWorker, "report", counting_report)
    load(qtbot, window)
    panel = window.train_tab.dataset_panel
    before = panel.dataset
    panel.set_options(size=None, count=None)

    # 1. Drop, watch progress, cancel part-way: the old dataset stays and the loader stops early.
    with LoopLateness() as lateness:
        assert send_drop(panel.drop_zone, [huge_folder])
        assert panel.is_loading() and not panel.progress_box.isHidden()
        qtbot.waitUntil(lambda: panel.progress.value() >= 20, timeout=WAIT)  # 2 % of the way
        assert "%" in panel.progress.text() and huge_folder.name in panel.progress_label.text()
        panel.cancel_button.click()
        assert not panel.is_loading() and panel.progress_box.isHidden()
        qtbot.waitUntil(lambda: not any(t.is_running() for t in live_tasks()), timeout=10_000)
    total = reports[-1][1]
    assert total >= 3000 and max(done for done, _ in reports) < total  # stopped before the end
    assert panel.dataset is before and "cancelled" in panel.message_label.text()
    assert lateness.worst < 0.4, f"the event loop stalled for {lateness.worst:.3f} s while loading"

    # 2. Drop again and let it finish: every file is there, and the window answered all along.
    reports.clear()
    with LoopLateness() as lateness, qtbot.waitSignal(panel.datasetChanged, timeout=WAIT):
        assert send_drop(panel.drop_zone, [huge_folder])
    assert len(panel.dataset) == 3000 and "3,000</b> images" in panel.facts.text()
    assert len(reports) > 10  # progress arrived as it went, not only at the end
    assert lateness.worst < 0.4, f"the event loop stalled for {lateness.worst:.3f} s while loading"


# ------------------------------------------------------------------------------- damaged run folders


@pytest.fixture(scope="module")
def good_run(tmp_path_factory):
    from studio.data import open_dataset
    from studio.engine import RunConfig, Trainer

    run_dir = tmp_path_factory.mktemp("good") / "run"
    config = RunConfig(method="dcgan", dataset="builtin:shapes", preset="tiny", steps=4, log_every=1,
                       sample_every=2, checkpoint_every=4, image_size=16, dataset_count=64, device="cpu")
    Trainer(config, run_dir=run_dir, dataset=open_dataset("builtin:shapes", size=16, count=64)).run()
    return run_dir


def _damage(run_dir: Path, how: str) -> None:
    if how == "config-not-json":
        (run_dir / "config.json").write_text("{ this is not json", encoding="utf-8")
    elif how == "config-wrong-types":
        (run_dir / "config.json").write_text(json.dumps({"run": {"method": 7, "steps": "many", "dataset": None}}))
    elif how == "truncated-checkpoint":
        ckpt = run_dir / "checkpoints" / "last.pt"
        ckpt.write_bytes(ckpt.read_bytes()[:2048])
    elif how == "garbage-metrics":
        garbage = (b"\x00\xff\xfe not json\n{\"step\": \"x\", \"d_loss\": []}\n[1, 2]\n"
                   b"{\"step\": 3, \"time\": 1.0, \"d_loss\": \"NaN\"}\n" + bytes(range(256)))
        (run_dir / "metrics.jsonl").write_bytes(garbage)
    elif how == "garbage-status":
        (run_dir / "status.json").write_text('{"step": "eleven", "state": 3}', encoding="utf-8")


DAMAGES = ["config-not-json", "config-wrong-types", "truncated-checkpoint", "garbage-metrics", "garbage-status"]


@pytest.mark.parametrize("how", DAMAGES)
def test_a_damaged_run_directory_gives_a_readable_message(window, qtbot, tmp_path, good_run, how):
    run_dir = tmp_path / how
    shutil.copytree(good_run, run_dir)
    _damage(run_dir, how)

    # File → Open run: follows what can be read; says what cannot; raises nothing.
    assert window.open_run(run_dir)
    qtbot.wait(700)  # a few follow polls
    if how.startswith("config"):
        assert "config.json" in window.banner.text and not window.banner.isHidden()
    if how == "garbage-metrics":
        assert window.monitor_tab.panels["Adversarial losses"].series["d_loss"].size <= 4
    if how == "truncated-checkpoint":
        qtbot.waitUntil(lambda: "not a readable checkpoint" in window.sample_tab.status.text(), timeout=WAIT)
    window.stop_following()

    # Run → Continue: refused with the reason, or started and ended with the reason on the banner.
    window.train_tab.steps.setValue(6)
    started = window.continue_run(run_dir)
    if started:
        qtbot.waitUntil(lambda: window.run_state.is_final, timeout=WAIT)
    if how.startswith("config"):
        assert not started and str(run_dir / "config.json") in window.last_error
    elif how == "truncated-checkpoint":
        assert "not a readable checkpoint" in window.last_error and "last.pt" in window.last_error
        assert not window.banner.isHidden() and not window.is_training()
    else:  # what the trainer needs is intact: the run continues
        assert started and window.runs.state == "finished", window.last_error

    # File → Export model: the model or the reason.
    window.banner.clear()
    window.exports.model(run=run_dir, out=tmp_path / f"{how}.pt")
    qtbot.waitUntil(lambda: window.exports.model_task is None, timeout=WAIT)
    if how == "truncated-checkpoint":
        assert "Model not exported" in window.banner.text and "last.pt" in window.last_error
    else:
        assert "Model exported" in window.banner.text, window.last_error
    assert window.isVisible()


# ------------------------------------------------------------------------------------------ shortcuts


def test_every_shortcut_does_one_thing_on_every_tab(window, qtbot, monkeypatch):
    """Two shortcuts on one key cancel each other out in Qt ('Ambiguous shortcut overload'): nothing happens."""
    from PySide6.QtGui import QShortcut

    done: list[str] = []
    ambiguous: list[str] = []
    actions = {a: a.shortcuts() for a in window.actions() if a.shortcuts()}
    for action in actions:
        action.setEnabled(True)  # Stop, Pause, ... are off while nothing trains; only the keys are tested here
        action.triggered.disconnect()
        action.triggered.connect(lambda checked=False, a=action: done.append(a.text()))
    tab_shortcuts = window.sample_tab.findChildren(QShortcut)
    for sc in tab_shortcuts:
        sc.activated.disconnect()
        sc.activated.connect(lambda sc=sc: done.append(f"sample {sc.key().toString()}"))
        sc.activatedAmbiguously.connect(lambda sc=sc: ambiguous.append(sc.key().toString()))
    window_keys = {k.toString() for ks in actions.values() for k in ks}
    sample_keys = {sc.key().toString() for sc in tab_shortcuts} - {"Del"}
    assert {"Ctrl+O", "F5", "Ctrl+E"} <= window_keys & sample_keys  # the keys both claim
    for page, focus in ((window.train_tab, window.tabs.tabBar()), (window.monitor_tab, window.tabs.tabBar()),
                        (window.sample_page, window.sample_tab.samples.grid)):
        window.tabs.setCurrentWidget(page)
        focus.setFocus()
        qtbot.wait(10)
        on_sample = page is window.sample_page
        for key in sorted(window_keys | (sample_keys if on_sample else set())):
            done.clear()
            combo = QKeySequence(key)[0]
            QTest.keyClick(QApplication.focusWidget() or window, combo.key(), combo.keyboardModifiers())
            where = window.tabs.tabText(window.tabs.currentIndex())
            assert len(done) == 1, f"{key} on the {where} tab did {done or 'nothing'}"
            if on_sample and key in sample_keys:
                assert done == [f"sample {key}"], f"{key} on the Sample tab did {done}"
    assert not ambiguous
