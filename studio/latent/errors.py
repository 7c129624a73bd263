"""Errors of the latent layer; each message names the value or file and says what to do."""

from __future__ import annotations

from ..errors import Cancelled, ExportError  # noqa: F401 - the shared classes, named here for the latent layer


class KeyframeError(ValueError):
    """A keyframe or timeline that cannot be used."""
