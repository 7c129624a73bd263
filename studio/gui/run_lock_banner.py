"""The window's side of "one writer per run directory": take the lock, or say who holds it.

Before the window trains into a run directory (Start, Continue) it takes the run's writer lock
(studio/engine/runlock.py). When another process writes the run, nothing is touched: the banner
names that process and offers *Follow it*, which opens the run live on the Monitor tab instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

WINDOW_COMMAND = "the GAN Studio window"


def lock_for_training(window: Any, run_dir: str | Path, title: str) -> Any:
    """The held RunLock of `run_dir` for `window`'s training, or None after showing why on its banner."""
    from ..engine.runlock import RunLock, RunLocked
    from ..fileio import os_error_message

    run_dir = Path(run_dir)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        return RunLock(run_dir, WINDOW_COMMAND).acquire()
    except RunLocked as exc:
        path = exc.path

        def follow() -> None:
            window.statusBar().clearMessage()  # the refusal is answered: the run is on screen now
            window.open_run(path)

        window.show_error(title, f"{exc.who}. Follow it to watch it live here.", ("Follow it", follow))
    except OSError as exc:
        window.show_error(title, f"{run_dir}: cannot record a run there ({os_error_message(exc)})")
    return None
