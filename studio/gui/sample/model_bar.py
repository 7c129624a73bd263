"""The Sample tab's top row: open a run, take a snapshot of the run training in this window (now,
or every AUTO_REFRESH_MS while shown), choose the averaged or the raw generator, and say which model
is shown. Loading runs in the background, one load at a time; each model loaded goes out through `loaded`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QFileDialog, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QWidget

from ...engine.checkpoint import LoadedRun, load_method, method_from_state
from .loading import Loaded, load_with_reference
from .protocol import Snapshot
from .task_slot import TaskSlot

AUTO_REFRESH_MS = 15_000
RAW_TIP = ("Show the generator's own last weights instead of their moving average. Runs trained with an averaged "
           "generator (the ema setting) are shown from the average by default: it is usually steadier and better.")


class ModelBar(QWidget):
    """Open run…, Refresh from training, Auto-refresh and a line describing the model shown."""

    loaded = Signal(object, object, str)  # LoadedRun, a reference image (1, C, H, W) or None, a note
    failed = Signal(str)  # why a model could not be loaded
    status = Signal(str)  # what it is doing, or why it cannot now

    def __init__(self, device: torch.device, parent: QWidget | None = None):
        super().__init__(parent)
        self.device = device
        self.live_source: Snapshot | None = None
        self._reload: Callable[[bool], Callable[[], LoadedRun | None]] | None = None  # the model shown, raw or not
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
        self.raw_check = QCheckBox("Raw generator")
        self.raw_check.setObjectName("rawGenerator")
        self.raw_check.setToolTip(RAW_TIP)
        self.raw_check.setEnabled(False)  # until a model with an averaged generator is shown
        self.raw_check.toggled.connect(self._on_raw_toggled)
        self.info_label = QLabel("No model: open a run or checkpoint, or drop one here.")
        self.info_label.setObjectName("sampleInfo")
        self.info_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # A long checkpoint path is clipped at the right rather than widening the tab past the window.
        self.info_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.info_label.setMinimumWidth(120)
        top = QHBoxLayout(self)
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.open_button)
        top.addWidget(self.refresh_button)
        top.addWidget(self.auto_check)
        top.addWidget(self.raw_check)
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

        def load(raw: bool) -> Callable[[], LoadedRun]:
            return lambda: load_method(path, device, raw=raw)

        self._start_load(load, f"Loading {path}…")

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

        def take(raw: bool) -> Callable[[], LoadedRun | None]:
            def snapshot() -> LoadedRun | None:
                state = source()
                return None if state is None else method_from_state(state, device, raw=raw)
            return snapshot

        self._start_load(take, "Taking a snapshot of training…")

    def busy(self) -> bool:
        """True from the start of a load until its end has been handled."""
        return self._load.busy

    def shutdown(self) -> None:
        """Stop refreshing and cancel a load in progress."""
        self._shut_down = True
        self.auto_timer.stop()
        self._load.shutdown()

    def _start_load(self, load: Callable[[bool], Callable[[], LoadedRun | None]], message: str) -> None:
        """Load `load(raw)()` in the background, raw as the check box says; remembered for the raw toggle."""
        if self._shut_down or self._load.busy:
            self._start(None, message)  # says why not
            return
        self._reload = load
        fn = load(self.raw_check.isChecked())
        self._start(lambda report: load_with_reference(fn), message)

    def _on_raw_toggled(self, raw: bool) -> None:
        if self._reload is not None:
            self._start_load(self._reload, "Loading the raw generator…" if raw else "Loading the averaged generator…")

    def _start(self, fn: Callable | None, message: str) -> None:
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
            self.raw_check.setEnabled(loaded.method.average is not None)
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
