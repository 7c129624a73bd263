"""Starting the Qt application (placeholder window until the studio window lands)."""

from __future__ import annotations

import sys


def run_app(dataset: str | None = None, run: str | None = None) -> int:
    """Open the studio window and run the event loop."""
    from PySide6.QtWidgets import QApplication, QLabel

    app = QApplication.instance() or QApplication(sys.argv)
    label = QLabel("GAN Studio: the studio window is coming. Use `studio train` meanwhile.")
    label.resize(640, 200)
    label.show()
    return app.exec()
