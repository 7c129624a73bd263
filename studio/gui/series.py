"""The bounded curve of the window's charts: `studio.runs.series.Series` (no Qt; `studio compare --plot`
draws the same curves without a window)."""

from ..runs.series import MAX_POINTS, Series

__all__ = ["MAX_POINTS", "Series"]
