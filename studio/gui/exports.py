"""File → Export timelapse and File → Export model: background work with progress in the status bar; the
timelapse's Cancel is the Monitor's export button while it runs.

`Exports` needs from the window only its Monitor tab (the run shown), `interactive` (may it ask with
file dialogs), `show_error`/`show_info` for the outcome, and the status bar's progress widget.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog, QMainWindow, QProgressBar

from .tasks import BackgroundTask

PROGRESS_TIP = "Writing the timelapse"
CANCEL_TEXT = "Cancel export"


class Exports:
    def __init__(self, window: QMainWindow, progress: QProgressBar) -> None:
        self.window, self.progress = window, progress
        self.model_task: BackgroundTask | None = None
        self.timelapse_task: BackgroundTask | None = None
        self._button_text = window.monitor_tab.export_button.text()
        self.last_model_export: Any = None  # the newest ExportResult
        window.monitor_tab.exportFinished.connect(self._on_timelapse_written)

    # --- timelapse ---------------------------------------------------------------------------------
    def timelapse(self, out: str | Path | None = None) -> BackgroundTask | None:
        """Write the current run's sample grids as a GIF or MP4, streamed a frame at a time (asks where when
        interactive); while one is being written, this cancels it."""
        w = self.window
        if self.timelapse_task is not None:
            self.timelapse_task.cancel()
            return None
        run_dir = w.monitor_tab.run_dir
        if run_dir is None:
            w.show_error("Nothing to export", "no run is open: start training or open a run first")
            return None
        target = Path(out) if out is not None else run_dir / "exports" / "timelapse.gif"
        if w.interactive and out is None:
            from ..latent.video import mp4_available
            from .timelapse import FILTERS

            filters = [f for f, suffix in FILTERS.items() if suffix == ".gif" or mp4_available()]
            chosen, chosen_filter = QFileDialog.getSaveFileName(w, "Export timelapse", str(target), ";;".join(filters))
            if not chosen:
                return None
            target = Path(chosen)
            if target.suffix.lower() not in FILTERS.values():
                target = target.with_name(target.name + FILTERS.get(chosen_filter, ".gif"))
        task = w.monitor_tab.export_gif(target)
        if task is not None:
            self.timelapse_task = task
            self.progress.setRange(0, 0)
            self.progress.show()
            task.progress.connect(self._on_progress)
            task.cancelled.connect(lambda: w.show_info(f"Timelapse export cancelled: {target} was not written"))
            task.finished.connect(self._on_timelapse_ended)
            button = w.monitor_tab.export_button
            button.setText(CANCEL_TEXT)
            button.setToolTip("Stop writing the timelapse (no file is left behind)")
        return task

    def _on_timelapse_ended(self) -> None:
        self.timelapse_task = None
        self.progress.hide()
        button = self.window.monitor_tab.export_button
        button.setText(self._button_text)
        button.setToolTip("Write the saved sample grids as a looping GIF or an MP4 (File → Export timelapse…)")

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def _on_timelapse_written(self, result: str) -> None:
        self.progress.hide()
        if result.startswith("⚠"):
            self.window.show_error("Timelapse not exported", result.lstrip("⚠ "))
        else:
            self.window.show_info(f"Timelapse written to {result}")

    # --- model (studio export) -----------------------------------------------------------------------
    def model(self, run: str | Path | None = None, out: str | Path | None = None,
              fmt: str | None = None) -> BackgroundTask | None:
        """Export a run's generator (and encoder) as ONNX or TorchScript in the background, as `studio export` does.

        Asks for the run (when none is open) and the file; the format follows the file's suffix
        (.onnx or .pt) unless `fmt` says otherwise. The result, or a readable error, appears on the banner.
        """
        w = self.window
        if self.model_task is not None:
            w.show_error("Export model", "an export is already running; wait for it to finish")
            return None
        run = run if run is not None else w.monitor_tab.run_dir
        if run is None:
            if not w.interactive:
                w.show_error("Nothing to export", "no run is open: train one, or open a run directory first "
                             "(File → Open run…)")
                return None
            run = QFileDialog.getExistingDirectory(w, "Export the model of which run?", str(Path.cwd() / "runs"))
            if not run:
                return None
        run = Path(run)
        if out is None:
            out, fmt = self._ask_model_file(run, fmt)
            if out is None:
                return None
        out = Path(out)

        def work(report):
            from ..export import export_run

            return export_run(run, out, fmt)

        def describe(exc: BaseException) -> str:
            from ..export import ExportError

            if isinstance(exc, ExportError):
                return str(exc)
            if isinstance(exc, OSError):
                from ..fileio import os_error_message

                return os_error_message(exc)
            return f"{run}: the export failed ({type(exc).__name__}: {exc})"

        task = BackgroundTask(work, w, describe_error=describe, name="model-export")
        task.done.connect(self._on_model_exported)
        task.failed.connect(lambda message: w.show_error("Model not exported", message))
        task.finished.connect(self._on_model_export_ended)
        self.model_task = task
        self.progress.setRange(0, 0)
        self.progress.setToolTip(f"Exporting the model of {run.name}")
        self.progress.show()
        w.statusBar().showMessage(f"Exporting the model of {run} to {out}…", 5000)
        task.start()
        return task

    def _ask_model_file(self, run: Path, fmt: str | None) -> tuple[Path | None, str | None]:
        from ..export import FORMATS

        default = (run if run.is_dir() else run.parent) / "exports" / "generator.onnx"
        if not self.window.interactive:
            return default, fmt
        filters = {"ONNX (*.onnx)": "onnx", "TorchScript (*.pt)": "torchscript"}
        chosen, chosen_filter = QFileDialog.getSaveFileName(self.window, "Export model", str(default),
                                                            ";;".join(filters))
        if not chosen:
            return None, fmt
        out = Path(chosen)
        if out.suffix.lower() not in (".onnx", ".pt", ".ts", ".torchscript"):
            fmt = fmt or filters.get(chosen_filter, "onnx")
            out = out.with_name(out.name + FORMATS[fmt])
        return out, fmt

    def _on_model_exported(self, result: Any) -> None:
        from ..export import TOLERANCE

        files = ", ".join(str(p) for p in [*result.files, result.sidecar])
        if result.max_error is None:
            check = "; " + " ".join(result.notes) if result.notes else ""
        elif result.max_error > TOLERANCE:
            self.window.show_error("Exported model differs from PyTorch",
                                   f"wrote {files}, but it differs from PyTorch by {result.max_error:.3g} (more "
                                   f"than {TOLERANCE:g}); please report this with the run's method and settings")
            return
        else:
            check = f"; checked with {result.checked_with}: matches PyTorch (largest difference {result.max_error:.2g})"
        self.last_model_export = result
        self.window.show_info(f"Model exported: {files}{check}")

    def _on_model_export_ended(self) -> None:
        self.model_task = None
        self.progress.hide()
        self.progress.setToolTip(PROGRESS_TIP)
