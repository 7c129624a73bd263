"""What the window remembers between launches: geometry, tab, theme, the Train tab's form, recent runs (how
curves are drawn is remembered by the charts themselves: studio/runs/curve_settings.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QByteArray
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow, QMenu

from .. import settings as user_settings

MAX_RECENT = 10


def restore_window(window: QMainWindow) -> None:
    """Geometry, dock state, current tab and theme as last saved (a fresh window at 1280×800)."""
    saved = user_settings.load_settings()
    state = saved.get("window") if isinstance(saved.get("window"), dict) else {}
    try:
        if state.get("geometry"):
            window.restoreGeometry(QByteArray.fromBase64(state["geometry"].encode("ascii")))
        if state.get("state"):
            window.restoreState(QByteArray.fromBase64(state["state"].encode("ascii")))
    except (AttributeError, TypeError, ValueError):
        pass
    if not state.get("geometry"):
        window.resize(1280, 800)
    if isinstance(state.get("tab"), int):
        window.tabs.setCurrentIndex(state["tab"])
    window.set_theme(saved.get("theme", "dark"))


def save_window(window: QMainWindow) -> None:
    """Remember geometry, theme and the Train tab's form; a failure is shown on the status bar."""
    try:
        user_settings.update_settings(
            window={"geometry": bytes(window.saveGeometry().toBase64()).decode("ascii"),
                    "state": bytes(window.saveState().toBase64()).decode("ascii"),
                    "tab": window.tabs.currentIndex()},
            theme=window.theme, last_train=window.train_tab.state())
    except OSError as exc:
        window.statusBar().showMessage(f"Settings not saved ({user_settings.settings_path()}: {exc})", 8000)


def add_recent_run(path: str | Path) -> None:
    path = str(Path(path).resolve())
    recent = [p for p in user_settings.get_setting("recent_runs", []) if isinstance(p, str) and p != path]
    try:
        user_settings.update_settings(recent_runs=[path] + recent[: MAX_RECENT - 1])
    except OSError:
        pass


def fill_recent_menu(menu: QMenu, open_run: Callable[[str], object], compare: QAction | None = None) -> None:
    """File → Recent runs: the newest first; runs whose folder is gone are greyed; `compare` (Compare runs…,
    whose list holds this history) last."""
    menu.clear()
    recent = [p for p in user_settings.get_setting("recent_runs", []) if isinstance(p, str)]
    if not recent:
        menu.addAction("(no runs yet)").setEnabled(False)
    for path in recent:
        action = menu.addAction(Path(path).name)
        action.setToolTip(path)
        action.setEnabled(Path(path).is_dir())
        action.triggered.connect(lambda checked=False, p=path: open_run(p))
    if compare is not None:
        menu.addSeparator()
        menu.addAction(compare)


def reopenable(source: str) -> bool:
    """Whether a saved dataset can be loaded at start-up without asking: a built-in set or an existing path."""
    if source.startswith("builtin:"):
        return True
    if ":" in source.split("/")[0] and not Path(source).exists():
        return False  # quickdraw:/torchvision: would download
    return Path(source).exists()
