"""The hyperparameter form, built from a method's Params dataclass (`describe_params`).

Each field becomes a widget of its type: spin boxes with the declared range (scientific notation
for log-scaled values such as learning rates), check boxes, combos for choices, and text for the
rest; its help text is the tooltip. Fields of a named group (the small-data aids) follow the method's
own under a heading of their own. A preset chooser, Reset to defaults and an undo history of form
changes sit on top; beside the preset box a hint offers the small-data preset when the loaded dataset
is small (a suggestion the user clicks, never a silent change).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:  # the methods package imports torch: loaded when a method is first shown
    from ..methods.params import ParamInfo

DEFAULTS = "(defaults)"
PRESET_KEY = "__preset__"  # the preset chooser's choice, kept in undo snapshots
LINK_COLOUR = "#4a90e2"  # readable on the dark and the light theme
SMALL_DATA_TIP = ("A dataset this small lets the discriminator memorise it and the generator collapse. The small-data "
                  "preset turns on differentiable augmentation of what the discriminator sees (its probability "
                  "adapted as in ADA where the method allows) and an averaged generator; see docs/METHODS.md. "
                  "Click to choose it; nothing changes until you do.")
INT_LIMIT = 2**31 - 1


class SciSpinBox(QDoubleSpinBox):
    """A float spin box that shows 2e-04 rather than 0.00; log-scaled fields step by ×2 and ÷2."""

    def __init__(self, log: bool, parent: QWidget | None = None):
        super().__init__(parent)
        self._log = log
        self.setDecimals(12)  # the stored precision; the text shows 4 significant digits

    def textFromValue(self, value: float) -> str:  # noqa: N802 - Qt override
        return f"{value:.4g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802 - Qt override
        try:
            return float(text.strip())
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int):
        stripped = text.strip()
        try:
            value = float(stripped)
        except ValueError:
            # Half-typed numbers such as "1e-" or "." are allowed while typing.
            return QValidator.State.Intermediate, text, pos
        if self.minimum() <= value <= self.maximum():
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Intermediate, text, pos

    def stepBy(self, steps: int) -> None:  # noqa: N802 - Qt override
        if self._log and self.value() > 0:
            self.setValue(self.value() * (2.0 ** steps))
        else:
            super().stepBy(steps)


def _range_text(info: ParamInfo) -> str:
    if info.choices:
        return "choices: " + ", ".join(map(str, info.choices))
    if info.low is not None or info.high is not None:
        return f"range: {info.low if info.low is not None else '−∞'} … {info.high if info.high is not None else '∞'}"
    return ""


class ParamField:
    """One form row: the widget for a ParamInfo, read and written as the field's typed value."""

    def __init__(self, info: ParamInfo):
        self.info = info
        self.widget = self._make()
        tip = info.help + (f"\n{_range_text(info)}" if _range_text(info) else "") + f"\ndefault: {info.default}"
        self.widget.setToolTip(tip.strip())
        self.widget.setObjectName(f"param_{info.name}")

    def _make(self) -> QWidget:
        info = self.info
        if info.choices:
            combo = QComboBox()
            for choice in info.choices:
                combo.addItem(str(choice), choice)
            return combo
        if info.type is bool:
            return QCheckBox()
        if info.type is int:
            spin = QSpinBox()
            low = int(info.low) if info.low is not None else -INT_LIMIT
            high = int(info.high) if info.high is not None else INT_LIMIT
            spin.setRange(max(low, -INT_LIMIT), min(high, INT_LIMIT))
            return spin
        if info.type is float:
            spin = SciSpinBox(info.log or _looks_logarithmic(info))
            spin.setRange(info.low if info.low is not None else -1e12, info.high if info.high is not None else 1e12)
            if not info.log:
                span = (info.high or 1.0) - (info.low or 0.0)
                spin.setSingleStep(10 ** math.floor(math.log10(span / 100)) if span > 0 else 0.01)
            return spin
        return QLineEdit()

    def value(self) -> Any:
        """The typed value (raises ConfigError naming the field when the text is not valid)."""
        from ..methods.params import coerce

        w = self.widget
        if isinstance(w, QComboBox):
            return w.currentData()
        if isinstance(w, QCheckBox):
            return w.isChecked()
        if isinstance(w, (QSpinBox, QDoubleSpinBox)):
            return coerce(self.info, w.value())
        return coerce(self.info, w.text())

    def set_value(self, value: Any) -> None:
        w = self.widget
        if isinstance(w, QComboBox):
            index = w.findData(value)
            w.setCurrentIndex(index if index >= 0 else w.findText(str(value)))
        elif isinstance(w, QCheckBox):
            w.setChecked(bool(value))
        elif isinstance(w, QSpinBox):
            w.setValue(int(value))
        elif isinstance(w, QDoubleSpinBox):
            w.setValue(float(value))
        else:
            w.setText(",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value))

    def connect_changed(self, slot) -> None:
        w = self.widget
        if isinstance(w, QComboBox):
            w.currentIndexChanged.connect(slot)
        elif isinstance(w, QCheckBox):
            w.toggled.connect(slot)
        elif isinstance(w, (QSpinBox, QDoubleSpinBox)):
            w.valueChanged.connect(slot)
        else:
            w.editingFinished.connect(slot)


def _looks_logarithmic(info: ParamInfo) -> bool:
    # Ranges over several decades (1e-6 … 1e-1) are stepped by factors, whatever the flag says.
    return info.low is not None and info.high is not None and info.low > 0 and info.high / info.low >= 1000


class ParamsForm(QWidget):
    """Hyperparameters of one method: preset chooser, a row per field, Reset, and undo of changes."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.method_cls: type | None = None
        self.fields: dict[str, ParamField] = {}
        self._history: list[dict[str, Any]] = []
        self._current: dict[str, Any] = {}
        self._quiet = False

        self.preset = QComboBox()
        self.preset.setToolTip("Named settings from the method's paper or a tiny one for quick tests; "
                               "choosing one fills the form")
        self.preset.currentIndexChanged.connect(self._on_preset)
        self.reset_button = QPushButton("Reset to defaults")
        self.reset_button.setToolTip("Put every hyperparameter back to the method's default")
        self.reset_button.clicked.connect(self.reset)
        self.undo_button = QPushButton("Undo")
        self.undo_button.setToolTip("Undo the last change to the form (Ctrl+Z)")
        self.undo_button.clicked.connect(self.undo)
        self.undo_button.setEnabled(False)
        self.preset_hint = QLabel()
        self.preset_hint.setObjectName("hint")
        self.preset_hint.setToolTip(SMALL_DATA_TIP)
        self.preset_hint.setWordWrap(True)
        self.preset_hint.linkActivated.connect(self.choose_preset)
        self.preset_hint.hide()
        self._dataset_size: int | None = None
        top = QHBoxLayout()
        top.addWidget(QLabel("Preset"))
        top.addWidget(self.preset, 1)
        top.addWidget(self.reset_button)
        top.addWidget(self.undo_button)
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.preset_hint)  # under the preset box it suggests a preset for
        layout.addLayout(self.form)
        layout.addWidget(self.error)

    # --- building -------------------------------------------------------------------------------
    def set_method(self, method_cls: type, values: dict[str, Any] | None = None, preset: str | None = None) -> None:
        """Rebuild the form for `method_cls`: its defaults, then `preset`, then `values`."""
        self._quiet = True
        try:
            self.method_cls = method_cls
            while self.form.rowCount():
                self.form.removeRow(0)
            self.fields = {}
            from ..methods.params import describe_params

            infos = describe_params(method_cls.Params)
            group = ""
            for info in infos:  # the method's own settings first, then each group's under its heading
                if info.group != group:
                    group = info.group
                    heading = QLabel(group)
                    heading.setObjectName("paramGroup")
                    heading.setStyleSheet("font-weight: bold; padding-top: 6px;")
                    self.form.addRow(heading)
                field = ParamField(info)
                field.connect_changed(self._on_field_changed)
                label = QLabel(info.name)
                label.setToolTip(field.widget.toolTip())
                self.form.addRow(label, field.widget)
                self.fields[info.name] = field
            self.preset.clear()
            self.preset.addItem(DEFAULTS, None)
            for name in method_cls.presets:
                self.preset.addItem(name, name)
            self.preset.setCurrentIndex(max(0, self.preset.findData(preset)) if preset else 0)
            self._apply(self.preset_values(preset))
            if values:
                self._apply({k: v for k, v in values.items() if k in self.fields})
        finally:
            self._quiet = False
        self._history.clear()
        self._current = self._snapshot()
        self.undo_button.setEnabled(False)
        self.error.hide()
        self._update_preset_hint()

    def set_dataset_size(self, count: int | None) -> None:
        """The number of images loaded (None: no images): below SMALL_DATASET the hint offers small-data."""
        self._dataset_size = count
        self._update_preset_hint()

    def choose_preset(self, name: str) -> None:
        """Choose preset `name` in the preset box (undoable), as the user would."""
        index = self.preset.findData(name)
        if index >= 0:
            self.preset.setCurrentIndex(index)  # _on_preset fills the form

    def _update_preset_hint(self) -> None:
        count, offer = self._dataset_size, False
        if count is not None and self.method_cls is not None:  # the methods are loaded by now
            from ..methods.aids import SMALL_DATA_PRESET, SMALL_DATASET

            offer = (0 < count < SMALL_DATASET and SMALL_DATA_PRESET in self.method_cls.presets
                     and self.preset_name != SMALL_DATA_PRESET)
        if offer:
            self.preset_hint.setText(
                f'Only {count:,} images: the <a href="{SMALL_DATA_PRESET}" style="color: {LINK_COLOUR};">'
                f"{SMALL_DATA_PRESET} preset</a> augments what the discriminator sees and averages the generator")
        self.preset_hint.setVisible(offer)

    def defaults(self) -> dict[str, Any]:
        """The Params dataclass defaults of the current method."""
        if self.method_cls is None:
            return {}
        from ..methods.params import describe_params

        return {i.name: i.default for i in describe_params(self.method_cls.Params)}

    def preset_values(self, preset: str | None) -> dict[str, Any]:
        """Defaults overlaid by the named preset."""
        values = self.defaults()
        if preset and self.method_cls is not None:
            values.update(self.method_cls.presets.get(preset, {}))
        return values

    # --- reading and writing --------------------------------------------------------------------
    def values(self, strict: bool = True) -> dict[str, Any]:
        """Every field's typed value; with `strict`, a bad value raises ConfigError naming the field."""
        from ..methods.params import ConfigError

        out = {}
        for name, field in self.fields.items():
            try:
                out[name] = field.value()
            except ConfigError:
                if strict:
                    raise
        return out

    def set_values(self, values: dict[str, Any]) -> None:
        """Fill fields from `values` (unknown names are ignored) as one undoable change."""
        self._apply({k: v for k, v in values.items() if k in self.fields})
        self._record()

    @property
    def preset_name(self) -> str | None:
        return self.preset.currentData()

    def reset(self) -> None:
        """Back to the Params dataclass defaults (undoable)."""
        self._quiet = True
        self.preset.setCurrentIndex(0)
        self._quiet = False
        self._apply(self.defaults())
        self._record()

    def undo(self) -> bool:
        """Undo the last form change; False when there is nothing to undo."""
        if not self._history:
            return False
        previous = self._history.pop()
        self._apply(previous)
        self._current = previous
        self.undo_button.setEnabled(bool(self._history))
        self.changed.emit()
        return True

    def can_undo(self) -> bool:
        return bool(self._history)

    # --- internals ------------------------------------------------------------------------------
    def _snapshot(self) -> dict[str, Any]:
        return {PRESET_KEY: self.preset_name, **self.values(strict=False)}

    def _apply(self, values: dict[str, Any]) -> None:
        quiet, self._quiet = self._quiet, True
        try:
            if PRESET_KEY in values:
                name = values[PRESET_KEY]
                self.preset.setCurrentIndex(0 if name is None else max(0, self.preset.findData(name)))
            for name, value in values.items():
                if name in self.fields:
                    self.fields[name].set_value(value)
        finally:
            self._quiet = quiet

    def _record(self) -> None:
        now = self._snapshot()
        if now != self._current:
            self._history.append(self._current)
            self._current = now
            self.undo_button.setEnabled(True)
        self._validate()
        self.changed.emit()

    def _validate(self) -> None:
        from ..methods.params import ConfigError

        try:
            self.values(strict=True)
        except ConfigError as exc:
            self.error.setText(str(exc))
            self.error.show()
        else:
            self.error.hide()

    def _on_field_changed(self, *_: Any) -> None:
        if not self._quiet:
            self._record()

    def _on_preset(self, *_: Any) -> None:
        self._update_preset_hint()
        if self._quiet or self.method_cls is None:
            return
        self._apply(self.preset_values(self.preset_name))
        self._record()
