"""Starting a run in processes of its own: the `studio train` command that carries a whole RunConfig.

The window trains on several GPUs by running `studio train --gpus N` beside itself. The run's settings
travel as one file, `<run>/config.json` (read by `studio train --config`), never as a flag per field, so
no setting can be dropped on the way: `RunConfig.load` of that file gives back the config exactly.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..fileio import atomic_write_bytes
from ..methods.params import ConfigError
from .config import RunConfig
from .rundir import RunDirectory


def studio_command() -> list[str]:
    """How to run a `studio` subcommand from here: the packaged app runs its own executable."""
    if getattr(sys, "frozen", False):
        return [sys.executable]
    return [sys.executable, "-m", "studio"]


def write_launch_config(config: RunConfig, run_dir: str | Path) -> Path:
    """Write `config` as `<run_dir>/config.json` (the run's own record replaces it once training starts)."""
    path = RunDirectory(run_dir).config_path
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, json.dumps({"run": config.to_dict()}, indent=2).encode("utf-8"))
    return path


def train_command(config: RunConfig, run_dir: str | Path, gpus: int, tensorboard: bool = False) -> list[str]:
    """The `studio train --gpus N --config <run_dir>/config.json` command that trains `config` into `run_dir`
    in `gpus` processes; writes that config.json first. ConfigError for a device the GPUs cannot be."""
    device = config.device or "auto"
    if device not in ("auto", "cuda"):
        raise ConfigError(f"{gpus} GPUs train on CUDA, but Device is {device}: set Device to auto or cuda")
    config.validate()
    path = write_launch_config(config, run_dir)
    command = [*studio_command(), "train", "--gpus", str(gpus), "--config", str(path), "--run-dir", str(run_dir),
               "--quiet"]
    return command + ["--tensorboard"] if tensorboard else command
