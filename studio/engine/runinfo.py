"""What a run directory says about its run, read defensively: the file may be damaged or hand-edited."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .rundir import RunDirectory, RunDirError


@dataclass
class RunInfo:
    settings: dict = field(default_factory=dict)  # config.json's "run" part ({} when unreadable)
    method: str | None = None
    kind: str | None = None  # the dataset kind: images, points, paired, unpaired
    steps: int = 0
    device: str = "?"
    problem: str = ""  # why the configuration cannot be used to continue the run ("" when it can)


def read_run_info(run: RunDirectory) -> RunInfo:
    """The run's settings from config.json; `problem` says what is wrong with them, if anything."""
    config, problem = {}, ""
    if run.config_path.exists():
        try:
            config = run.read_config()
        except RunDirError as exc:
            problem = str(exc)
    settings = run_settings(config)
    if config and not problem:
        from ..methods.params import ConfigError
        from .config import RunConfig

        try:
            RunConfig.from_dict(settings).validate()
        except (ConfigError, TypeError, ValueError, AttributeError) as exc:
            problem = f"{run.config_path}: not a run configuration this studio can read ({exc})"
            problem = problem.replace("; repair or remove that entry of config.json", "")
    spec = config.get("spec") if isinstance(config, dict) else None
    kind = spec.get("kind") if isinstance(spec, dict) else None
    method = settings.get("method")
    return RunInfo(settings=settings, method=method if isinstance(method, str) else None,
                   kind=kind if isinstance(kind, str) else None, steps=as_count(settings.get("steps")),
                   device=str(settings.get("device", "?")), problem=problem)


def run_settings(config: Any) -> dict:
    """The "run" part of a config.json, {} when the file holds something else."""
    run = config.get("run") if isinstance(config, dict) else None
    return run if isinstance(run, dict) else {}


def as_count(value: Any) -> int:
    """A step count from a file that may hold anything: 0 unless it is a whole number."""
    try:
        return max(0, int(value))
    except (TypeError, ValueError, OverflowError):
        return 0
