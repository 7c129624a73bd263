"""A growing (x, y) series for live curves: appends are amortised O(1), non-finite values are dropped."""

from __future__ import annotations

import math

import numpy as np


class Series:
    """Numpy buffers that double when full; `x`/`y` are views of the filled part, ready for setData."""

    def __init__(self, capacity: int = 256):
        self._x = np.empty(capacity, dtype=np.float64)
        self._y = np.empty(capacity, dtype=np.float64)
        self.size = 0
        self.dropped = 0  # NaN/Inf values left out (a curve cannot draw them; the run reports divergence)
        self.dirty = False  # set by append, cleared by whoever draws

    def append(self, x: float, y: float) -> None:
        if not (math.isfinite(x) and math.isfinite(y)):
            self.dropped += 1
            return
        if self.size == len(self._x):
            self._x = np.concatenate([self._x, np.empty_like(self._x)])
            self._y = np.concatenate([self._y, np.empty_like(self._y)])
        self._x[self.size] = x
        self._y[self.size] = y
        self.size += 1
        self.dirty = True

    @property
    def x(self) -> np.ndarray:
        return self._x[: self.size]

    @property
    def y(self) -> np.ndarray:
        return self._y[: self.size]

    @property
    def capacity(self) -> int:
        return len(self._x)

    def last(self) -> float | None:
        return float(self._y[self.size - 1]) if self.size else None

    def __len__(self) -> int:
        return self.size
