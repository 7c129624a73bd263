"""The method picker: every registered method with its title, description and source, greyed out where it
cannot train on the loaded data (another kind, or no labels for a conditional method), with the reason."""

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
        self.label_dim: int | None = None  # classes or attributes of the loaded data (None: not known)
        self.combo = QComboBox()
        self.combo.setToolTip("The model to train; greyed-out methods cannot train on the loaded data "
                              "(hover one for the reason)")
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

    def set_kind(self, kind: str | None, label_dim: int | None = None) -> None:
        """Mark the methods that can train on data of `kind` (images, paired, unpaired, points) with
        `label_dim` classes or attributes (0: unlabelled, so conditional methods are greyed; None: not known)."""
        self.kind, self.label_dim = kind, label_dim
        self._mark_kinds()
        if self.combo.currentIndex() >= 0 and not self._enabled(self.combo.currentIndex()):
            for i in range(self.combo.count()):
                if self._enabled(i):
                    self.combo.setCurrentIndex(i)
                    break
        self._describe()

    def accepts(self, name: str, kind: str | None) -> bool:
        """Whether `name` can train on data of `kind` with the loaded data's labels."""
        return name in self.methods and self.problem(name, kind) is None

    def problem(self, name: str, kind: str | None = None, params: Any = None) -> str | None:
        """Why `name` (with `params`, default its defaults) cannot train on the loaded data, or None
        (the methods layer's one check, which the trainer applies too)."""
        from ..methods.requirements import data_problem

        kind = self.kind if kind is None else kind
        if kind is None:
            return None
        return data_problem(self.methods[name], kind, self.label_dim, params, "the loaded dataset")

    def _enabled(self, index: int) -> bool:
        model = self.combo.model()
        if isinstance(model, QStandardItemModel):
            return model.item(index).isEnabled()
        return True

    def _mark_kinds(self) -> None:
        model = self.combo.model()
        if not isinstance(model, QStandardItemModel):
            return
        from ..methods.requirements import needs_labels

        for i in range(self.combo.count()):
            name = self.combo.itemData(i)
            cls = self.methods[name]
            problem = self.problem(name)
            item = model.item(i)
            item.setEnabled(problem is None)
            kinds = "/".join(k.value for k in cls.kinds)
            need = "labels" if self.kind in kinds.split("/") and needs_labels(cls) else f"{kinds} data"
            item.setText(cls.title if problem is None else f"{cls.title}  (needs {need})")
            item.setToolTip(cls.description if problem is None else f"Cannot train here: {problem}")

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
        problem = self.problem(cls.name)
        if problem is not None:
            warn = f"<br><span style='color:#ff8a96'>Cannot train on the loaded data: {html.escape(problem)}</span>"
        self.description.setText(
            f"<b>{html.escape(cls.title)}</b> <span style='color:#8f93a8'>({cls.name})</span><br>"
            f"{html.escape(cls.description)}<br><i>{html.escape(cls.source)}</i><br>"
            f"<span style='color:#8f93a8'>Trains on: {kinds}</span>{warn}")
