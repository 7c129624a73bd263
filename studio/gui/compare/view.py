"""The Compare tab: 2–8 runs' curves overlaid chart by chart, their grids side by side, and one table.

The runs are a `Comparison` (studio/runs/compared.py, no Qt: `studio compare --plot` draws the same
charts). Each run keeps one colour on every chart, the legend, its grid and its row. A run's log is
read off the window's thread when it is added (`RunLoader`), then every `POLL_MS` only what a live
run appended is read here and its curves, grids and figures grow. The charts are a `ChartGrid` (shown
and repainted a chart per turn of the event loop) under the smoothing slider and the x axis choice.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...engine.rundir import RunDirError
from ...runs.compare import csv_table, table_rows
from ...runs.compared import MAX_RUNS, Chart, ComparedRun, Comparison, find_runs
from ..chart_grid import ChartGrid, _remember
from ..collector import collect_on_gui_thread
from ..curve_controls import with_curve_controls
from ..livetext import LiveText
from .grids import GridsPanel
from .legend import Entry, LegendStrip
from .loader import RunLoader
from .recipes import ComparisonRun
from .run_list import RunList, local_dirs

POLL_MS = 1000  # how often live runs are read for what they appended
CHART_HEIGHT = 230  # each chart's, in pixels: a chart added as a run is read never resizes the others
SYNC_MS = 40  # between one chart's new curves and the next chart's: each is repainted in a pass of its own
X_AXIS_NAMES = {"step": "step", "epoch": "epoch", "time": "training time"}
HINT = ("Check 2 to 8 runs on the left to compare them: their curves overlaid chart by chart, one colour per run, "
        "their sample grids side by side at one step, and a table of their figures.\n\n"
        "Add runs from the run history, a folder of runs or an experiment's folder (Add runs…), or drop run folders "
        "here. Compare… on the Monitor adds the run it shows.")


class CompareView(QWidget):
    """The comparison of the runs checked in its list; `add_runs(paths)` compares more."""

    runsChanged = Signal()  # runs added, read or removed
    message = Signal(str)  # something the user should read (a run that could not be added)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        collect_on_gui_thread()  # its runs are read on threads: garbage holding Qt objects is collected here
        self.setAcceptDrops(True)
        self.comparison = Comparison()
        self.ready: set[Path] = set()  # runs whose log has been read (the others are being read)
        self.theme = "dark"
        self.interactive = True
        self._shown_charts: dict[str, Chart] = {}  # chart id -> chart on the grid
        self._pending: list[Chart] = []  # charts still to be made or given new runs' curves, one per turn
        self._time_unit = ("s", 1.0)
        self._loading_note = ""

        self.run_list = RunList()
        self.run_list.toggled.connect(self._on_toggled)
        self.run_list.added.connect(self.add_runs)
        self.loader = RunLoader(self)
        self.loader.loaded.connect(self._on_loaded)
        self.loader.failed.connect(self._on_load_failed)
        self.loader.progress.connect(self._on_progress)

        self.job: ComparisonRun | None = None  # a comparison recipe being trained for this view
        self.job_text = LiveText()
        self.job_cancel = QPushButton("Cancel")
        self.job_cancel.setToolTip("Stop the comparison's training (its runs keep what they saved)")
        self.job_cancel.clicked.connect(self.cancel_comparison)
        self.job_row = QWidget()
        job_layout = QHBoxLayout(self.job_row)
        job_layout.setContentsMargins(0, 0, 0, 0)
        job_layout.addWidget(self.job_text, 1)
        job_layout.addWidget(self.job_cancel)
        self.job_row.hide()

        # Painted, not a QLabel: a label's new text (a run read, a run's state) re-laid-out the view and
        # repainted every chart at once.
        self.legend = LegendStrip(rows=2, empty="No runs compared yet.")
        self.legend.setToolTip("Each run's colour on every chart, its folder, method and data, and its state")
        self.status = LiveText(dim=True)

        self.charts = ChartGrid(hint=HINT, panel_options={"legend": False, "grow_x": False}, chart_height=CHART_HEIGHT)
        charts_column = with_curve_controls(self.charts)
        self.controls = charts_column.curve_controls
        self.x_axis = QComboBox()
        for key, name in X_AXIS_NAMES.items():
            self.x_axis.addItem(name, key)
        self.x_axis.setCurrentIndex(max(0, self.x_axis.findData(self.charts.curves.x_axis)))
        self.x_axis.setToolTip("What the x axis counts: training steps, epochs (passes over each run's data) or "
                               "training time (remembered)")
        self.x_axis.currentIndexChanged.connect(self._on_axis)
        self.png_button = QPushButton("Export PNG…")
        self.png_button.setToolTip("Save the whole view (legend, charts, grids and table) as a PNG")
        self.png_button.clicked.connect(lambda: self.export_png())
        self.csv_button = QPushButton("Export CSV…")
        self.csv_button.setToolTip("Save the table as CSV: one column per number (FID/KID with N, every other "
                                   "metric with its N and k)")
        self.csv_button.clicked.connect(lambda: self.export_csv())
        self.controls.add_widget(QLabel("x axis"))
        self.controls.add_widget(self.x_axis)
        self.controls.add_widget(self.png_button)
        self.controls.add_widget(self.csv_button)

        self.grids = GridsPanel()
        self.table = QTableWidget()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setToolTip("Each run's figures: the newest and best FID/KID with the N they used, mode coverage, "
                              "and every other metric it logged (precision, recall, coverage, ...) with N and k")
        self.table.verticalHeader().hide()

        upper = QSplitter(Qt.Orientation.Horizontal)
        upper.addWidget(charts_column)
        upper.addWidget(self.grids)
        upper.setStretchFactor(0, 3)
        upper.setStretchFactor(1, 2)
        upper.setChildrenCollapsible(False)
        charts_column.setMinimumWidth(360)
        upper.setSizes([700, 420])
        body = QSplitter(Qt.Orientation.Vertical)
        body.addWidget(upper)
        body.addWidget(self.table)
        body.setStretchFactor(0, 4)
        body.setStretchFactor(1, 1)
        body.setSizes([560, 150])
        main = QWidget()
        main_layout = QVBoxLayout(main)
        main_layout.setContentsMargins(0, 0, 0, 0)
        main_layout.addWidget(self.job_row)
        main_layout.addWidget(self.legend)
        main_layout.addWidget(self.status)
        main_layout.addWidget(body, 1)
        outer = QSplitter(Qt.Orientation.Horizontal)
        outer.addWidget(self.run_list)
        outer.addWidget(main)
        outer.setStretchFactor(1, 1)
        outer.setSizes([220, 1040])
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(outer)

        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)
        # Charts are made and given a new run's curves one at a time, SYNC_MS apart: making a chart (a PlotWidget)
        # costs tens of ms, and charts changed within one frame are repainted in one pass (Qt gathers the
        # updates of a few ms into one), which with six charts held the window for a quarter of a second.
        self._sync_timer = QTimer(self)
        self._sync_timer.setSingleShot(True)
        self._sync_timer.setInterval(SYNC_MS)
        self._sync_timer.timeout.connect(self._continue_sync)
        self._update_legend()
        self._update_table()

    # --- choosing runs ------------------------------------------------------------------------------
    def add_runs(self, paths: list[str | Path]) -> list[ComparedRun]:
        """Compare these run folders (a folder of runs adds the runs in it); each is read off the window's
        thread. Folders that are no runs, and runs past the eighth, are named in `message`."""
        added, problems = [], []
        for path in paths:
            runs = find_runs(path) or [Path(path)]
            for run_path in runs:
                try:
                    run = self.comparison.add(run_path)
                except (RunDirError, ValueError) as exc:
                    if "already" not in str(exc):
                        problems.append(str(exc))
                    continue
                added.append(run)
                self.run_list.mark(run.path, run.colour)
                self.loader.read(run.path, run.colour)
        if problems:
            more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
            self.message.emit("; ".join(problems[:3]) + more)
        if added:
            self.timer.start()
            self._show_grids()
            self._update_legend()
            self.runsChanged.emit()
        return added

    def remove_run(self, path: str | Path) -> None:
        """Stop comparing the run at `path` (its row stays in the list, unchecked)."""
        path = Path(path).resolve()
        self.loader.drop(path)
        self.comparison.remove(path)
        self.ready.discard(path)
        self.run_list.mark(path, None)
        self._rebuild()
        self.runsChanged.emit()

    def clear(self) -> None:
        for run in list(self.comparison.runs):
            self.remove_run(run.path)

    def set_runs(self, paths: list[str | Path]) -> None:
        """Compare exactly these runs."""
        wanted = {p.resolve() for path in paths for p in (find_runs(path) or [Path(path)])}
        for run in list(self.comparison.runs):
            if run.path not in wanted:
                self.remove_run(run.path)
        self.add_runs(list(paths))

    @property
    def loading(self) -> bool:
        return self.loader.busy

    def is_ready(self, run: ComparedRun) -> bool:
        # run.path is resolved once, when the run is added (Comparison.add): resolving it again here stats
        # every folder of the path, and this is asked for every run at each progress report of a read.
        return run.path in self.ready

    def _on_toggled(self, path: str, on: bool) -> None:
        if on:
            self.add_runs([path])
        else:
            self.remove_run(path)

    # --- a comparison recipe ----------------------------------------------------------------------
    def run_comparison(self, comparison, run_dir: str | Path | None = None, steps: int | None = None) -> ComparisonRun:
        """Train a comparison recipe (experiments/comparisons.py) in a process of its own, its progress on
        this view; when it finishes its runs are compared here (with the grids it is about)."""
        if self.job is not None and self.job.running:
            raise RuntimeError(f"{self.job.comparison.title} is still running: cancel it or wait for it")
        run_dir = Path(run_dir) if run_dir is not None else Path.cwd() / "runs" / f"compare-{comparison.name}"
        job = ComparisonRun(comparison, run_dir, steps, self)
        job.progress.connect(self.job_text.setText)
        job.ended.connect(lambda ok, text, j=job: self._on_comparison_ended(j, ok, text))
        self.job = job
        self.job_text.setText(f"{comparison.title}: starting…")
        self.job_row.show()
        job.start()
        return job

    def cancel_comparison(self) -> None:
        if self.job is not None:
            self.job.cancel()

    def _on_comparison_ended(self, job: ComparisonRun, ok: bool, text: str) -> None:
        self.job_row.hide()
        self.message.emit(text)
        if ok:
            self.set_runs([str(p) for p in job.runs])
            self.grids.set_kind(job.comparison.grids)

    # --- reading ------------------------------------------------------------------------------------
    def _on_loaded(self, fresh: ComparedRun) -> None:
        for i, run in enumerate(self.comparison.runs):
            if run.path == fresh.path:  # still wanted: the read run takes the placeholder's place
                self.comparison.runs[i] = fresh
                self.ready.add(fresh.path)
                self.loader.pause()  # the next run is read once this one's charts are made and drawn
                self._show_grids()
                self._update_table()
                self._sync_charts()  # resumes the reading when the last chart is drawn
                break
        self._loading_note = ""
        self._update_legend()
        self.runsChanged.emit()

    def _on_load_failed(self, path: str, message: str) -> None:
        self.message.emit(f"{path}: not read ({message})")
        self.remove_run(path)

    def _on_progress(self, path: str, done: int, total: int) -> None:
        queued = sum(1 for r in self.comparison.runs if not self.is_ready(r))
        self._loading_note = f"reading {Path(path).name}: {100 * done // max(total, 1)}%"
        if queued > 1:
            self._loading_note += f" ({queued - 1} more waiting)"
        self.status.setText(self._loading_note)

    def _show_grids(self) -> None:
        """A grid cell for every run (those being read say so)."""
        self.grids.set_comparison(self.comparison, {r.path for r in self.comparison.runs
                                                    if not self.is_ready(r)})

    def _ready_comparison(self) -> Comparison:
        """The runs already read, in the comparison's order (a view over the same run objects)."""
        shown = Comparison()
        shown.runs = [r for r in self.comparison.runs if self.is_ready(r)]
        return shown

    def poll(self) -> int:
        """Read what live runs appended and draw it; returns how many runs had something new."""
        fresh = 0
        grids = False
        for run in self.comparison.runs:
            if not self.is_ready(run):
                continue
            if run.read():
                fresh += 1
            grids = run.scan_grids() or grids
        if fresh:
            shown = self._ready_comparison()
            if shown.time_unit() != self._time_unit and self.axis == "time":
                self._rebuild()
            else:
                self._sync_charts()
                self.charts.redraw()
            self._update_table()
        if grids:
            self.grids.refresh()
        self._update_legend()
        if not self.comparison.runs:
            self.timer.stop()
        return fresh

    # --- charts -------------------------------------------------------------------------------------
    @property
    def axis(self) -> str:
        return self.x_axis.currentData()

    def _x_map(self, run: ComparedRun, shown: Comparison):
        axis, (_, scale) = self.axis, shown.time_unit()
        if axis == "step":
            return None
        if axis == "epoch":
            return lambda steps: run.x_of(steps, "epoch")

        def to_time(steps):
            x = run.x_of(steps, "time")
            return None if x is None else x / scale

        return to_time

    def _sync_charts(self) -> None:
        """Every shared chart on the grid with every read run's curve on it, a chart per turn of the event
        loop (new charts at the end). Making a chart, or adding curves to it, repaints it: done for every chart
        in one turn, the repaints came in one pass, hundreds of ms with eight runs."""
        shown = self._ready_comparison()
        self._time_unit = shown.time_unit()
        self.charts.empty_hint.setVisible(not shown.runs)
        self._pending = [chart for chart in shown.charts() if self._needs_work(chart, shown)]
        self._continue_sync()

    def _needs_work(self, chart: Chart, shown: Comparison) -> bool:
        panel = self.charts.panels.get(chart.title)
        return panel is None or any(str(run.path) not in panel.series and shown.curve(run, chart) is not None
                                    for run in shown.runs)

    def _continue_sync(self) -> None:
        """One chart of the pending ones: made if new, given the curves it lacks, and drawn."""
        shown = self._ready_comparison()
        while self._pending:
            chart = self._pending.pop(0)
            if self._needs_work(chart, shown):
                break
        else:
            self.loader.resume()
            return
        panel = self.charts.panel(chart.title, chart.reference_lines)
        if chart.id not in self._shown_charts:
            self._shown_charts[chart.id] = chart
            panel.item.setLabel("bottom", shown.axis_label(self.axis))
        for run in shown.runs:
            key = str(run.path)
            series = shown.curve(run, chart)
            if series is not None and key not in panel.series:
                panel.set_series(key, series, shown.curve_label(run, chart), markers=chart.sparse, colour=run.colour,
                                 x_map=self._x_map(run, shown))
        panel.redraw()
        if self._pending:
            self._sync_timer.start()
        else:
            self.loader.resume()

    def _rebuild(self) -> None:
        """Every chart anew (a run removed, the x axis changed)."""
        self.charts.clear()
        self._shown_charts.clear()
        self._sync_charts()
        self._show_grids()
        self._update_table()
        self._update_legend()

    def _on_axis(self, _index: int) -> None:
        self.charts.curves.x_axis = self.axis
        _remember(x_axis=self.axis)
        self._rebuild()

    def curves_on(self, title: str) -> dict[str, tuple]:
        """What the chart `title` draws: run name -> (x, y) as shown (smoothed, in the axis' unit)."""
        panel = self.charts.panels[title]
        names = {str(r.path): r.name for r in self.comparison.runs}
        return {names.get(key, key): panel.drawn(key) for key in panel.series}

    # --- legend and table ---------------------------------------------------------------------------
    def _update_legend(self) -> None:
        entries = []
        for run in self.comparison.runs:
            if self.is_ready(run):
                state = str(run.status().get("state", "")) or "no status"
                state = f"{state}, step {run.step:,}"
            else:
                state = "reading…"
            entries.append(Entry(run.colour, run.name, f"{run.method} on {run.dataset} ({state})"))
        if len(entries) == 1:
            entries.append(Entry("", "", "— check one more run to compare"))
        self.legend.set_entries(entries)
        if not self.loader.busy:
            self.status.setText(f"{len(self.comparison.runs)} of at most {MAX_RUNS} runs"
                                if self.comparison.runs else "")

    def _update_table(self) -> None:
        headings, rows = table_rows(self._ready_comparison().summaries())
        if self.table.columnCount() != len(headings):
            self.table.setColumnCount(len(headings))
        self.table.setHorizontalHeaderLabels(headings)
        self.table.setRowCount(len(rows))
        ready = self._ready_comparison().runs
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                item = self.table.item(r, c)
                if item is None:
                    item = QTableWidgetItem()
                    self.table.setItem(r, c, item)
                if item.text() != text:
                    item.setText(text)
                if c == 0:
                    item.setForeground(_qcolor(ready[r].colour))
        self.table.resizeColumnsToContents()

    # --- exports ------------------------------------------------------------------------------------
    def export_png(self, out: str | Path | None = None) -> Path | None:
        """Save the whole view as a PNG (asks where when interactive); the path, or None."""
        out = self._ask(out, "Export the comparison as PNG", "comparison.png", "PNG images (*.png)")
        if out is None:
            return None
        from PySide6.QtCore import QBuffer, QByteArray, QIODevice

        from ...fileio import atomic_write_bytes, os_error_message

        self.charts.show_all_now()
        self.charts.redraw()
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        self.grab().save(buffer, "PNG")
        buffer.close()
        try:
            atomic_write_bytes(out, bytes(data.data()))
        except OSError as exc:
            self.message.emit(f"the picture was not written: {os_error_message(exc)}")
            return None
        return out

    def export_csv(self, out: str | Path | None = None) -> Path | None:
        """Save the table as CSV (asks where when interactive); the path, or None."""
        from ...fileio import atomic_write_bytes, os_error_message

        out = self._ask(out, "Export the comparison's table as CSV", "comparison.csv", "CSV files (*.csv)")
        if out is None:
            return None
        try:
            atomic_write_bytes(out, csv_table(self._ready_comparison().summaries()).encode("utf-8"))
        except OSError as exc:
            self.message.emit(f"the table was not written: {os_error_message(exc)}")
            return None
        return out

    def _ask(self, out: str | Path | None, title: str, name: str, filters: str) -> Path | None:
        if out is not None:
            return Path(out)
        if not self.interactive:
            return None
        default = (self.comparison.runs[0].path.parent if self.comparison.runs else Path.cwd()) / name
        chosen, _ = QFileDialog.getSaveFileName(self, title, str(default), filters)
        return Path(chosen) if chosen else None

    # --- the rest -----------------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if local_dirs(event):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        for folder in local_dirs(event):
            self.run_list.add_folder(folder)
        event.acceptProposedAction()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.run_list.fill_history()  # runs opened since the list was made
        super().showEvent(event)

    def apply_theme(self, theme: str) -> None:
        self.theme = theme
        self.charts.apply_theme(theme)

    def wait_until_read(self, timeout: float = 60.0) -> bool:
        """Process events until every run added has been read and drawn (tests, screenshots); False on timeout."""
        from PySide6.QtWidgets import QApplication

        end = time.monotonic() + timeout
        while (self.loader.busy or self._pending) and time.monotonic() < end:
            QApplication.processEvents()
            time.sleep(0.01)
        QApplication.processEvents()
        return not (self.loader.busy or self._pending)

    def shutdown(self) -> None:
        self.timer.stop()
        self.loader.cancel_all()
        if self.job is not None and self.job.running:
            self.job.cancel()
            self.job.wait(10_000)


def _qcolor(colour: str):
    from PySide6.QtGui import QColor

    return QColor(colour)
