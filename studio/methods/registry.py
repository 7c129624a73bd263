"""The method registry: `@register` adds a Method class under its name."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from .base import Method
from .params import ConfigError

_REGISTRY: dict[str, type[Method]] = {}
_loaded = False  # a directly imported method module registers itself before the rest are loaded


def register(cls: type[Method]) -> type[Method]:
    """Class decorator: make a method available by `cls.name`."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    _REGISTRY[cls.name] = cls
    return cls


def _load_all() -> None:
    # Importing every module in this package runs their @register decorators.
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if info.name not in ("base", "registry", "params"):
            importlib.import_module(f"{__package__}.{info.name}")


def all_methods() -> dict[str, type[Method]]:
    """Every registered method by name, in registration order."""
    global _loaded
    if not _loaded:
        _load_all()
        _loaded = True
    return dict(_REGISTRY)


def get_method(name: str) -> type[Method]:
    """The Method class called `name`; ConfigError listing the known names otherwise."""
    methods = all_methods()
    if name not in methods:
        raise ConfigError(f"unknown method '{name}'; known methods: {', '.join(methods)}")
    return methods[name]


def describe_methods() -> list[dict]:
    """Plain facts about each method (JSON-ready), for `studio methods` and the window."""
    from .params import describe_params

    out = []
    for name, cls in all_methods().items():
        out.append({
            "name": name, "title": cls.title, "description": cls.description, "source": cls.source,
            "datasets": [k.value for k in cls.kinds], "presets": list(cls.presets),
            "scalars": dict(cls.scalars), "optional_scalars": cls.optional_scalars(),
            "has_encoder": cls.has_encoder, "needs_reference": cls.needs_reference,
            "params": [{"name": i.name, "type": i.type.__name__, "default": i.default, "help": i.help,
                        "low": i.low, "high": i.high, "choices": list(i.choices) if i.choices else None,
                        "group": i.group}
                       for i in describe_params(cls.Params)],
        })
    return out
