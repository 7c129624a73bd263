"""The method registry: `@register` adds a Method class under its name."""

from __future__ import annotations

import importlib
import pkgutil

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
    from . import __path__ as pkg_path

    for info in pkgutil.iter_modules(pkg_path):
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
