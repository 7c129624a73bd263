"""ImageView: shows a uint8 H×W×C grid scaled to fit, with crisp (nearest-neighbour) pixels."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QImage, QPainter, QPixmap
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


def qimage_from_array(image: np.ndarray) -> QImage:
    """A QImage that owns a copy of an H×W (grey), H×W×1 or H×W×3 uint8 array."""
    arr = np.ascontiguousarray(image)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = np.ascontiguousarray(arr[..., 0])
    if arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    h, w = arr.shape[:2]
    if arr.ndim == 2:
        return QImage(arr.data, w, h, arr.strides[0], QImage.Format.Format_Grayscale8).copy()
    if arr.shape[2] == 4:
        return QImage(arr.data, w, h, arr.strides[0], QImage.Format.Format_RGBA8888).copy()
    return QImage(arr.data, w, h, arr.strides[0], QImage.Format.Format_RGB888).copy()


class ImageView(QLabel):
    """Shows the newest image grid scaled to fit, with crisp (nearest-neighbour) pixels when enlarged.

    The image is painted, not set as the label's pixmap: a pixmap would change the label's size hint
    with every new grid and re-lay-out (and repaint) the whole tab around it.
    """

    def __init__(self, placeholder: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(QSize(160, 160))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setObjectName("imageView")
        self.setWordWrap(True)
        self._placeholder = placeholder
        self._pixmap: QPixmap | None = None
        self.image: np.ndarray | None = None
        self.updates = 0  # how many images were shown (tests and selfcheck count them)
        self.setText(placeholder)

    def set_image(self, image: np.ndarray | None) -> None:
        """Show `image` (uint8 H×W×C); None shows the placeholder text."""
        self.image = image
        if image is None:
            self._pixmap = None
            self.setText(self._placeholder)
            self.update()
            return
        self._pixmap = QPixmap.fromImage(qimage_from_array(image))
        if self.text():
            self.setText("")
        self.updates += 1
        self.update()

    def image_rect(self) -> QRect:
        """Where the image is drawn: centred, as large as fits (a whole factor when that still fills most of it)."""
        if self._pixmap is None or self._pixmap.isNull():
            return QRect()
        w, h = max(1, self.width() - 4), max(1, self.height() - 4)
        pw, ph = self._pixmap.width(), self._pixmap.height()
        factor = min(w / pw, h / ph)
        if factor >= 2:
            factor = int(factor)
        size = QSize(max(1, int(pw * factor)), max(1, int(ph * factor)))
        return QRect((self.width() - size.width()) // 2, (self.height() - size.height()) // 2, size.width(),
                     size.height())

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().paintEvent(event)  # background, border and the placeholder text
        if self._pixmap is None or self._pixmap.isNull():
            return
        target = self.image_rect()
        painter = QPainter(self)
        # Enlarged: nearest neighbour keeps each generated pixel square; reduced: smooth.
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, target.width() < self._pixmap.width())
        painter.drawPixmap(target, self._pixmap)
        painter.end()
