"""The compared runs' sample grids side by side at one step, chosen on a slider they share.

The slider's stops are every step at which some run saved a grid; each run shows its newest grid saved
at or before that step (`ComparedRun.grid_at`), titled in the run's colour with the step it is from.
At the right end the slider follows the runs: a live run's new grids show as they are saved.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from ...runs.compared import ComparedRun, Comparison
from ..imageview import ImageView
from ..livetext import LiveText
from .legend import Entry, LegendStrip


class GridCell(QWidget):
    """One run's grid with its name above it."""

    def __init__(self, run: ComparedRun, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.run = run
        self.title = LegendStrip(rows=1)  # painted: a new title must not re-lay-out (and repaint) the charts
        self.view = ImageView("no sample grid saved yet")
        self.view.setMinimumSize(96, 96)
        self.shown_step: int | None = None  # the step of the grid shown (None: none yet)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.view, 1)

    def show_at(self, step: int | None, reading: bool = False) -> None:
        from ...engine.follow import read_grid

        found = self.run.grid_at(step) if step is not None else None
        if found is None:
            self.shown_step = None
            self.view.set_image(None)
            none = "no grid yet at this step" if self.run.grids else f"no {self.run.grid_kind} grids saved"
            none = "reading the run…" if reading else none
            self.title.set_entries([Entry(self.run.colour, self.run.name, none)])
            return
        grid_step, path = found
        if grid_step != self.shown_step:
            image = read_grid(path)
            if image is not None:
                self.view.set_image(image)
                self.shown_step = grid_step
        self.title.set_entries([Entry(self.run.colour, self.run.name, f"step {grid_step:,}")])


class GridsPanel(QWidget):
    """The runs' grids at the slider's step; `refresh()` after runs or grids change."""

    stepChanged = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.comparison: Comparison | None = None
        self.reading: set = set()  # paths of runs not read yet
        self.steps: list[int] = []
        self.cells: list[GridCell] = []
        # An explicit minimum: cells added or removed must not change it, or the change of layout travels up
        # to the window, which then repaints every chart.
        self.setMinimumSize(220, 220)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip("The step whose sample grids are shown: every run's newest grid saved at or before "
                               "it; at the right end the newest grids of live runs follow as they are saved")
        self.slider.setEnabled(False)
        self.slider.valueChanged.connect(self._on_slider)
        self.label = LiveText("no grids yet")
        self.label.setFixedWidth(self.fontMetrics().horizontalAdvance("step 10,000,000 (newest) · 9999/9999") + 8)
        self.kind = QComboBox()
        self.kind.addItem("Samples", "samples")
        self.kind.addItem("Reconstructions", "reconstructions")
        self.kind.setToolTip("Which saved grids: the fixed-latent samples, or (methods with an encoder) the fixed "
                             "real images beside their reconstructions")
        self.kind.currentIndexChanged.connect(lambda _i: self.set_kind(self.kind.currentData()))
        row = QHBoxLayout()
        row.addWidget(self.kind)
        row.addWidget(QLabel("at"))
        row.addWidget(self.slider, 1)
        row.addWidget(self.label)
        self.grid = QGridLayout()
        self.grid.setSpacing(6)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addLayout(self.grid, 1)

    def set_comparison(self, comparison: Comparison, reading: set | None = None) -> None:
        """A cell per run (in the runs' order; `reading`: paths of runs not read yet), then show the grids.
        Cells are laid out again only when the runs change, not when a run is read."""
        self.comparison = comparison
        self.reading = set(reading or ())
        paths = [run.path for run in comparison.runs]
        if paths != [cell.run.path for cell in self.cells]:
            for cell in self.cells:
                self.grid.removeWidget(cell)
                cell.deleteLater()
            self.cells = [GridCell(run) for run in comparison.runs]
            columns = 2 if len(self.cells) <= 4 else (3 if len(self.cells) <= 6 else 4)
            for i, cell in enumerate(self.cells):
                self.grid.addWidget(cell, *divmod(i, columns))
        for cell, run in zip(self.cells, comparison.runs, strict=True):
            if cell.run is not run:  # the run read, in place of its placeholder
                cell.run, cell.shown_step = run, None
            if run.grid_kind != self.kind.currentData():
                run.scan_grids(self.kind.currentData())
        self.refresh(follow=True)

    def set_kind(self, kind: str) -> None:
        """Show the runs' `kind` grids ("samples" or "reconstructions")."""
        if self.kind.currentData() != kind:
            self.kind.setCurrentIndex(max(0, self.kind.findData(kind)))  # comes back here through the signal
            return
        for cell in self.cells:
            cell.run.scan_grids(kind)
            cell.shown_step = None
        self.steps = []
        self.refresh(follow=True)

    def refresh(self, follow: bool = False) -> None:
        """Take in new saved grids; at the right end (or with `follow`) the newest are shown."""
        steps = self.comparison.grid_steps() if self.comparison is not None else []
        at_end = follow or not self.steps or self.slider.value() >= self.slider.maximum()
        if steps == self.steps and not follow:
            return
        current = self.current_step()
        self.steps = steps
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, len(steps) - 1))
        if at_end or current is None:
            self.slider.setValue(self.slider.maximum())
        else:
            self.slider.setValue(max(0, sum(1 for s in steps if s <= current) - 1))
        self.slider.blockSignals(False)
        self.slider.setEnabled(len(steps) > 1)
        self._show()

    def current_step(self) -> int | None:
        if not self.steps:
            return None
        return self.steps[min(self.slider.value(), len(self.steps) - 1)]

    def show_step(self, step: int) -> None:
        """Move the slider to the stop at or before `step` (a test, a script)."""
        index = max(0, sum(1 for s in self.steps if s <= step) - 1)
        self.slider.setValue(index)
        self._show()

    def _on_slider(self, _value: int) -> None:
        self._show()
        step = self.current_step()
        if step is not None:
            self.stepChanged.emit(step)

    def _show(self) -> None:
        step = self.current_step()
        for cell in self.cells:
            cell.show_at(step, reading=cell.run.path in self.reading)
        if step is None:
            self.label.setText("no grids yet")
            return
        newest = " (newest)" if self.slider.value() >= self.slider.maximum() else ""
        self.label.setText(f"step {step:,}{newest} · {self.slider.value() + 1}/{len(self.steps)}")
