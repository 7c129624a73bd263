"""The method picker: every registered method with its title, description and source, marked by data kind."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QComboBox, QLabel, QVBoxLayout, QWidget


class MethodPicker(QWidget):
    """A combo of methods (greyed out where they cannot train on the loaded data) and the chosen one's description."""

    methodChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.methods: dict[str, type] = {}
        self.kind: str | None = None
        self.combo = QComboBox()
        self.combo.setToolTip("The model to train; greyed-out methods need another kind of data")
        self.combo.currentIndexChanged.connect(self._on_index)
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.description.setTextFormat(Qt.TextFormat.RichText)
        self.description.setObjectName("facts")
        self.description.setToolTip("What the method does, and the paper it comes from")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo)
        layout.addWidget(self.description)

    def populate(self, methods: dict[str, type] | None = None) -> None:
        """List the methods (default: the registry's, which imports torch)."""
        if methods is None:
            from ..methods import all_methods

            methods = all_methods()
        self.methods = dict(methods)
        self.combo.blockSignals(True)
        self.combo.clear()
        for name, cls in self.methods.items():
            self.combo.addItem(cls.title or name, name)
            self.combo.setItemData(self.combo.count() - 1, cls.description, Qt.ItemDataRole.ToolTipRole)
        self.combo.blockSignals(False)
        self._mark_kinds()
        self._on_index(self.combo.currentIndex())

    @property
    def current(self) -> str | None:
        return self.combo.currentData()

    def method_class(self) -> Any:
        return self.methods.get(self.current) if self.current else None

    def set_current(self, name: str) -> bool:
        """Choose the method called `name`; False when it is unknown or cannot train on the data."""
        index = self.combo.findData(name)
        if index < 0 or not self._enabled(index):
            return False
        self.combo.setCurrentIndex(index)
        return True

    def set_kind(self, kind: str | None) -> None:
        """Mark the methods that can train on data of `kind` (images, paired, unpaired, points)."""
        self.kind = kind
        self._mark_kinds()
        if self.combo.currentIndex() >= 0 and not self._enabled(self.combo.currentIndex()):
            for i in range(self.combo.count()):
                if self._enabled(i):
                    self.combo.setCurrentIndex(i)
                    break
        self._describe()

    def accepts(self, name: str, kind: str | None) -> bool:
        cls = self.methods.get(name)
        return cls is not None and (kind is None or kind in [k.value for k in cls.kinds])

    def _enabled(self, index: int) -> bool:
        model = self.combo.model()
        if isinstance(model, QStandardItemModel):
            return model.item(index).isEnabled()
        return True

    def _mark_kinds(self) -> None:
        model = self.combo.model()
        if not isinstance(model, QStandardItemModel):
            return
        for i in range(self.combo.count()):
            name = self.combo.itemData(i)
            cls = self.methods[name]
            ok = self.accepts(name, self.kind)
            item = model.item(i)
            item.setEnabled(ok)
            kinds = "/".join(k.value for k in cls.kinds)
            item.setText(cls.title if ok else f"{cls.title}  (needs {kinds} data)")

    def _on_index(self, index: int) -> None:
        self._describe()
        if self.current:
            self.methodChanged.emit(self.current)

    def _describe(self) -> None:
        cls = self.method_class()
        if cls is None:
            self.description.setText("")
            return
        kinds = ", ".join(k.value for k in cls.kinds)
        warn = ""
        if self.kind is not None and not self.accepts(cls.name, self.kind):
            warn = f"<br><span style='color:#ff8a96'>Cannot train on the loaded {self.kind} data.</span>"
        self.description.setText(
            f"<b>{html.escape(cls.title)}</b> <span style='color:#8f93a8'>({cls.name})</span><br>"
            f"{html.escape(cls.description)}<br><i>{html.escape(cls.source)}</i><br>"
            f"<span style='color:#8f93a8'>Trains on: {kinds}</span>{warn}")
