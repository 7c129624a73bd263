"""LabelBar: one exclusive button per class, or one checkbox per attribute; hidden for unconditional models."""

from __future__ import annotations

import torch
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QAbstractButton, QButtonGroup, QCheckBox, QGridLayout, QPushButton, QWidget

from ...methods.base import DataSpec

PER_ROW = 6
# The checked class button's look comes from the theme (resources/*.qss, QPushButton:checkable:checked).


class LabelBar(QWidget):
    """Emits `changed()` when the user switches a label; `vector()` is the condition vector."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("labelBar")
        self._layout = QGridLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._group: QButtonGroup | None = None
        self.buttons: list[QAbstractButton] = []
        self.multi = False

    def set_spec(self, spec: DataSpec | None, conditional: bool) -> None:
        """Build the toggles for a model's labels; hide them when it takes none."""
        for b in self.buttons:
            b.setParent(None)
            b.deleteLater()
        self.buttons = []
        self._group = None
        if spec is None or not conditional or spec.label_dim == 0:
            self.hide()
            return
        self.multi = spec.multi_label
        names = list(spec.label_names) or [str(i) for i in range(spec.label_dim)]
        if not self.multi:
            self._group = QButtonGroup(self)
            self._group.setExclusive(True)
        for i, name in enumerate(names):
            if self.multi:
                button: QAbstractButton = QCheckBox(name)
                button.setToolTip(f"Switch the attribute '{name}' on or off; the samples keep their latents")
            else:
                button = QPushButton(name)
                button.setCheckable(True)
                button.setToolTip(f"Generate class '{name}' from the same latents")
                self._group.addButton(button, i)
            button.setObjectName(f"label_{i}")
            button.toggled.connect(self._on_toggled)
            self._layout.addWidget(button, i // PER_ROW, i % PER_ROW)
            self.buttons.append(button)
        if not self.multi and self.buttons:
            self.buttons[0].blockSignals(True)
            self.buttons[0].setChecked(True)
            self.buttons[0].blockSignals(False)
        self.show()

    def vector(self) -> torch.Tensor | None:
        """The condition vector the toggles stand for (None when hidden)."""
        if not self.buttons:
            return None
        return torch.tensor([1.0 if b.isChecked() else 0.0 for b in self.buttons])

    def set_vector(self, vec: torch.Tensor | None) -> None:
        """Show a label state (e.g. kept across a live refresh) without emitting `changed`."""
        if vec is None or len(vec.flatten()) != len(self.buttons):
            return
        for b, v in zip(self.buttons, vec.flatten().tolist(), strict=True):
            b.blockSignals(True)
            b.setChecked(v > 0.5)
            b.blockSignals(False)

    def _on_toggled(self, checked: bool) -> None:
        # An exclusive group fires twice per switch (one off, one on): answer only the "on".
        if self.multi or checked:
            self.changed.emit()
