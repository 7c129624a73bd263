"""pyqtgraph pieces shared by the tabs: live curve panels and the 2-D scatter of points."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGraphicsItem, QWidget

from ..runs.series import Series
from ..runs.smoothing import all_positive, smooth, y_range
from .theme import CURVE_COLOURS, PLOT_COLOURS

MAX_SCATTER = 4000  # real points drawn under the generated ones; more only slows the redraw
REFERENCE_COLOURS = {"dark": "#a0a4b8", "light": "#5d6278"}  # dashed reference lines (2·ln 2, ½, ...) and labels
RAW_ALPHA = 70  # of 255: a smoothed curve's raw values, faint behind it (TensorBoard's look)
# A live chart's y margin: values drifting outward early in a run re-range (and re-render) the axes rarely.
MONITOR_MARGIN = 0.15


def style_plot(item: pg.PlotItem, theme: str) -> None:
    """Axis and grid colours for `theme` on one PlotItem."""
    colours = PLOT_COLOURS.get(theme, PLOT_COLOURS["dark"])
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(colours["foreground"]))
        axis.setTextPen(pg.mkPen(colours["foreground"]))
    item.showGrid(x=True, y=True, alpha=colours["grid"] / 255)
    legend = getattr(item, "legend", None)
    if legend is not None:
        # A translucent backing keeps the legend readable where it overlaps a curve.
        background = pg.mkColor(colours["background"])
        background.setAlpha(190)
        legend.setBrush(pg.mkBrush(background))
        legend.setLabelTextColor(colours["foreground"])
    if item.titleLabel is not None:
        item.titleLabel.setAttr("color", colours["foreground"])
        item.titleLabel.setText(item.titleLabel.text)


def _dot_if_alone(curve: pg.PlotDataItem, alone: bool) -> None:
    """A line through one value draws nothing: a lone value (a run that logged once) is shown as a dot."""
    if alone == (curve.opts.get("symbol") is not None):
        return
    if alone:
        colour = curve.opts["pen"].color()
        curve.setSymbol("o")
        curve.setSymbolSize(6)
        curve.setSymbolBrush(colour)
        curve.setSymbolPen(None)
    else:
        curve.setSymbol(None)


class CurvePanel:
    """One chart: a PlotItem with a curve per key, created once and updated in place with setData.

    The panel sets the view range itself rather than leaving it to pyqtgraph's auto-range: x runs from 0
    to twice the newest step (at most the run's last step), growing in jumps (`grow_x`; else just past
    the newest value), and y holds the values (`smoothing.y_range`: a reference line only when near them,
    published figures always) and changes only when values leave it or shrink well inside it, so the
    axes (the costliest part of a repaint) are redrawn rarely. Panning or zooming by hand stops this until
    the chart's A button is clicked.

    How a curve is drawn never changes its series: at `smoothing` > 0 a dense curve is drawn smoothed
    (TensorBoard's moving average) with its raw values faint behind it; on a `log` chart y is drawn on a
    log scale, while every value is above zero.
    """

    def __init__(self, item: pg.PlotItem, title: str, reference_lines: dict[str, float] | None = None,
                 x_extent: int = 0, *, targets: dict[str, float] | None = None, legend: bool = True,
                 grow_x: bool = True, smoothing: float = 0.0, log: bool = False):
        self.item = item
        self.title = title
        self.series: dict[str, Series] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.raw_curves: dict[str, pg.PlotDataItem] = {}  # the faint raw values behind a smoothed curve
        self.marked: dict[str, bool] = {}  # curves that mark every value (sparse series)
        self.colours: dict[str, str] = {}
        self.x_maps: dict[str, Callable[[np.ndarray], np.ndarray | None]] = {}  # step -> the x axis' unit
        self.x_extent = x_extent  # the run's last step, when known
        self.grow_x = grow_x
        self.reach = 0.0  # the step the curves will soon reach (a history being read): the x range holds it at once
        self.follow = True  # False once the user pans or zooms
        self.view_range: tuple[tuple[float, float], tuple[float, float]] | None = None
        self.smoothing = smoothing
        self.log_wanted = log  # asked for; `log` is whether the chart is drawn so (all values above zero)
        self.log = False
        self._restyle = False  # every curve to be drawn again (smoothing or scale changed)
        item.setTitle(title)
        item.setLabel("bottom", "step")
        if legend:
            item.addLegend(offset=(-8, 8), labelTextSize="8pt")
        # Long runs: draw only what is in view, peak-downsampled so spikes stay visible.
        item.setClipToView(True)
        item.setDownsampling(auto=True, mode="peak")
        # Axes (with their grid lines, which span the plot) are cached as pixmaps: a curve update then
        # repaints them by a blit instead of replaying every tick, label and grid line (most of a redraw).
        for name in ("left", "bottom"):
            item.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        view = item.getViewBox()
        view.setMouseEnabled(x=True, y=True)
        view.disableAutoRange()
        view.sigRangeChangedManually.connect(self._on_manual_range)
        self.reference_lines = []
        self.reference_values = list((reference_lines or {}).values())
        self.baseline_values: dict[str, float] = {}
        self.target_values = list((targets or {}).values())
        for name, y in {**(reference_lines or {}), **(targets or {})}.items():
            line = pg.InfiniteLine(pos=y, angle=0, movable=False,
                                   pen=pg.mkPen(REFERENCE_COLOURS["dark"], width=1, style=Qt.PenStyle.DashLine),
                                   label=name,
                                   # pyqtgraph picks the first anchor when the line is in the upper half of
                                   # the view (its name hangs below it), else the second (name above it).
                                   labelOpts={"position": 0.04, "color": REFERENCE_COLOURS["dark"],
                                              "anchors": [(0, 0), (0, 1)]})
            item.addItem(line, ignoreBounds=True)
            self.reference_lines.append(line)
        self.baselines: dict[str, pg.InfiniteLine] = {}  # lines that arrive with the data, in their curve's colour
        self.legend_notes: dict[str, pg.PlotDataItem] = {}  # legend entries that explain lines, not curves

    def add_curve(self, key: str, label: str | None = None, markers: bool = False, colour: str | None = None) -> Series:
        """The series of `key`, creating its curve on first use (`markers`: a dot on each value, for sparse series;
        `colour`: the curve's, else the next of the chart's colours)."""
        if key not in self.curves:
            colour = colour or CURVE_COLOURS[len(self.curves) % len(CURVE_COLOURS)]
            extra = {"symbol": "o", "symbolSize": 6, "symbolBrush": colour, "symbolPen": None} if markers else {}
            # Values are finite by construction (Series drops NaN), so pyqtgraph may skip its own check.
            curve = self.item.plot(name=label or key, pen=pg.mkPen(colour, width=1.6), skipFiniteCheck=True, **extra)
            curve.setZValue(1)
            self.series.setdefault(key, Series())
            self.curves[key] = curve
            self.marked[key] = markers
            self.colours[key] = colour
            for text, sample in self.legend_notes.items():  # notes on the lines stay below the curves' names
                self.item.legend.removeItem(sample)
                self.item.legend.addItem(sample, text)
        return self.series[key]

    def set_baseline(self, name: str, y: float, colour: Any, legend: str = "") -> None:
        """A dashed line at `y` called `name`, unlabelled, in `colour` (its curve's), moved there when it
        exists: a figure's baseline that arrives with the figure, such as precision's real-vs-real value.
        Baselines of one chart often lie too close together to label: the legend gets one dashed entry
        saying what they are (`legend`)."""
        if legend and legend not in self.legend_notes:
            colour_of_note = REFERENCE_COLOURS["dark"]
            sample = pg.PlotDataItem(pen=pg.mkPen(colour_of_note, width=1.2, style=Qt.PenStyle.DashLine))
            self.item.legend.addItem(sample, legend)
            self.legend_notes[legend] = sample
        line = self.baselines.get(name)
        if line is None:
            line = pg.InfiniteLine(pos=y, angle=0, movable=False, pen=pg.mkPen(colour, width=1.2,
                                                                               style=Qt.PenStyle.DashLine))
            self.item.addItem(line, ignoreBounds=True)
            self.baselines[name] = line
        if line.value() != y:
            line.setValue(y)
        self.baseline_values[name] = float(y)

    def set_series(self, key: str, series: Series, label: str | None = None, markers: bool = False,
                   colour: str | None = None, x_map: Callable[[np.ndarray], np.ndarray | None] | None = None) -> None:
        """Show `series` (a run's history read in bulk) as the curve of `key`, in place of what it held;
        `x_map` turns its steps into the x axis' unit (None from it: the curve is not drawn)."""
        self.series[key] = series
        self.add_curve(key, label, markers, colour)
        if x_map is None:
            self.x_maps.pop(key, None)
        else:
            self.x_maps[key] = x_map
        series.dirty = True

    def remove_curve(self, key: str) -> None:
        """Take the curve of `key` off the chart."""
        for curves in (self.curves, self.raw_curves):
            curve = curves.pop(key, None)
            if curve is not None:
                self.item.removeItem(curve)
        for table in (self.series, self.marked, self.colours, self.x_maps):
            table.pop(key, None)
        self._restyle = True

    def set_smoothing(self, weight: float) -> None:
        """Draw dense curves smoothed by `weight` (0: raw); the series are not changed."""
        if weight != self.smoothing:
            self.smoothing = weight
            self._restyle = True

    def set_log(self, on: bool) -> None:
        """Ask for a log-scale y axis (it applies while every value is above zero)."""
        if on != self.log_wanted:
            self.log_wanted = on
            self._restyle = True

    def apply_theme(self, theme: str) -> None:
        """Axes, legend and the reference lines in the colours of `theme`."""
        style_plot(self.item, theme)
        colour = REFERENCE_COLOURS.get(theme, REFERENCE_COLOURS["dark"])
        for line in self.reference_lines:
            line.setPen(pg.mkPen(colour, width=1, style=Qt.PenStyle.DashLine))
            if line.label is not None:
                line.label.setColor(colour)

    def drawn(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) as the curve of `key` shows them: its unit on x, smoothed where smoothing is on."""
        series = self.series[key]
        x = self.x_maps[key](series.x) if key in self.x_maps else series.x
        if x is None:
            return np.zeros(0), np.zeros(0)
        smoothed = self.smoothing > 0 and not self.marked[key]
        return x, smooth(series.y, self.smoothing) if smoothed else series.y

    def redraw(self) -> int:
        """Push changed series to their curves; returns how many were redrawn."""
        n = 0
        restyle, self._restyle = self._restyle, False
        if (restyle or any(s.dirty for s in self.series.values())) and self._apply_log():
            restyle = True  # every curve again, in the new scale
        for key, series in self.series.items():
            if series.dirty or restyle:
                x, y = self.drawn(key)
                curve = self.curves[key]
                curve.setData(x, y)
                self._draw_raw(key, x, series.y if len(x) else x)
                if not self.marked[key]:
                    _dot_if_alone(curve, len(x) == 1)
                series.dirty = False
                n += 1
        view = self.item.getViewBox()
        if any(view.state["autoRange"]):  # the A button: follow the run again
            view.disableAutoRange()
            self.follow, self.view_range = True, None
        if n and self.follow:
            self.fit(force=restyle)
        return n

    def _apply_log(self) -> bool:
        """Draw on a log scale when asked and every value is above zero; True when the scale changed."""
        log = self.log_wanted and all_positive(s.y for s in self.series.values())
        if log == self.log:
            return False
        self.log = log
        self.item.setLogMode(y=log)
        self.view_range = None
        return True

    def _draw_raw(self, key: str, x: np.ndarray, y: np.ndarray) -> None:
        raw = self.raw_curves.get(key)
        if self.smoothing > 0 and not self.marked[key]:
            if raw is None:
                colour = pg.mkColor(self.colours[key])
                colour.setAlpha(RAW_ALPHA)
                raw = self.raw_curves[key] = self.item.plot(pen=pg.mkPen(colour, width=1), skipFiniteCheck=True)
                raw.setZValue(0)
            raw.setData(x, y)
        elif raw is not None:
            raw.setData([], [])

    def fit(self, force: bool = False) -> None:
        """Set the view to hold every value (and the reference lines near them), changing it only when needed."""
        shown = [self.drawn(k)[0] for k in self.series]
        filled = [(x, self.series[k].y) for x, k in zip(shown, self.series, strict=True) if len(x)]
        if not filled:
            return
        x_max = max([float(x[-1]) for x, _ in filled] + [self.reach])
        x_min = min(float(x.min()) for x, _ in filled)
        fitted = y_range([y for _, y in filled], self.reference_values, log=self.log,
                         margin=MONITOR_MARGIN if self.grow_x else None)
        if fitted is None:
            return
        # Published figures and the real-vs-real baselines: always in view.
        for target in [*self.target_values, *self.baseline_values.values()]:
            t = math.log10(target) if self.log and target > 0 else target
            if not self.log or target > 0:
                fitted = (min(fitted[0], t), max(fitted[1], t))
        lo, hi = fitted
        (x0, x1), (y0, y1) = self.view_range or ((0.0, 0.0), (0.0, 0.0))
        if not self.grow_x:
            x0, x1 = min(0.0, x_min), x_max + 0.02 * (x_max - min(0.0, x_min) or 1.0)
        elif x_max > x1 or self.view_range is None:
            # Room to grow before the next change (axes re-render only then), never past the run's last step:
            # a long run's first steps stay readable instead of a sliver at the left edge.
            x0, x1 = 0.0, max(x_max * 2, x_max + 10)
            if self.x_extent >= x_max:
                x1 = min(x1, self.x_extent)
        values_lo, values_hi = _inner(lo, hi)
        if force or self.view_range is None or values_lo < y0 or values_hi > y1 or (hi - lo) < 0.5 * (y1 - y0):
            y0, y1 = lo, hi
        new = ((x0, max(x1, 1.0) if self.grow_x else max(x1, x0 + 1e-9)), (y0, y1))
        if new != self.view_range:
            self.view_range = new
            self.item.getViewBox().setRange(xRange=new[0], yRange=new[1], padding=0)

    def _on_manual_range(self, *_) -> None:
        self.follow = False


def _inner(lo: float, hi: float) -> tuple[float, float]:
    """The values' own span inside a fitted range (the range less its margins)."""
    pad = (hi - lo) * MONITOR_MARGIN / (1 + 2 * MONITOR_MARGIN)
    return lo + pad, hi - pad


class ScatterView(pg.PlotWidget):
    """2-D points: the real data (grey) inside rings marking its modes, under the generated points (blue)."""

    def __init__(self, parent: QWidget | None = None, generated: bool = True):
        """`generated`: whether generated points are shown (the Monitor) or only the data (a dataset preview)."""
        super().__init__(parent)
        self.setAspectLocked(True)
        # Rings, not filled marks: a mode's real points (often tightly clustered) stay visible inside.
        self.modes = pg.ScatterPlotItem(size=22, symbol="o", pen=pg.mkPen("#f0c828", width=1.5), brush=None)
        self.real = pg.ScatterPlotItem(size=3, pen=None, brush=pg.mkBrush(175, 180, 200, 150))
        self.generated = pg.ScatterPlotItem(size=4, pen=None, brush=pg.mkBrush(108, 140, 255, 200))
        for item in (self.modes, self.real, self.generated):
            self.addItem(item)
        self.legend = self.getPlotItem().addLegend(offset=(-8, 8), labelTextSize="8pt")
        self.legend.addItem(self.real, "real data")
        self.legend.addItem(self.modes, "modes")
        if generated:
            self.legend.addItem(self.generated, "generated")
        self.updates = 0
        self._bounds: tuple[float, float, float, float] | None = None  # x0, x1, y0, y1 the view holds
        shown = "Grey: real data · yellow rings: the modes" + (" · blue: generated points" if generated else "")
        self.setToolTip(f"{shown} (drag to pan, wheel to zoom)")

    def set_real(self, points: np.ndarray | None, modes: np.ndarray | None = None) -> None:
        if points is not None and len(points):
            step = max(1, len(points) // MAX_SCATTER)
            pts = np.asarray(points, dtype=np.float64)[::step]
            self.real.setData(pts[:, 0], pts[:, 1])
        else:
            self.real.clear()
        if modes is not None and len(modes):
            m = np.asarray(modes, dtype=np.float64)
            self.modes.setData(m[:, 0], m[:, 1])
        else:
            self.modes.clear()

    def fit_view(self) -> None:
        """Fit the real data and its modes with a margin (generated points widen the view as they need)."""
        parts = [np.column_stack(item.getData()) for item in (self.real, self.modes) if len(item.getData()[0])]
        if not parts:
            self._bounds = None
            self.getPlotItem().autoRange()
            return
        pts = np.concatenate(parts)
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        pad = 0.15 * max(float((hi - lo).max()), 1e-6)
        self._set_bounds((lo[0] - pad, hi[0] + pad, lo[1] - pad, hi[1] + pad))

    def set_generated(self, points: np.ndarray | None) -> None:
        if points is None or not len(points):
            self.generated.clear()
            return
        pts = np.asarray(points, dtype=np.float64)
        pts = pts[np.isfinite(pts).all(axis=1)]
        self.generated.setData(pts[:, 0], pts[:, 1])
        self.updates += 1
        if len(pts) and self._bounds is not None:
            # Grow (never shrink) the view to hold nearly all generated points, ignoring far outliers;
            # a view that changed with every update would make learning hard to watch.
            lo, hi = np.percentile(pts, 1, axis=0), np.percentile(pts, 99, axis=0)
            x0, x1, y0, y1 = self._bounds
            if lo[0] < x0 or hi[0] > x1 or lo[1] < y0 or hi[1] > y1:
                pad = 0.1 * max(x1 - x0, y1 - y0)
                self._set_bounds((min(x0, lo[0] - pad), max(x1, hi[0] + pad), min(y0, lo[1] - pad),
                                  max(y1, hi[1] + pad)))

    def _set_bounds(self, bounds: tuple[float, float, float, float]) -> None:
        self._bounds = bounds
        self.getPlotItem().getViewBox().setRange(xRange=bounds[:2], yRange=bounds[2:], padding=0)

    def apply_theme(self, theme: str) -> None:
        self.setBackground(PLOT_COLOURS.get(theme, PLOT_COLOURS["dark"])["background"])
        style_plot(self.getPlotItem(), theme)
