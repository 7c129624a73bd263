"""Starting the Qt application: the window appears first, the slower set-up (torch, methods) follows."""

from __future__ import annotations

import json
import os
import sys
import time

from ..settings import isolated_settings  # noqa: F401 - named here too, where the window's callers look for it


def make_app(argv: list[str] | None = None):
    """The QApplication (created once), named for settings and the desktop entry."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1] if argv is None else argv)
    app.setApplicationName("GAN Studio")
    app.setOrganizationName("gan-studio")
    app.setDesktopFileName("gan-studio")
    from .collector import collect_on_gui_thread
    from .qtcheck import check_void_calls

    check_void_calls()  # before anything paints: a broken PySide6 build is found and worked around here
    collect_on_gui_thread()
    return app


def dispose(window) -> None:
    """Close `window` and destroy it now, so no Qt object outlives the interpreter's clean-up at exit."""
    from PySide6.QtCore import QCoreApplication, QEvent

    window.close()
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    QCoreApplication.processEvents()


def open_window(dataset: str | None = None, run: str | None = None):
    """Create and show the studio window; the slower set-up (torch, methods, arguments) follows in the event loop."""
    app = make_app()
    from .main_window import MainWindow
    from .theme import app_icon

    app.setWindowIcon(app_icon())
    window = MainWindow(populate=False)
    window.show()
    # Torch and the method registry load after the first paint, so the window appears at once
    # (a zero timer alone may fire before the first paint, and importing torch takes seconds).
    after_first_paint(window, lambda: window.finish_setup(dataset=dataset, run=run))
    if os.environ.get("STUDIO_LAUNCH_PROBE"):  # `studio bench`: print when the window first paints, then exit
        _probe_first_paint(window)
    return window


def _probe_first_paint(window) -> None:
    """Print `STUDIO_LAUNCH_PROBE {json}` with the wall-clock time of `window`'s first painted frame
    (and whether torch was imported by then), then end the process (`studio bench`'s launch figure,
    studio/bench/launch.py). Installed after the deferred set-up, so it runs first."""

    def report() -> None:
        record = {"painted": time.time(), "torch_loaded": "torch" in sys.modules}
        print("STUDIO_LAUNCH_PROBE " + json.dumps(record), flush=True)
        # A measuring process ends here: no close (which saves settings) and no deferred set-up (torch).
        os._exit(0)

    after_first_paint(window, report, fallback_ms=60_000)


def after_first_paint(window, callback, fallback_ms: int = 1000) -> None:
    """Call `callback` once, just after `window`'s first frame is painted (or after `fallback_ms` without one).

    Watchers run in reverse order of installation: one installed later is called earlier.
    """
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QWidget

    app = QApplication.instance()
    done: list[bool] = []

    class Watcher(QObject):
        def eventFilter(self, obj, event):  # noqa: N802 - Qt's name
            if not done and event.type() == QEvent.Type.Paint and isinstance(obj, QWidget) and obj.window() is window:
                QTimer.singleShot(0, fire)  # after this paint pass, when the frame is complete
            return False

    def fire() -> None:
        if not done:
            done.append(True)
            app.removeEventFilter(watcher)
            callback()

    watcher = Watcher(window)
    app.installEventFilter(watcher)
    QTimer.singleShot(fallback_ms, fire)


def run_app(dataset: str | None = None, run: str | None = None) -> int:
    """Open the studio window (optionally on a dataset source or a run directory) and run the event loop."""
    window = open_window(dataset, run)  # noqa: F841 - held until the event loop ends
    return make_app().exec()
