"""How curves are drawn, remembered between launches: the smoothing, the x axis, the charts on a log scale.

One entry of the settings file ("curves"), shared by the Monitor, the Compare view and `studio compare
--plot` (whose figure then looks like the window's). A damaged entry reads as the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import settings as user_settings
from .smoothing import DEFAULT_WEIGHT, MAX_WEIGHT

KEY = "curves"
X_AXES = ("step", "epoch", "time")


@dataclass
class CurveSettings:
    smoothing: float = DEFAULT_WEIGHT  # TensorBoard's weight, 0 (raw) to 0.999
    x_axis: str = "step"  # the Compare view's: step, epoch or time
    log_charts: list[str] = field(default_factory=list)  # chart titles drawn on a log scale

    def is_log(self, title: str) -> bool:
        return title in self.log_charts

    def set_log(self, title: str, on: bool) -> None:
        charts = [t for t in self.log_charts if t != title]
        self.log_charts = charts + [title] if on else charts


def load_curve_settings() -> CurveSettings:
    """The remembered settings (the defaults where the file has none or holds something else)."""
    raw = user_settings.get_setting(KEY, {})
    raw = raw if isinstance(raw, dict) else {}
    out = CurveSettings()
    weight = raw.get("smoothing")
    if isinstance(weight, (int, float)) and not isinstance(weight, bool) and 0 <= weight <= MAX_WEIGHT:
        out.smoothing = float(weight)
    if raw.get("x_axis") in X_AXES:
        out.x_axis = raw["x_axis"]
    charts = raw.get("log_charts")
    if isinstance(charts, list):
        out.log_charts = [t for t in charts if isinstance(t, str)]
    return out


def save_curve_settings(curves: CurveSettings) -> None:
    """Remember `curves` (OSError when the settings file cannot be written)."""
    user_settings.update_settings(**{KEY: {"smoothing": round(curves.smoothing, 3), "x_axis": curves.x_axis,
                                           "log_charts": list(curves.log_charts)}})


def remember(smoothing: float | None = None, x_axis: str | None = None, log: tuple[str, bool] | None = None) -> None:
    """Change one remembered setting, keeping the others as the file holds them now (two views that draw
    curves each change only what they changed); (chart title, on) for `log`. OSError when not written."""
    curves = load_curve_settings()
    if smoothing is not None:
        curves.smoothing = min(max(float(smoothing), 0.0), MAX_WEIGHT)
    if x_axis is not None and x_axis in X_AXES:
        curves.x_axis = x_axis
    if log is not None:
        curves.set_log(*log)
    save_curve_settings(curves)
