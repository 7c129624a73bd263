"""Errors shared by several layers (a leaf module): one class per name."""

from __future__ import annotations


class Cancelled(BaseException):
    """A long computation stopped because its caller asked it to (a dataset load, an export, a search).

    A BaseException so that the `except Exception` clean-up paths of the work it interrupts do not swallow it.
    """


class ExportError(Exception):
    """An export that cannot be written (a bad option, a missing encoder, an unwritable file); the message
    names the value or file and says what to do."""
