"""ExportPanel: format and options of a morph export, and the export itself (in the background, with
its progress bar and Cancel button)."""

from __future__ import annotations

from pathlib import Path

import torch
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QWidget,
)

from ...latent.export import ExportOptions, export_morph, mp4_available
from ...latent.timeline import Timeline
from ...methods.base import Method
from .task_slot import TaskSlot

# (label, file suffix)
FORMATS = (("Animated GIF", ".gif"), ("PNG strip", ".png"), ("MP4 video", ".mp4"))


class ExportPanel(QWidget):
    """Emits `exportRequested()` (the tab asks where, then calls `start`); one export at a time."""

    exportRequested = Signal()  # noqa: N815 - Qt signal naming
    fpsChanged = Signal(float)  # noqa: N815
    exported = Signal(object)  # the ExportResult
    failed = Signal(str)  # why the export failed
    cancelled = Signal()  # stopped by Cancel: no file was written

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._export = TaskSlot(self, "sample-export")
        self.format_combo = QComboBox()
        for label, suffix in FORMATS:
            self.format_combo.addItem(label, suffix)
        if not mp4_available():
            item = self.format_combo.model().item(2)
            item.setEnabled(False)
            item.setToolTip("MP4 needs imageio-ffmpeg: pip install imageio imageio-ffmpeg")
        self.format_combo.setToolTip("GIF animation, a PNG strip of every frame, or MP4 (with imageio-ffmpeg)")
        self.size_spin = QSpinBox()
        self.size_spin.setRange(8, 1024)
        self.size_spin.setValue(128)
        self.size_spin.setSuffix(" px")
        self.size_spin.setToolTip("Side of each image in the export")
        self.fps_spin = QDoubleSpinBox()
        self.fps_spin.setRange(1, 60)
        self.fps_spin.setDecimals(0)
        self.fps_spin.setValue(12)
        self.fps_spin.setToolTip("Frames per second (also the preview's speed); GIF stores whole 1/100 s")
        self.fps_spin.valueChanged.connect(self.fpsChanged)
        self.plays_spin = QSpinBox()
        self.plays_spin.setRange(0, 100)
        self.plays_spin.setSpecialValueText("forever")
        self.plays_spin.setToolTip("How often a GIF plays: forever, or a number of times")
        self.grid_spin = QSpinBox()
        self.grid_spin.setRange(1, 16)
        self.grid_spin.setToolTip("Several morphs in one animation: variations with seed keys moved by 1000")
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Write the morph in the background (Ctrl+E)")
        self.export_button.clicked.connect(self.exportRequested)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.progress.setMaximumWidth(180)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the export (Esc); the file is left as it was")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for label, widget in (("Export", self.format_combo), ("Size", self.size_spin), ("fps", self.fps_spin),
                              ("Plays", self.plays_spin), ("Morphs", self.grid_spin)):
            text = QLabel(label)
            text.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            layout.addWidget(text)
            layout.addWidget(widget)
        layout.addWidget(self.export_button)
        layout.addWidget(self.progress)
        layout.addWidget(self.cancel_button)
        layout.addStretch(1)

    def suffix(self) -> str:
        return self.format_combo.currentData()

    def options(self) -> ExportOptions:
        """The options as set."""
        return ExportOptions(size=self.size_spin.value(), fps=self.fps_spin.value(), plays=self.plays_spin.value())

    def set_busy(self, busy: bool) -> None:
        """Exporting: Export disabled, Cancel enabled, progress reset."""
        self.export_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        if busy:
            self.progress.setRange(0, 0)  # busy until the first report says how many frames

    def set_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)

    # --- the export -------------------------------------------------------------------------------
    def start(self, path: Path, method: Method, timeline: Timeline, reference: torch.Tensor | None,
              cache: dict) -> None:
        """Export `timeline` (with as many seed-moved variations as Morphs asks) to `path` in the background."""
        options = self.options()
        timelines = [timeline.with_seed_offset(1000 * i) for i in range(self.grid_spin.value())]
        task = self._export.new(lambda report: export_morph(path, method, timelines, options, reference,
                                                            progress=report, cache=cache))
        task.progress.connect(self.set_progress)
        task.done.connect(self.exported)
        task.failed.connect(self.failed)
        task.cancelled.connect(self.cancelled)
        task.finished.connect(lambda: self.set_busy(False))
        self.set_busy(True)
        task.start()

    def cancel(self) -> None:
        """Stop a running export (at its next chunk of frames); the target file is left as it was."""
        self._export.cancel()

    def is_exporting(self) -> bool:
        """True from the start of an export until its end has been handled (buttons reset)."""
        return self._export.busy

    def shutdown(self) -> None:
        """Cancel a running export and wait for it to end."""
        self._export.shutdown()
