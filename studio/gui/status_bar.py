"""The window's status bar: device, step, speed and ETA of the run shown (the window's `RunView`), and a
progress bar for exports."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar

from .exports import PROGRESS_TIP
from .perf import format_duration
from .run_view import RunView


class RunStatusBar:
    """Permanent widgets added to `bar`, showing `view` (the run shown) as it changes."""

    def __init__(self, bar: QStatusBar, view: RunView) -> None:
        self.view = view
        self.device_label = QLabel("device: –")
        self.device_label.setToolTip("The device the run trains on")
        self.step_label = QLabel("step –")
        self.step_label.setToolTip("Training step / total steps")
        self.speed_label = QLabel("– images/s")
        self.speed_label.setToolTip("Training images per second (averaged over the last log interval)")
        self.eta_label = QLabel("ETA –")
        self.eta_label.setToolTip("Estimated time to the last step at the current speed")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(160)
        self.progress.setToolTip(PROGRESS_TIP)
        self.progress.hide()
        # Widths fixed for the longest expected text: a label that grows with its number would
        # re-lay-out the window (and repaint every chart) on each update.
        metrics = bar.fontMetrics()
        for label, longest in ((self.step_label, "step 1,000,000/1,000,000"), (self.speed_label, "100,000 images/s"),
                               (self.eta_label, "ETA 999h 59m"), (self.device_label, "device: CUDA: NVIDIA H100")):
            label.setMinimumWidth(metrics.horizontalAdvance(longest) + 16)
        for w in (self.progress, self.device_label, self.step_label, self.speed_label, self.eta_label):
            bar.addPermanentWidget(w)
        view.subscribe(self._on_view_changed)

    def _on_view_changed(self, changed: frozenset[str]) -> None:
        view = self.view
        if "device" in changed:
            self.device_label.setText(f"device: {view.device or '–'}")
        if changed & {"step", "total_steps"}:
            self.step_label.setText(f"step {view.step}/{view.total_steps}" if view.total_steps else f"step {view.step}")
        if "images_per_sec" in changed:
            ips = view.images_per_sec
            self.speed_label.setText(f"{ips:,.0f} images/s" if ips is not None else "– images/s")
        if changed & {"step", "total_steps", "steps_per_sec", "state"}:
            eta = view.eta
            self.eta_label.setText(f"ETA {format_duration(eta)}" if eta is not None else "ETA –")
