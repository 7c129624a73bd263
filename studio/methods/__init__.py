"""Methods: one module per model, registered by name (see `registry`).

Each cites its paper by authors and title; "seed 00N" names one of the five source write-ups the
studio was drawn from, listed in docs/METHODS.md ("The source write-ups").
"""

from .base import Batch, DataSpec, Method, Plot, condition_vectors
from .params import BaseParams, ConfigError, param
from .registry import all_methods, get_method, register

__all__ = ["Batch", "BaseParams", "ConfigError", "DataSpec", "Method", "Plot", "all_methods",
           "condition_vectors", "get_method", "param", "register"]
