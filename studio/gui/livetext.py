"""LiveText: a one-line text that changes often without re-laying-out the window.

A QLabel's setText asks its parent layout to recompute, which repaints everything beside it (the
charts, tens of milliseconds each time); this widget only repaints itself.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFont, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget


class LiveText(QWidget):
    """One line of text (an optional bold prefix, then plain text), elided to its width."""

    def __init__(self, text: str = "", dim: bool = False, parent: QWidget | None = None):
        super().__init__(parent)
        self._bold = ""
        self._text = ""
        self._dim = dim
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(self.fontMetrics().height() + 6)
        self.setText(text)

    def text(self) -> str:
        """The whole line as shown (prefix and text)."""
        return f"{self._bold}{self._text}"

    def setText(self, text: str, bold: str = "") -> None:  # noqa: N802 - the QLabel name, for drop-in use
        if (bold, text) == (self._bold, self._text):
            return
        self._bold, self._text = bold, text
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(200, self.fontMetrics().height() + 6)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        role = QPalette.ColorRole.PlaceholderText if self._dim else QPalette.ColorRole.WindowText
        painter.setPen(self.palette().color(role))
        rect = self.rect().adjusted(2, 0, -2, 0)
        flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        if self._bold:
            font = QFont(self.font())
            font.setBold(True)
            painter.setFont(font)
            bold = painter.fontMetrics().elidedText(self._bold, Qt.TextElideMode.ElideMiddle, rect.width())
            painter.drawText(rect, flags, bold)
            rect.setLeft(rect.left() + painter.fontMetrics().horizontalAdvance(bold))
            painter.setFont(self.font())
        painter.drawText(rect, flags, self.fontMetrics().elidedText(self._text, Qt.TextElideMode.ElideRight,
                                                                    max(0, rect.width())))
        painter.end()
