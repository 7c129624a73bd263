"""The Monitor's charts: one PlotWidget per `CurvePanel` in a two-column grid that scrolls, shown and
repainted a chart per turn of the event loop.

Laying out and painting every chart at once (a run opened, a long history arriving) held the window
for 250–450 ms: each PlotWidget's first paint renders its axes, ticks and legend. Here a new chart is
added hidden and shown on a later turn, and a forced redraw pushes one chart's curves per turn, so
the window handles input and timers between charts.
"""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QScrollArea, QToolButton, QWidget

from ..runs.curve_settings import CurveSettings, load_curve_settings, remember
from .plots import CurvePanel
from .theme import PLOT_COLOURS

COLUMNS = 2
MIN_CHART_HEIGHT = 190  # below this a chart's axes crowd its curves; more charts than fit scroll instead
EMPTY_HINT = ("Charts appear here when a run starts: its losses grouped as the method logs them, evaluation "
              "figures (KID/FID with their sample count, mode coverage) and training speed.\n\n"
              "Start a run on the Train tab, or open a run directory with File → Open run… (Ctrl+Alt+O).")
CHART_TOOLTIP = ("Logged values over training steps: drag to pan, wheel to zoom, right-click for "
                 "options; the small A button returns to following the run")
LOG_TOOLTIP = ("Log-scale y axis for this chart (remembered; it applies while every value on the chart is above "
               "zero)")


class ChartGrid(QScrollArea):
    """Charts by title, created on demand (`panel`), emptied for a new run (`clear`); drawn with the remembered
    smoothing and log scales (`set_smoothing`, each chart's log button). `panel_options` go to every
    `CurvePanel` (the Compare view's charts have no legend of their own and fit x to the values)."""

    logToggled = Signal(str, bool)  # chart title, on

    def __init__(self, parent: QWidget | None = None, hint: str = EMPTY_HINT,
                 panel_options: dict[str, Any] | None = None, chart_height: int | None = None) -> None:
        super().__init__(parent)
        self.theme = "dark"
        self.curves: CurveSettings = load_curve_settings()
        self.panel_options = dict(panel_options or {})
        # None: the charts share the height (the Monitor); a height: each chart keeps it and the column scrolls,
        # so a chart added later never resizes (and repaints) the ones shown (the Compare view adds them as runs
        # are read).
        self.chart_height = chart_height
        self.log_buttons: dict[str, QToolButton] = {}
        self.panels: dict[str, CurvePanel] = {}
        self.plot_widgets: list[pg.PlotWidget] = []
        self.extra_lines: dict[str, dict[str, float]] = {}  # title -> {label: y}: published figures of a run
        self.x_extent = 0  # the run's last step, when known
        self._to_show: list[pg.PlotWidget] = []  # added, waiting for their turn to be shown
        self._to_redraw: list[CurvePanel] = []  # forced redraws waiting for their turn
        # One-shot zero timers, parented here: a pending turn dies with the grid (a closed window).
        self._show_timer = self._turn_timer(self._show_next)
        self._redraw_timer = self._turn_timer(self._redraw_next)
        body = QWidget()
        body.setObjectName("plots")
        self.grid = QGridLayout(body)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(4)
        self.empty_hint = QLabel(hint)
        self.empty_hint.setObjectName("placeholder")
        self.empty_hint.setWordWrap(True)
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_hint.setMargin(24)
        self.grid.addWidget(self.empty_hint, 0, 0, 1, COLUMNS)
        # Charts share the height equally; with many (BEGAN logs six groups) the column scrolls.
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        if chart_height:  # the charts scroll: a scroll bar that appears with the third row would resize them all
            self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
            # A row added makes the column taller: only the new part is painted, not every chart again.
            body.setAttribute(Qt.WidgetAttribute.WA_StaticContents)
        self.setWidget(body)

    def _turn_timer(self, slot) -> QTimer:
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(0)
        timer.timeout.connect(slot)
        return timer

    def clear(self, x_extent: int = 0, extra_lines: dict[str, dict[str, float]] | None = None) -> None:
        """Remove every chart (a new run); `extra_lines` are drawn on the charts of those titles when made."""
        for widget in self.plot_widgets:
            self.grid.removeWidget(widget)
            widget.deleteLater()
        self.plot_widgets.clear()
        self.log_buttons.clear()
        self._to_show.clear()
        self._to_redraw.clear()
        for row in range(self.grid.rowCount()):
            self.grid.setRowStretch(row, 0)
        self.empty_hint.hide()
        self.panels.clear()
        self.x_extent = x_extent
        self.extra_lines = dict(extra_lines or {})

    def panel(self, title: str, reference_lines: dict[str, float] | None = None) -> CurvePanel:
        """The chart called `title`, added (hidden until its turn) when there is none yet."""
        if title in self.panels:
            return self.panels[title]
        index = len(self.panels)
        widget = pg.PlotWidget()
        widget.setToolTip(CHART_TOOLTIP)
        widget.setBackground(PLOT_COLOURS.get(self.theme, PLOT_COLOURS["dark"])["background"])
        widget.setMinimumHeight(MIN_CHART_HEIGHT)
        if self.chart_height:
            widget.setFixedHeight(self.chart_height)
        widget.hide()
        row, column = divmod(index, COLUMNS)
        self.grid.addWidget(widget, row, column)
        if not self.chart_height:
            self.grid.setRowStretch(row, 1)  # every row the same height, whatever was added last
        else:  # the charts at the top, the room left below them
            self.grid.setRowStretch(row, 0)
            self.grid.setRowStretch(row + 1, 1)
        for c in range(COLUMNS):
            self.grid.setColumnStretch(c, 1)
        self.plot_widgets.append(widget)
        panel = CurvePanel(widget.getPlotItem(), title, reference_lines, x_extent=self.x_extent,
                           targets=self.extra_lines.get(title), smoothing=self.curves.smoothing,
                           log=self.curves.is_log(title), **self.panel_options)
        panel.apply_theme(self.theme)
        self.panels[title] = panel
        # A small toggle in the chart's corner: its y axis on a log scale, remembered by the chart's title.
        log = QToolButton(widget)
        log.setText("log")
        log.setCheckable(True)
        log.setChecked(panel.log_wanted)
        log.setToolTip(LOG_TOOLTIP)
        log.setAutoRaise(True)
        log.move(2, 2)
        log.toggled.connect(lambda on, t=title: self.set_log(t, on))
        self.log_buttons[title] = log
        self._to_show.append(widget)
        self._show_timer.start()
        return panel

    def _show_next(self) -> None:
        if self._to_show:
            self._to_show.pop(0).show()
        if self._to_show:
            self._show_timer.start()

    def show_all_now(self) -> None:
        """Show every chart still waiting for its turn (a screenshot, a test)."""
        while self._to_show:
            self._to_show.pop(0).show()

    def redraw(self, staggered: bool = False) -> int:
        """Push new values to the curves; returns how many were redrawn now. `staggered`: one chart now,
        the others one per turn of the event loop (a whole history arriving at once)."""
        if not staggered:
            self._to_redraw.clear()
            return sum(panel.redraw() for panel in self.panels.values())
        self._to_redraw = list(self.panels.values())
        return self._redraw_next()

    def _redraw_next(self) -> int:
        drawn = 0
        while self._to_redraw and not drawn:  # charts with nothing new cost nothing: go on to one that has
            drawn = self._to_redraw.pop(0).redraw()
        if self._to_redraw:
            self._redraw_timer.start()
        return drawn

    def set_smoothing(self, weight: float, save: bool = True) -> None:
        """Draw every chart's dense curves smoothed by `weight` (0: raw), a chart per turn of the event loop."""
        self.curves.smoothing = weight
        for panel in self.panels.values():
            panel.set_smoothing(weight)
        self.redraw(staggered=True)
        if save:
            _remember(smoothing=weight)

    def set_log(self, title: str, on: bool) -> None:
        """The chart `title` on a log scale (while its values are all above zero), or linear; remembered."""
        self.curves.set_log(title, on)
        panel = self.panels.get(title)
        if panel is not None:
            panel.set_log(on)
            panel.redraw()
        button = self.log_buttons.get(title)
        if button is not None and button.isChecked() != on:
            button.blockSignals(True)
            button.setChecked(on)
            button.blockSignals(False)
        _remember(log=(title, on))
        self.logToggled.emit(title, on)

    def apply_theme(self, theme: str) -> None:
        self.theme = theme
        for widget in self.plot_widgets:
            widget.setBackground(PLOT_COLOURS.get(theme, PLOT_COLOURS["dark"])["background"])
        for panel in self.panels.values():
            panel.apply_theme(theme)


def _remember(**change: Any) -> None:
    try:
        remember(**change)
    except OSError:
        pass  # not remembered for next time; the charts show it now all the same
