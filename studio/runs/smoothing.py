"""How curves are drawn, never stored: TensorBoard's smoothing and an axis fitted to the values.

`smooth` is TensorBoard's exponential moving average with its debiasing (vz_line_chart2's
`resmoothDataset`): last = last·w + (1 − w)·value, shown as last / (1 − w^k) after k finite values,
so the first points are not pulled towards zero; a constant series and non-finite values are shown
as they are. `y_range` is the span a chart's y axis shows: the values with a margin, a reference
line only when it lies near them (BEGAN's k_t between 0 and 0.03 fills its chart instead of sitting
on a 0–1 axis), and on a log axis the decades the positive values span. Both serve the window's
charts and `studio compare --plot`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
from scipy.signal import lfilter

MAX_WEIGHT = 0.999  # TensorBoard's slider stops here: at 1 the curve would never move
DEFAULT_WEIGHT = 0.6  # TensorBoard's default
MARGIN = 0.08  # of the span, above and below the values


def smooth(values: np.ndarray, weight: float) -> np.ndarray:
    """The values as TensorBoard draws them at smoothing `weight` (0: unchanged); a new array."""
    y = np.asarray(values, dtype=np.float64)
    weight = min(max(float(weight), 0.0), MAX_WEIGHT)
    if weight == 0.0 or len(y) == 0:
        return y.copy()
    finite = np.isfinite(y)
    if finite.all() and (y == y[0]).all():
        return y.copy()  # TensorBoard leaves a constant series alone
    out = y.copy()
    x = y[finite]
    # last_k = w·last_{k-1} + (1 - w)·x_k from last_0 = 0: one linear recurrence over the finite values.
    last = lfilter([1.0 - weight], [1.0, -weight], x)
    debias = 1.0 - weight ** np.arange(1, len(x) + 1, dtype=np.float64)
    out[finite] = last / debias
    return out


def y_range(values: Iterable[np.ndarray], references: Iterable[float] = (), log: bool = False,
            margin: float | None = None) -> tuple[float, float] | None:
    """(low, high) for a chart's y axis holding `values` (arrays; non-finite entries ignored), with a
    `margin` (of the span, MARGIN by default); None when there is nothing to show. On a `log` axis only
    positive values count and the range is in log10 units (as pyqtgraph's log mode takes it). A
    reference line counts when it lies within one span of the values."""
    parts = [np.asarray(v, dtype=np.float64) for v in values]
    parts = [v[np.isfinite(v) & ((v > 0) if log else True)] for v in parts]
    parts = [v for v in parts if len(v)]
    if not parts:
        return None
    lo = min(float(v.min()) for v in parts)
    hi = max(float(v.max()) for v in parts)
    if log:
        lo, hi = math.log10(lo), math.log10(hi)
    span = hi - lo
    for ref in references:
        if log:
            if ref <= 0:
                continue
            ref = math.log10(ref)
        if lo - span <= ref <= hi + span:
            lo, hi = min(lo, ref), max(hi, ref)
    span = hi - lo
    if span <= 0:  # one value, or a flat line: a small window around it
        pad = 0.5 if log else (abs(hi) * 0.05 or 0.5)
        return lo - pad, hi + pad
    margin = MARGIN if margin is None else margin
    return lo - margin * span, hi + margin * span


def all_positive(values: Iterable[np.ndarray]) -> bool:
    """Whether every finite value is above zero (a log axis shows them all)."""
    for v in values:
        v = np.asarray(v, dtype=np.float64)
        v = v[np.isfinite(v)]
        if len(v) and float(v.min()) <= 0:
            return False
    return True
