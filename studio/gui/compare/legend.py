"""Runs named in their colours, painted rather than laid out: the Compare view's legend and grid titles.

A QLabel's new text re-lays-out the view around it, and that repainted every chart at once (four charts
for one legend update, hundreds of ms with eight runs). This widget has a fixed height and only repaints
itself: each entry is a colour swatch, a bold name and a dim note, wrapped to as many rows as it has.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

GAP = 18  # between entries


@dataclass(frozen=True)
class Entry:
    colour: str
    name: str
    note: str = ""


class LegendStrip(QWidget):
    """Entries in up to `rows` rows (the rest elided); `set_entries` repaints this widget only."""

    def __init__(self, rows: int = 2, parent: QWidget | None = None, empty: str = "") -> None:
        super().__init__(parent)
        self.rows = rows
        self.empty = empty
        self.entries: list[Entry] = []
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(rows * self._line() + 4)

    def _line(self) -> int:
        return self.fontMetrics().height() + 6

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return QSize(400, self.rows * self._line() + 4)

    def set_entries(self, entries: list[Entry]) -> None:
        if entries != self.entries:
            self.entries = list(entries)
            self.setToolTip("\n".join(f"{e.name} {e.note}".strip() for e in entries))
            self.update()

    def text(self) -> str:
        """The entries as plain text (tests)."""
        return "  ".join(f"■ {e.name} {e.note}".strip() for e in self.entries) or self.empty

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        normal = self.font()
        bold = QFont(normal)
        bold.setBold(True)
        text_colour = self.palette().color(QPalette.ColorRole.WindowText)
        dim = QColor(text_colour)
        dim.setAlpha(150)
        line = self._line()
        if not self.entries:
            painter.setPen(dim)
            painter.drawText(QRectF(2, 2, self.width() - 4, line), Qt.AlignmentFlag.AlignVCenter, self.empty)
            return
        bold_metrics, normal_metrics = QFontMetrics(bold), QFontMetrics(normal)
        x, row = 2.0, 0
        for entry in self.entries:
            name_w = bold_metrics.horizontalAdvance(entry.name) + (6 if entry.name else 0)
            note_w = normal_metrics.horizontalAdvance(entry.note) + 2 if entry.note else 0
            width = 16 + name_w + note_w
            if x > 2 and x + width > self.width():
                x, row = 2.0, row + 1
            if row >= self.rows:
                break
            top = 2 + row * line
            size = line - 10
            if entry.name:  # an entry without a name is a note of its own: no swatch
                painter.fillRect(QRectF(x, top + (line - size) / 2, size, size), QColor(entry.colour))
            painter.setFont(bold)
            painter.setPen(text_colour)
            room = max(0.0, self.width() - x - 16)
            painter.drawText(QRectF(x + 16, top, min(name_w, room), line), Qt.AlignmentFlag.AlignVCenter, entry.name)
            if entry.note:
                painter.setFont(normal)
                painter.setPen(dim)
                left = x + 16 + name_w
                elided = normal_metrics.elidedText(entry.note, Qt.TextElideMode.ElideRight,
                                                   max(0, int(self.width() - left)))
                painter.drawText(QRectF(left, top, max(0.0, self.width() - left), line), Qt.AlignmentFlag.AlignVCenter,
                                 elided)
            x += width + GAP
        painter.end()
