"""Errors of the latent layer; each message names the value or file and says what to do."""

from __future__ import annotations


class KeyframeError(ValueError):
    """A keyframe or timeline that cannot be used."""


class ExportError(Exception):
    """An export that cannot be written (bad option, missing encoder, unwritable file)."""


class Cancelled(Exception):
    """A long computation stopped because its caller asked it to."""
