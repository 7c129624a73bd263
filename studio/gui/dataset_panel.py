"""The Train tab's dataset area: drop zone, built-in and online sets, background loading, preview and facts.

A load runs on a BackgroundTask (cancellable, with progress); only a successful load replaces the
current dataset, so a bad drop leaves everything as it was and says what went wrong.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from .drop_zone import DropZone
from .imageview import ImageView
from .plots import ScatterView
from .tasks import BackgroundTask

PREVIEW_COUNT = 64
SIZES = [("as stored", None), ("16 px", 16), ("28 px", 28), ("32 px", 32), ("64 px", 64), ("128 px", 128)]
CHANNELS = [("as stored", None), ("grey (1)", 1), ("colour (3)", 3)]
SPLITS = ("train", "val", "test", "all")  # for sources that have them (the loaders say when one has not)
LOCKED_MESSAGE = "A run is training on this dataset: stop it before loading another."

def source_label(source: Any) -> str:
    """A short name for a source (a list of files shows its first and the count)."""
    if isinstance(source, (list, tuple)):
        return source[0] if len(source) == 1 else f"{len(source)} files ({os.path.basename(source[0])}, …)"
    return str(source)


def available_sources() -> list[dict]:
    """Built-in and online sources for the pickers (the data layer's list, less the file formats)."""
    from ..data import list_sources

    return [s for s in list_sources() if not s.get("file")]


def make_preview(dataset: Any) -> dict[str, Any]:
    """What the preview shows: a grid of the first images, pairs as input → target, two domains as
    labelled rows, or the points and their modes."""
    if not dataset.is_images:
        data = dataset.data.float().numpy()
        modes = dataset.modes.float().numpy() if dataset.modes is not None else None
        return {"points": data, "modes": modes}
    from ..grids import image_grid
    from .translation_preview import domains_grid, pairs_grid

    kind = _kind(dataset)
    if kind == "paired" and dataset.targets is not None:
        return {"grid": pairs_grid(dataset.data, dataset.targets)}
    if kind == "unpaired" and dataset.targets is not None:
        return {"grid": domains_grid(dataset.data, dataset.targets)}
    first = dataset.data[:PREVIEW_COUNT]
    return {"grid": image_grid(first)}


def _kind(dataset: Any) -> str:
    return getattr(dataset.kind, "value", str(dataset.kind))


def _count_text(dataset: Any, facts: dict) -> str:
    """"<b>400</b> input → target pairs", "<b>1,187</b> A + <b>1,474</b> B images (unpaired)", ..."""
    kind = _kind(dataset)
    if kind == "paired":
        return f"<b>{facts['count']:,}</b> input → target pairs (paired)"
    if kind == "unpaired":
        return f"<b>{facts['count']:,}</b> A + <b>{facts.get('targets', 0):,}</b> B images (unpaired domains)"
    return f"<b>{facts['count']:,}</b> {'images' if dataset.is_images else 'points'}"


def describe_dataset(dataset: Any) -> str:
    """The facts line under the preview: count (and kind), size, channels, classes, notes."""
    facts = dataset.describe()
    parts = [_count_text(dataset, facts)]
    if dataset.is_images:
        ch = facts.get("channels", 0)
        parts.append(f"{facts.get('size')}×{facts.get('size')} px")
        parts.append(f"{ch} channel{'s' if ch != 1 else ''} ({'grey' if ch == 1 else 'colour'})")
    else:
        parts.append(f"{facts.get('point_dim')}-D")
        if facts.get("modes"):
            parts.append(f"{facts['modes']} modes")
    parts.append(f"kind: {facts['kind']}")
    if facts.get("streamed"):
        parts.append("streamed from disk")
    text = " · ".join(parts)
    labels = facts.get("labels") or []
    if labels:
        kind = "attributes" if facts.get("multi_label") else "classes"
        shown = ", ".join(labels[:12]) + (f", … ({len(labels)} in all)" if len(labels) > 12 else "")
        text += f"<br>{len(labels)} {kind}: {shown}"
    for note in facts.get("notes", []):
        text += f"<br><i>{note}</i>"
    return text


class DatasetPanel(QWidget):
    """Choose and load a dataset; shows its preview, facts and skipped files."""

    datasetChanged = Signal(object)  # the loaded Dataset
    loadFailed = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.dataset: Any = None
        self.source: Any = None  # what `dataset` was opened from (str or list of paths)
        self.preview: dict[str, Any] = {}
        self.loaded_options: dict[str, Any] = {"size": None, "channels": None, "count": None, "split": "train"}
        self.message = ""
        self._task: BackgroundTask | None = None
        self._pending_source: Any = None
        self._populated = False
        self.locked = False  # a run is training on `dataset`: no other source may replace it meanwhile

        self.drop_zone = DropZone()
        self.drop_zone.pathsDropped.connect(self._on_paths)
        self.drop_zone.rejected.connect(self._show_error)

        self.builtin_list = QListWidget()
        self.builtin_list.setToolTip("Procedural sets built in a second, no download: double-click to load")
        self.builtin_list.itemActivated.connect(self._on_item_activated)
        self.online_list = QListWidget()
        self.online_list.setToolTip("Downloaded once on first use (needs the internet), then cached: double-click")
        self.online_list.itemActivated.connect(self._on_item_activated)
        self.quickdraw = QLineEdit()
        self.quickdraw.setPlaceholderText("Quick, Draw! category, e.g. cat")
        self.quickdraw.setToolTip("Download one Quick, Draw! category (28×28 drawings, ~100 MB) and load it")
        self.quickdraw.returnPressed.connect(self._on_quickdraw)
        online = QWidget()
        online_layout = QVBoxLayout(online)
        online_layout.setContentsMargins(0, 0, 0, 0)
        online_layout.addWidget(self.online_list)
        online_layout.addWidget(self.quickdraw)
        self.source_tabs = QTabWidget()
        self.source_tabs.addTab(self.builtin_list, "Built-in")
        self.source_tabs.addTab(online, "Online")
        self.source_tabs.setMaximumHeight(170)

        self.size_combo = QComboBox()
        for text, value in SIZES:
            self.size_combo.addItem(text, value)
        self.size_combo.setToolTip("Resize images to this square size (centre crop) when loading; "
                                   "DCGAN-style networks want a power of two such as 32 or 64")
        self.channels_combo = QComboBox()
        for text, value in CHANNELS:
            self.channels_combo.addItem(text, value)
        self.channels_combo.setToolTip("Convert images to grey (1 channel) or colour (3 channels) when loading")
        self.count_spin = QSpinBox()
        self.count_spin.setRange(0, 10_000_000)
        self.count_spin.setSpecialValueText("all")
        self.count_spin.setSingleStep(1000)
        self.count_spin.setToolTip("Load at most this many items (all: 0); a smaller set loads and trains faster")
        self.split_combo = QComboBox()
        self.split_combo.addItems(SPLITS)
        self.split_combo.setToolTip("Which part of a source with splits to load: pix2pix train/ val/ test/ folders, "
                                    "CycleGAN trainA/ testA/, CIFAR-10 and MNIST train or test; other sources "
                                    "have one part and ignore it")
        options = QHBoxLayout()
        rows = (("Size", self.size_combo), ("Channels", self.channels_combo), ("Max items", self.count_spin),
                ("Split", self.split_combo))
        for label, widget in rows:
            options.addWidget(QLabel(label))
            options.addWidget(widget)
        options.addStretch(1)
        self.reload_button = QPushButton("Reload")
        self.reload_button.setToolTip("Load the current source again with these options")
        self.reload_button.clicked.connect(self.reload)
        options.addWidget(self.reload_button)

        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress_label = QLabel()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop loading; the current dataset stays")
        self.cancel_button.clicked.connect(self.cancel)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress_label)
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.cancel_button)
        self.progress_box = QWidget()
        self.progress_box.setLayout(progress_row)
        self.progress_box.hide()

        self.message_label = QLabel()
        self.message_label.setObjectName("error")
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message_label.hide()

        self.image_preview = ImageView("No dataset yet: drop one above or pick a built-in set")
        self.image_preview.setToolTip("The first images of the dataset, as the model will see them "
                                      "(pairs as input → target, two domains as rows A and B)")
        self.scatter_preview = ScatterView(generated=False)
        self.preview_stack = QStackedWidget()
        self.preview_stack.addWidget(self.image_preview)
        self.preview_stack.addWidget(self.scatter_preview)
        self.facts = QLabel()
        self.facts.setObjectName("facts")
        self.facts.setWordWrap(True)
        self.facts.setTextFormat(Qt.TextFormat.RichText)
        self.facts.setToolTip("What was loaded: count, size, channels and labels")
        self.skipped_label = QLabel()
        self.skipped_list = QListWidget()
        self.skipped_list.setToolTip("Files that were not loaded, each with the reason")
        self.skipped_label.hide()
        self.skipped_list.hide()

        preview_box = QGroupBox("Preview")
        preview_layout = QVBoxLayout(preview_box)
        preview_layout.addWidget(self.preview_stack, 1)
        preview_layout.addWidget(self.facts)
        preview_layout.addWidget(self.skipped_label)
        preview_layout.addWidget(self.skipped_list)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.drop_zone)
        layout.addWidget(self.source_tabs)
        self.options_row = QWidget()
        options.setContentsMargins(0, 0, 0, 0)
        self.options_row.setLayout(options)
        layout.addWidget(self.options_row)
        layout.addWidget(self.progress_box)
        layout.addWidget(self.message_label)
        layout.addWidget(preview_box, 1)

    # --- lists of sources -----------------------------------------------------------------------
    def populate(self) -> None:
        """Fill the built-in and online lists (imports the data layer, so it is done after the window shows)."""
        if self._populated:
            return
        self._populated = True
        for info in available_sources():
            name = info["name"]
            if "<" in name:
                continue  # a pattern such as quickdraw:<category> has its own entry box
            item = QListWidgetItem(f"{name}   ({info.get('kind', 'images')})")
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setToolTip(info.get("description", ""))
            (self.online_list if info.get("online") else self.builtin_list).addItem(item)

    # --- options --------------------------------------------------------------------------------
    def options(self) -> dict[str, Any]:
        """The load options: size, channels and count (None for 'as stored' / all), and the split."""
        return {"size": self.size_combo.currentData(), "channels": self.channels_combo.currentData(),
                "count": self.count_spin.value() or None, "split": self.split_combo.currentText()}

    def set_options(self, size: int | None = None, channels: int | None = None, count: int | None = None,
                    split: str | None = None) -> None:
        self.size_combo.setCurrentIndex(max(0, self.size_combo.findData(size)) if size else 0)
        self.channels_combo.setCurrentIndex(max(0, self.channels_combo.findData(channels)) if channels else 0)
        self.count_spin.setValue(count or 0)
        self.split_combo.setCurrentText(split if split in SPLITS else "train")

    # --- loading --------------------------------------------------------------------------------
    def is_loading(self) -> bool:
        return self._task is not None

    def set_locked(self, locked: bool) -> None:
        """While a run trains, refuse new sources (drops, lists, Open, Reload) with a message."""
        self.locked = locked
        self.drop_zone.setAcceptDrops(not locked)
        for widget in (self.drop_zone, self.source_tabs, self.options_row):
            widget.setEnabled(not locked)
        if not locked and self.message == LOCKED_MESSAGE:
            self.message_label.hide()

    def load(self, source: Any) -> None:
        """Open `source` (a name such as builtin:shapes, a path, or a list of image files) in the background."""
        from ..data import DatasetError, open_dataset

        if self.locked:
            self._show_info(LOCKED_MESSAGE)
            self.loadFailed.emit(LOCKED_MESSAGE)
            return
        if self._task is not None:
            self.cancel()
        opts = self.options()

        def work(report):
            dataset = open_dataset(source, progress=report, **opts)
            return dataset, make_preview(dataset)

        def describe(exc: BaseException) -> str:
            if isinstance(exc, DatasetError):
                return str(exc)
            return f"{source_label(source)}: could not be loaded ({type(exc).__name__}: {exc})"

        self._pending_source, self._pending_options = source, opts
        task = BackgroundTask(work, self, describe_error=describe, name="dataset-load")
        task.progress.connect(self._on_progress)
        task.done.connect(self._on_loaded)
        task.failed.connect(self._on_failed)
        task.finished.connect(lambda t=task: self._on_task_finished(t))
        self._task = task
        self.progress_label.setText(f"Loading {source_label(source)}…")
        self.progress.setRange(0, 0)  # busy until the first progress report
        self.progress_box.show()
        self.message_label.hide()
        task.start()

    def reload(self) -> None:
        """Load the current source again (after changing size, channels or count)."""
        if self.source is not None:
            self.load(self.source)

    def cancel(self) -> None:
        """Stop the running load; the current dataset stays."""
        if self._task is None:
            return
        self._task.cancel()
        self._task = None
        self.progress_box.hide()
        self._show_info("Loading cancelled; the previous dataset is unchanged.")

    def wait(self, msecs: int = 60_000) -> bool:
        """Block until a running load has ended (for shutdown and tests)."""
        from .tasks import live_tasks

        ok = True
        for task in live_tasks():
            if task.parent() is self:
                ok = task.wait(msecs) and ok
        return ok

    def _on_paths(self, paths: list[str]) -> None:
        self.load(paths[0] if len(paths) == 1 else list(paths))

    def _on_item_activated(self, item: QListWidgetItem) -> None:
        self.load(item.data(Qt.ItemDataRole.UserRole))

    def _on_quickdraw(self) -> None:
        category = self.quickdraw.text().strip()
        if category:
            self.load(f"quickdraw:{category}")

    def _on_progress(self, done: int, total: int) -> None:
        if total > 0:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * min(done, total) / total))
            # Downloads report bytes; loaders report work units (files read, then decoded): a percentage.
            self.progress.setFormat(f"{done / 1e6:.1f} / {total / 1e6:.1f} MB" if total > 1_000_000 else "%p%")

    def _on_loaded(self, result: tuple) -> None:
        dataset, preview = result
        self._task = None
        self.progress_box.hide()
        self.dataset, self.source, self.preview = dataset, self._pending_source, preview
        self.loaded_options = dict(self._pending_options)
        self._show_preview()
        self.message_label.hide()
        self.datasetChanged.emit(dataset)

    def _on_failed(self, message: str) -> None:
        self._task = None
        self.progress_box.hide()
        self._show_error(message)
        self.loadFailed.emit(message)

    def _on_task_finished(self, task: BackgroundTask) -> None:
        if self._task is task:
            self._task = None
            self.progress_box.hide()

    def _show_error(self, message: str) -> None:
        kept = f" The dataset {source_label(self.source)} is still loaded." if self.dataset is not None else ""
        self._show_message(f"⚠ {message.rstrip('.')}.{kept}", error=True)

    def _show_info(self, message: str) -> None:
        self._show_message(message, error=False)

    def _show_message(self, text: str, error: bool) -> None:
        self.message = text
        self.message_label.setObjectName("error" if error else "hint")
        self.message_label.style().unpolish(self.message_label)
        self.message_label.style().polish(self.message_label)
        self.message_label.setText(text)
        self.message_label.show()

    def _show_preview(self) -> None:
        ds = self.dataset
        if "grid" in self.preview:
            self.image_preview.set_image(self.preview["grid"])
            self.preview_stack.setCurrentWidget(self.image_preview)
        else:
            self.scatter_preview.set_real(self.preview.get("points"), self.preview.get("modes"))
            self.scatter_preview.set_generated(None)
            self.scatter_preview.fit_view()
            self.preview_stack.setCurrentWidget(self.scatter_preview)
        self.facts.setText(f"<b>{source_label(self.source)}</b><br>{describe_dataset(ds)}")
        self.skipped_list.clear()
        skipped: Sequence = ds.skipped or []
        for entry in skipped:
            item = QListWidgetItem(str(entry))
            item.setToolTip(str(entry))
            self.skipped_list.addItem(item)
        self.skipped_label.setText(f"Skipped {len(skipped)} file{'s' if len(skipped) != 1 else ''}:")
        self.skipped_label.setVisible(bool(skipped))
        self.skipped_list.setVisible(bool(skipped))
        if skipped:  # as tall as its entries (up to four; more scroll), so the preview keeps the room
            rows = min(len(skipped), 4)
            row = max(self.skipped_list.sizeHintForRow(0), self.fontMetrics().height() + 2)
            self.skipped_list.setFixedHeight(rows * row + 2 * self.skipped_list.frameWidth() + 4)

    def show_direction(self, direction: str) -> None:
        """Show paired data's pairs and facts as a run in `direction` trains on them (B → A: the targets are the
        inputs); the loaded dataset and `preview` stay as loaded."""
        ds = self.dataset
        if ds is None or _kind(ds) != "paired" or ds.targets is None:
            return
        import dataclasses

        from ..data.sources.paired import orient
        from .translation_preview import pairs_grid

        shown = orient(dataclasses.replace(ds, notes=list(ds.notes)), direction)
        self.image_preview.set_image(pairs_grid(shown.data, shown.targets))
        self.facts.setText(f"<b>{source_label(self.source)}</b><br>{describe_dataset(shown)}")

    def apply_theme(self, theme: str) -> None:
        self.scatter_preview.apply_theme(theme)
