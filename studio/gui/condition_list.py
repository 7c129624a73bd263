"""The condition box of the Train tab: the loaded dataset's classes or attributes as a checkable list, or
for paired data the direction of translation.

Every name is checked when a dataset loads; what stays checked becomes the run's `classes` or
`attributes` (studio/data/labels.py narrows the data to them, relabelled in the list's order).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
)

VISIBLE_ROWS = 8  # more names scroll
CLASSES_TIP = ("Train on the checked classes only; they are numbered in this order, and the Sample tab's label "
               "toggles show exactly these (studio train --classes NAME,…)")
ATTRIBUTES_TIP = ("Condition on the checked attributes only: the label vector holds these, in this order, and the "
                  "Sample tab's toggles show exactly these (studio train --attributes NAME,…)")


DIRECTION_TIP = ("Which side of each pair the translator reads: A → B takes the left (or A/, input/) image as the "
                 "input and the right (B/, target/) as the target; B → A swaps them (studio train --direction "
                 "BtoA). The preview shows the pairs as the run reads them")


class ConditionList(QGroupBox):
    """Checkable class or attribute names of the loaded dataset, or the direction of paired data; hidden when
    the data has neither."""

    changed = Signal()

    def __init__(self, parent: Any = None):
        super().__init__("Condition", parent)
        self.multi_label = False
        self._pending: list[str] | None = None  # a run's choice shown before its dataset is loaded
        self.summary = QLabel()
        self.summary.setObjectName("hint")
        self.summary.setWordWrap(True)
        self.list = QListWidget()
        self.list.itemChanged.connect(self._on_item)
        self.all_button = QPushButton("All")
        self.all_button.setToolTip("Check every name")
        self.all_button.clicked.connect(lambda: self._check_all(True))
        self.none_button = QPushButton("None")
        self.none_button.setToolTip("Uncheck every name, to check a few")
        self.none_button.clicked.connect(lambda: self._check_all(False))
        buttons = QHBoxLayout()
        buttons.addWidget(self.summary, 1)
        buttons.addWidget(self.all_button)
        buttons.addWidget(self.none_button)
        self.direction = QComboBox()
        self.direction.addItem("A → B: translate the inputs into the targets", "AtoB")
        self.direction.addItem("B → A: translate the targets into the inputs", "BtoA")
        self.direction.setToolTip(DIRECTION_TIP)
        self.direction.currentIndexChanged.connect(lambda _i: self.changed.emit())
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.list)
        layout.addWidget(self.direction)
        self.set_dataset(None)

    def set_dataset(self, dataset: Any) -> None:
        """List `dataset`'s classes or attributes, all checked (or as a pending run choice says)."""
        names = list(getattr(dataset, "label_names", []) or []) if getattr(dataset, "labels", None) is not None else []
        self.multi_label = bool(getattr(dataset, "multi_label", False))
        paired = getattr(getattr(dataset, "kind", None), "value", None) == "paired"
        self.list.blockSignals(True)
        self.list.clear()
        for name in names:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.list.addItem(item)
        self.list.blockSignals(False)
        if names:  # as tall as its names, up to VISIBLE_ROWS: the preview above keeps the room
            rows = min(len(names), VISIBLE_ROWS)
            self.list.setFixedHeight(rows * self.list.sizeHintForRow(0) + 2 * self.list.frameWidth() + 2)
        what = "Attributes" if self.multi_label else "Classes"
        self.setTitle(f"{what} and direction" if paired and names else "Direction" if paired else what)
        self.list.setToolTip(ATTRIBUTES_TIP if self.multi_label else CLASSES_TIP)
        for widget in (self.list, self.summary, self.all_button, self.none_button):
            widget.setVisible(bool(names))
        self.direction.setVisible(paired)
        self.setVisible(bool(names) or paired)
        if self._pending is not None and set(self._pending) <= set(names):
            self.set_chosen(self._pending)
        self._pending = None
        self._on_item()

    def names(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def checked(self) -> list[str]:
        return [item.text() for item in self._items() if item.checkState() == Qt.CheckState.Checked]

    def chosen(self) -> list[str] | None:
        """The checked names, or None when every name is checked (the run takes all, as the data has them)."""
        checked = self.checked()
        return None if checked == self.names() else checked

    def selection(self) -> dict[str, Any]:
        """The RunConfig fields this box sets: `classes` or `attributes` (the other None), and `direction`."""
        chosen = self.chosen()
        return {"classes": None if self.multi_label else chosen, "attributes": chosen if self.multi_label else None,
                "direction": self.direction.currentData() if self.direction.isVisibleTo(self) else "AtoB"}

    def set_direction(self, direction: str) -> None:
        index = self.direction.findData(direction)
        if index >= 0:
            self.direction.setCurrentIndex(index)

    def set_chosen(self, names: list[str] | None) -> None:
        """Check exactly `names` (None: all); remembered until a dataset holding them is listed."""
        if names is not None and not set(names) <= set(self.names()):
            self._pending = list(names)
            return
        self.list.blockSignals(True)
        for item in self._items():
            on = names is None or item.text() in names
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
        self.list.blockSignals(False)
        self._on_item()

    def _items(self) -> list[QListWidgetItem]:
        return [self.list.item(i) for i in range(self.list.count())]

    def _check_all(self, on: bool) -> None:
        self.set_chosen(None if on else [])

    def _on_item(self, _item: Any = None) -> None:
        total, checked = self.list.count(), len(self.checked())
        what = "attributes" if self.multi_label else "classes"
        self.summary.setText(f"{checked} of {total} {what} checked" + ("" if checked else ": check at least one"))
        self.changed.emit()
