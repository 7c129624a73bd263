"""What the user sees: both themes mark toggled buttons and check boxes, charts share the space, the scatter
shows the real data and its modes, empty panels say what goes there (offscreen grabs, no training)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pyqtgraph")

from PySide6.QtGui import QColor  # noqa: E402
from PySide6.QtWidgets import QApplication, QCheckBox, QPushButton, QVBoxLayout, QWidget  # noqa: E402

from studio.gui.theme import apply_theme, resource_path  # noqa: E402

pytestmark = pytest.mark.gui


def _colour_at(widget: QWidget, x: int, y: int) -> QColor:
    return QColor(widget.grab().toImage().pixel(x, y))


def _distance(a: QColor, b: QColor) -> int:
    return abs(a.red() - b.red()) + abs(a.green() - b.green()) + abs(a.blue() - b.blue())


@pytest.fixture(params=["dark", "light"])
def theme(request, qtbot):
    app = QApplication.instance()
    apply_theme(app, request.param)
    yield request.param
    apply_theme(app, "dark")


def test_every_resource_a_style_sheet_names_exists(theme):
    sheet = resource_path(f"{theme}.qss").read_text(encoding="utf-8")
    import re

    for name in re.findall(r"@RESOURCES@/([\w.-]+)", sheet):
        assert resource_path(name) is not None, f"{theme}.qss names resources/{name}, which is missing"


def test_a_checked_toggle_button_looks_different_from_an_unchecked_one(qtbot, theme):
    # The Sample tab's class buttons are checkable QPushButtons: the chosen one must stand out.
    box = QWidget()
    layout = QVBoxLayout(box)
    on, off = QPushButton("triangle"), QPushButton("circle")
    for b in (on, off):
        b.setCheckable(True)
        layout.addWidget(b)
    on.setChecked(True)
    qtbot.addWidget(box)
    box.resize(200, 100)
    box.show()
    qtbot.waitExposed(box)
    c_on, c_off = _colour_at(on, 6, on.height() // 2), _colour_at(off, 6, off.height() // 2)
    assert _distance(c_on, c_off) > 120, (theme, c_on.name(), c_off.name())


def test_check_box_indicators_are_visible_and_show_their_state(qtbot, theme):
    box = QWidget()
    layout = QVBoxLayout(box)
    on, off = QCheckBox("Loop"), QCheckBox("Auto-refresh")
    on.setChecked(True)
    layout.addWidget(on)
    layout.addWidget(off)
    qtbot.addWidget(box)
    box.show()
    qtbot.waitExposed(box)
    background = box.palette().window().color()
    # The unchecked box's outline stands out from the window; the checked box is filled.
    edge = max((_colour_at(off, x, off.height() // 2) for x in range(0, 8)), key=lambda c: _distance(c, background))
    assert _distance(edge, background) > 90, (theme, edge.name(), background.name())
    centre_on, centre_off = _colour_at(on, 8, on.height() // 2), _colour_at(off, 8, off.height() // 2)
    assert _distance(centre_on, centre_off) > 120, (theme, centre_on.name(), centre_off.name())


def test_no_bright_line_across_the_dark_window(qtbot, tmp_path, monkeypatch):
    # Fusion draws the document-mode tab bar's base in the palette's light colour: a white line.
    monkeypatch.setenv("STUDIO_CONFIG_DIR", str(tmp_path / "config"))
    from studio.gui.main_window import MainWindow

    w = MainWindow(populate=False)
    qtbot.addWidget(w)
    w.set_theme("dark")
    w.resize(900, 600)
    w.show()
    qtbot.waitExposed(w)
    image = w.grab().toImage()
    top = w.tabs.mapTo(w, w.tabs.rect().topLeft()).y()
    rows = range(max(0, top - 4), top + 40)
    brightest = max(QColor(image.pixel(600, y)).lightness() for y in rows)
    assert brightest < 200


def test_monitor_charts_share_the_height_and_empty_monitor_explains_itself(qtbot):
    from studio.engine.events import Scalars
    from studio.gui.monitor_tab import MonitorTab

    tab = MonitorTab()
    qtbot.addWidget(tab)
    tab.resize(1200, 700)
    tab.show()
    assert tab.charts.empty_hint.isVisible() and "Open run" in tab.charts.empty_hint.text()
    tab.begin(method="began", kind="images", total_steps=100)
    values = {"convergence": 1.0, "k_t": 0.0, "d_loss": 0.5, "g_loss": 0.1, "recon_real": 0.4, "recon_fake": 0.1,
              "lr": 1e-4, "images_per_sec": 90.0}
    tab.consume([Scalars(step=step, values=values, time=0.1 * step) for step in range(1, 6)])
    tab.redraw(force=True)
    qtbot.waitUntil(lambda: all(w.isVisible() for w in tab.charts.plot_widgets))  # shown a chart per turn
    qtbot.wait(50)
    assert not tab.charts.empty_hint.isVisible()
    heights = [w.height() for w in tab.charts.plot_widgets]
    assert len(heights) == 6 and min(heights) >= 150, heights  # no chart squashed by the last one added
    assert max(heights) - min(heights) <= 2, heights


def test_scatter_shows_real_points_modes_and_a_legend(qtbot):
    from studio.gui.plots import ScatterView

    view = ScatterView()
    qtbot.addWidget(view)
    view.resize(400, 400)
    view.show()
    modes = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    real = np.repeat(modes, 50, axis=0) + np.random.default_rng(0).normal(0, 0.01, (150, 2))
    view.set_real(real, modes)
    view.fit_view()
    names = [label.text for _, label in view.legend.items]
    assert names == ["real data", "modes", "generated"]
    # Generated points far outside the real data widen the view rather than falling off it.
    view.set_generated(np.array([[3.0, 3.0]] * 50 + [[0.0, 0.0]] * 50))
    (x0, x1), (y0, y1) = view.getPlotItem().getViewBox().viewRange()
    assert x1 >= 3.0 and y1 >= 3.0


def test_a_long_runs_first_steps_fill_the_chart(qtbot):
    from studio.engine.events import Scalars
    from studio.gui.monitor_tab import MonitorTab

    tab = MonitorTab()
    qtbot.addWidget(tab)
    tab.begin(method="dcgan", kind="images", total_steps=100_000)
    tab.consume([Scalars(step=s, values={"d_loss": 1.0, "g_loss": 0.5}, time=0.1 * s) for s in range(1, 31)])
    tab.redraw(force=True)
    panel = tab.panels["Adversarial losses"]
    (x0, x1), _ = panel.view_range
    assert x0 == 0 and 30 <= x1 <= 60  # not 0 … 100,000 with the curve a sliver at the left
    tab.consume([Scalars(step=100_000, values={"d_loss": 1.0, "g_loss": 0.5}, time=1e4)])
    tab.redraw(force=True)
    assert panel.view_range[0][1] == 100_000  # never past the run's last step


def test_banner_messages_read_as_written(qtbot, tmp_path, monkeypatch):
    # Escaped text shown as plain text would read "the run&#x27;s": the banner is rich text, always.
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QTextDocument

    from studio.gui.main_window import MainWindow

    monkeypatch.setenv("STUDIO_CONFIG_DIR", str(tmp_path / "config"))
    w = MainWindow(populate=False)
    w.interactive = False
    qtbot.addWidget(w)
    for show in (w.show_info, lambda m: w.show_error("Cannot open the run", m)):
        show("the run's <config.json> & co\nsecond line")
        assert w.banner.label.textFormat() == Qt.TextFormat.RichText
        doc = QTextDocument()
        doc.setHtml(w.banner.label.text())
        assert "the run's <config.json> & co\nsecond line" in doc.toPlainText()


def test_charts_are_shown_and_a_history_redrawn_a_chart_per_turn(qtbot):
    """Laying out or repainting every chart in one turn of the event loop held the window for a quarter
    of a second (issue 16): a new chart waits for its own turn, and so does each chart of a history."""
    from PySide6.QtWidgets import QApplication

    from studio.engine.events import Scalars
    from studio.gui.monitor_tab import MonitorTab

    tab = MonitorTab()
    qtbot.addWidget(tab)
    tab.resize(1200, 700)
    tab.show()
    tab.begin(method="began", kind="images", total_steps=100)
    widgets = tab.charts.plot_widgets
    assert len(widgets) == 6 and not any(w.isVisible() for w in widgets)
    shown = []
    for _ in range(20):
        QApplication.processEvents()
        shown.append(sum(w.isVisible() for w in widgets))
    assert shown[-1] == 6 and len(set(shown)) > 2  # one, then another, … not all in one go
    values = {"convergence": 1.0, "k_t": 0.0, "d_loss": 0.5, "g_loss": 0.1, "recon_real": 0.4, "recon_fake": 0.1,
              "lr": 1e-4, "images_per_sec": 90.0}
    tab.consume([Scalars(step=step, values=values, time=0.1 * step) for step in range(1, 6)])  # drawn at once
    tab.consume([Scalars(step=step, values=values, time=0.1 * step) for step in range(6, 9)])  # within the second
    assert tab.redraw(force=True, staggered=True) >= 1 and tab.charts._to_redraw  # the first chart's curves only
    qtbot.waitUntil(lambda: not tab.charts._to_redraw)
    assert all(s.dirty is False for p in tab.panels.values() for s in p.series.values())


def test_the_monitor_says_what_its_grid_holds_why_a_run_ended_and_shows_a_lone_value(qtbot):
    from studio.engine.events import Scalars
    from studio.engine.state import RunState
    from studio.gui.monitor_tab import MonitorTab

    tab = MonitorTab()
    qtbot.addWidget(tab)
    tab.begin(method="pix2pix", kind="paired", total_steps=100)
    assert tab.sample_title.text().startswith("Translations") and "latent" not in tab.sample_title.text()
    tab.consume([Scalars(step=1, values={"d_loss": 0.5, "g_loss": 2.0}, time=0.1)])
    curve = next(iter(tab.panels.values())).curves["d_loss"]
    assert curve.opts["symbol"] == "o"  # a line through one value draws nothing: a dot instead
    tab.consume([Scalars(step=2, values={"d_loss": 0.4, "g_loss": 1.9}, time=0.2)])
    tab.redraw(force=True)
    assert curve.opts["symbol"] is None
    tab.view.update(state=RunState.FINISHED, reason="time limit")  # as the run's controller says it
    assert "finished (time limit)" in tab.header.text()
    tab.begin(method="dcgan", kind="images", total_steps=100)  # a new run: the last one's reason is gone
    assert tab.sample_title.text() == "Samples (fixed latent batch)" and "time limit" not in tab.header.text()


def test_the_monitor_header_says_what_precision_the_run_trains_in(qtbot):
    from studio.engine.events import Status
    from studio.engine.state import StatusNote
    from studio.gui.monitor_tab import MonitorTab

    tab = MonitorTab()
    qtbot.addWidget(tab)
    tab.begin(method="dcgan", kind="images", total_steps=100)
    tab.consume([Status(step=0, state=StatusNote.STARTED, message="", detail={"steps": 100, "amp": "bf16"})])
    assert "bf16 autocast" in tab.header.text()
    tab.begin(method="wgan-gp", kind="images", total_steps=100)  # a new run forgets the last one's precision
    assert "bf16" not in tab.header.text()
    tab.consume([Status(step=0, state=StatusNote.STARTED, message="", detail={"steps": 100, "amp": "off"})])
    assert "float32" in tab.header.text()
