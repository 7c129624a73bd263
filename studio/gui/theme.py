"""Dark and light looks: the style sheet from resources/, a matching palette, and plot colours."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtWidgets import QApplication

THEMES = ("dark", "light")

# Plot colours per theme: background, foreground (axes, text), and the curve cycle.
PLOT_COLOURS = {
    "dark": {"background": "#15161c", "foreground": "#c9cde0", "grid": 60},
    "light": {"background": "#ffffff", "foreground": "#2b2f42", "grid": 90},
}
CURVE_COLOURS = ["#6c8cff", "#ff7a59", "#3fc380", "#f0c828", "#c86ee6", "#46d2dc", "#ff5c8a", "#a0a4b8"]
# Used only when resources/<theme>.qss cannot be found: the few rules the studio cannot do without.
FALLBACK_SHEET = ("QPushButton:checked { background-color: palette(highlight); "
                  "color: palette(highlighted-text); font-weight: bold; }")


def resource_dirs() -> list[Path]:
    """Where resources/ may be: the frozen app's bundle, the source checkout, the installed package."""
    dirs = []
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        dirs.append(Path(frozen) / "resources")
    here = Path(__file__).resolve()
    dirs += [here.parents[2] / "resources", here.parents[1] / "resources"]
    return dirs


def resource_path(name: str) -> Path | None:
    """The first existing resources/<name>, or None (the studio still runs without it)."""
    for folder in resource_dirs():
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def app_icon() -> QIcon:
    """The studio's icon (SVG where Qt can render it, else the PNG)."""
    icon = QIcon()
    for name in ("icon.png", "icon.svg"):
        path = resource_path(name)
        if path is not None:
            icon.addFile(str(path))
    return icon


def _palette(theme: str) -> QPalette:
    pal = QPalette()
    if theme == "dark":
        roles = {QPalette.ColorRole.Window: "#1e1f26", QPalette.ColorRole.WindowText: "#e4e6ee",
                 QPalette.ColorRole.Base: "#262833", QPalette.ColorRole.AlternateBase: "#23252f",
                 QPalette.ColorRole.Text: "#e4e6ee", QPalette.ColorRole.Button: "#2d3040",
                 QPalette.ColorRole.ButtonText: "#e4e6ee", QPalette.ColorRole.Highlight: "#4a5fc1",
                 QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: "#2d3040",
                 QPalette.ColorRole.ToolTipText: "#f0f2fa", QPalette.ColorRole.PlaceholderText: "#7d8196"}
    else:
        roles = {QPalette.ColorRole.Window: "#f5f6fa", QPalette.ColorRole.WindowText: "#1f2230",
                 QPalette.ColorRole.Base: "#ffffff", QPalette.ColorRole.AlternateBase: "#f0f1f6",
                 QPalette.ColorRole.Text: "#1f2230", QPalette.ColorRole.Button: "#ffffff",
                 QPalette.ColorRole.ButtonText: "#1f2230", QPalette.ColorRole.Highlight: "#b9c7f5",
                 QPalette.ColorRole.HighlightedText: "#10121c", QPalette.ColorRole.ToolTipBase: "#ffffff",
                 QPalette.ColorRole.ToolTipText: "#1f2230", QPalette.ColorRole.PlaceholderText: "#8a8fa5"}
    for role, colour in roles.items():
        pal.setColor(role, QColor(colour))
    return pal


def apply_theme(app: QApplication, theme: str) -> str:
    """Give the whole application the named look ('dark' or 'light'); returns the theme applied."""
    theme = theme if theme in THEMES else "dark"
    if app.property("studioTheme") == theme:
        return theme  # re-polishing every widget for the same sheet costs seconds in a big window
    app.setProperty("studioTheme", theme)
    app.setStyle("Fusion")  # the same widgets on every platform, so the style sheets look as designed
    app.setPalette(_palette(theme))
    path = resource_path(f"{theme}.qss")
    sheet = path.read_text(encoding="utf-8").replace("@RESOURCES@", path.parent.as_posix()) if path else FALLBACK_SHEET
    app.setStyleSheet(sheet)
    return theme
