"""What the window may ask of its Sample tab: the whole of it, so the window never probes with hasattr.

The real tab (`SampleTab`) and the window's stand-in for builds without it both provide this. It
imports neither Qt nor torch, so the window can name it before torch has loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

Snapshot = Callable[[], "dict[str, Any] | None"]  # Trainer.snapshot: the generator's state, None before it has one


@runtime_checkable
class SampleView(Protocol):
    """The Sample tab as the window sees it."""

    # The keys of the tab's own shortcuts (Ctrl+O opens a model, F5 refreshes, Ctrl+E exports the morph...).
    # Qt cancels two shortcuts on one key, so while the tab is shown the window unbinds its actions from these.
    shortcut_keys: tuple[str, ...]

    def load_run(self, path: str | Path) -> None:
        """Show the model of a run folder or checkpoint (in the background; trouble is shown in the tab)."""

    def set_live_source(self, fn: Snapshot | None) -> None:
        """Follow the run training in this window through `fn`; None when no run trains in this process."""

    def show_latest_grid(self, image: Any) -> None:
        """The run's newest sample grid (H×W×C uint8); a tab that draws its own samples may ignore it."""

    def shutdown(self) -> None:
        """Stop the tab's background work before the window closes (safe to call twice)."""
