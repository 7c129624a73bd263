"""SampleGrid: a page of generated samples, one cell per seed; click (or arrow keys) to select."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

from ..imageview import qimage_from_array

GAP = 4


class SampleGrid(QWidget):
    """Paints N images in a square-ish grid, scaled to fit with crisp pixels; emits `selected(index)`."""

    selected = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("sampleGrid")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(QSize(200, 200))
        self._pixmaps: list[QPixmap] = []
        self._captions: list[str] = []
        self._count = 16
        self.current = -1
        self.placeholder = "Open a run or a checkpoint to see its samples"
        self.updates = 0
        self.images: np.ndarray | None = None

    def set_images(self, images: np.ndarray | None, captions: list[str]) -> None:
        """Show N×H×W×C uint8 images (None: the placeholder) with one caption (the seed) per cell."""
        self.images = images
        self._pixmaps = [] if images is None else [QPixmap.fromImage(qimage_from_array(im)) for im in images]
        self._captions = list(captions)
        self._count = max(1, len(captions))
        if images is not None:
            self.updates += 1
        self.update()

    def set_current(self, index: int) -> None:
        """Highlight cell `index` (-1: none)."""
        self.current = index
        self.update()

    def _side(self, cols: int) -> int:
        rows = max(1, math.ceil(self._count / cols))
        return max(8, min((self.width() - GAP) // cols, (self.height() - GAP) // rows) - GAP)

    def columns(self) -> int:
        """The number of columns that gives the biggest cells in the widget's current shape."""
        return max(range(1, self._count + 1), key=lambda c: (self._side(c), -c))

    def cell_rect(self, index: int) -> QRect:
        """Where cell `index` is painted."""
        cols = self.columns()
        rows = max(1, math.ceil(self._count / cols))
        side = self._side(cols)
        left = (self.width() - cols * (side + GAP) + GAP) // 2
        top = (self.height() - rows * (side + GAP) + GAP) // 2
        r, c = divmod(index, cols)
        return QRect(left + c * (side + GAP), top + r * (side + GAP), side, side)

    def index_at(self, x: int, y: int) -> int:
        """The cell under a point, or -1."""
        for i in range(len(self._captions)):
            if self.cell_rect(i).contains(x, y):
                return i
        return -1

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        p = QPainter(self)
        pal = self.palette()
        if not self._pixmaps:
            p.setPen(pal.placeholderText().color())
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.placeholder)
            return
        small = QFont(self.font())
        small.setPointSizeF(max(6.0, small.pointSizeF() * 0.8))
        p.setFont(small)
        for i, pix in enumerate(self._pixmaps):
            rect = self.cell_rect(i)
            # Nearest-neighbour: a 32-pixel sample shown at 120 pixels should look like pixels, not mush.
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, pix.width() > rect.width())
            p.drawPixmap(rect, pix)
            caption = self._captions[i] if i < len(self._captions) else ""
            if caption:
                box = QRect(rect.left(), rect.bottom() - 15, min(rect.width(), 8 + 7 * len(caption)), 16)
                p.fillRect(box, QColor(0, 0, 0, 150))
                p.setPen(QColor(235, 235, 235))
                p.drawText(box.adjusted(4, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, caption)
        if 0 <= self.current < len(self._pixmaps):
            p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            p.setPen(QPen(pal.highlight().color(), 3))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(self.cell_rect(self.current).adjusted(-2, -2, 1, 1))

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        index = self.index_at(int(event.position().x()), int(event.position().y()))
        if index >= 0:
            self.selected.emit(index)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        moves = {Qt.Key.Key_Left: -1, Qt.Key.Key_Right: 1, Qt.Key.Key_Up: -self.columns(),
                 Qt.Key.Key_Down: self.columns()}
        step = moves.get(Qt.Key(event.key()))
        if step is None or not self._captions:
            super().keyPressEvent(event)
            return
        self.selected.emit(max(0, min(len(self._captions) - 1, max(self.current, 0) + step)))
