"""The data layer's one error (a leaf of studio/data: every loader and the options raise it)."""

from __future__ import annotations


class DatasetError(Exception):
    """Nothing usable could be read from a source; the message names the source and what to do."""
