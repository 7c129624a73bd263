"""Cheap process figures for the Monitor tab: resident memory and CUDA memory (no Qt)."""

from __future__ import annotations

import os
import sys
import threading
from collections import deque


def process_rss_bytes() -> int:
    """This process's resident memory in bytes (0 where the platform does not say)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        pass
    try:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024  # the peak: the best the platform offers
    except (ImportError, OSError):
        return 0


class MemoryReading:
    """This process's resident memory for a label refreshed on the GUI thread, read on a short-lived thread per
    `request()`: read on the GUI thread, /proc/self/statm waited 50-90 ms at times while a reader thread parsed
    a long run's log (as the bench's PeakMemory found). No thread outlives its read: a thread that stayed would
    keep forked data-decoding workers off (`parallel.can_fork`) in the process."""

    def __init__(self) -> None:
        self.latest = 0  # bytes, as the last finished read found them (0 before the first)
        self._reading: threading.Thread | None = None

    def request(self) -> int:
        """Start a read unless one is under way; returns the last finished one (0 before the first)."""
        if self._reading is None or not self._reading.is_alive():
            self._reading = threading.Thread(target=self._read, name="memory-reading", daemon=True)
            self._reading.start()
        return self.latest

    def _read(self) -> None:
        self.latest = process_rss_bytes()


def cuda_memory_bytes() -> tuple[int, int] | None:
    """(allocated, reserved) CUDA bytes when this process uses a GPU; None otherwise (never initialises CUDA)."""
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    try:
        if not torch.cuda.is_initialized():
            return None
        return int(torch.cuda.memory_allocated()), int(torch.cuda.memory_reserved())
    except (RuntimeError, AttributeError):
        return None


def format_bytes(n: float) -> str:
    """1.2 GB, 850 MB, 12 KB."""
    if n >= 1024**3:
        return f"{n / 1024**3:.1f} GB"
    if n >= 1024**2:
        return f"{n / 1024**2:.0f} MB"
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{int(n)} B"


def format_duration(seconds: float) -> str:
    """12s, 3m 04s, 2h 05m."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds // 3600}h {(seconds % 3600) // 60:02d}m"


class RateMeter:
    """Steps per second over the last few logged (step, training time) pairs; gives the ETA."""

    def __init__(self, window: int = 20):
        self._points: deque[tuple[int, float]] = deque(maxlen=window)

    def add(self, step: int, seconds: float) -> None:
        if self._points and (step <= self._points[-1][0] or seconds < self._points[-1][1]):
            self._points.clear()  # a resumed or restarted run: start measuring again
        self._points.append((step, seconds))

    def steps_per_sec(self) -> float:
        if len(self._points) < 2:
            return 0.0
        (s0, t0), (s1, t1) = self._points[0], self._points[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 else 0.0

    def eta(self, step: int, total: int) -> float | None:
        rate = self.steps_per_sec()
        return (total - step) / rate if rate > 0 and total > step else None

    def clear(self) -> None:
        self._points.clear()
