"""The run view model (studio/gui/run_view.py): Qt-free, observed by the Monitor's header and the status bar."""

from __future__ import annotations

import sys

import pytest

from studio.engine.state import RunState
from studio.gui.run_view import RunView


def test_the_model_tells_its_listeners_once_per_update_with_what_changed():
    view, heard = RunView(), []
    view.subscribe(heard.append)
    assert view.update(step=10, total_steps=100, state=RunState.RUNNING) == {"step", "total_steps", "state"}
    assert view.update(step=10) == frozenset()  # nothing changed: nobody is told
    view.update(step=20, images_per_sec=512.0)
    assert heard == [{"step", "total_steps", "state"}, {"step", "images_per_sec"}]
    with pytest.raises(AttributeError, match="no field 'stepp'"):
        view.update(stepp=3)


def test_the_model_loads_no_qt():
    import subprocess

    code = "import sys, studio.gui.run_view; assert 'PySide6' not in sys.modules and 'torch' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


def test_the_eta_follows_the_speed_and_the_state():
    view = RunView(total_steps=100, step=40, steps_per_sec=2.0, state=RunState.RUNNING)
    assert view.eta == 30.0
    view.update(state=RunState.PAUSED)
    assert view.eta is None
    view.update(state=RunState.FINISHED)
    assert view.eta is None
    view.update(state=RunState.RUNNING, steps_per_sec=0.0)
    assert view.eta is None  # not measured yet


def test_a_new_run_forgets_the_last_ones_progress_but_not_its_state():
    view = RunView(step=50, total_steps=60, images_per_sec=9.0, reason="time limit", note="reading",
                   state=RunState.FINISHED)
    view.begin("run-2", 300)
    assert (view.title, view.total_steps, view.step, view.images_per_sec, view.reason, view.note) == ("run-2", 300, 0,
                                                                                                     None, "", "")
    assert view.state is RunState.FINISHED  # the controller says when the new run's state changes


def test_the_monitor_header_and_the_status_bar_both_show_the_model(qtbot):
    pytest.importorskip("PySide6")
    pytest.importorskip("pyqtgraph")
    from PySide6.QtWidgets import QMainWindow

    from studio.gui.monitor_tab import MonitorTab
    from studio.gui.status_bar import RunStatusBar

    view = RunView()
    window = QMainWindow()
    qtbot.addWidget(window)
    monitor = MonitorTab(view)
    window.setCentralWidget(monitor)
    bar = RunStatusBar(window.statusBar(), view)
    monitor.begin(method="dcgan", kind="images", total_steps=200, title="run-1")
    view.update(state=RunState.RUNNING, device="CPU", step=50, images_per_sec=1234.0, steps_per_sec=5.0)
    assert "run-1" in monitor.header.text() and "step 50/200" in monitor.header.text()
    assert "running" in monitor.header.text() and monitor.state is RunState.RUNNING
    assert bar.step_label.text() == "step 50/200" and bar.speed_label.text() == "1,234 images/s"
    assert bar.device_label.text() == "device: CPU" and bar.eta_label.text() == "ETA 30s"
    view.update(state=RunState.PAUSED)
    assert bar.eta_label.text() == "ETA –" and "paused" in monitor.header.text()
