"""Whether a run directory can be continued, and with which configuration (the window's *Continue*)."""

from __future__ import annotations

from pathlib import Path

from .checkpoint import resolve_checkpoint
from .config import RunConfig
from .rundir import RunDirectory, RunDirError
from .runinfo import as_count


class ResumeError(Exception):
    """The run cannot be continued; `title` heads the message shown."""

    def __init__(self, message: str, title: str = "Cannot continue"):
        super().__init__(message)
        self.title = title


def resumable_config(path: str | Path, min_steps: int = 0) -> tuple[RunDirectory, RunConfig, str | None]:
    """The run, its configuration (steps raised to `min_steps`) and its dataset kind; ResumeError says why not."""
    from ..methods.params import ConfigError

    run = RunDirectory(path)
    try:
        resolve_checkpoint(run.path)
        data = run.read_config()
        config = RunConfig.from_dict(data.get("run", data))
        config.validate()
    except (RunDirError, ConfigError) as exc:
        where = "" if str(run.path) in str(exc) else f"{run.config_path}: "  # say which run the problem is in
        raise ResumeError(f"{where}{exc}") from None
    except (TypeError, ValueError, AttributeError) as exc:  # a config.json edited or damaged by hand
        raise ResumeError(f"{run.config_path}: not a run configuration this studio can read "
                          f"({type(exc).__name__}: {exc})") from None
    reached = as_count(run.read_status().get("step"))
    if min_steps > config.steps:
        config.steps, config.epochs = min_steps, None  # a longer run is counted in steps from now on
    if reached >= config.steps:
        raise ResumeError(f"{run.path} already reached step {reached} of {config.steps}; set Steps on the Train tab "
                          f"above {reached} and continue again", title="Nothing to continue")
    spec = data.get("spec") if isinstance(data, dict) else None
    kind = spec.get("kind") if isinstance(spec, dict) else None
    return run, config, kind if isinstance(kind, str) else None
