"""The stand-in for the Sample tab until the latent explorer is loaded, and the loader of the real one.

The window shows the stand-in from its first paint and replaces it once torch is loaded (the explorer
imports it); it talks to either only through `SampleView` (studio/gui/sample/protocol.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from .imageview import ImageView
from .sample.protocol import SampleView, Snapshot


class SamplePlaceholder(QWidget):
    """Stands in for the Sample tab until the window's deferred set-up loads it: the newest sample grid."""

    shortcut_keys: tuple[str, ...] = ()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.note = QLabel("The newest samples of the current run.")
        self.note.setObjectName("hint")
        self.note.setWordWrap(True)
        self.view = ImageView("Samples appear here once a run is training or opened")
        self.view.setToolTip("The newest sample grid of the current run")
        layout = QVBoxLayout(self)
        layout.addWidget(self.note)
        layout.addWidget(self.view, 1)

    def set_live_source(self, fn: Snapshot | None) -> None:
        pass  # no explorer: the grids arrive through show_latest_grid

    def load_run(self, path: str | Path) -> None:
        from ..engine.follow import read_grid
        from ..engine.rundir import RunDirectory

        frames = RunDirectory(path).sample_images()
        self.view.set_image(read_grid(frames[-1][1]) if frames else None)

    def show_latest_grid(self, image: np.ndarray) -> None:
        self.view.set_image(image)

    def shutdown(self) -> None:
        pass


def load_sample_tab() -> SampleView:
    """The latent explorer (it imports torch: loaded after the window's first paint)."""
    from .sample import SampleTab

    return SampleTab()
