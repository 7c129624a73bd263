"""The Monitor tab: live curves grouped by the method's plots, metrics, sample, reconstruction and real
grids, a timelapse.

It reads events (from the training worker's buffer or a RunFollower) through `consume(events)`,
which the window calls at a steady rate; curves are created once and updated in place. An opened
run's history arrives among them as `History` snapshots (bounded curves read in bulk, `history.py`).
What it says about the run as a whole (name, state, step, speed) is the window's `RunView`
(`run_view.py`): the tab gives it the progress it reads and shows it in its header, as the status bar does.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ..engine.state import RunState, StatusNote
from .chart_grid import ChartGrid
from .curve_controls import with_curve_controls
from .history import History
from .imageview import ImageView
from .livetext import LiveText
from .perf import MemoryReading, RateMeter, cuda_memory_bytes, format_bytes
from .plots import CurvePanel, ScatterView
from .prdc_chart import chart_title, is_prdc, show_baseline
from .run_view import RunView
from .tasks import BackgroundTask

if TYPE_CHECKING:  # the engine imports torch: loaded with the first events, not with the window
    from ..engine.events import Event, Images, Metric, Points, Scalars

SPEED_KEYS = ("images_per_sec",)
OTHER = "Other"
EVALUATION = "Evaluation"
COVERAGE = "Mode coverage"
SPEED = "Speed (images/s)"
# What the live grid holds, by the kind of data: translation methods have no latent batch.
SAMPLE_TITLES = {"images": "Samples (fixed latent batch)", "points": "Generated points over the real modes",
                 "paired": "Translations of fixed inputs (input | output)",
                 "unpaired": "Translations of fixed A images (input | output)"}
# Curves are redrawn at most this often: repainting the charts is the GUI's largest cost (tens of ms
# of Python holding the GIL, and a core taken from training), and once a second looks live for loss curves.
REDRAW_SECONDS = 1.0
PERF_READ_MS = 100  # the memory figure is shown this long after its read starts (a read takes under a millisecond)


def metric_label(name: str, n: int) -> str:
    """How a metric is named on its chart: 'KID (N=1000)'; the N is always shown beside the figure."""
    short = name.upper() if len(name) <= 4 else name.replace("_", " ")
    return f"{short} (N={n})" if n else short


def is_coverage_metric(name: str) -> bool:
    return "mode" in name or "coverage" in name


class MonitorTab(QWidget):
    """Live view of one run; `begin()` sets it up for a run, `consume()` draws what is new."""

    exportFinished = Signal(str)  # path of the written GIF, or an error message starting with "⚠"

    def __init__(self, view: RunView | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.view = view if view is not None else RunView()
        self.theme = "dark"
        self._panel_of: dict[str, str] = {}
        self._lines_of: dict[str, dict[str, float]] = {}  # reference lines of charts made when their data comes
        self.method_plots: tuple = ()
        self.run_dir: Path | None = None
        self.step = 0
        self.last_values: dict[str, float] = {}
        self.metrics: dict[str, tuple[int, float]] = {}
        self.rate = RateMeter()
        self.scalar_updates = 0
        self.sample_grids = 0
        self.points_updates = 0
        self.metric_updates = 0
        self._live_grid: np.ndarray | None = None
        self._live_reconstructions: np.ndarray | None = None
        self.duplicates: tuple[int, list[list[int]], int] | None = None  # (step, groups, cells) of a collapse
        self._timelapse: list[tuple[int, Path]] = []
        self._reconstruction_frames: dict[int, Path] = {}  # step -> saved reconstruction grid
        self._last_timelapse_scan = 0.0
        self._last_perf = 0.0
        self._memory = MemoryReading()
        self._last_redraw = 0.0
        self.export_task: BackgroundTask | None = None
        self._history_note = ""  # while an opened run's history is read: how far; after: "" or why it was not
        self.samples_name = SAMPLE_TITLES["images"]

        self.header = LiveText("No run yet: start one on the Train tab, or File → Open run…")
        self.header.setToolTip("The run shown here and its state")
        self.view.subscribe(self._on_view_changed)

        # One PlotWidget (its own view) per chart: new values repaint only the chart they belong to.
        self.charts = ChartGrid()
        self.panels = self.charts.panels  # title -> CurvePanel (the grid's own dict, emptied in place)

        self.sample_view = ImageView("Generated samples appear here")
        self.sample_view.setToolTip("The generator's output for a fixed latent batch: the same z every time, "
                                    "so changes show learning, not chance")
        self.scatter = ScatterView()
        self.sample_stack = QStackedWidget()
        self.sample_stack.addWidget(self.sample_view)
        self.sample_stack.addWidget(self.scatter)
        self.real_view = ImageView("Real images appear here")
        self.real_view.setToolTip("Real images from the dataset, for comparison")
        self.reconstruction_view = ImageView("Reconstructions appear here")
        self.reconstruction_view.setToolTip("Fixed real images, each beside the model's reconstruction of it "
                                            "(encode, then decode): methods with an encoder only")
        self.sample_title = QLabel("Samples")
        self.reconstruction_title = QLabel("Reconstructions (real | rebuilt)")
        self.real_title = QLabel("Real")
        for label in (self.sample_title, self.reconstruction_title, self.real_title):
            # A long title ("… 64 near-duplicates outlined (step 4800)") wraps rather than widening its
            # column: the grids share the width equally.
            label.setWordWrap(True)
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        grids = QHBoxLayout()
        columns = []
        for title, view in ((self.sample_title, self.sample_stack), (self.real_title, self.real_view),
                            (self.reconstruction_title, self.reconstruction_view)):
            column = QWidget()
            column_layout = QVBoxLayout(column)
            column_layout.setContentsMargins(0, 0, 0, 0)
            column_layout.addWidget(title)
            column_layout.addWidget(view, 1)
            columns.append(column)
        for column in columns[:2]:
            grids.addWidget(column, 1)
        # Hidden as one widget for 2-D runs, so the scatter gets the whole width.
        self.real_column, self.reconstruction_column = columns[1], columns[2]
        self.reconstruction_column.hide()  # shown, below the samples, for methods with an encoder
        self.real_column_widgets = (self.real_column,)

        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip("Timelapse: scrub through the sample grids saved during the run; "
                               "the right end follows the live samples")
        self.slider.setEnabled(False)
        self.slider.valueChanged.connect(self._on_slider)
        # A LiveText of fixed width: a QLabel's new text re-lays-out the tab, repainting every chart.
        self.slider_label = LiveText("live")
        self.slider_label.setFixedWidth(self.fontMetrics().horizontalAdvance("step 10000000 (live) · 9999/9999") + 8)
        self.export_button = QPushButton("Export GIF…")
        self.export_button.setToolTip("Write the saved sample grids as a looping GIF (File → Export timelapse GIF…)")
        self.export_button.setEnabled(False)
        timelapse = QHBoxLayout()
        timelapse_label = QLabel("Timelapse")
        self.timelapse_widgets = (timelapse_label, self.slider, self.slider_label, self.export_button)
        timelapse.addWidget(timelapse_label)
        timelapse.addWidget(self.slider, 1)
        timelapse.addWidget(self.slider_label)
        timelapse.addWidget(self.export_button)

        self.metric_label = QLabel()
        self.metric_label.setObjectName("facts")
        self.metric_label.setWordWrap(True)
        self.metric_label.setToolTip("The latest evaluation figures, each with the number of samples it used")
        self.perf = LiveText(dim=True)
        self.perf.setToolTip("Training speed, this process's memory (RSS) and GPU memory when on CUDA")

        images_box = QGroupBox("Samples")
        images_layout = QVBoxLayout(images_box)
        images_layout.addLayout(grids, 1)
        images_layout.addWidget(self.reconstruction_column, 1)  # its pairs are twice as wide: a row of its own
        images_layout.addLayout(timelapse)
        images_layout.addWidget(self.metric_label)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(with_curve_controls(self.charts))  # the smoothing slider above the charts
        splitter.addWidget(images_box)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setChildrenCollapsible(False)
        # Charts are added only when a run begins, so the split is set here rather than from size hints.
        self.charts.setMinimumWidth(360)
        splitter.setSizes([640, 560])
        self.splitter = splitter
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.perf)
        self.apply_theme(self.theme)

    # --- setting up a run -----------------------------------------------------------------------
    def begin(self, *, method: str | None, kind: str | None, total_steps: int = 0, run_dir: Path | str | None = None,
              title: str = "", real_grid: np.ndarray | None = None, real_points: np.ndarray | None = None,
              modes: np.ndarray | None = None, experiment: str | None = None) -> None:
        """Clear everything and lay out the panels for `method` on data of `kind`; a trial of `experiment`
        gets the published figures it reproduces as dashed lines on the matching charts."""
        lines: dict[str, dict[str, float]] = {}
        if experiment:
            from ..experiments.catalogue import published_lines  # the engine (torch) is loaded by now

            for name, figures in published_lines(experiment).items():
                lines.setdefault(self._metric_panel(name), {}).update(figures)
        self.charts.clear(total_steps, lines)
        self._panel_of.clear()
        self._lines_of.clear()
        self.last_values.clear()
        self.metrics.clear()
        self.rate.clear()
        self.scalar_updates = self.sample_grids = self.points_updates = self.metric_updates = 0
        self.run_dir = Path(run_dir) if run_dir else None
        self._history_note = ""
        self.step = 0
        self.view.begin(title or (str(run_dir) if run_dir else ""), total_steps)
        self._live_grid = self._live_reconstructions = None
        self.duplicates = None
        self.sample_title.setToolTip("")
        self._timelapse = []
        self._reconstruction_frames = {}
        self.slider.blockSignals(True)
        self.slider.setRange(0, 0)
        self.slider.blockSignals(False)
        self.slider.setEnabled(False)
        self.slider_label.setText("live")
        self.export_button.setEnabled(False)
        self.metric_label.setText("")
        self.sample_view.set_image(None)
        self.reconstruction_view.set_image(None)
        self.real_view.set_image(real_grid)
        self.method_plots = self._method_plots(method)
        for plot in self.method_plots:
            self.charts.panel(plot.title, plot.reference_lines)
            for key in plot.scalars:
                self._panel_of[key] = plot.title
        for plot in self._method_plots(method, optional=True):  # charted once their scalars arrive
            self._lines_of[plot.title] = plot.reference_lines
            for key in plot.scalars:
                self._panel_of.setdefault(key, plot.title)
        points = kind == "points"
        self.sample_stack.setCurrentWidget(self.scatter if points else self.sample_view)
        for w in self.real_column_widgets:
            w.setVisible(not points)
        self.reconstruction_column.setVisible(not points and self._has_encoder(method))
        for w in self.timelapse_widgets:  # 2-D runs save points, not grids: no timelapse to scrub
            w.setVisible(not points)
        self.samples_name = SAMPLE_TITLES.get(kind or "", SAMPLE_TITLES["images"])
        self.sample_title.setText(self.samples_name)
        if points:
            self.scatter.set_real(real_points, modes)
            self.scatter.set_generated(None)
            self.scatter.fit_view()
        self.charts.panel(SPEED)
        self._update_header()

    @property
    def state(self) -> RunState:
        """The run's state, as its controller says it (`RunView`)."""
        return self.view.state

    @property
    def total_steps(self) -> int:
        return self.view.total_steps

    def set_real_grid(self, image: np.ndarray | None) -> None:
        self.real_view.set_image(image)

    def set_real_points(self, points: np.ndarray | None, modes: np.ndarray | None) -> None:
        self.scatter.set_real(points, modes)
        self.scatter.fit_view()

    @staticmethod
    def _method_plots(method: str | None, optional: bool = False) -> tuple:
        if not method:
            return ()
        from ..methods import get_method

        try:
            cls = get_method(method)
            return tuple(cls.optional_plots() if optional else cls.plots)
        except Exception:  # noqa: BLE001 - an unknown method (a newer run) still shows its scalars in "Other"
            return ()

    @staticmethod
    def _has_encoder(method: str | None) -> bool:
        from ..methods import get_method

        try:
            return bool(method) and get_method(method).has_encoder
        except Exception:  # noqa: BLE001 - an unknown method: its reconstruction grids (if any) still show
            return False

    # --- events -------------------------------------------------------------------------------
    def consume(self, events: Iterable[Event]) -> None:
        """Take in new events (and `History` snapshots), redraw what changed (a few times a second, not per event)."""
        from ..engine.events import Images, Metric, Points, Scalars, Status

        newest_grid: Images | None = None
        newest_reconstructions: Images | None = None
        newest_points: Points | None = None
        history_curves = False
        for event in events:
            if isinstance(event, Scalars):
                self._on_scalars(event)
            elif isinstance(event, History):
                self._on_history(event)
                history_curves = history_curves or bool(event.curves)
            elif isinstance(event, Images):
                if event.name == "real":
                    self.real_view.set_image(event.image)
                elif event.name == "samples":
                    newest_grid = event
                elif event.name == "reconstructions":
                    newest_reconstructions = event
            elif isinstance(event, Points):
                newest_points = event
            elif isinstance(event, Metric):
                self._on_metric(event)
            elif isinstance(event, Status):
                self.step = max(self.step, event.step) if event.state is not StatusNote.STARTED else event.step
                if event.state is StatusNote.STARTED and event.detail.get("steps"):  # a length given in epochs
                    self.view.update(total_steps=int(event.detail["steps"]))
                if event.state is StatusNote.STARTED and "amp" in event.detail:  # what --amp auto chose
                    self.view.update(precision="bf16 autocast" if event.detail["amp"] == "bf16" else "float32")
        if newest_grid is not None:
            self._live_grid = newest_grid.image
            self.sample_grids += 1
            self.step = max(self.step, newest_grid.step)
            if self._is_live():
                self._show_samples(newest_grid.image)
            self._scan_timelapse(force=True)
        if newest_reconstructions is not None:
            self._live_reconstructions = newest_reconstructions.image
            self.reconstruction_column.show()  # a followed run of a method this window does not know
            if self._is_live():
                self.reconstruction_view.set_image(newest_reconstructions.image)
            self._scan_timelapse(force=True)
        if newest_points is not None:
            self.points_updates += 1
            self.scatter.set_generated(newest_points.points)
        if history_curves:
            # A history's curves are drawn at once, but a chart per turn of the event loop: taking them in
            # and repainting every chart in one turn held the window for a quarter of a second.
            self.redraw(force=True, staggered=True)
        else:
            self.redraw()
        self._publish_progress()
        self._update_perf()

    def redraw(self, force: bool = False, staggered: bool = False) -> int:
        """Push new values to the curves (at most every REDRAW_SECONDS unless forced); returns curves redrawn
        now (`staggered`: a chart per turn of the event loop, see ChartGrid.redraw)."""
        now = time.monotonic()
        if not force and now - self._last_redraw < REDRAW_SECONDS:
            return 0
        if force:
            self._update_perf(force=True)  # the last figures of a run that ended, not those of half a second ago
        drawn = self.charts.redraw(staggered)
        if drawn:
            self._last_redraw = now  # the limit starts from a real redraw, so first values show at once
        return drawn

    def _on_scalars(self, event: Scalars) -> None:
        self.scalar_updates += 1
        self.step = max(self.step, event.step)
        self.rate.add(event.step, event.time)
        for key, value in event.values.items():
            self.last_values[key] = value
            panel = self._panel_for(key)
            panel.add_curve(key).append(event.step, value)

    def _on_history(self, history: History) -> None:
        # A run's history read in bulk (partial while it is read; each one replaces the one before).
        self.scalar_updates = history.records
        self.step = max(self.step, history.step)
        self.last_values.update(history.last_values)
        for step, seconds in history.rate:
            self.rate.add(step, seconds)
        for key, series in history.curves.items():
            self._panel_for(key).set_series(key, series)
        for (name, n), series in history.metric_curves.items():
            label = metric_label(name, n)
            extra = history.metric_extra.get((name, n), {})
            if name != "density":
                panel = self.charts.panel(self._metric_panel(name, extra))
                panel.set_series(label, series, markers=True)
                show_baseline(panel, name, label, extra)
            if (name, n) in history.metrics:  # else only expected so far (the chart is laid out early)
                self.metrics[label] = history.metrics[(name, n)]
        if history.complete:
            if history.metric_curves:
                self._show_metrics()  # once: a new text re-lays-out the tab, repainting every chart
            self._history_note = history.error
        else:
            # Where the curves will end, from the share of bytes read (within the run's length when known):
            # the x axes are set once, not widened (re-rendered, every chart re-laid-out) as each part arrives.
            reach = history.step * history.total / max(history.done, 1)
            if self.total_steps >= history.step:
                reach = min(reach, self.total_steps)
            for panel in self.panels.values():
                panel.reach = reach
            self._history_note = (f"reading its history {100 * history.done // max(history.total, 1)}%"
                                 f" ({history.records:,} records)")

    def _panel_for(self, key: str) -> CurvePanel:
        title = self._panel_of.get(key)
        if title is None:
            title = SPEED if key in SPEED_KEYS else OTHER
            self._panel_of[key] = title
        return self.charts.panel(title, self._lines_of.get(title))

    def _on_metric(self, event: Metric) -> None:
        self.metric_updates += 1
        label = metric_label(event.name, event.n)
        if event.name != "density":  # a figure of the metrics line (prdc_chart.py says why)
            panel = self.charts.panel(self._metric_panel(event.name, event.extra))
            panel.add_curve(label, label, markers=True).append(event.step, event.value)  # sparse: mark each value
            show_baseline(panel, event.name, label, event.extra)
        self.metrics[label] = (event.step, event.value)
        self._show_metrics()

    @staticmethod
    def _metric_panel(name: str, extra: dict | None = None) -> str:
        if is_prdc(name):
            return chart_title(extra)
        return COVERAGE if is_coverage_metric(name) else EVALUATION

    def _show_metrics(self) -> None:
        self.metric_label.setText(" · ".join(f"<b>{k}</b> = {v:.4g} <span style='color:#8f93a8'>(step {s})</span>"
                                             for k, (s, v) in self.metrics.items()))

    # --- a collapse's near-duplicates ----------------------------------------------------------
    def mark_duplicates(self, step: int, groups: list[list[int]], cells: int, pairs: bool = False) -> None:
        """Outline the near-duplicate cells the collapse monitor found at `step` (one colour per group; `pairs`:
        the nearest-duplicate pairs of a partial collapse) on the live sample grid, until the next run begins."""
        self.duplicates = (step, groups, cells)
        found = (f"{len(groups)} nearest-duplicate pair{'s' if len(groups) != 1 else ''}" if pairs
                 else f"{sum(len(g) for g in groups)} near-duplicates")
        self.sample_title.setText(f"{self.samples_name} · {found} outlined (step {step})")
        self.sample_title.setToolTip("Cells outlined in one colour are near-copies of one another: the collapse "
                                     "monitor found them on the samples of the step named")
        if self._live_grid is None and self.run_dir is not None:  # a followed run: its saved grid of that step
            from ..engine.follow import read_grid

            self._live_grid = read_grid(self.run_dir / "samples" / f"step-{step:07d}.png")
        if self._is_live() and self._live_grid is not None:
            self._show_samples(self._live_grid)

    def _show_samples(self, grid: np.ndarray) -> None:
        if self.duplicates is not None:
            from ..grids import outline_cells

            _, groups, cells = self.duplicates
            grid = outline_cells(grid, groups, cells)
        self.sample_view.set_image(grid)

    # --- header and performance -----------------------------------------------------------------
    def _publish_progress(self) -> None:
        """What this tab read from the run's events, for its header and the status bar (`RunView`)."""
        self.view.update(step=self.step, images_per_sec=self.last_values.get("images_per_sec"),
                         steps_per_sec=self.rate.steps_per_sec(), note=self._history_note)

    def _on_view_changed(self, changed: frozenset[str]) -> None:
        if changed & {"title", "state", "reason", "step", "total_steps", "note", "precision"}:
            self._update_header()

    def _update_header(self) -> None:
        view = self.view
        total = f"/{view.total_steps}" if view.total_steps else ""
        reason = f" ({view.reason})" if view.reason else ""
        state = "" if view.state is RunState.IDLE else f" · {view.state}{reason}"
        title = view.title
        note = f" · {view.note}" if view.note else ""
        precision = f" · {view.precision}" if view.precision else ""
        self.header.setText(f"step {view.step}{total}{state}{precision}{note}", bold=f"{title} · " if title else "")

    def _update_perf(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_perf < 0.5:
            return
        self._last_perf = now
        self._memory.request()  # read on a thread of its own: the GUI thread never waits on /proc
        self._show_perf()
        QTimer.singleShot(PERF_READ_MS, self, self._show_perf)  # the figure the read just started finds

    def _show_perf(self) -> None:
        parts = []
        ips = self.last_values.get("images_per_sec")
        if ips is not None:
            parts.append(f"{ips:,.0f} images/s")
        rss = self._memory.latest
        if rss:
            parts.append(f"memory {format_bytes(rss)}")
        cuda = cuda_memory_bytes()
        if cuda is not None:
            parts.append(f"CUDA {format_bytes(cuda[0])} allocated / {format_bytes(cuda[1])} reserved")
        self.perf.setText(" · ".join(parts))

    # --- timelapse ------------------------------------------------------------------------------
    def _is_live(self) -> bool:
        return not self.slider.isEnabled() or self.slider.value() >= self.slider.maximum()

    def _scan_timelapse(self, force: bool = False) -> None:
        now = time.monotonic()
        if self.run_dir is None or (not force and now - self._last_timelapse_scan < 1.0):
            return
        self._last_timelapse_scan = now
        from ..engine.rundir import RunDirectory

        run = RunDirectory(self.run_dir)
        frames = run.sample_images()
        reconstructions = run.sample_images("reconstructions")
        if len(frames) == len(self._timelapse) and len(reconstructions) == len(self._reconstruction_frames):
            return
        self._reconstruction_frames = dict(reconstructions)
        live = self._is_live()
        self._timelapse = frames
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, len(frames) - 1))
        if live:
            self.slider.setValue(self.slider.maximum())
        self.slider.blockSignals(False)
        self.slider.setEnabled(len(frames) > 1)
        self.export_button.setEnabled(bool(frames))
        self._label_slider()

    def refresh_timelapse(self) -> None:
        """Re-read the run directory's saved sample grids (after opening a run)."""
        self._scan_timelapse(force=True)
        if self._timelapse and self._live_grid is None:
            from ..engine.follow import read_grid

            self.sample_view.set_image(read_grid(self._timelapse[-1][1]))
        if self._reconstruction_frames and self._live_reconstructions is None:
            from ..engine.follow import read_grid

            self.reconstruction_column.show()
            self.reconstruction_view.set_image(read_grid(self._reconstruction_frames[max(self._reconstruction_frames)]))

    def _label_slider(self) -> None:
        if not self._timelapse:
            self.slider_label.setText("live")
            return
        i = self.slider.value()
        step = self._timelapse[min(i, len(self._timelapse) - 1)][0]
        live = " (live)" if self._is_live() else ""
        self.slider_label.setText(f"step {step}{live} · {i + 1}/{len(self._timelapse)}")

    def _on_slider(self, value: int) -> None:
        self._label_slider()
        if not self._timelapse:
            return
        if self._is_live() and self._live_grid is not None:
            self._show_samples(self._live_grid)
            if self._live_reconstructions is not None:
                self.reconstruction_view.set_image(self._live_reconstructions)
            return
        from ..engine.follow import read_grid

        step, path = self._timelapse[value]
        image = read_grid(path)
        if image is not None:
            self.sample_view.set_image(image)
        if step in self._reconstruction_frames:  # the reconstructions of the same step, beside the samples
            image = read_grid(self._reconstruction_frames[step])
            if image is not None:
                self.reconstruction_view.set_image(image)

    def show_frame(self, index: int) -> None:
        """Scrub the timelapse to frame `index` (the last frame follows the live samples)."""
        self.slider.setValue(index)

    def timelapse_frames(self) -> list[tuple[int, Path]]:
        return list(self._timelapse)

    def export_gif(self, out: Path | str | None = None) -> BackgroundTask | None:
        """Write the saved grids as a GIF (or an MP4, by `out`'s suffix) in the background, a frame at a time
        (default exports/timelapse.gif); None if there are none."""
        self._scan_timelapse(force=True)
        if self.run_dir is None or not self._timelapse:
            self.exportFinished.emit("⚠ no saved sample grids to export yet: train a little longer, or open a run")
            return None
        from .timelapse import write_timelapse

        target = Path(out) if out else self.run_dir / "exports" / "timelapse.gif"
        frames = [p for _, p in self._timelapse]
        beside = [self._reconstruction_frames.get(step) for step, _ in self._timelapse]
        beside = beside if any(beside) else None
        task = BackgroundTask(lambda report: str(write_timelapse(frames, target, report, beside=beside)), self,
                              name="gif-export")
        task.done.connect(self.exportFinished.emit)
        task.failed.connect(lambda msg: self.exportFinished.emit(f"⚠ {target}: the timelapse was not written ({msg})"))
        self.export_task = task
        task.start()
        return task

    # --- looks ---------------------------------------------------------------------------------
    def apply_theme(self, theme: str) -> None:
        self.theme = theme
        self.charts.apply_theme(theme)
        self.scatter.apply_theme(theme)
