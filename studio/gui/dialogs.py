"""The window's dialogs: About, the method descriptions, and the question before closing mid-run."""

from __future__ import annotations

import html

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QMessageBox, QTextBrowser, QVBoxLayout, QWidget


def studio_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gan-studio")
    except PackageNotFoundError:
        return "development"


def about_text() -> str:
    return (f"<h3>GAN Studio {studio_version()}</h3><p>Train, watch and explore generative image models: GANs, "
            "WGANs, BEGAN, VAEs and image-to-image translation, on your own images or built-in sets.</p>"
            "<p>Qt (PySide6), PyTorch and pyqtgraph. MIT licence.</p>")


def method_descriptions(parent: QWidget) -> QDialog:
    """A dialog describing every method: what it does, its source, data kinds and presets (not yet shown)."""
    from ..methods.registry import describe_methods

    parts = []
    for m in describe_methods():
        presets = ", ".join(m["presets"]) or "none"
        parts.append(f"<h3>{html.escape(m['title'])} <small>({m['name']})</small></h3>"
                     f"<p>{html.escape(m['description'])}</p><p><i>{html.escape(m['source'])}</i></p>"
                     f"<p>Trains on: {', '.join(m['datasets'])} · presets: {presets}</p>")
    dialog = QDialog(parent)
    dialog.setWindowTitle("Method descriptions")
    browser = QTextBrowser()
    browser.setHtml("".join(parts))
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addWidget(browser)
    layout.addWidget(buttons)
    dialog.resize(720, 640)
    return dialog


def confirm_close_while_training(parent: QWidget, in_processes: bool) -> bool:
    """Ask whether to stop the run and quit; True for yes."""
    kept = ("The run keeps its last periodic checkpoint." if in_processes else
            "The last checkpoint is written first, so you can continue the run later.")
    answer = QMessageBox.question(
        parent, "Training is running", f"A run is still training. Stop it and quit? {kept}",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes
