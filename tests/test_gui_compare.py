"""The Compare view (issue 26), offscreen: runs overlaid chart by chart in one colour each, a live run's curve
growing, the grids' shared slider, PNG and CSV exports, smoothing that changes the drawing and not the data,
axes fitted to the values (k_t), remembered curve settings, the ways runs get in, and the window's wiring."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
from fake_runs import append_records, grid_step, write_grid, write_run
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QImage

from studio.gui.compare import CompareView
from studio.runs.compared import RUN_COLOURS

WAIT = 30_000


def three_runs(tmp_path):
    a = write_run(tmp_path / "a", steps=200, grids=[50, 100, 150, 200], grid_colour=(255, 0, 0),
                  scalars={"d_loss": lambda s: 1.4 + 0.3 * math.sin(s), "g_loss": lambda s: 0.7},
                  metrics=[{"step": 200, "metric": "fid", "fid": 80.0, "n": 500},
                           {"step": 200, "metric": "precision", "precision": 0.61, "n": 500, "k": 3}])
    b = write_run(tmp_path / "b", steps=150, grids=[50, 150], grid_colour=(0, 255, 0),
                  scalars={"d_loss": lambda s: 1.0 + 0.2 * math.cos(s), "g_loss": lambda s: 0.9},
                  metrics=[{"step": 150, "metric": "fid", "fid": 60.0, "n": 500}])
    c = write_run(tmp_path / "c", steps=200, grids=[100], grid_colour=(0, 0, 255),
                  scalars={"d_loss": lambda s: 1.2, "g_loss": lambda s: 0.5 + s / 1000})
    return a, b, c


@pytest.fixture(autouse=True)
def own_settings(tmp_path, monkeypatch):
    """Each test remembers its own curve settings (smoothing, log charts, x axis)."""
    monkeypatch.setenv("STUDIO_CONFIG_DIR", str(tmp_path / "config"))


@pytest.fixture
def view(qtbot):
    """A Compare view, closed once its reading has ended (not by qtbot, which closes widgets before this
    fixture's teardown)."""
    v = CompareView()
    v.interactive = v.run_list.interactive = False
    v.resize(1280, 800)
    v.show()
    yield v
    v.shutdown()
    qtbot.waitUntil(lambda: not v.loader.busy, timeout=WAIT)
    v.close()
    v.deleteLater()


def opened(view, paths):
    view.add_runs(paths)
    assert view.wait_until_read(60)
    view.charts.show_all_now()
    view.charts.redraw()
    return view


def test_three_runs_draw_three_curves_per_shared_chart_in_one_colour_each(view, tmp_path):
    opened(view, three_runs(tmp_path))
    for title in ("Adversarial losses: d_loss", "Adversarial losses: g_loss"):
        panel = view.charts.panels[title]
        assert len(panel.curves) == 3
        colours = [panel.curves[str(r.path)].opts["pen"].color().name() for r in view.comparison.runs]
        assert colours == list(RUN_COLOURS[:3])
        assert all(curve.xData is not None and len(curve.xData) for curve in panel.curves.values())
    fid = view.charts.panels["FID"]
    assert len(fid.curves) == 2 and fid.marked[str(view.comparison.runs[0].path)]  # c logged no FID
    assert [r.colour for r in view.comparison.runs] == list(RUN_COLOURS[:3])
    assert "■ a dcgan on builtin:shapes (finished, step 200)" in view.legend.text()
    assert all(view.run_list.item(r.path).checkState() == Qt.CheckState.Checked for r in view.comparison.runs)
    table = [[view.table.item(r, c).text() for c in range(view.table.columnCount())] for r in range(3)]
    headings = [view.table.horizontalHeaderItem(c).text() for c in range(view.table.columnCount())]
    assert [row[0] for row in table] == ["a", "b", "c"] and "precision" in headings
    assert table[0][headings.index("precision")].startswith("0.610 (N=500, k=3")


def test_a_live_runs_curve_grows(view, tmp_path):
    a, b, _ = three_runs(tmp_path)
    opened(view, [a, b])
    curve = view.charts.panels["Adversarial losses: d_loss"].curves[str(view.comparison.runs[0].path)]
    before = len(curve.xData)
    append_records(a, [{"step": 200 + 10 * i, "time": 10.0 + i, "d_loss": 1.0, "g_loss": 0.7} for i in range(1, 6)])
    append_records(a, [{"step": 250, "metric": "kid", "kid": 0.01, "n": 100}])
    write_grid(a, 250, (255, 0, 0))
    assert view.poll() == 1
    assert view.wait_until_read()
    view.charts.show_all_now()
    view.charts.redraw()
    assert len(curve.xData) == before + 5 and curve.xData[-1] == 250
    assert "KID" in view.charts.panels  # a metric first logged live gets its chart
    assert view.grids.current_step() == 250  # at the right end the grids follow the newest
    assert view.poll() == 0


def test_the_grid_slider_shows_each_runs_grid_at_that_step(view, tmp_path):
    opened(view, three_runs(tmp_path))
    grids = view.grids
    assert grids.steps == [50, 100, 150, 200] and grids.current_step() == 200
    shown = {cell.run.name: cell for cell in grids.cells}

    def steps_shown():
        return {name: (grid_step(cell.view.image) if cell.view.image is not None else None)
                for name, cell in shown.items()}

    assert steps_shown() == {"a": 200, "b": 150, "c": 100}
    grids.show_step(100)
    assert steps_shown() == {"a": 100, "b": 50, "c": 100}
    grids.show_step(50)
    assert steps_shown() == {"a": 50, "b": 50, "c": None}
    assert "no grid yet" in shown["c"].title.text()
    assert "step 50 · 1/4" in grids.label.text()


def test_png_and_csv_exports_are_written_and_read_back(view, tmp_path):
    opened(view, three_runs(tmp_path))
    png = view.export_png(tmp_path / "out" / "compare.png")
    image = QImage(str(png))
    assert not image.isNull() and (image.width(), image.height()) == (view.width(), view.height())
    with open(view.export_csv(tmp_path / "out" / "compare.csv"), newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["run"] for r in rows] == ["a", "b", "c"]
    assert rows[0]["fid_last"] == "80.0" and rows[0]["precision"] == "0.61" and rows[0]["precision_k"] == "3"
    assert rows[1]["fid_last"] == "60.0" and rows[2]["fid_last"] == ""


def test_smoothing_changes_the_drawn_curve_not_the_stored_data(view, tmp_path):
    opened(view, three_runs(tmp_path))
    title = "Adversarial losses: d_loss"
    panel = view.charts.panels[title]
    key = str(view.comparison.runs[0].path)
    stored = view.comparison.runs[0].curves["d_loss"].y.copy()
    view.controls.set_weight(0.0)
    view.charts.redraw()
    raw = np.array(panel.curves[key].yData)
    np.testing.assert_array_equal(raw, stored)
    view.controls.set_weight(0.9)
    view.charts.redraw()
    smoothed = np.array(panel.curves[key].yData)
    assert not np.allclose(smoothed, raw) and np.std(np.diff(smoothed)) < 0.5 * np.std(np.diff(raw))
    np.testing.assert_array_equal(np.array(panel.raw_curves[key].yData), stored)  # the raw curve, faint behind
    assert panel.raw_curves[key].opts["pen"].color().alpha() < 255
    np.testing.assert_array_equal(view.comparison.runs[0].curves["d_loss"].y, stored)
    np.testing.assert_array_equal(view.curves_on(title)["a"][1], smoothed)


def test_a_k_t_between_0_and_0_03_fills_its_axis(view, qtbot, tmp_path):
    began = write_run(tmp_path / "began", method="began", steps=300,
                      scalars={"k_t": lambda s: 0.03 * (1 - math.exp(-s / 60)), "convergence": lambda s: 1 / s})
    dcgan = write_run(tmp_path / "dcgan", steps=300)
    opened(view, [began, dcgan])
    (_, _), (y0, y1) = view.charts.panels["k_t"].view_range
    assert -0.005 < y0 <= 0.0 and 0.03 <= y1 < 0.035  # not the 0-1 of its reference lines

    from studio.engine.events import Scalars
    from studio.gui.monitor_tab import MonitorTab

    monitor = MonitorTab()  # the Monitor's k_t chart too
    qtbot.addWidget(monitor)
    monitor.begin(method="began", kind="images", total_steps=300)
    monitor.consume([Scalars(step=s, values={"k_t": 0.0001 * s}, time=0.1 * s) for s in range(1, 301)])
    monitor.redraw(force=True)
    (_, _), (y0, y1) = monitor.panels["k_t"].view_range
    assert -0.01 < y0 <= 0.0 and 0.03 <= y1 < 0.04


def test_log_scale_x_axis_and_smoothing_are_remembered(view, qtbot, tmp_path):
    opened(view, three_runs(tmp_path))
    title = "Adversarial losses: g_loss"
    view.charts.log_buttons[title].click()
    panel = view.charts.panels[title]
    panel.redraw()
    assert panel.log and panel.item.getAxis("left").logMode
    view.controls.set_weight(0.8)
    view.x_axis.setCurrentIndex(view.x_axis.findData("epoch"))
    assert view.wait_until_read()
    view.charts.show_all_now()
    view.charts.redraw()
    x, _ = view.curves_on("Adversarial losses: d_loss")["a"]
    assert x[-1] == pytest.approx(200 * 32 / 640)  # steps × batch / items
    again = CompareView()
    try:
        assert again.charts.curves.smoothing == 0.8 and again.controls.weight == 0.8
        assert again.axis == "epoch" and again.charts.curves.is_log(title)
        opened(again, [tmp_path / "a", tmp_path / "b"])
        assert again.charts.log_buttons[title].isChecked() and again.charts.panels[title].log
    finally:
        again.shutdown()
        qtbot.waitUntil(lambda: not again.loader.busy, timeout=WAIT)
        again.deleteLater()
    view.charts.log_buttons[title].click()  # and off again
    assert not view.charts.curves.is_log(title)


def test_log_scale_waits_for_values_above_zero(view, tmp_path):
    a = write_run(tmp_path / "a", scalars={"d_loss": lambda s: s / 100 - 0.5, "g_loss": lambda s: 1.0})
    b = write_run(tmp_path / "b")
    opened(view, [a, b])
    title = "Adversarial losses: d_loss"
    view.charts.set_log(title, True)
    assert not view.charts.panels[title].log  # a value at or below zero: drawn linear, as asked when it can be


def test_runs_come_from_history_folders_experiments_and_drops(view, qtbot, tmp_path, monkeypatch):
    from studio import settings

    a, b, c = three_runs(tmp_path / "plain")
    settings.update_settings(recent_runs=[str(a)])
    view.run_list.fill_history()
    item = view.run_list.item(a)
    assert item is not None and item.checkState() == Qt.CheckState.Unchecked
    item.setCheckState(Qt.CheckState.Checked)  # a click on the history's row
    assert [r.name for r in view.comparison.runs] == ["a"]
    experiment = tmp_path / "experiment"  # an experiment's trials: DIR/trial-K
    for k in (1, 2):
        write_run(experiment / f"trial-{k}", steps=50)
    assert len(view.run_list.add_folder(experiment)) == 2
    assert [r.name for r in view.comparison.runs] == ["a", "experiment/trial-1", "experiment/trial-2"]
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(b))])
    view.dropEvent(QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                              Qt.KeyboardModifier.NoModifier))
    assert [r.name for r in view.comparison.runs][-1] == "b"
    assert view.wait_until_read()
    view.run_list.item(a).setCheckState(Qt.CheckState.Unchecked)
    assert "a" not in [r.name for r in view.comparison.runs]
    messages = []
    view.message.connect(messages.append)
    (tmp_path / "nothing").mkdir()
    view.add_runs([tmp_path / "nothing"])
    assert messages and "nothing" in messages[-1]
    for i in range(6):
        write_run(tmp_path / "many" / f"r{i}", steps=20)
    view.add_runs([tmp_path / "many"])
    assert len(view.comparison.runs) == 8 and "at most 8" in messages[-1]


def test_compare_is_one_click_from_the_monitor_and_the_run_history(window, qtbot, tmp_path):
    a, b, _ = three_runs(tmp_path)
    assert window.open_run(a)
    from PySide6.QtWidgets import QToolButton

    button = next(b for b in window.monitor_tab.charts.curve_controls.findChildren(QToolButton)
                  if b.defaultAction() is window.menu_actions["compare"])
    button.click()
    view = window.compare_view
    assert window.tabs.currentWidget() is view
    assert [r.name for r in view.comparison.runs] == ["a"]
    recent = window.menu_actions.recent_menu
    recent.aboutToShow.emit()
    assert window.menu_actions["compare"] in recent.actions()
    assert view.run_list.item(a) is not None  # the history lists the run just opened
    view.add_runs([b])
    assert view.wait_until_read()
    window.stop_following()


def test_file_experiments_offers_the_two_comparisons(qtbot):
    from PySide6.QtWidgets import QDialogButtonBox

    from studio.experiments.comparisons import COMPARISONS
    from studio.gui.experiments_dialog import ExperimentsDialog

    dialog = ExperimentsDialog()
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert dialog.select("vae-family") and dialog.chosen is COMPARISONS["vae-family"]
    assert ok.text() == "Run the comparison" and "VAE vs VAE-GAN vs U-Net VAE-GAN" in dialog.details.text()
    assert "162.29" in dialog.details.text()  # seed 004's FID of the U-Net VAE-GAN, beside what will be measured
    assert dialog.select("ae-vs-alpha-gan") and "reconstructions" in dialog.details.text()
    assert dialog.select("ring-fast") and ok.text() == "Fill the Train tab"


@pytest.mark.slow
def test_a_comparison_recipe_trains_then_opens_in_compare(window, qtbot, tmp_path):
    """Auto-encoder vs α-GAN, a few steps each, in a process of its own; then side by side, reconstructions shown."""
    from studio.experiments.comparisons import COMPARISONS
    from studio.gui.experiments_dialog import start_comparison

    job = start_comparison(window, COMPARISONS["ae-vs-alpha-gan"], tmp_path / "compare", steps=20)
    view = window.compare_view
    assert window.tabs.currentWidget() is view and not view.job_row.isHidden()
    ended = []
    job.ended.connect(lambda ok, text: ended.append((ok, text)))
    qtbot.waitUntil(lambda: bool(ended), timeout=240_000)
    assert ended[0][0], ended[0][1]
    assert view.wait_until_read()
    assert [r.name for r in view.comparison.runs] == ["digits-ae/trial-1", "digits-alpha-gan/trial-1"]
    assert view.grids.kind.currentData() == "reconstructions"
    assert all(cell.view.image is not None for cell in view.grids.cells)  # each run's reconstructions at the end
    headings = [view.table.horizontalHeaderItem(c).text() for c in range(view.table.columnCount())]
    assert "reconstruction_accuracy" in headings
    row = [view.table.item(0, c).text() for c in range(view.table.columnCount())]
    assert "(N=180" in row[headings.index("reconstruction_accuracy")]
    assert (tmp_path / "compare" / "comparison.md").exists()


def test_the_windows_timelapse_export_streams_shows_progress_and_cancels(window, qtbot, tmp_path):
    """File → Export timelapse: progress in the status bar, the Monitor's button turns into Cancel, and a
    cancelled export leaves no file behind; a finished one has a frame per saved grid."""
    run = write_run(tmp_path / "run", steps=100)
    for step in range(0, 400):
        write_grid(run, step, (step % 256, 40, 90), size=96)
    assert window.open_run(run)
    exports, button = window.exports, window.monitor_tab.export_button
    before = button.text()
    out = tmp_path / "exports" / "t.gif"
    task = exports.timelapse(out)
    assert task is not None and button.text() == "Cancel export" and exports.progress.isVisible()
    assert exports.timelapse() is None  # the same action, while it writes: cancel
    qtbot.waitUntil(lambda: exports.timelapse_task is None, timeout=WAIT)
    assert not out.exists() and not list(out.parent.iterdir())  # nothing left, not even a temporary file
    assert button.text() == before and "cancelled" in window.banner.text and not exports.progress.isVisible()
    progress = []
    with qtbot.waitSignal(window.monitor_tab.exportFinished, timeout=120_000) as done:
        exports.timelapse(out).progress.connect(lambda d, total: progress.append((d, total)))
    assert done.args[0] == str(out) and progress[-1] == (400, 400)
    from PIL import Image

    with Image.open(out) as gif:
        assert gif.n_frames == 400
    window.stop_following()
