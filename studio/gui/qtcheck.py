"""A start-up check for PySide6 builds that lose a reference to None on every call of a void Qt method.

PySide6 6.12.0 on Python 3.10 and 3.11 returns None from a void method (`QWidget.update`,
`QPainter.setPen`, ...) without taking the reference it hands back, so every such call lowers None's
reference count by one. The window makes thousands of them a second while it paints; when the count
reaches zero the interpreter aborts ("none_dealloc: deallocating None"), minutes into a session and
with the window's state lost. From Python 3.12 on None is immortal and the defect is harmless.

`check_void_calls()` measures it in a few microseconds. Where it finds the defect it returns the
message to show, and `keep_none_alive()` gives None enough spare references for any session (what
Python 3.12 does by making it immortal), so the window survives until the user installs a sound build.
"""

from __future__ import annotations

import ctypes
import sys

SOUND_VERSIONS = "PySide6-Essentials 6.11.3 (or any release but 6.12.0), or Python 3.12 or newer"
FIX_COMMAND = 'pip install "PySide6-Essentials!=6.12.0"'
PROBE_CALLS = 64
SPARE_REFERENCES = 1 << 40  # a void call a microsecond would take 12 days to spend them

_finding: str | None = None
_checked = False


def none_is_immortal() -> bool:
    """True where the interpreter never frees None, whatever its reference count says (Python 3.12+)."""
    return sys.version_info >= (3, 12)


def references_lost(calls: int = PROBE_CALLS) -> int:
    """How many references to None `calls` void Qt calls lose: 0 on a sound build."""
    from PySide6.QtCore import QRect

    rect = QRect(0, 0, 1, 1)
    before = sys.getrefcount(None)
    for _ in range(calls):
        rect.setLeft(0)  # void: returns None
    return before - sys.getrefcount(None)


def check_void_calls() -> str | None:
    """None on a sound build; otherwise one message naming the defect and the fix. Measured once a process."""
    global _checked, _finding
    if _checked:
        return _finding
    _checked = True
    if none_is_immortal():
        return None
    lost = references_lost()
    if lost <= 0:
        return None
    import PySide6

    kept = keep_none_alive()
    _finding = (f"This PySide6 build ({PySide6.__version__} on Python {sys.version_info.major}."
                f"{sys.version_info.minor}) loses a reference to None on every Qt call that returns nothing "
                f"({lost} of {PROBE_CALLS} calls); left alone, the interpreter aborts after a few minutes. "
                + ("The studio has worked around it for this session. " if kept else "")
                + f"To fix it for good, install {SOUND_VERSIONS}: {FIX_COMMAND}")
    print(f"GAN Studio: {_finding}", file=sys.stderr)  # once a process; the window's banner repeats it
    return _finding


def keep_none_alive() -> bool:
    """Give None SPARE_REFERENCES extra references, so lost ones never bring it to zero; False if not possible.

    Only on a release build of CPython before 3.12, where a PyObject starts with its reference count (a
    debug build keeps two list pointers in front of it, and 3.12's None is immortal anyway).
    """
    if none_is_immortal() or sys.implementation.name != "cpython" or hasattr(sys, "gettotalrefcount"):
        return False
    refcount = ctypes.c_ssize_t.from_address(id(None))
    if refcount.value != sys.getrefcount(None) - 1:  # getrefcount counts its own argument
        return False  # not the layout this relies on: touch nothing
    refcount.value += SPARE_REFERENCES
    return True
