"""Files written so that a crash leaves the old file or the new one, never half, and errors that name the file.

A leaf module: settings, caches, run directories and exports all write through it.
"""

from __future__ import annotations

import errno
import os
import tempfile
import time
from pathlib import Path

# Fault injection for the crash tests (tests/test_reliability_crash.py): with this set to a number of
# seconds, every atomic write and every metrics line is written in two halves with a pause between,
# so that a kill at a random moment often lands in the middle of a write. Never set in normal use.
WRITE_DELAY_ENV = "STUDIO_TEST_WRITE_DELAY"
TEMP_SUFFIX = ".tmp"  # atomic_write_bytes' temp files: .<name>.<random>.tmp beside the target


def write_delay() -> float:
    try:
        return max(0.0, float(os.environ.get(WRITE_DELAY_ENV) or 0.0))
    except ValueError:
        return 0.0


def write_in_halves(fh, data, delay: float) -> None:
    """Write `data`; under the fault-injection delay, half of it, flushed, then a pause, then the rest."""
    if delay <= 0:
        fh.write(data)
        return
    half = len(data) // 2
    fh.write(data[:half])
    fh.flush()
    time.sleep(delay)
    fh.write(data[half:])


def write_error_message(path: Path | str, exc: OSError) -> str:
    """One line for a failed write: a full disk is named as such, with the file."""
    if exc.errno == errno.ENOSPC:
        return f"{path}: the disk is full (no space left on device); free some space and try again"
    if exc.errno == getattr(errno, "EDQUOT", -1):
        return f"{path}: the disk quota is exceeded; free some space and try again"
    return f"{path}: cannot write it ({exc.strerror or exc})"


def os_error_message(exc: OSError) -> str:
    """One line for any OSError: the file it concerns and what went wrong (a full disk by name)."""
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return write_error_message(exc.filename or "writing", exc)
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or exc}"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that a crash leaves either the old file or the new, never half.

    A failure (a full disk included) removes the temp file and raises OSError naming `path`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write_in_halves(fh, data, write_delay())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError) and exc.filename != str(path):
            # Name the file the user knows (not the temp file, or nothing at all as write() gives).
            raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc
        raise
    fsync_dir(path.parent)


def remove_stale_temp_files(folder: Path) -> list[Path]:
    """Delete temp files a killed writer left in `folder` (the targets themselves are intact)."""
    removed = []
    try:
        candidates = list(Path(folder).glob(f".*{TEMP_SUFFIX}"))
    except OSError:
        return removed
    for tmp in candidates:
        try:
            tmp.unlink()
            removed.append(tmp)
        except OSError:
            pass
    return removed


def fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
