"""The Sample tab's top row: open a run, take a snapshot of the run training in this window (now,
or every AUTO_REFRESH_MS while shown), and say which model is shown. Loading runs in the
background, one load at a time; each model loaded goes out through `loaded`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QWidget

from ...engine.checkpoint import LoadedRun, load_method, method_from_state
from .loading import Loaded, load_with_reference
from .protocol import Snapshot
from .task_slot import TaskSlot

AUTO_REFRESH_MS = 15_000


class ModelBar(QWidget):
    """Open run…, Refresh from training, Auto-refresh and a line describing the model shown."""

    loaded = Signal(object, object, str)  # LoadedRun, a reference image (1, C, H, W) or None, a note
    failed = Signal(str)  # why a model could not be loaded
    status = Signal(str)  # what it is doing, or why it cannot now

    def __init__(self, device: torch.device, parent: QWidget | None = None):
        super().__init__(parent)
        self.device = device
        self.live_source: Snapshot | None = None
        self._load = TaskSlot(self, "sample-load")
        self._shut_down = False
        self.open_button = QPushButton("Open run…")
        self.open_button.setToolTip("Open a run folder or a checkpoint (.pt); or drop one on this tab (Ctrl+O)")
        self.open_button.clicked.connect(self.choose_run)
        self.refresh_button = QPushButton("Refresh from training")
        self.refresh_button.setToolTip("Take the generator of the run being trained now, while it keeps "
                                       "training (F5)")
        self.refresh_button.clicked.connect(self.refresh_from_training)
        self.auto_check = QCheckBox("Auto-refresh")
        self.auto_check.setToolTip(f"Take a fresh snapshot of training every {AUTO_REFRESH_MS // 1000} s "
                                   f"while this tab is visible")
        self.auto_check.toggled.connect(self._on_auto_toggled)
        self.info_label = QLabel("No model: open a run or checkpoint, or drop one here.")
        self.info_label.setObjectName("sampleInfo")
        self.info_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        top = QHBoxLayout(self)
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.open_button)
        top.addWidget(self.refresh_button)
        top.addWidget(self.auto_check)
        top.addSpacing(12)
        top.addWidget(self.info_label, 1)
        self.auto_timer = QTimer(self)
        self.auto_timer.setInterval(AUTO_REFRESH_MS)
        self.auto_timer.timeout.connect(self._auto_refresh)
        self.set_live_source(None)

    def choose_run(self) -> None:
        """Open… a run folder (or, when that dialog is cancelled, a checkpoint file)."""
        path = QFileDialog.getExistingDirectory(self, "Open a run folder")
        if not path:
            path, _ = QFileDialog.getOpenFileName(self, "…or a checkpoint", "", "Checkpoints (*.pt);;All files (*)")
        if path:
            self.load_run(path)

    def load_run(self, path: str | Path) -> None:
        """Load a run directory or checkpoint in the background; `loaded` or `failed` follows."""
        path, device = Path(path), self.device
        self._start(lambda report: load_with_reference(lambda: load_method(path, device)), f"Loading {path}…")

    def set_live_source(self, fn: Snapshot | None) -> None:
        """Follow training: `fn()` returns a `Trainer.snapshot()` dict (or None before it has one)."""
        self.live_source = fn
        self.refresh_button.setEnabled(fn is not None)
        self.auto_check.setEnabled(fn is not None)

    def refresh_from_training(self) -> None:
        """Take a snapshot of the run being trained (it keeps training) and load its generator."""
        if self.live_source is None:
            self.status.emit("No run is training in this window; open a run or checkpoint instead.")
            return
        source, device = self.live_source, self.device

        def take() -> LoadedRun | None:
            snapshot = source()
            return None if snapshot is None else method_from_state(snapshot, device)

        self._start(lambda report: load_with_reference(take), "Taking a snapshot of training…")

    def busy(self) -> bool:
        """True from the start of a load until its end has been handled."""
        return self._load.busy

    def shutdown(self) -> None:
        """Stop refreshing and cancel a load in progress."""
        self._shut_down = True
        self.auto_timer.stop()
        self._load.shutdown()

    def _start(self, fn: Callable, message: str) -> None:
        if self._shut_down:
            return
        if self._load.busy:
            self.status.emit("Still loading the previous model; try again in a moment.")
            return
        task = self._load.new(fn)
        task.done.connect(self._on_done)
        task.failed.connect(self.failed)
        self.status.emit(message)
        task.start()

    def _on_done(self, result: Loaded) -> None:
        loaded, reference, note = result
        if loaded is None:
            self.status.emit("Training has no model yet (it is still setting up); try again in a moment.")
        else:
            self.loaded.emit(loaded, reference, note)

    def _on_auto_toggled(self, on: bool) -> None:
        if on:
            self.auto_timer.start()
            self.refresh_from_training()
        else:
            self.auto_timer.stop()

    def _auto_refresh(self) -> None:
        if self.isVisible() and self.live_source is not None and not self._load.busy:
            self.refresh_from_training()
