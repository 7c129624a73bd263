"""The comparison's overlaid curves as one PNG, drawn with Pillow (no window, no plotting library).

The same charts as the Compare view (`Comparison.charts()`), in the same order and run colours: each
run's raw curve faint, its smoothed curve (TensorBoard's smoothing, `smoothing.smooth`) over it,
evaluation figures marked, reference lines dashed where they lie near the values, every y axis
fitted to its values (`smoothing.y_range`), on a log scale for the charts named. A legend names
each run, its method and data. `studio compare RUN... --plot out.png` writes it.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..fileio import atomic_write_bytes
from .compared import Chart, Comparison
from .smoothing import all_positive, smooth, y_range

BACKGROUND, FOREGROUND, GRID, DIM = (255, 255, 255), (40, 42, 54), (228, 230, 238), (120, 124, 140)
COLUMNS = 3
CHART_W, CHART_H = 520, 300
PAD = 16
LEFT, BOTTOM, TOP = 62, 34, 26  # a chart's margins: y tick labels, x tick labels, title
RAW_SHARE = 0.28  # a raw curve behind its smoothed one: this much of the run's colour over the background


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size)
    except TypeError:  # Pillow < 10.1 has one bitmap size
        return ImageFont.load_default()


def _rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    return int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16)


def _faint(colour: tuple[int, int, int]) -> tuple[int, int, int]:
    return tuple(round(RAW_SHARE * c + (1 - RAW_SHARE) * b) for c, b in zip(colour, BACKGROUND, strict=True))


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About `count` round values between lo and hi (1, 2 or 5 times a power of ten apart)."""
    span = hi - lo
    if not (math.isfinite(span) and span > 0):
        return [lo]
    raw = span / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]


def tick_text(value: float, step: float) -> str:
    """A tick's label: thousands as k and millions as M on long axes, else as many decimals as the step needs."""
    if abs(value) >= 1e6 and step >= 1e5:
        return f"{value / 1e6:g}M"
    if abs(value) >= 1e4 and step >= 1e3:
        return f"{value / 1e3:g}k"
    decimals = max(0, -math.floor(math.log10(step))) if step > 0 else 0
    return f"{value:.{min(decimals, 6)}f}"


def _segments(x: np.ndarray, y: np.ndarray) -> Iterable[tuple[np.ndarray, np.ndarray]]:
    """Runs of finite points (a NaN, or a value a log axis cannot show, breaks the line)."""
    finite = np.isfinite(x) & np.isfinite(y)
    edges = np.flatnonzero(np.diff(np.concatenate([[False], finite, [False]]).astype(np.int8)))
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        yield x[start:stop], y[start:stop]


def draw_chart(image: Image.Image, box: tuple[int, int, int, int], comparison: Comparison, chart: Chart,
               axis: str, weight: float, log: bool) -> None:
    """One chart into `box` (left, top, right, bottom) of `image`."""
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = box
    title_font, font = _font(13), _font(11)
    curves = [(run, xy) for run in comparison.runs if (xy := comparison.xy(run, chart, axis)) is not None]
    log = log and all_positive([y for _, (_, y) in curves])
    title = chart.title + ("  (log scale)" if log else "")
    draw.text((left + LEFT, top + 4), title, fill=FOREGROUND, font=title_font)
    px0, py0, px1, py1 = left + LEFT, top + TOP, right - 10, bottom - BOTTOM
    draw.rectangle((px0, py0, px1, py1), outline=GRID)
    if not curves:
        draw.text((px0 + 10, py0 + 10), "no values on this axis", fill=DIM, font=font)
        return
    shown = [(run, x, smooth(y, weight) if weight and not chart.sparse else y, y) for run, (x, y) in curves]
    ys = [y for *_, y in shown]
    yr = y_range(ys, chart.reference_lines.values(), log=log)
    x_lo = min(float(np.nanmin(x)) for _, x, _, _ in shown)
    x_hi = max(float(np.nanmax(x)) for _, x, _, _ in shown)
    x_lo = min(x_lo, 0.0)
    if x_hi <= x_lo:
        x_hi = x_lo + 1.0
    x_hi += 0.02 * (x_hi - x_lo)  # the last value's marker stays whole
    y_lo, y_hi = yr if yr is not None else (0.0, 1.0)

    def to_px(x: np.ndarray, y: np.ndarray) -> list[tuple[float, float]]:
        yy = np.log10(y) if log else y
        u = px0 + (x - x_lo) / (x_hi - x_lo) * (px1 - px0)
        v = py1 - (yy - y_lo) / (y_hi - y_lo) * (py1 - py0)
        return list(zip(u.tolist(), v.tolist(), strict=True))

    # Grid and ticks.
    if log:
        y_ticks = [float(e) for e in range(math.ceil(y_lo), math.floor(y_hi) + 1)] or nice_ticks(y_lo, y_hi)
        y_labels = [f"{10 ** t:g}" for t in y_ticks]
    else:
        y_ticks = nice_ticks(y_lo, y_hi)
        step = y_ticks[1] - y_ticks[0] if len(y_ticks) > 1 else abs(y_ticks[0]) or 1.0
        y_labels = [tick_text(t, step) for t in y_ticks]
    for t, label in zip(y_ticks, y_labels, strict=True):
        v = py1 - (t - y_lo) / (y_hi - y_lo) * (py1 - py0)
        draw.line((px0, v, px1, v), fill=GRID)
        width = draw.textlength(label, font=font)
        draw.text((px0 - 6 - width, v - 6), label, fill=DIM, font=font)
    x_ticks = nice_ticks(x_lo, x_hi)
    x_step = x_ticks[1] - x_ticks[0] if len(x_ticks) > 1 else 1.0
    for t in x_ticks:
        u = px0 + (t - x_lo) / (x_hi - x_lo) * (px1 - px0)
        draw.line((u, py0, u, py1), fill=GRID)
        label = tick_text(t, x_step)
        draw.text((u - draw.textlength(label, font=font) / 2, py1 + 4), label, fill=DIM, font=font)
    axis_label = comparison.axis_label(axis)
    draw.text((px1 - draw.textlength(axis_label, font=font), py1 + 18), axis_label, fill=DIM, font=font)
    # Reference lines in view, dashed.
    for name, ref in chart.reference_lines.items():
        if log and ref <= 0:
            continue
        r = math.log10(ref) if log else ref
        if not y_lo <= r <= y_hi:
            continue
        v = py1 - (r - y_lo) / (y_hi - y_lo) * (py1 - py0)
        for u in range(px0, px1, 10):
            draw.line((u, v, min(u + 5, px1), v), fill=DIM)
        draw.text((px0 + 4, v - 14), name, fill=DIM, font=font)
    # Curves: each run's raw values faint, then its smoothed curve; evaluation figures marked.
    clip = image.copy()
    clip_draw = ImageDraw.Draw(clip)
    for run, x, drawn, raw in shown:
        colour = _rgb(run.colour)
        if drawn is not raw:
            for sx, sy in _segments(x, np.where(raw > 0, raw, np.nan) if log else raw):
                clip_draw.line(to_px(sx, sy), fill=_faint(colour), width=1)
    for run, x, drawn, _ in shown:
        colour = _rgb(run.colour)
        for sx, sy in _segments(x, np.where(drawn > 0, drawn, np.nan) if log else drawn):
            points = to_px(sx, sy)
            if len(points) > 1:
                clip_draw.line(points, fill=colour, width=2, joint="curve")
            if chart.sparse or len(points) == 1:
                for u, v in points:
                    clip_draw.ellipse((u - 3, v - 3, u + 3, v + 3), fill=colour)
    # Only the plot area of the curves' layer is kept: a marker at the edge does not spill over the labels.
    region = (px0 + 1, py0 + 1, px1, py1)
    image.paste(clip.crop(region), region[:2])


def _legend(draw: ImageDraw.ImageDraw, comparison: Comparison, width: int, top: int) -> int:
    """Each run's colour and name, method and data, wrapped to `width`; returns the height used."""
    font = _font(13)
    x, y, line = PAD, top, 20
    for run in comparison.runs:
        text = run.label
        item = 22 + draw.textlength(text, font=font) + 24
        if x + item > width - PAD and x > PAD:
            x, y = PAD, y + line
        draw.rectangle((x, y + 3, x + 14, y + 15), fill=_rgb(run.colour))
        draw.text((x + 20, y + 1), text, fill=FOREGROUND, font=font)
        x += item
    return y + line - top


def render_png(comparison: Comparison, out: str | Path, *, axis: str = "step", smoothing: float = 0.6,
               log_charts: Iterable[str] = (), columns: int = COLUMNS) -> Path:
    """Draw the comparison's charts into the PNG `out` (written atomically); returns its path.

    ValueError when there is nothing to draw (no run, or no run logged a value yet).
    """
    if not comparison.runs:
        raise ValueError("no runs to draw: give at least one run directory")
    charts = comparison.charts()
    if not charts:
        raise ValueError(f"{', '.join(str(r.path) for r in comparison.runs)}: no logged values yet to draw")
    log_charts = set(log_charts)
    columns = max(1, min(columns, len(charts)))
    rows = math.ceil(len(charts) / columns)
    width = PAD * 2 + columns * CHART_W
    probe = ImageDraw.Draw(Image.new("RGB", (width, 10)))
    header = 30 + _legend(probe, comparison, width, 0)
    image = Image.new("RGB", (width, header + rows * CHART_H + PAD), BACKGROUND)
    draw = ImageDraw.Draw(image)
    how = f"x: {comparison.axis_label(axis)} · smoothing {smoothing:g}" if smoothing else \
        f"x: {comparison.axis_label(axis)} · no smoothing"
    draw.text((PAD, 8), f"{len(comparison.runs)} runs compared · {how}", fill=FOREGROUND, font=_font(15))
    _legend(draw, comparison, width, 30)
    for i, chart in enumerate(charts):
        r, c = divmod(i, columns)
        left, top = PAD + c * CHART_W, header + r * CHART_H
        draw_chart(image, (left, top, left + CHART_W, top + CHART_H), comparison, chart, axis, smoothing,
                   chart.title in log_charts)
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    out = Path(out)
    atomic_write_bytes(out, buf.getvalue())
    return out
