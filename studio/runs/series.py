"""A growing (x, y) series for curves, bounded in size: non-finite values are dropped, and once
`max_points` are held the history is downsampled by min/max per bucket, so spikes stay visible and
memory does not grow with the run's length."""

from __future__ import annotations

import math

import numpy as np

MAX_POINTS = 2048  # per curve: a min and a max per bucket of 1024, more than a chart is wide in pixels


class Series:
    """Numpy buffers that double when full, up to `max_points`; `x`/`y` are views ready for setData.

    Values are taken in buckets of `width` consecutive values (1 at first), each kept as its smallest
    and largest value at their own steps, in step order. When the buffers hold `max_points`, adjacent
    buckets are merged (the width doubles) and the buffers are half full again. Appends stay amortised O(1).
    """

    def __init__(self, capacity: int = 256, max_points: int = MAX_POINTS):
        if max_points < 4 or max_points % 4:
            raise ValueError(f"max_points={max_points}: must be a multiple of 4 (pairs of min/max buckets merge)")
        self.max_points = max_points
        capacity = min(capacity, max_points)
        self._x = np.empty(capacity, dtype=np.float64)
        self._y = np.empty(capacity, dtype=np.float64)
        self.size = 0
        self.width = 1  # values per bucket; at 1 every value is kept as it is
        self._filling = 0  # values already in the newest bucket (which holds 2 points once width > 1)
        self.count = 0  # finite values taken in
        self.dropped = 0  # NaN/Inf values left out (a curve cannot draw them; the run reports divergence)
        self.dirty = False  # set by append, cleared by whoever draws
        self._last: float | None = None

    def append(self, x: float, y: float) -> None:
        if not (math.isfinite(x) and math.isfinite(y)):
            self.dropped += 1
            return
        if self.width == 1 and self.size < len(self._x):  # the common case while a run is young
            self._x[self.size] = x
            self._y[self.size] = y
            self.size += 1
            self.count += 1
            self._last = y
            self.dirty = True
            return
        self.extend(np.array([x], dtype=np.float64), np.array([y], dtype=np.float64))

    def extend(self, xs: np.ndarray, ys: np.ndarray) -> None:
        """Append many values at once (the history of a long run): vectorised, same result as appending each."""
        xs, ys = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
        finite = np.isfinite(xs) & np.isfinite(ys)
        if not finite.all():
            self.dropped += int(len(finite) - finite.sum())
            xs, ys = xs[finite], ys[finite]
        if not len(xs):
            return
        self.count += len(xs)
        self._last = float(ys[-1])
        self.dirty = True
        i = 0
        while i < len(xs):
            i += self._take(xs[i:], ys[i:])

    def _take(self, xs: np.ndarray, ys: np.ndarray) -> int:
        """Put a leading part of xs/ys into the buffers; returns how many values were taken."""
        if self.width == 1:
            if self.size == self.max_points:
                self._merge()
                return 0
            self._reserve(self.size + len(xs))
            n = min(len(xs), len(self._x) - self.size)
            self._x[self.size:self.size + n] = xs[:n]
            self._y[self.size:self.size + n] = ys[:n]
            self.size += n
            return n
        if self._filling:  # finish the newest bucket first
            n = min(len(xs), self.width - self._filling)
            px, py = self._x[self.size - 2:self.size], self._y[self.size - 2:self.size]
            self._set_bucket(self.size - 2, np.concatenate([px, xs[:n]]), np.concatenate([py, ys[:n]]))
            self._filling = (self._filling + n) % self.width
            return n
        if self.size == self.max_points:
            self._merge()
            return 0
        whole = min(len(xs) // self.width, (self.max_points - self.size) // 2)
        if whole:
            n = whole * self.width
            self._reserve(self.size + 2 * whole)
            bx, by = _min_max_rows(xs[:n].reshape(whole, self.width), ys[:n].reshape(whole, self.width))
            self._x[self.size:self.size + 2 * whole] = bx.ravel()
            self._y[self.size:self.size + 2 * whole] = by.ravel()
            self.size += 2 * whole
            return n
        n = len(xs)  # fewer than a bucket's worth: start the newest bucket with them
        self._reserve(self.size + 2)
        self._set_bucket(self.size, xs, ys)
        self.size += 2
        self._filling = n
        return n

    def _set_bucket(self, at: int, xs: np.ndarray, ys: np.ndarray) -> None:
        bx, by = _min_max_rows(xs[None, :], ys[None, :])
        self._x[at:at + 2] = bx[0]
        self._y[at:at + 2] = by[0]

    def _merge(self) -> None:
        """Halve the points held: each two adjacent buckets become one (its min and max), the width doubles."""
        if self.width == 1:
            # Two values as a bucket of width 2 are their own min and max, already in step order.
            self.width = 2
            return
        half = self.size // 2
        bx, by = _min_max_rows(self._x[:self.size].reshape(half // 2, 4), self._y[:self.size].reshape(half // 2, 4))
        self._x[:half], self._y[:half] = bx.ravel(), by.ravel()
        self.size = half
        self.width *= 2

    def _reserve(self, needed: int) -> None:
        if needed > len(self._x):
            capacity = min(self.max_points, max(needed, 2 * len(self._x)))
            self._x = np.concatenate([self._x[:self.size], np.empty(capacity - self.size)])
            self._y = np.concatenate([self._y[:self.size], np.empty(capacity - self.size)])

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
        """The newest value taken in (not a bucket's min or max)."""
        return self._last

    def copy(self) -> Series:
        """An independent copy (a reader thread hands one to the window while it reads on)."""
        other = Series.__new__(Series)
        other.__dict__.update(self.__dict__)
        other._x, other._y = self._x[:self.size].copy(), self._y[:self.size].copy()
        return other

    def __len__(self) -> int:
        return self.size


def _min_max_rows(xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row of values (in step order): the smallest and the largest, as two points in step order."""
    rows = np.arange(len(ys))
    lo, hi = ys.argmin(axis=1), ys.argmax(axis=1)
    first, second = np.minimum(lo, hi), np.maximum(lo, hi)
    return (np.stack([xs[rows, first], xs[rows, second]], axis=1),
            np.stack([ys[rows, first], ys[rows, second]], axis=1))
