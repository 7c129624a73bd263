"""The Train tab: dataset, method, hyperparameters and run settings, and the Start / Pause / Stop buttons.

It only gathers choices into a RunConfig; the window starts and controls the training session.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from .condition_list import ConditionList
from .dataset_panel import DatasetPanel
from .method_picker import MethodPicker
from .params_form import ParamsForm

DEFAULT_METHOD = "dcgan"
RUN_FIELDS = ("steps", "log_every", "sample_every", "checkpoint_every", "eval_every", "seed")
GPUS_TIP = ("Train on this many GPUs of this machine. More than 1 starts `studio train --gpus N` (torchrun, one "
            "process per GPU) beside the window and follows its run directory here, as File → Open run does. "
            "Pause is not available for such a run; Stop ends its processes, and the run keeps its last "
            "periodic checkpoint (Checkpoint every).")
TENSORBOARD_TIP = ("Also write TensorBoard event files to <run directory>/tensorboard (scalars, metrics, sample "
                   "grids); view them with: tensorboard --logdir runs")
COLLAPSE_TIP = ("At each sample interval, compare how much the samples differ from one another with how much real "
                "images do; when they are less than a quarter as varied for three intervals in a row (after the "
                "first 500 steps), warn on the banner and outline the near-duplicates (docs/EVALUATION.md)")
EPOCHS_TIP = ("Train this many passes over the data instead of a number of steps: steps = epochs × items ÷ batch "
              "size, rounded up (both are saved in config.json); off: count in Steps")
TIME_LIMIT_TIP = ("Finish cleanly, with a checkpoint, at the end of the step that crosses this much training time, "
                  "e.g. 90m, 2h, 45s or 1h30m; the run ends 'finished (time limit)'. Continuing a run counts the new "
                  "session's time only. Empty: no limit")
LR_ANNEAL_TIP = ("Over this share of the last steps, lower every learning rate linearly to 2% of its value "
                 "(e.g. 0.75: from a quarter of the way on); off: constant rates")
TENSORBOARD_MISSING = ("TensorBoard logging needs the tensorboard package, which is not installed: "
                       "pip install tensorboard (or pip install 'gan-studio[tensorboard]'), then restart the studio")


def default_run_dir(method: str) -> Path:
    """A new runs/<method>-<time> under the current folder, made now, as `studio train` does
    (claimed atomically: a run started in the same second elsewhere gets another folder)."""
    from ..engine.runlock import new_run_dir

    return new_run_dir(method)


def _spin(low: int, high: int, value: int, tip: str, special: str | None = None) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setValue(value)
    spin.setToolTip(tip)
    spin.setAccelerated(True)
    if special:
        spin.setSpecialValueText(special)
    return spin


class _FittedColumn(QWidget):
    """The contents of a scrolled column: as tall as the scroll area while its minimum fits, scrolled past that.
    (A scroll area gives contents that wrap text their preferred height, which scrolled the preview off.)"""

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt override
        return self.layout().totalMinimumHeightForWidth(width)


class TrainTab(QWidget):
    """Everything needed to start a run; `build_config()` turns it into a RunConfig."""

    settingsChanged = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.dataset_panel = DatasetPanel()
        self.condition_list = ConditionList()
        self.condition_list.changed.connect(self.update_epochs_hint)
        self.condition_list.changed.connect(
            lambda: self.dataset_panel.show_direction(self.condition_list.selection()["direction"]))
        self.method_picker = MethodPicker()
        self.params_form = ParamsForm()
        self.method_picker.methodChanged.connect(self._on_method)
        self.dataset_panel.datasetChanged.connect(self._on_dataset)

        self.steps = _spin(1, 100_000_000, 5000, "Total training steps (one step updates each network once, "
                           "or as often as the method's schedule says)")
        self.log_every = _spin(1, 1_000_000, 10, "Average and log the losses every N steps")
        self.sample_every = _spin(1, 1_000_000, 200, "Draw the fixed latent batch and save a sample grid every N steps")
        self.checkpoint_every = _spin(1, 10_000_000, 1000, "Write checkpoints/last.pt every N steps "
                                      "(also on Stop and at the end)")
        self.eval_every = _spin(0, 10_000_000, 0, "Evaluate (KID/FID, mode coverage) every N steps; off: 0", "off")
        self.seed = _spin(0, 2**31 - 1, 0, "Random seed: the same seed and settings repeat a run")
        self.device = QComboBox()
        self.device.addItem("auto", "auto")
        self.device.setToolTip("auto: CUDA if there is a GPU, else Apple MPS, else the CPU")
        self.gpus = _spin(1, 1, 1, GPUS_TIP)
        self.gpus.setSuffix(" GPU")
        self.gpus.valueChanged.connect(lambda n: self.gpus.setSuffix(" GPU" if n == 1 else " GPUs"))
        self.tensorboard = QCheckBox("Write TensorBoard logs")
        self.tensorboard.setToolTip(TENSORBOARD_TIP)
        self.collapse_check = QCheckBox("Warn when the samples collapse")
        self.collapse_check.setChecked(True)
        self.collapse_check.setToolTip(COLLAPSE_TIP)
        self.epochs_hint = QLabel()
        self.epochs_hint.setObjectName("hint")
        self.epochs_hint.setToolTip("Steps × batch size ÷ dataset size: how often the run sees each item")
        self.epochs = QDoubleSpinBox()
        self.epochs.setRange(0, 1_000_000)
        self.epochs.setDecimals(1)
        self.epochs.setSpecialValueText("off: count steps")
        self.epochs.setToolTip(EPOCHS_TIP)
        self.time_limit = QLineEdit()
        self.time_limit.setPlaceholderText("none, e.g. 90m, 2h, 1h30m")
        self.time_limit.setToolTip(TIME_LIMIT_TIP)
        self._experiment: tuple = (None, None)  # (experiment, (method, dataset)) of the last config applied
        self.lr_anneal = QDoubleSpinBox()
        self.lr_anneal.setRange(0.0, 1.0)
        self.lr_anneal.setSingleStep(0.05)
        self.lr_anneal.setDecimals(2)
        self.lr_anneal.setSpecialValueText("off")
        self.lr_anneal.setToolTip(LR_ANNEAL_TIP)
        self.steps.valueChanged.connect(self.update_epochs_hint)
        self.epochs.valueChanged.connect(self.update_epochs_hint)
        self.params_form.changed.connect(self.update_epochs_hint)
        steps_row = QHBoxLayout()
        steps_row.addWidget(self.steps, 1)
        steps_row.addWidget(self.epochs_hint)
        self.run_dir = QLineEdit()
        self.run_dir.setPlaceholderText("runs/<method>-<time>")
        self.run_dir.setToolTip("Folder for config, metrics, checkpoints and sample grids; "
                                "empty: runs/<method>-<time> in the current folder")
        browse = QPushButton("…")
        browse.setToolTip("Choose the run directory")
        browse.setMaximumWidth(32)
        browse.clicked.connect(self._browse_run_dir)
        run_dir_row = QHBoxLayout()
        run_dir_row.addWidget(self.run_dir, 1)
        run_dir_row.addWidget(browse)

        run_form = QFormLayout()
        run_form.addRow("Steps", steps_row)
        run_form.addRow("Epochs", self.epochs)
        run_form.addRow("Time limit", self.time_limit)
        run_form.addRow("LR anneal", self.lr_anneal)
        run_form.addRow("Log every", self.log_every)
        run_form.addRow("Sample every", self.sample_every)
        run_form.addRow("Checkpoint every", self.checkpoint_every)
        run_form.addRow("Evaluate every", self.eval_every)
        run_form.addRow("Seed", self.seed)
        run_form.addRow("Device", self.device)
        run_form.addRow("GPUs", self.gpus)
        run_form.addRow("Run directory", run_dir_row)
        run_form.addRow("", self.tensorboard)
        run_form.addRow("", self.collapse_check)
        for i in range(run_form.rowCount()):
            label = run_form.itemAt(i, QFormLayout.ItemRole.LabelRole)
            field = run_form.itemAt(i, QFormLayout.ItemRole.FieldRole)
            if label and field and field.widget():
                label.widget().setToolTip(field.widget().toolTip())
        run_form.itemAt(0, QFormLayout.ItemRole.LabelRole).widget().setToolTip(self.steps.toolTip())
        self.run_form = run_form
        run_form.setRowVisible(self.gpus, False)  # shown by populate() when there is more than one GPU

        self.start_button = QPushButton("▶ Start")
        self.start_button.setObjectName("startButton")
        self.start_button.setToolTip("Start training with these settings (Ctrl+R, F5)")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setToolTip("Pause or resume training (Ctrl+P)")
        self.stop_button = QPushButton("■ Stop")
        self.stop_button.setObjectName("stopButton")
        self.stop_button.setToolTip("Stop training; the last checkpoint is written (Ctrl+., Shift+F5)")
        self.continue_button = QPushButton("Continue a previous run…")
        self.continue_button.setToolTip("Choose a run directory and resume it from its last checkpoint")
        buttons = QHBoxLayout()
        for b in (self.start_button, self.pause_button, self.stop_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.continue_button)

        method_box = QGroupBox("Method")
        QVBoxLayout(method_box).addWidget(self.method_picker)
        params_box = QGroupBox("Hyperparameters")
        QVBoxLayout(params_box).addWidget(self.params_form)
        run_box = QGroupBox("Run")
        run_box.setLayout(run_form)
        self.run_box = run_box

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.addWidget(method_box)
        right_layout.addWidget(params_box)
        right_layout.addWidget(run_box)
        right_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(right)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        right_column = QWidget()
        right_column_layout = QVBoxLayout(right_column)
        right_column_layout.setContentsMargins(0, 0, 0, 0)
        right_column_layout.addWidget(scroll, 1)
        self.locked_hint = QLabel("A run is training: its dataset, method and settings are locked until it stops.")
        self.locked_hint.setObjectName("hint")
        self.locked_hint.setWordWrap(True)
        self.locked_hint.hide()
        right_column_layout.addWidget(self.locked_hint)
        right_column_layout.addLayout(buttons)

        left = _FittedColumn()
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(self.dataset_panel)
        left_layout.addWidget(self.condition_list)
        # Scrolls like the right column: a class list or skipped files below the preview must not make the
        # window taller than a laptop's screen.
        left_scroll = QScrollArea()
        left_scroll.setWidgetResizable(True)
        left_scroll.setWidget(left)
        left_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        left_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left_scroll)
        splitter.addWidget(right_column)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        self.splitter = splitter
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self.set_locked(False)
        self._populated = False

    # --- late set-up ----------------------------------------------------------------------------
    def populate(self) -> None:
        """Fill the method, device and source lists (imports torch: done once the window is up)."""
        if self._populated:
            return
        self._populated = True
        import torch

        self.dataset_panel.populate()
        self.method_picker.populate()
        self.method_picker.set_current(DEFAULT_METHOD)
        if torch.cuda.is_available():
            for i in range(torch.cuda.device_count()):
                name = "cuda" if i == 0 else f"cuda:{i}"
                self.device.addItem(f"{name} ({torch.cuda.get_device_name(i)})", name)
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            self.device.addItem("mps", "mps")
        self.device.addItem("cpu", "cpu")
        self.set_gpu_count(torch.cuda.device_count())
        from ..engine.tensorboard import tensorboard_available

        self.set_tensorboard_available(tensorboard_available())

    def set_gpu_count(self, count: int) -> None:
        """Offer the GPUs choice only when this machine has more than one CUDA device."""
        self.gpus.setRange(1, max(1, count))
        self.run_form.setRowVisible(self.gpus, count > 1)

    def set_tensorboard_available(self, available: bool) -> None:
        self.tensorboard.setEnabled(available)
        if not available:
            self.tensorboard.setChecked(False)
        self.tensorboard.setToolTip(TENSORBOARD_TIP if available else TENSORBOARD_MISSING)

    def gpu_count(self) -> int:
        """How many GPUs the next run trains on (1 unless the GPUs choice is offered and set higher)."""
        return self.gpus.value() if self.gpus.maximum() > 1 else 1

    def tensorboard_enabled(self) -> bool:
        return self.tensorboard.isEnabled() and self.tensorboard.isChecked()

    def update_epochs_hint(self) -> None:
        """'≈ 2.5 epochs' beside Steps, from the chosen items and the form's batch size; with Epochs set,
        Steps shows the steps they take (as the trainer will count them) and cannot be edited."""
        from ..data.labels import chosen_count
        from ..engine.config import RunConfig

        dataset = self.dataset_panel.dataset
        self.steps.setEnabled(not self.epochs.value())
        try:
            batch = int(self.params_form.values(strict=False).get("batch_size") or 0)
        except Exception:  # noqa: BLE001 - a half-typed form: no hint rather than a wrong one
            batch = 0
        items = chosen_count(dataset, self.condition_list.selection()["classes"]) if dataset is not None else 0
        if not batch or not items:
            self.epochs_hint.setText("")
            return
        if self.epochs.value():
            self.steps.setValue(RunConfig(epochs=self.epochs.value()).steps_for_epochs(items, batch))
            self.epochs_hint.setText(f"= {self.epochs.value():g} epochs of {items:,} items")
            return
        epochs = self.steps.value() * batch / items
        self.epochs_hint.setText(f"≈ {epochs:,.1f} epochs" if epochs < 100 else f"≈ {epochs:,.0f} epochs")

    # --- building the run -----------------------------------------------------------------------
    def build_config(self) -> Any:
        """The RunConfig for Start; ConfigError (from the methods layer) names what is missing or wrong."""
        from ..engine.config import RunConfig, parse_duration
        from ..methods.params import ConfigError

        panel = self.dataset_panel
        if panel.dataset is None:
            raise ConfigError("no dataset is loaded: drop a folder, zip or array on the Train tab, "
                              "or double-click a built-in set")
        method = self.method_picker.current
        if method is None:
            raise ConfigError("no method is chosen: pick one in the Method list")
        kind = panel.dataset.kind.value
        if not self.method_picker.accepts(method, kind):
            raise ConfigError(f"{method} cannot train on {kind} data ({panel.dataset.source}); "
                              "pick a method that is not greyed out, or load another dataset")
        if self.condition_list.names() and not self.condition_list.checked():
            raise ConfigError(f"no {self.condition_list.title().lower()} are checked: check the ones to train on")
        params = self.params_form.values(strict=True)
        problem = self.method_picker.problem(  # a method made conditional in the form needs labels too
            method, kind, self.method_picker.methods[method].make_params(self.params_form.preset_name, params))
        if problem is not None:
            raise ConfigError(problem)
        try:
            time_limit = parse_duration(self.time_limit.text()) if self.time_limit.text().strip() else None
        except ValueError as exc:
            raise ConfigError(f"Time limit {exc}") from None
        source = panel.source
        if isinstance(source, (list, tuple)):
            raise ConfigError("a run needs one source it can reopen on resume: put the dropped files in a folder "
                              "and drop the folder")
        options = panel.loaded_options
        self.update_epochs_hint()  # Steps as the epochs give them
        config = RunConfig(method=method, dataset=str(source), preset=self.params_form.preset_name,
                           params=params, steps=self.steps.value(), epochs=self.epochs.value() or None,
                           time_limit=time_limit, lr_anneal=self.lr_anneal.value(),
                           seed=self.seed.value(), device=self.device.currentData() or "auto",
                           image_size=options["size"], channels=options["channels"], dataset_count=options["count"],
                           split=options.get("split", "train"),
                           log_every=self.log_every.value(), sample_every=self.sample_every.value(),
                           checkpoint_every=self.checkpoint_every.value(), eval_every=self.eval_every.value(),
                           collapse_check=self.collapse_check.isChecked(), **self.condition_list.selection())
        # A run started from an experiment stays its trial (the Monitor draws the published figures) while
        # its method and data are the recipe's; other settings may be tuned.
        name, trial_of = self._experiment
        config.experiment = name if trial_of == (config.method, config.dataset) else None
        config.validate()
        return config

    def run_dir_for(self, method: str) -> Path:
        """The run directory typed in, or a new runs/<method>-<time>."""
        text = self.run_dir.text().strip()
        return Path(text).expanduser() if text else default_run_dir(method)

    def set_locked(self, locked: bool) -> None:
        """Lock the dataset, method and settings while a run trains.

        They describe the run in progress (a change would apply to nothing and mislead), so they are
        disabled until it ends. The Start/Pause/Stop buttons follow the window's actions instead.
        """
        self.dataset_panel.set_locked(locked)
        self.locked_hint.setVisible(locked)
        for widget in (self.condition_list, self.method_picker, self.params_form, self.run_box):
            widget.setEnabled(not locked)

    # --- remembered settings ---------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """The form as plain data, saved between launches."""
        source = self.dataset_panel.source
        return {
            "dataset": source if isinstance(source, str) else None,
            "dataset_options": self.dataset_panel.options(),
            "method": self.method_picker.current,
            "preset": self.params_form.preset_name,
            "params": self.params_form.values(strict=False),
            "device": self.device.currentData(),
            "tensorboard": self.tensorboard.isChecked(),
            "collapse_check": self.collapse_check.isChecked(),
            "gpus": self.gpus.value(),
            "epochs": self.epochs.value(),
            "time_limit": self.time_limit.text(),
            "lr_anneal": self.lr_anneal.value(),
            **{name: getattr(self, name).value() for name in RUN_FIELDS},
        }

    def restore(self, state: dict[str, Any]) -> str | None:
        """Put back a saved form (unknown or stale entries are skipped); returns the dataset to reload."""
        if not isinstance(state, dict):
            return None
        for name in RUN_FIELDS:
            if isinstance(state.get(name), int):
                getattr(self, name).setValue(state[name])
        index = self.device.findData(state.get("device"))
        if index >= 0:
            self.device.setCurrentIndex(index)
        if isinstance(state.get("tensorboard"), bool) and self.tensorboard.isEnabled():
            self.tensorboard.setChecked(state["tensorboard"])
        if isinstance(state.get("collapse_check"), bool):
            self.collapse_check.setChecked(state["collapse_check"])
        for name in ("epochs", "lr_anneal"):
            if isinstance(state.get(name), (int, float)) and not isinstance(state.get(name), bool):
                getattr(self, name).setValue(state[name])
        if isinstance(state.get("time_limit"), str):
            self.time_limit.setText(state["time_limit"])
        if isinstance(state.get("gpus"), int):
            self.gpus.setValue(state["gpus"])  # clamped to the GPUs this machine has
        opts = state.get("dataset_options") or {}
        if isinstance(opts, dict):
            self.dataset_panel.set_options(*(opts.get(k) for k in ("size", "channels", "count", "split")))
        method = state.get("method")
        if isinstance(method, str) and method in self.method_picker.methods:
            self.method_picker.set_current(method)
            cls = self.method_picker.methods[method]
            params = state.get("params") if isinstance(state.get("params"), dict) else {}
            try:
                self.params_form.set_method(cls, values=params, preset=state.get("preset"))
            except Exception:  # noqa: BLE001 - a stale saved form must not stop the window opening
                self.params_form.set_method(cls)
        dataset = state.get("dataset")
        return dataset if isinstance(dataset, str) else None

    def apply_config(self, config: Any, params: dict[str, Any] | None = None) -> None:
        """Show a run's config in the form (used when continuing or opening a run)."""
        from ..engine.config import format_duration

        for name in RUN_FIELDS:
            getattr(self, name).setValue(int(getattr(config, name)))
        self.epochs.setValue(config.epochs or 0)
        self.time_limit.setText(format_duration(config.time_limit) if config.time_limit else "")
        self.lr_anneal.setValue(config.lr_anneal)
        self._experiment = (config.experiment, (config.method, config.dataset))
        self.collapse_check.setChecked(config.collapse_check)
        self.condition_list.set_chosen(config.classes or config.attributes)
        self.condition_list.set_direction(config.direction)
        if config.method in self.method_picker.methods:
            self.method_picker.set_current(config.method)
            self.params_form.set_method(self.method_picker.methods[config.method],
                                        values=params or config.params, preset=config.preset)

    # --- slots ----------------------------------------------------------------------------------
    def _on_method(self, name: str) -> None:
        cls = self.method_picker.methods.get(name)
        if cls is not None and cls is not self.params_form.method_cls:
            self.params_form.set_method(cls)
        self.settingsChanged.emit()

    def _on_dataset(self, dataset: Any) -> None:
        self.params_form.set_dataset_size(len(dataset) if dataset.is_images else None)
        self.condition_list.set_dataset(dataset)
        self.method_picker.set_kind(dataset.kind.value, dataset.label_dim)
        self.update_epochs_hint()

    def _browse_run_dir(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose the run directory", str(Path.cwd()))
        if path:
            self.run_dir.setText(path)
