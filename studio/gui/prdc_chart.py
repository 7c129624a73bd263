"""The Monitor's chart of precision, recall and coverage (studio/metrics/prdc.py), each with its
real-vs-real baseline as a dashed line in the curve's colour (one legend entry says what the dashed
lines are), and the chart's axis saying which features they were measured in. Density is a figure of
the metrics line, not a curve: it passes 1 freely, and on the same axis it would flatten the three
shares."""

from __future__ import annotations

from .plots import CurvePanel

NAMES = ("precision", "recall", "density", "coverage")
CHARTED = ("precision", "recall", "coverage")


def is_prdc(name: str) -> bool:
    """True for precision, recall, density and coverage."""
    return name in NAMES


TITLE = "Precision · recall · coverage"


def chart_title(extra: dict | None = None) -> str:
    """The chart's title (one chart, whatever the features: its axis names them)."""
    return TITLE


def show_baseline(panel: CurvePanel, name: str, label: str, extra: dict) -> None:
    """Draw (or move) `name`'s real-vs-real baseline on `panel`, in the colour of its curve `label`, and name
    the features and ks on the chart's axis."""
    baseline = extra.get("baseline")
    if name not in CHARTED or not isinstance(baseline, (int, float)) or label not in panel.curves:
        return
    colour = panel.curves[label].opts["pen"].color()
    panel.set_baseline(f"{name}, real vs real", float(baseline), colour, legend="real vs real (dashed)")
    axis = f"{extra.get('features', '?')} features"
    if panel.item.getAxis("left").labelText != axis:  # once: a new label re-lays-out the chart
        left = panel.item.getAxis("left")
        left.enableAutoSIPrefix(False)  # shares of 0 to 1: pyqtgraph would print 0.8 as "800 (x0.001)"
        panel.item.setLabel("left", axis)
