"""The PySide6 build the project resolves must not lose references to None (issue 20), and the window must
say so plainly, and survive, where a user's own build does."""

import subprocess
import sys
import textwrap

import pytest

from studio.gui import qtcheck

pytestmark = pytest.mark.gui

CALLS = 100_000


@pytest.mark.skipif(qtcheck.none_is_immortal(), reason="None is immortal from Python 3.12: nothing to lose")
def test_void_qt_calls_leave_none_alone(qapp):
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QFont, QPainter, QPen, QPixmap
    from PySide6.QtWidgets import QWidget

    widget, rect, font, pixmap = QWidget(), QRect(0, 0, 8, 8), QFont(), QPixmap(8, 8)
    painter = QPainter(pixmap)
    pen = QPen()
    calls = {
        "QRect.setLeft": lambda: rect.setLeft(1),
        "QFont.setBold": lambda: font.setBold(True),
        "QWidget.update": widget.update,
        "QPainter.setPen": lambda: painter.setPen(pen),
    }
    # Spare references, so a broken build fails this assertion instead of aborting the interpreter.
    spare = [None] * (len(calls) * CALLS)
    try:
        lost = {}
        for name, call in calls.items():
            call()  # a first call may create lasting objects (type caches) that hold None
            before = sys.getrefcount(None)
            for _ in range(CALLS):
                call()
            lost[name] = before - sys.getrefcount(None)
    finally:
        painter.end()
    if any(lost.values()):  # those references are gone for good: keep None alive for the rest of the run
        qtcheck.keep_none_alive()
    del spare
    assert lost == dict.fromkeys(calls, 0), (
        f"references to None lost per {CALLS:,} void calls: {lost}; this PySide6 build aborts the window after "
        f"a few minutes: install {qtcheck.SOUND_VERSIONS}")


def test_the_start_up_check_finds_nothing_here(qapp):
    assert qtcheck.references_lost() == 0
    assert qtcheck.check_void_calls() is None


def test_a_broken_build_is_named_in_the_banner_with_the_fix(qapp, tmp_path, monkeypatch, qtbot):
    """A stand-in for a broken build (the probe reports losses): the window says so once, with the fix."""
    from studio.gui.main_window import MainWindow

    monkeypatch.setattr(qtcheck, "_checked", False)
    monkeypatch.setattr(qtcheck, "none_is_immortal", lambda: False)
    monkeypatch.setattr(qtcheck, "references_lost", lambda calls=qtcheck.PROBE_CALLS: calls)
    monkeypatch.setattr(qtcheck, "keep_none_alive", lambda: True)
    monkeypatch.setenv("STUDIO_CONFIG_DIR", str(tmp_path / "config"))
    window = MainWindow()
    window.interactive = False
    window.ask_before_close = False
    qtbot.addWidget(window)
    text = window.banner.text
    assert "loses a reference to None" in text
    assert "6.11.3" in text and "worked around it" in text
    monkeypatch.setattr(qtcheck, "_checked", False)  # the next window measures afresh


@pytest.mark.skipif(qtcheck.none_is_immortal(), reason="None is immortal from Python 3.12")
def test_the_workaround_outlasts_lost_references():
    """After keep_none_alive, losing far more references than None had does not abort the interpreter."""
    script = textwrap.dedent("""
        import ctypes, sys
        from studio.gui.qtcheck import keep_none_alive
        had = sys.getrefcount(None)
        assert keep_none_alive()
        for _ in range(3 * had):  # what a leaking build does, a hundred thousand times faster
            ctypes.pythonapi.Py_DecRef(ctypes.py_object(None))
        import gc; gc.collect()
        print("alive", sys.getrefcount(None) > had)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "alive True"
