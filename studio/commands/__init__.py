"""Subcommands of `studio`: every module here defines `add_command(subparsers)`.

A command's handler returns an exit code; it raises one of `known_errors()` for a user-facing
failure, which the CLI prints as one line (no traceback).
"""

from __future__ import annotations

import importlib
import pkgutil


class UserError(Exception):
    """A command-line mistake or failure with a readable message."""


def known_errors() -> tuple[type[BaseException], ...]:
    """Exceptions whose message is meant for the user."""
    from ..data import DatasetError
    from ..engine.rundir import RunDirError
    from ..methods.params import ConfigError
    from ..metrics.errors import MetricError

    return UserError, DatasetError, RunDirError, ConfigError, MetricError, FileNotFoundError


def add_all_commands(subparsers) -> None:
    """Let each command module add its parser, in alphabetical order of module name."""
    from . import __path__ as pkg_path

    for info in sorted(pkgutil.iter_modules(pkg_path), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__package__}.{info.name}")
        if hasattr(module, "add_command"):
            module.add_command(subparsers)
