"""Typed hyperparameters: dataclass fields carry their range and help text.

The GUI builds its form from these fields and the CLI parses `--set key=value` with them, so a
method declares each setting once.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class ConfigError(ValueError):
    """A setting has a wrong name, type or value; the message names it and the allowed values."""


def param(default: Any, help: str, *, low: float | None = None, high: float | None = None,
          choices: tuple | None = None, log: bool = False, normalize: Callable[[Any], Any] | None = None,
          group: str = "", legacy: Any = dataclasses.MISSING) -> Any:
    """A hyperparameter field with its allowed range (inclusive), choices and help text. `normalize` turns
    what a user typed into the one stored spelling (raising ValueError with a message for bad input);
    `group` names a section of the form the field is shown in ("" for the method's own settings).

    `legacy`: the value a run saved before this setting existed trained with, where that differs from
    today's default (see `saved_params`), so an old checkpoint rebuilds the networks it holds.
    """
    meta = {"help": help, "low": low, "high": high, "choices": choices, "log": log, "normalize": normalize,
            "group": group}
    if legacy is not dataclasses.MISSING:
        meta["legacy"] = legacy
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class BaseParams:
    """Settings every method has."""

    batch_size: int = param(64, "Images (or points) per training batch.", low=1, high=4096)


@dataclass(frozen=True)
class ParamInfo:
    """One field of a Params dataclass, described for forms and flags."""

    name: str
    type: type
    default: Any
    help: str
    low: float | None
    high: float | None
    choices: tuple | None
    log: bool
    normalize: Callable[[Any], Any] | None = None
    group: str = ""


def describe_params(cls: type) -> list[ParamInfo]:
    """Every field of a Params dataclass with its type, default, range and help: the method's own fields
    first, then those of each named group (such as the small-data aids) in declaration order."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        m = f.metadata
        out.append(ParamInfo(f.name, _base_type(hints[f.name]), default, m.get("help", ""), m.get("low"),
                             m.get("high"), m.get("choices"), m.get("log", False), m.get("normalize"),
                             m.get("group", "")))
    return sorted(out, key=lambda info: bool(info.group))  # stable: declaration order within each part


def _base_type(hint: Any) -> type:
    origin = typing.get_origin(hint)
    if origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return _base_type(args[0])
    return origin or hint


def coerce(info: ParamInfo, value: Any) -> Any:
    """Convert a value (or the text of `--set key=value`) to the field's type, checking its range."""
    try:
        if info.type is bool:
            if isinstance(value, str):
                low = value.strip().lower()
                if low not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                    raise ValueError
                value = low in ("1", "true", "yes", "on")
            else:
                value = bool(value)
        elif info.type is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            value = int(float(value)) if isinstance(value, str) else int(value)
        elif info.type is float:
            value = float(value)
        elif info.type in (list, tuple):
            if isinstance(value, str):
                value = [float(v) if "." in v or "e" in v else int(v) for v in value.split(",") if v.strip()]
            value = list(value)
        elif info.type is str:
            value = str(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{info.name}={value!r} is not a valid {info.type.__name__}") from None
    if info.normalize is not None:
        try:
            value = info.normalize(value)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    if info.choices is not None and value not in info.choices:
        raise ConfigError(f"{info.name}={value!r} is not allowed: choose one of {', '.join(map(str, info.choices))}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value != value:  # NaN
            raise ConfigError(f"{info.name} must be a number, not NaN")
        if info.low is not None and value < info.low or info.high is not None and value > info.high:
            raise ConfigError(f"{info.name}={value} is out of range: it must be between {info.low} and {info.high}")
    return value


def build_params(cls: type, *layers: dict) -> Any:
    """An instance of `cls` from its defaults overlaid by each dict in turn (preset, then user's)."""
    infos = {i.name: i for i in describe_params(cls)}
    values: dict[str, Any] = {}
    for layer in layers:
        for key, value in (layer or {}).items():
            if key not in infos:
                known = ", ".join(sorted(infos))
                raise ConfigError(f"unknown setting '{key}' for this method; known settings: {known}")
            values[key] = coerce(infos[key], value)
    return cls(**values)


def saved_params(cls: type, saved: dict) -> Any:
    """An instance of `cls` from the complete settings a run saved: a setting added since takes the value
    that run trained with (its field's `legacy`), not today's default."""
    legacy = {f.name: f.metadata["legacy"] for f in dataclasses.fields(cls)
              if "legacy" in f.metadata and f.name not in saved}
    return build_params(cls, legacy, saved)


def params_to_dict(params: Any) -> dict:
    """JSON-safe dict of a Params instance."""
    return dataclasses.asdict(params)
