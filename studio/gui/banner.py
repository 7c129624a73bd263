"""Banner: a message strip above the tabs for errors and notices, with an optional action button."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget


class Banner(QWidget):
    """Shows one message at a time; an error stays until dismissed or replaced."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.label = QLabel()
        self.label.setObjectName("banner")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setTextFormat(Qt.TextFormat.RichText)  # messages are escaped HTML, info ones included
        self.label.setFocusPolicy(Qt.FocusPolicy.ClickFocus)  # tabbing into it would select the whole text
        self.action_button = QPushButton()
        self.action_button.setToolTip("Do what the message suggests")
        self.action_button.hide()
        self.dismiss_button = QPushButton("Dismiss")
        self.dismiss_button.setToolTip("Hide this message")
        self.dismiss_button.clicked.connect(self.clear)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.action_button)
        layout.addWidget(self.dismiss_button)
        self._action: Callable[[], None] | None = None
        self.action_button.clicked.connect(self._run_action)
        self.level = ""
        self.hide()

    @property
    def text(self) -> str:
        """The message shown ('' when the banner is hidden)."""
        return "" if self.isHidden() else self.label.text()

    def show_message(self, text: str, level: str = "error",
                     action: tuple[str, Callable[[], None]] | None = None) -> None:
        """Show `text` ('error' or 'info'); `action` adds a button (label, callback)."""
        self.level = level
        self.label.setProperty("level", level)
        self.label.style().unpolish(self.label)
        self.label.style().polish(self.label)
        self.label.setText(text)
        if action is not None:
            self.action_button.setText(action[0])
            self.action_button.setToolTip(action[0])
            self._action = action[1]
            self.action_button.show()
        else:
            self._action = None
            self.action_button.hide()
        self.show()

    def clear(self) -> None:
        self.level = ""
        self.label.setText("")
        self._action = None
        self.action_button.hide()
        self.hide()

    def _run_action(self) -> None:
        action = self._action
        self.clear()
        if action is not None:
            action()
