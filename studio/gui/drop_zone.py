"""DropZone: a frame that takes dataset files and folders by drag-and-drop or an Open button."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDragLeaveEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog, QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

FILE_FILTER = ("Datasets (*.zip *.npy *.npz *.png *.jpg *.jpeg *.bmp *.gif *.webp *.tif *.tiff *-ubyte *-ubyte.gz "
               "*.gz data_batch_* test_batch list_attr_celeba.txt);;All files (*)")


class DropZone(QFrame):
    """Emits `pathsDropped(list of local paths)` for a drop of file URLs or a choice in the Open dialogs."""

    pathsDropped = Signal(list)
    rejected = Signal(str)  # a drop that carried no local files, with the reason

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("dropZone")
        self.setAcceptDrops(True)
        self.setMinimumHeight(110)
        self.setToolTip("Drop a folder of images (sub-folders become classes), a .zip, a .npy/.npz array, "
                        "MNIST IDX files, a CIFAR-10 or CelebA folder, a pix2pix folder (A|B images, or A/ and B/), "
                        "a CycleGAN folder (trainA/ and trainB/), or image files")
        title = QLabel("Drop a dataset here")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        title.setStyleSheet("font-size: 13pt; font-weight: bold; background: transparent;")
        hint = QLabel("folder · zip · .npy/.npz · MNIST IDX · CIFAR-10 · CelebA · pix2pix · CycleGAN · images")
        hint.setObjectName("hint")
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint.setStyleSheet("background: transparent;")
        self.open_files_button = QPushButton("Open files…")
        self.open_files_button.setToolTip("Choose a .zip, .npy/.npz, IDX or CIFAR batch file, or several images")
        self.open_files_button.clicked.connect(self.open_files)
        self.open_folder_button = QPushButton("Open folder…")
        self.open_folder_button.setToolTip("Choose a folder of images, MNIST IDX files, CIFAR-10 batches, CelebA, "
                                           "a pix2pix or a CycleGAN folder")
        self.open_folder_button.clicked.connect(self.open_folder)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.open_files_button)
        buttons.addWidget(self.open_folder_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(hint)
        layout.addLayout(buttons)

    # --- dialogs --------------------------------------------------------------------------------
    def open_files(self) -> None:
        """Ask for dataset files and emit them."""
        paths, _ = QFileDialog.getOpenFileNames(self, "Open dataset files", "", FILE_FILTER)
        if paths:
            self.pathsDropped.emit(paths)

    def open_folder(self) -> None:
        """Ask for a dataset folder and emit it."""
        path = QFileDialog.getExistingDirectory(self, "Open dataset folder")
        if path:
            self.pathsDropped.emit([path])

    # --- drag and drop --------------------------------------------------------------------------
    def _set_hover(self, on: bool) -> None:
        self.setProperty("hover", "true" if on else "false")
        self.style().unpolish(self)
        self.style().polish(self)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
            self._set_hover(True)
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802 - Qt override
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:  # noqa: N802 - Qt override
        self._set_hover(False)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        self._set_hover(False)
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        paths = [u.toLocalFile() for u in urls if u.isLocalFile()]
        if not paths:
            self.rejected.emit("only files and folders on this computer can be dropped; for an online set, "
                               "pick it from the Online list")
            event.ignore()
            return
        event.acceptProposedAction()
        self.pathsDropped.emit(paths)
