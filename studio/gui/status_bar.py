"""The window's status bar: device, step, speed and ETA of the run shown, and a progress bar for exports."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar

from ..engine.state import RunState
from .exports import PROGRESS_TIP
from .perf import format_duration


class RunStatusBar:
    """Permanent widgets added to `bar`; `show_run` fills them from the Monitor tab."""

    def __init__(self, bar: QStatusBar) -> None:
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

    def show_run(self, monitor, total: int, device_text: str) -> None:
        """The Monitor tab's step, speed and ETA for a run of `total` steps (0: unknown)."""
        self.device_label.setText(f"device: {device_text or '–'}")
        self.step_label.setText(f"step {monitor.step}/{total}" if total else f"step {monitor.step}")
        ips = monitor.last_values.get("images_per_sec")
        self.speed_label.setText(f"{ips:,.0f} images/s" if ips is not None else "– images/s")
        state = monitor.state
        eta = monitor.rate.eta(monitor.step, total) if not state.is_final and state is not RunState.PAUSED else None
        self.eta_label.setText(f"ETA {format_duration(eta)}" if eta is not None else "ETA –")
