"""User settings shared by the GUI and the command line: one JSON file, never code.

The file is $STUDIO_CONFIG_DIR/settings.json, or ~/.config/gan-studio/settings.json.
Known keys: "fid_weights" (path to pytorch-fid Inception weights), "recent_runs" (list of paths),
"theme" ("dark" or "light"), "last_train" (the Train tab's last settings), "dataset_cache_gb" (the
decoded-dataset cache's size limit in GiB; 0 turns it off), "curves" (how charts are drawn: smoothing,
the Compare view's x axis, the charts on a log scale; studio/runs/curve_settings.py).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def settings_path() -> Path:
    """Where the settings file lives."""
    base = os.environ.get("STUDIO_CONFIG_DIR")
    root = Path(base) if base else Path.home() / ".config" / "gan-studio"
    return root / "settings.json"


def load_settings() -> dict[str, Any]:
    """All settings; an absent or unreadable file gives {} (the defaults)."""
    try:
        data = json.loads(settings_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def get_setting(key: str, default: Any = None) -> Any:
    return load_settings().get(key, default)


def update_settings(**values: Any) -> None:
    """Merge values into the settings file (written atomically)."""
    from .fileio import atomic_write_bytes

    data = load_settings()
    data.update(values)
    atomic_write_bytes(settings_path(), json.dumps(data, indent=2).encode("utf-8"))


@contextmanager
def isolated_settings(folder: str | Path) -> Iterator[None]:
    """Use `folder` for the settings file meanwhile: checks and benchmarks leave the user's settings alone."""
    saved = os.environ.get("STUDIO_CONFIG_DIR")
    os.environ["STUDIO_CONFIG_DIR"] = str(folder)
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("STUDIO_CONFIG_DIR", None)
        else:
            os.environ["STUDIO_CONFIG_DIR"] = saved
