"""SamplesPanel: the grid of numbered seeds with paging, a seed field and the latent-scale slider."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QPushButton, QSlider, QSpinBox, QVBoxLayout, QWidget

from .grid import SampleGrid


class SamplesPanel(QGroupBox):
    """Emits what the user asks for; the Sample tab keeps the state and renders."""

    pageRequested = Signal(int)  # noqa: N815 - Qt signal naming; +1 next page, -1 previous
    seedChosen = Signal(int)  # noqa: N815
    cellChosen = Signal(int)  # noqa: N815
    scaleChanged = Signal(float)  # noqa: N815

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Samples", parent)
        self.grid = SampleGrid()
        self.grid.selected.connect(self.cellChosen)
        self.prev_button = QPushButton("◀ Previous")
        self.prev_button.setToolTip("The previous page of seeds (Shift+R)")
        self.prev_button.clicked.connect(lambda: self.pageRequested.emit(-1))
        self.reroll_button = QPushButton("Reroll ▶")
        self.reroll_button.setToolTip("The next page of seeds (R)")
        self.reroll_button.clicked.connect(lambda: self.pageRequested.emit(1))
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2_000_000_000)
        self.seed_spin.setToolTip("The selected sample's seed: type one to find that sample again")
        self.seed_spin.setKeyboardTracking(False)
        self.seed_spin.valueChanged.connect(self.seedChosen)
        self.scale_slider = QSlider(Qt.Orientation.Horizontal)
        self.scale_slider.setRange(0, 200)
        self.scale_slider.setValue(100)
        self.scale_slider.setToolTip("Latent scale (truncation): below 1 gives typical, cleaner samples; "
                                     "above 1 more varied, stranger ones")
        self.scale_slider.valueChanged.connect(self._on_scale)
        self.scale_label = QLabel("1.00")
        self.scale_label.setMinimumWidth(34)
        row = QHBoxLayout()
        row.addWidget(self.prev_button)
        row.addWidget(self.reroll_button)
        row.addSpacing(8)
        row.addWidget(QLabel("Seed"))
        row.addWidget(self.seed_spin)
        row.addSpacing(8)
        row.addWidget(QLabel("Scale"))
        row.addWidget(self.scale_slider, 1)
        row.addWidget(self.scale_label)
        layout = QVBoxLayout(self)
        layout.addWidget(self.grid, 1)
        layout.addLayout(row)

    def show_seed(self, seed: int, seeds: list[int], cell_selected: bool) -> None:
        """Show the selected seed in the field and highlight its cell, without emitting anything."""
        self.seed_spin.blockSignals(True)
        self.seed_spin.setValue(seed)
        self.seed_spin.blockSignals(False)
        self.grid.set_current(seeds.index(seed) if cell_selected and seed in seeds else -1)

    def set_controls_enabled(self, enabled: bool) -> None:
        for w in (self.prev_button, self.reroll_button, self.seed_spin, self.scale_slider):
            w.setEnabled(enabled)

    def _on_scale(self, value: int) -> None:
        self.scale_label.setText(f"{value / 100:.2f}")
        self.scaleChanged.emit(value / 100.0)
