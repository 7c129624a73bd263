"""GUI parts without training: buffers, the follower's record parsing, the params form, the monitor's panels."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pyqtgraph")

from studio.engine.events import Images, Metric, Points, Scalars, Status  # noqa: E402
from studio.engine.follow import RunFollower, record_to_event  # noqa: E402
from studio.engine.state import RunState, StatusNote  # noqa: E402
from studio.gui.series import Series  # noqa: E402
from studio.gui.worker import EventBuffer  # noqa: E402

pytestmark = pytest.mark.gui


def test_series_doubles_and_drops_non_finite():
    s = Series(capacity=4)
    for i in range(10):
        s.append(i, float(i) * 2)
    s.append(10, math.nan)
    s.append(11, math.inf)
    assert len(s) == 10 and s.capacity == 16 and s.dropped == 2
    assert s.x.tolist() == list(range(10)) and s.y[-1] == 18.0 and s.dirty


def test_event_buffer_keeps_every_scalar_but_only_the_newest_grid():
    buf = EventBuffer()
    grid = np.zeros((4, 4, 3), np.uint8)
    for step in range(1, 6):
        buf(Scalars(step, {"d_loss": 1.0 / step}))
        buf(Images(step, "samples", grid + step))
        buf(Points(step, np.zeros((3, 2))))
    buf(Images(0, "real", grid))
    buf(Status(5, RunState.PAUSED))
    events = buf.drain()
    assert [e.step for e in events if isinstance(e, Scalars)] == [1, 2, 3, 4, 5]
    samples = [e for e in events if isinstance(e, Images) and e.name == "samples"]
    assert len(samples) == 1 and samples[0].step == 5
    assert len([e for e in events if isinstance(e, Points)]) == 1
    assert any(isinstance(e, Images) and e.name == "real" for e in events)
    assert any(isinstance(e, Status) and e.state is RunState.PAUSED for e in events)
    assert buf.drain() == [] and buf.received["Scalars"] == 5


def test_follower_reads_records_torn_lines_samples_and_status(tmp_path):
    from PIL import Image

    run = tmp_path / "run"
    (run / "samples").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"run": {"method": "dcgan", "steps": 10}}))
    lines = [{"step": 2, "time": 0.5, "d_loss": 1.2, "g_loss": "nan"},
             {"step": 2, "metric": "kid", "kid": 0.05, "n": 1000, "std": 0.01},
             {"step": 3, "event": "alert", "message": "D is winning"}]
    with open(run / "metrics.jsonl", "w") as fh:
        fh.write("".join(json.dumps(line) + "\n" for line in lines))
        fh.write('{"step": 4, "d_lo')  # a record the writer has not finished yet
    Image.new("RGB", (8, 8), (200, 10, 10)).save(run / "samples" / "step-0000002.png")
    (run / "status.json").write_text(json.dumps({"state": "started", "step": 2, "message": "", "time": 1.0}))

    follower = RunFollower(run)
    follower.check()
    events = follower.poll()
    scalars = [e for e in events if isinstance(e, Scalars)]
    assert len(scalars) == 1 and scalars[0].values["d_loss"] == 1.2 and math.isnan(scalars[0].values["g_loss"])
    metric = next(e for e in events if isinstance(e, Metric))
    assert (metric.name, metric.value, metric.n, metric.extra) == ("kid", 0.05, 1000, {"std": 0.01})
    assert any(isinstance(e, Status) and e.state is StatusNote.ALERT for e in events)
    grid = next(e for e in events if isinstance(e, Images))
    assert grid.step == 2 and grid.image.shape == (8, 8, 3)
    # An older version wrote "started" in status.json: read as the state it means.
    assert any(isinstance(e, Status) and e.state is RunState.RUNNING for e in events)
    assert follower.poll() == []  # nothing new

    with open(run / "metrics.jsonl", "a") as fh:
        fh.write('ss": 0.9, "time": 1.0}\n')  # the torn line is completed
    (run / "status.json").write_text(json.dumps({"state": "finished", "step": 4, "message": "done", "time": 2.0}))
    events = follower.poll()
    assert [e.values for e in events if isinstance(e, Scalars)] == [{"d_loss": 0.9}]
    assert follower.finished and follower.step == 4


def test_follower_refuses_a_folder_that_is_not_a_run(tmp_path):
    from studio.engine.rundir import RunDirError

    with pytest.raises(RunDirError, match="not a run directory"):
        RunFollower(tmp_path).check()
    with pytest.raises(RunDirError, match="no such folder"):
        RunFollower(tmp_path / "missing").check()
    assert record_to_event({"step": 1, "time": 2.0}) is None  # no values: nothing to show


def test_params_form_is_built_from_every_method_and_resets(qtbot):
    from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox

    from studio.gui.params_form import ParamsForm
    from studio.methods import all_methods
    from studio.methods.params import describe_params

    form = ParamsForm()
    qtbot.addWidget(form)
    methods = all_methods()
    assert methods
    for name, cls in methods.items():
        form.set_method(cls)
        infos = describe_params(cls.Params)
        assert list(form.fields) == [i.name for i in infos], name
        for info in infos:
            widget = form.fields[info.name].widget
            expected = (QComboBox if info.choices else QCheckBox if info.type is bool else QSpinBox
                        if info.type is int else QDoubleSpinBox if info.type is float else QLineEdit)
            assert isinstance(widget, expected), (name, info.name, type(widget))
            assert info.help in widget.toolTip()
            if isinstance(widget, (QSpinBox, QDoubleSpinBox)) and info.low is not None:
                assert widget.minimum() == pytest.approx(info.low) and widget.maximum() == pytest.approx(info.high)
        defaults = {i.name: i.default for i in infos}
        assert form.values() == defaults, name
        # Change every number and flag, then Reset brings the dataclass defaults back.
        for info in infos:
            w = form.fields[info.name].widget
            if isinstance(w, QCheckBox):
                w.setChecked(not w.isChecked())
            elif isinstance(w, QSpinBox):
                w.setValue(w.maximum())
            elif isinstance(w, QDoubleSpinBox):
                w.setValue(w.maximum())
        assert form.values() != defaults or not infos
        form.reset()
        assert form.values() == defaults, name
        for preset, values in cls.presets.items():
            form.preset.setCurrentIndex(form.preset.findData(preset))
            assert all(form.values()[k] == pytest.approx(v) for k, v in values.items()), (name, preset)


def test_params_form_undo_and_bad_values(qtbot):
    from studio.gui.params_form import ParamsForm
    from studio.methods import get_method

    form = ParamsForm()
    qtbot.addWidget(form)
    form.set_method(get_method("dcgan"))
    assert not form.can_undo()
    form.fields["batch_size"].widget.setValue(8)
    form.fields["lr_g"].widget.setValue(1e-3)
    form.preset.setCurrentIndex(form.preset.findData("tiny"))
    assert form.values()["width"] == 8 and form.preset_name == "tiny"
    assert form.undo() and form.preset_name is None and form.values()["lr_g"] == pytest.approx(1e-3)
    assert form.undo() and form.values()["lr_g"] == pytest.approx(2e-4)
    assert form.undo() and form.values()["batch_size"] == 64
    assert not form.undo()
    # Learning rates show in scientific notation and step by factors of two.
    lr = form.fields["lr_g"].widget
    assert lr.text() == "0.0002"
    lr.stepBy(1)
    assert lr.value() == pytest.approx(4e-4)


def test_monitor_groups_scalars_by_plot_and_labels_metrics_with_n(qtbot):
    from studio.gui.monitor_tab import COVERAGE, EVALUATION, OTHER, SPEED, MonitorTab

    tab = MonitorTab()
    qtbot.addWidget(tab)
    tab.begin(method="dcgan", kind="images", total_steps=100)
    assert list(tab.panels) == ["Adversarial losses", "Discriminator outputs", SPEED]
    lines = tab.panels["Adversarial losses"].reference_lines
    assert len(lines) == 1 and lines[0].value() == pytest.approx(2 * math.log(2))
    events = [Scalars(s, {"d_loss": 1.0, "g_loss": math.nan if s == 3 else 2.0, "d_real": 0.6, "d_fake": 0.4,
                          "mystery": float(s), "images_per_sec": 100.0}, time=s * 0.1) for s in range(1, 6)]
    events += [Metric(5, "kid", 0.02, 1000), Metric(5, "mode_coverage", 7.0, 2000),
               Images(5, "samples", np.full((10, 10, 3), 128, np.uint8))]
    tab.consume(events)
    assert tab.panels["Adversarial losses"].series["g_loss"].y.tolist() == [2.0] * 4  # the NaN is dropped
    assert tab.panels[OTHER].series["mystery"].x.tolist() == [1, 2, 3, 4, 5]
    assert "KID (N=1000)" in tab.panels[EVALUATION].series
    assert tab.panels[COVERAGE].series
    assert "KID (N=1000)" in tab.metric_label.text()
    curve = tab.panels["Adversarial losses"].curves["d_loss"]
    assert curve.xData.tolist() == [1, 2, 3, 4, 5]  # drawn with setData on the buffer
    assert tab.sample_grids == 1 and tab.sample_view.image is not None
    assert tab.rate.steps_per_sec() == pytest.approx(10.0)
    # The memory figure, read off the GUI thread, shows even when no other event follows.
    qtbot.waitUntil(lambda: "memory" in tab.perf.text(), timeout=5000)
    assert tab.perf.text().startswith("100 images/s · memory ")
    # The same curve objects are updated in place on the next tick.
    tab.consume([Scalars(6, {"d_loss": 0.5})])
    assert len(curve.xData) == 5  # redraws are limited to a few per second ...
    assert tab.redraw(force=True) == 1  # ... and catch up on a later tick
    assert tab.panels["Adversarial losses"].curves["d_loss"] is curve and len(curve.xData) == 6


def test_monitor_points_scatter(qtbot):
    from studio.gui.monitor_tab import MonitorTab

    tab = MonitorTab()
    qtbot.addWidget(tab)
    modes = np.array([[1.0, 0.0], [0.0, 1.0]])
    tab.begin(method="gan", kind="points", real_points=np.random.randn(100, 2), modes=modes)
    assert tab.sample_stack.currentWidget() is tab.scatter
    tab.consume([Points(10, np.random.randn(50, 2))])
    assert tab.points_updates == 1 and len(tab.scatter.generated.data) == 50


def test_garbage_is_collected_on_the_gui_thread_not_on_a_worker(qtbot):
    import gc
    import threading

    from studio.gui.collector import INTERVAL_MS, collect_on_gui_thread

    assert collect_on_gui_thread() and not gc.isenabled()
    collected_on: list[str] = []

    class Cyclic:
        def __init__(self):
            self.me = self

        def __del__(self):
            collected_on.append(threading.current_thread().name)

    Cyclic()  # garbage only the cyclic collector can free
    # A worker that allocates enough to trip the automatic collector (were it on) many times over.
    kept: list[list] = []
    worker = threading.Thread(target=lambda: kept.extend([] for _ in range(100_000)), name="worker")
    worker.start()
    worker.join()
    assert collected_on == []
    qtbot.waitUntil(lambda: bool(collected_on), timeout=20 * INTERVAL_MS)
    assert collected_on == [threading.main_thread().name]


def test_monitor_shows_reconstructions_below_the_samples_and_in_the_timelapse(qtbot, tmp_path):
    from PIL import Image

    from studio.engine.rundir import RunDirectory
    from studio.gui.monitor_tab import MonitorTab
    from studio.gui.timelapse import write_timelapse

    run = RunDirectory(tmp_path / "run")
    run.create({"run": {"method": "vae"}})
    for step in (0, 10):  # what the trainer emits every sample interval for a method with an encoder
        run(Images(step, "samples", np.full((10, 10, 3), step, np.uint8)))
        run(Images(step, "reconstructions", np.full((10, 20, 3), 100 + step, np.uint8)))
    assert [s for s, _ in run.sample_images("reconstructions")] == [0, 10]
    assert [s for s, _ in run.sample_images()] == [0, 10]
    followed = [e for e in RunFollower(run.path, latest_images_only=False).poll() if isinstance(e, Images)]
    assert [(e.name, e.step) for e in followed] == [("samples", 0), ("samples", 10), ("reconstructions", 0),
                                                    ("reconstructions", 10)]

    tab = MonitorTab()
    qtbot.addWidget(tab)
    tab.begin(method="dcgan", kind="images")
    assert tab.reconstruction_column.isHidden()
    tab.begin(method="vae", kind="images", run_dir=run.path)
    assert not tab.reconstruction_column.isHidden()
    tab.consume([Images(10, "samples", np.full((10, 10, 3), 10, np.uint8)),
                 Images(10, "reconstructions", np.full((10, 20, 3), 110, np.uint8))])
    assert tab.reconstruction_view.image[0, 0, 0] == 110
    tab.show_frame(0)  # scrubbing back shows the reconstructions of the same step
    assert tab.reconstruction_view.image[0, 0, 0] == 100 and tab.sample_view.image[0, 0, 0] == 0
    tab.show_frame(1)
    assert tab.reconstruction_view.image[0, 0, 0] == 110

    frames = [p for _, p in run.sample_images()]
    beside = [p for _, p in run.sample_images("reconstructions")]
    out = write_timelapse(frames, tmp_path / "t.gif", beside=beside)
    with Image.open(out) as gif:
        assert gif.size == (10 + 8 + 20, 10) and gif.n_frames == 2


def test_start_up_is_frozen_out_of_the_collectors_walks(window):
    """What start-up made (torch, the methods, the widgets) is never walked again by a collection: walking
    it took 380-470 ms per full collection on the GUI thread (collector.freeze_start_up)."""
    import gc
    import sys

    assert gc.get_freeze_count() > 100_000
    walked = {id(o) for o in gc.get_objects()}
    assert id(sys.modules["torch"]) not in walked and id(sys.modules["studio.methods.dcgan"]) not in walked


def test_the_monitors_memory_reading_is_made_off_the_gui_thread_and_leaves_no_thread(monkeypatch):
    import threading
    import time

    from studio.gui import perf

    readers: list[str] = []
    monkeypatch.setattr(perf, "process_rss_bytes", lambda: readers.append(threading.current_thread().name) or 5000)
    reading = perf.MemoryReading()
    assert reading.request() in (0, 5000)  # 0 until the first read ends: the label then leaves memory out
    deadline = time.monotonic() + 10
    while reading.latest == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    reading._reading.join(10)
    assert reading.request() == 5000 and readers[0] == "memory-reading"
    reading._reading.join(10)
    assert threading.main_thread().name not in readers
    assert not any(t.name == "memory-reading" for t in threading.enumerate())  # forked decoding stays possible
