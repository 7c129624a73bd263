"""The row above a grid of charts: TensorBoard's smoothing slider, and room for a view's own controls.

Dragging the slider redraws the charts at most every `APPLY_MS` (the newest position wins) and the
weight is remembered when the drag ends; the curves' stored values never change, only how they are
drawn (`CurvePanel.set_smoothing`). Each chart's log-scale toggle sits in its own corner (`ChartGrid`).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QToolButton, QVBoxLayout, QWidget

from ..runs.smoothing import MAX_WEIGHT
from .chart_grid import ChartGrid

APPLY_MS = 120
STEPS = 1000  # the slider's positions: weight = position / STEPS, at most MAX_WEIGHT
SMOOTHING_TIP = ("Smoothing, as in TensorBoard: an exponential moving average (debiased, so the first points are "
                 "not pulled towards zero) drawn over the raw curve, which stays faint behind it. 0 shows the raw "
                 "values; only the drawing changes, never the logged data. Remembered.")


class CurveControls(QWidget):
    """Smoothing for `charts`; `add_widget` puts a view's own controls (x axis, Compare…) on the same row."""

    def __init__(self, charts: ChartGrid, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.charts = charts
        label = QLabel("Smoothing")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, round(MAX_WEIGHT * STEPS))
        self.slider.setValue(round(charts.curves.smoothing * STEPS))
        self.slider.setMaximumWidth(220)
        self.value_label = QLabel()
        self.value_label.setFixedWidth(self.fontMetrics().horizontalAdvance("0.999") + 6)
        for w in (label, self.slider, self.value_label):
            w.setToolTip(SMOOTHING_TIP)
        self._apply_timer = QTimer(self)
        self._apply_timer.setSingleShot(True)
        self._apply_timer.setInterval(APPLY_MS)
        self._apply_timer.timeout.connect(self._apply)
        self.slider.valueChanged.connect(self._on_value)
        self.slider.sliderReleased.connect(self._remember)
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(0, 0, 0, 0)
        self.row.addWidget(label)
        self.row.addWidget(self.slider)
        self.row.addWidget(self.value_label)
        self.row.addStretch(1)
        self._show_value()

    @property
    def weight(self) -> float:
        return min(self.slider.value() / STEPS, MAX_WEIGHT)

    def set_weight(self, weight: float) -> None:
        """Move the slider to `weight` and draw the charts so at once (a test, a script)."""
        self.slider.setValue(round(weight * STEPS))
        self._apply_timer.stop()
        self._apply()
        self._remember()

    def add_widget(self, widget: QWidget) -> None:
        """A view's own control at the right end of the row."""
        self.row.addWidget(widget)

    def add_action(self, action: QAction) -> QToolButton:
        """A button for `action` (it follows the action's text, tip and enabled state)."""
        button = QToolButton()
        button.setDefaultAction(action)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.row.addWidget(button)
        return button

    def _on_value(self, _value: int) -> None:
        self._show_value()
        self._apply_timer.start()  # while dragging: the newest position, a few times a second
        if not self.slider.isSliderDown():
            QTimer.singleShot(APPLY_MS + 10, self._remember)  # a click or a key: remembered once applied

    def _show_value(self) -> None:
        self.value_label.setText(f"{self.weight:.3f}".rstrip("0").rstrip(".") if self.weight else "0")

    def _apply(self) -> None:
        self.charts.set_smoothing(self.weight, save=False)

    def _remember(self) -> None:
        if self.charts.curves.smoothing != self.weight:
            self._apply()
        from .chart_grid import _remember

        _remember(smoothing=self.weight)


def with_curve_controls(charts: ChartGrid) -> QWidget:
    """`charts` under their controls row, as one widget (its `curve_controls` attribute is the row)."""
    column = QWidget()
    layout = QVBoxLayout(column)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    controls = CurveControls(charts)
    layout.addWidget(controls)
    layout.addWidget(charts, 1)
    column.curve_controls = controls
    charts.curve_controls = controls
    return column
