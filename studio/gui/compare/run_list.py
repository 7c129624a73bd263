"""The Compare view's list of runs to choose from: the run history, folders of runs, dropped run folders.

Each run is a checkable row: checked rows are compared (2–8 of them), each marked in its colour. The
history is the window's recent runs; "Add runs…" takes a run folder, a folder of runs or an experiment's
folder (its trials); run folders dropped on the view are added and checked.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QIcon, QPixmap
from PySide6.QtWidgets import QFileDialog, QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

from ... import settings as user_settings
from ...runs.compare import run_name
from ...runs.compared import find_runs, is_run_dir

PATH_ROLE = Qt.ItemDataRole.UserRole


def swatch(colour: str | None) -> QIcon:
    """A small square of `colour` (an empty one for a run not compared)."""
    pixmap = QPixmap(12, 12)
    pixmap.fill(QColor(colour) if colour else QColor(0, 0, 0, 0))
    return QIcon(pixmap)


def local_dirs(event: QDragEnterEvent | QDropEvent) -> list[Path]:
    """The local folders a drag carries."""
    if not event.mimeData().hasUrls():
        return []
    paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
    return [p for p in paths if p.is_dir()]


class RunList(QWidget):
    """Candidate runs with a check each; `toggled(path, on)` when the user checks or unchecks one."""

    toggled = Signal(str, bool)
    added = Signal(list)  # paths the user chose or dropped: to be compared

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        title = QLabel("<b>Runs</b> — check 2 to 8")
        title.setToolTip("Checked runs are compared. The list holds the run history (File → Recent runs) and the "
                         "runs you add; drop run folders here or anywhere on the view")
        self.list = QListWidget()
        self.list.setToolTip("Check a run to compare it, uncheck it to take it out (each run keeps its colour)")
        self.list.itemChanged.connect(self._on_item)
        self.add_button = QPushButton("Add runs…")
        self.add_button.setToolTip("A run folder, a folder of runs, or an experiment's folder (its trials)")
        self.add_button.clicked.connect(self.ask_for_runs)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(title)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.add_button)
        self.interactive = True
        self.fill_history()

    def fill_history(self) -> None:
        """Add the run history (the window's recent runs whose folders still exist)."""
        for path in user_settings.get_setting("recent_runs", []):
            if isinstance(path, str) and is_run_dir(path):
                self.ensure(Path(path))

    def paths(self) -> list[Path]:
        return [Path(self.list.item(i).data(PATH_ROLE)) for i in range(self.list.count())]

    def item(self, path: Path) -> QListWidgetItem | None:
        key = str(Path(path).resolve())
        for i in range(self.list.count()):
            if self.list.item(i).data(PATH_ROLE) == key:
                return self.list.item(i)
        return None

    def ensure(self, path: Path) -> QListWidgetItem:
        """The row of `path`, added (unchecked) when there is none."""
        item = self.item(path)
        if item is None:
            resolved = Path(path).resolve()
            item = QListWidgetItem(run_name(resolved))
            item.setData(PATH_ROLE, str(resolved))
            item.setToolTip(str(resolved))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            item.setIcon(swatch(None))
            self.list.blockSignals(True)
            self.list.addItem(item)
            self.list.blockSignals(False)
        return item

    def mark(self, path: Path, colour: str | None) -> None:
        """Show `path` as compared in `colour`, or not compared (None); no signal."""
        item = self.ensure(path)
        self.list.blockSignals(True)
        item.setCheckState(Qt.CheckState.Checked if colour else Qt.CheckState.Unchecked)
        item.setIcon(swatch(colour))
        self.list.blockSignals(False)

    def ask_for_runs(self) -> None:
        if not self.interactive:
            return
        folder = QFileDialog.getExistingDirectory(self, "Add runs: a run, a folder of runs or an experiment",
                                                  str(Path.cwd() / "runs"))
        if folder:
            self.add_folder(folder)

    def add_folder(self, folder: str | Path) -> list[Path]:
        """The runs in `folder` (or the folder itself) listed and asked to be compared; returns them."""
        runs = find_runs(folder)
        for run in runs:
            self.ensure(run)
        self.added.emit([str(r) for r in runs] or [str(folder)])
        return runs

    def _on_item(self, item: QListWidgetItem) -> None:
        self.toggled.emit(item.data(PATH_ROLE), item.checkState() == Qt.CheckState.Checked)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if local_dirs(event):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        for folder in local_dirs(event):
            self.add_folder(folder)
        event.acceptProposedAction()
