"""The one error the metrics layer raises for the user: what went wrong, with which file, and what to do."""

from __future__ import annotations


class MetricError(Exception):
    """An evaluation could not run (missing weights, unreadable statistics, incompatible inputs)."""
