"""The Sample tab: explore a trained generator, switch labels, move along directions, morph, export.

Everything that touches the model runs off the GUI thread: renders on the latest-request-wins
worker (`SampleRenders`, one pending job per view, each result to its own view), loading, direction
search and export as `BackgroundTask`s. The tab keeps the state in an `Explorer`, which announces
its changes; one handler (`_on_changed`) decides which views to redraw.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PySide6.QtCore import QCoreApplication, Qt, QTimer, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QCheckBox, QFileDialog, QGroupBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ...data.images import is_image_name
from ...engine.checkpoint import LoadedRun, load_method, method_from_state
from ...engine.device import pick_device
from ...images import to_uint8
from ...latent.directions import principal_directions
from ...latent.explorer import Explorer
from ...latent.export import export_morph
from ...latent.timeline import Keyframe, describe_labels, has_latent, image_tensor
from ...methods.base import Method
from ..tasks import BackgroundTask
from .export_panel import ExportPanel
from .labels import LabelBar
from .loading import describe, load_with_reference, same_shape
from .renders import SampleRenders
from .samples_panel import SamplesPanel
from .selection_panel import N_DIRECTIONS, SelectionPanel, reference_word
from .timeline_panel import TimelinePanel

DIRECTION_SAMPLES = 256
AUTO_REFRESH_MS = 15_000
# What each view is drawn from: Explorer fields, and "model" and "reference" (the tab's own inputs).
GRID_INPUTS = frozenset({"model", "reference", "page", "scale", "labels"})
SELECTION_INPUTS = GRID_INPUTS | {"selected_seed", "selected_latent", "selected_image", "amounts", "directions"}
KEYFRAME_INPUTS = frozenset({"model", "reference"})  # thumbnails and timeline frames
SEED_INPUTS = frozenset({"page", "selected_seed", "selected_latent"})  # the seed field and highlighted cell


class SampleTab(QWidget):
    """The latent explorer. `load_run(path)` opens a run or checkpoint; `set_live_source(fn)` follows training."""

    loaded = Signal(str)  # a one-line description of the model now shown
    loadFailed = Signal(str)  # noqa: N815 - Qt signal naming
    exported = Signal(str)  # the path written
    exportFailed = Signal(str)  # noqa: N815

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("sampleTab")
        self.setAcceptDrops(True)
        self.run: LoadedRun | None = None
        self.method: Method | None = None
        self.explorer = Explorer()
        self.reference: torch.Tensor | None = None  # (1, C, H, W) for models that generate from an image
        self.device = pick_device("auto")
        self._pending_image_key: Keyframe | None = None
        self._live_source: Callable[[], dict | None] | None = None
        self._load_task: BackgroundTask | None = None
        self._directions_task: BackgroundTask | None = None
        self._export_task: BackgroundTask | None = None
        self.last_export: dict[str, Any] = {}
        self._shut_down = False
        self._build()
        self._shortcuts()
        self.renders = SampleRenders(self.explorer, self.samples, self.selection, self.timeline_panel,
                                     self._set_status, self.device, self)
        self.explorer.subscribe(self._on_changed)
        self.timeline_panel.changed.connect(self.renders.forget_frames)
        self.auto_timer = QTimer(self)
        self.auto_timer.setInterval(AUTO_REFRESH_MS)
        self.auto_timer.timeout.connect(self._auto_refresh)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self._set_model_widgets()

    # --- layout -----------------------------------------------------------------------------------
    def _build(self) -> None:
        self.open_button = QPushButton("Open run…")
        self.open_button.setToolTip("Open a run folder or a checkpoint (.pt); or drop one on this tab (Ctrl+O)")
        self.open_button.clicked.connect(self.choose_run)
        self.refresh_button = QPushButton("Refresh from training")
        self.refresh_button.setToolTip("Take the generator of the run being trained now, while it keeps "
                                       "training (F5)")
        self.refresh_button.clicked.connect(self.refresh_from_training)
        self.auto_check = QCheckBox("Auto-refresh")
        self.auto_check.setToolTip(f"Take a fresh snapshot of training every {AUTO_REFRESH_MS // 1000} s "
                                   f"while this tab is visible")
        self.auto_check.toggled.connect(self._on_auto_toggled)
        self.info_label = QLabel("No model: open a run or checkpoint, or drop one here.")
        self.info_label.setObjectName("sampleInfo")
        self.info_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        top = QHBoxLayout()
        top.addWidget(self.open_button)
        top.addWidget(self.refresh_button)
        top.addWidget(self.auto_check)
        top.addSpacing(12)
        top.addWidget(self.info_label, 1)

        self.samples = SamplesPanel()
        self.samples.pageRequested.connect(self.turn_page)
        self.samples.seedChosen.connect(self.go_to_seed)
        self.samples.cellChosen.connect(self.select_cell)
        self.samples.scaleChanged.connect(self._on_scale)
        self.label_bar = LabelBar()
        self.label_bar.changed.connect(self._on_labels)
        self.labels_box = QGroupBox("Labels")
        QVBoxLayout(self.labels_box).addWidget(self.label_bar)
        self.selection = SelectionPanel(DIRECTION_SAMPLES)
        self.selection.amountsChanged.connect(self._on_amounts)
        self.selection.directionsRequested.connect(self.compute_directions)
        self.selection.imageRequested.connect(self.choose_image)

        self.timeline_panel = TimelinePanel()
        self.timeline_panel.frameWanted.connect(self._on_frame_wanted)
        self.timeline_panel.addSeedRequested.connect(self.add_seed_keyframe)
        self.timeline_panel.addSelectionRequested.connect(self.add_selection_keyframe)
        self.timeline_panel.addImageRequested.connect(self.choose_image)
        self.export_panel = ExportPanel()
        self.export_panel.exportRequested.connect(self.choose_export)
        self.export_panel.cancelRequested.connect(self.cancel_export)
        self.export_panel.fpsChanged.connect(self.timeline_panel.set_fps)
        timeline = QGroupBox("Morph timeline")
        tv = QVBoxLayout(timeline)
        tv.addWidget(self.timeline_panel)
        tv.addWidget(self.export_panel)

        self.status = QLabel("")
        self.status.setObjectName("sampleStatus")
        self.status.setWordWrap(True)

        left = QVBoxLayout()
        left.addWidget(self.samples, 1)
        left.addWidget(self.labels_box)
        middle = QHBoxLayout()
        middle.addLayout(left, 3)
        middle.addWidget(self.selection, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(middle, 1)
        layout.addWidget(timeline)
        layout.addWidget(self.status)

    def _shortcuts(self) -> None:
        keys: list[tuple[str, Callable[[], None]]] = [
            ("Ctrl+O", self.choose_run), ("F5", self.refresh_from_training), ("R", lambda: self.turn_page(1)),
            ("Shift+R", lambda: self.turn_page(-1)), ("S", self.add_seed_keyframe), ("K", self.add_selection_keyframe),
            ("D", self.compute_directions), ("P", self.timeline_panel.toggle_play),
            ("]", self.timeline_panel.step_forward), ("[", self.timeline_panel.step_back),
            ("Ctrl+E", self.choose_export), ("Escape", self.cancel_export),
        ]
        for seq, fn in keys:
            shortcut = QShortcut(QKeySequence(seq), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(fn)
        delete = QShortcut(QKeySequence(Qt.Key.Key_Delete), self.timeline_panel.key_list)
        delete.setContext(Qt.ShortcutContext.WidgetShortcut)
        delete.activated.connect(self.timeline_panel.remove_current)

    # --- loading ----------------------------------------------------------------------------------
    def load_run(self, path: str | Path) -> None:
        """Open a run directory or checkpoint in the background; `loaded` or `loadFailed` follows."""
        path, device = Path(path), self.device
        self._start_load(lambda report: load_with_reference(lambda: load_method(path, device)), f"Loading {path}…")

    def set_live_source(self, fn: Callable[[], dict | None] | None) -> None:
        """Follow training: `fn()` returns a `Trainer.snapshot()` dict (or None before it has one)."""
        self._live_source = fn
        self._set_model_widgets()
        if fn is not None and self.isVisible() and self.method is None:
            self.refresh_from_training()

    def refresh_from_training(self) -> None:
        """Take a snapshot of the run being trained (it keeps training) and show its generator."""
        if self._live_source is None:
            self._set_status("No run is training in this window; open a run or checkpoint instead.")
            return
        source, device = self._live_source, self.device

        def take() -> LoadedRun | None:
            snapshot = source()
            return None if snapshot is None else method_from_state(snapshot, device)

        self._start_load(lambda report: load_with_reference(take), "Taking a snapshot of training…")

    def _start_load(self, fn: Callable, message: str) -> None:
        if self._shut_down:
            return
        if self._load_task is not None:
            self._set_status("Still loading the previous model; try again in a moment.")
            return
        task = BackgroundTask(fn, self, name="sample-load")
        task.done.connect(self._on_loaded)
        task.failed.connect(self._on_load_failed)
        task.finished.connect(lambda: self._forget(task, "_load_task"))
        self._load_task = task
        self._set_status(message)
        task.start()

    def _on_loaded(self, result: tuple[LoadedRun | None, torch.Tensor | None, str]) -> None:
        loaded, reference, note = result
        if loaded is None:
            self._set_status("Training has no model yet (it is still setting up); try again in a moment.")
            return
        self.install(loaded, reference, note)

    def _on_load_failed(self, message: str) -> None:
        self._set_status(message, error=True)
        self.loadFailed.emit(message)

    def install(self, loaded: LoadedRun, reference: torch.Tensor | None = None, note: str = "") -> None:
        """Show `loaded`'s model (in the GUI thread; loading itself happened in the background)."""
        method = loaded.method
        if not method.spec.is_images:
            # Not an error: there is just nothing to explore here. Say so where the samples would be.
            note = (f"{method.name} generates 2-D points, not images: its samples are the live scatter on the "
                    "Monitor tab.")
            self.run = self.method = None
            self.renders.forget_model()
            self.label_bar.set_spec(None, False)
            self.samples.grid.placeholder = note
            self.samples.grid.set_images(None, [])
            self.selection.show_image(None)
            self._set_model_widgets()
            self.info_label.setText(f"{method.name} · 2-D points")
            self._set_status(note)
            return
        keep = same_shape(self.method, method)
        self.run, self.method = loaded, method
        if not method.needs_reference:
            self.reference = None
        elif not (keep and self.reference is not None):  # a refresh keeps the image the user chose
            self.reference = reference
        self.renders.forget_model()
        self.label_bar.set_spec(method.spec, method.conditional)
        text = describe(loaded, self.device)
        self.info_label.setText(text)
        self._set_status(note or f"Loaded {text}")
        with self.explorer.changes() as changed:  # one redraw of everything, once the state is settled
            changed.add("model")
            if keep:
                # A fresh snapshot of the same model keeps labels, keyframes, selection and directions
                # (directions found on older weights are still a fair guide; "Find directions" renews them).
                self.label_bar.set_vector(self.explorer.labels)
            else:
                self.timeline_panel.clear()
                self.explorer.forget_model()
            self.explorer.labels = self.label_bar.vector()
            self.timeline_panel.set_spec(method.spec)
            if self.reference is not None:
                self.selection.show_image(_hwc(self.reference[0]))
            self._set_model_widgets()
        self.loaded.emit(text)

    # --- the explorer -------------------------------------------------------------------------------
    def turn_page(self, delta: int) -> None:
        """Next (+1) or previous (-1) page of seeds."""
        if self.method is not None:
            self.explorer.turn_page(delta)

    def go_to_seed(self, seed: int) -> None:
        """Select `seed` and show its page."""
        self.explorer.go_to_seed(seed)

    def select_cell(self, index: int) -> None:
        """Select the cell `index` of the current page."""
        self.go_to_seed(self.explorer.seeds()[index])

    def _show_seed(self) -> None:
        e = self.explorer
        self.samples.show_seed(e.selected_seed, e.seeds(), e.selected_latent is None)

    def _on_scale(self, scale: float) -> None:
        self.explorer.scale = scale

    def _on_labels(self) -> None:
        self.explorer.labels = self.label_bar.vector()

    def _on_amounts(self, amounts: list[float]) -> None:
        self.explorer.amounts = amounts

    def compute_directions(self) -> None:
        """Find the principal directions in the background; the sliders come alive when done."""
        method = self.method
        if method is None or not has_latent(method):
            return
        if self._directions_task is not None:
            return
        labels = self.explorer.labels

        def work(report):
            return method, principal_directions(method, N_DIRECTIONS, DIRECTION_SAMPLES, labels, progress=report)

        task = BackgroundTask(work, self, name="sample-directions")
        task.done.connect(self._on_directions)
        task.failed.connect(lambda message: self._set_status(f"Directions: {message}", error=True))
        task.progress.connect(lambda done, total: self.selection.show_progress(100 * done // max(total, 1)))
        task.finished.connect(lambda: self.selection.show_progress(None))
        task.finished.connect(lambda: self.selection.directions_button.setEnabled(self.method is not None))
        task.finished.connect(lambda: self._forget(task, "_directions_task"))
        self._directions_task = task
        self.selection.directions_button.setEnabled(False)
        task.start()

    def _on_directions(self, result) -> None:
        method, directions = result
        if method is not self.method:
            return  # found for a model no longer shown
        self._set_status("Directions found: drag a slider to move the selected sample along one.")
        self.explorer.directions = directions

    # --- image input ----------------------------------------------------------------------------------
    def choose_image(self) -> None:
        """Open… an image to encode (encoder models) or to use as the reference/input."""
        if self.method is None:
            return
        path, _ = QFileDialog.getOpenFileName(self, "Open an image", "", "Images (*.png *.jpg *.jpeg *.bmp *.gif "
                                              "*.webp *.tif *.tiff);;All files (*)")
        if path:
            self.use_image(path)

    def use_image(self, path: str | Path) -> None:
        """Encode an image into the selection and a keyframe, or make it the reference/input image."""
        method = self.method
        if method is None:
            self._set_status("Open a model first, then drop an image.", error=True)
            return
        path = Path(path)
        if method.needs_reference:
            try:
                self.reference = image_tensor(path, method.spec).unsqueeze(0)
            except ValueError as exc:
                self._set_status(str(exc), error=True)
                return
            self.selection.show_image(_hwc(self.reference[0]))
            self._set_status(f"Using {path.name} as the {reference_word(method)} image.")
            with self.explorer.changes() as changed:
                changed.add("reference")
            return
        if not method.has_encoder:
            self._set_status(f"{method.name} has no encoder, so an image cannot become a keyframe; "
                             f"open a run of vae, alpha-gan or another model with an encoder.", error=True)
            return
        labels = self.explorer.labels
        self._pending_image_key = Keyframe("image", path, None if labels is None else labels.clone())
        self.renders.encode(method, path, self._on_encoded)

    # --- rendering ------------------------------------------------------------------------------------
    def _on_changed(self, changed: frozenset[str]) -> None:
        """The one place that decides what to redraw: `changed` names Explorer fields, or "model" and
        "reference" (the tab's own inputs), and each view is redrawn when one of its inputs is named."""
        if self._shut_down:
            return
        if changed & SEED_INPUTS:
            self._show_seed()
        if changed & {"model", "directions"}:
            self.selection.show_directions(self.explorer.directions)
        if self.method is None:
            return
        if changed & GRID_INPUTS:
            self._render_grid()
        if changed & SELECTION_INPUTS:
            self._render_selection()
        if changed & KEYFRAME_INPUTS:
            self.renders.forget_frames()
            for key in self.timeline_panel.keyframes:
                self.renders.thumbnail(self.method, key, self.reference)
            if self.timeline_panel.frame_count():
                self._on_frame_wanted(self.timeline_panel.current_frame)

    def _render_grid(self) -> None:
        method = self.method
        if has_latent(method):
            self.renders.grid(method, self.reference)
        else:
            self.samples.grid.placeholder = (f"{method.name} translates an input image: drop or open one to see "
                                             f"its translation on the right")
            self.samples.grid.set_images(None, [])

    def _render_selection(self) -> None:
        if not self.renders.selection(self.method, self.reference):
            self.selection.view.set_image(None)
        self.selection.caption.setText(self._selection_text())

    def _selection_text(self) -> str:
        e, method = self.explorer, self.method
        if method is not None and not has_latent(method):
            return f"{method.name}'s translation of the {reference_word(method)} image"
        text = f"image {Path(e.selected_image).name}" if e.selected_latent is not None else f"seed {e.selected_seed}"
        if method is not None and e.labels is not None:
            text += " · " + describe_labels(e.labels, method.spec)
        return text + (" · moved" if e.moved else "")

    def _on_frame_wanted(self, index: int) -> None:
        if self.method is not None:
            self.renders.frame(self.method, index, self.reference)

    def _on_encoded(self, z: torch.Tensor, pixels: torch.Tensor) -> None:
        key, self._pending_image_key = self._pending_image_key, None
        self.selection.show_image(_hwc(pixels))
        self.explorer.select_latent(z.detach(), str(key.value) if key is not None else "")
        if key is not None:
            self._add_key(key)
        self._set_status("Image encoded: the selection shows the model's reconstruction; it is also a keyframe.")

    # --- keyframes ---------------------------------------------------------------------------------------
    def add_seed_keyframe(self) -> None:
        """Add the selected seed (with the current labels and scale) to the timeline."""
        if self.method is not None and has_latent(self.method):
            self._add_key(self.explorer.seed_keyframe())

    def add_selection_keyframe(self) -> None:
        """Add exactly what the selection shows (direction moves included) to the timeline."""
        if self.method is not None and has_latent(self.method):
            self._add_key(self.explorer.selection_keyframe(self.method))

    def _add_key(self, key: Keyframe) -> None:
        self.timeline_panel.add_keyframe(key)
        self.renders.thumbnail(self.method, key, self.reference)

    # --- export ------------------------------------------------------------------------------------------
    def choose_export(self) -> None:
        """Ask where, then export in the background."""
        if self.method is None or not self.timeline_panel.keyframes:
            self._set_status("Add keyframes to the timeline first (S adds the selected seed).", error=True)
            return
        suffix = self.export_panel.suffix()
        default = str(self._export_dir() / f"morph-{time.strftime('%Y%m%d-%H%M%S')}{suffix}")
        path, _ = QFileDialog.getSaveFileName(self, "Export the morph", default, f"*{suffix}")
        if path:
            self.export_to(path)

    def export_to(self, path: str | Path) -> bool:
        """Export the timeline to `path` in the background (progress bar, Cancel); False if it cannot start."""
        method = self.method
        if method is None:
            self._set_status("Open a model first.", error=True)
            return False
        if self.is_exporting():
            self._set_status("An export is already running.", error=True)
            return False
        timeline = self.timeline_panel.timeline()
        try:
            timeline.validate()
        except ValueError as exc:
            self._set_status(str(exc), error=True)
            return False
        options = self.export_panel.options()
        timelines = [timeline.with_seed_offset(1000 * i) for i in range(self.export_panel.grid_spin.value())]
        reference, cache, path = self.reference, dict(self.renders.encode_cache), Path(path)
        task = BackgroundTask(lambda report: export_morph(path, method, timelines, options, reference,
                                                          progress=report, cache=cache), self, name="sample-export")
        task.progress.connect(self.export_panel.set_progress)
        task.done.connect(self._on_exported)
        task.failed.connect(self._on_export_failed)
        task.cancelled.connect(lambda: self._set_status("Export cancelled; no file was written."))
        task.finished.connect(lambda: self.export_panel.set_busy(False))
        task.finished.connect(lambda: self._forget(task, "_export_task"))
        self._export_task = task
        self.export_panel.set_busy(True)
        self._set_status(f"Exporting {timeline.frame_count} frames to {path}…")
        task.start()
        return True

    def cancel_export(self) -> None:
        """Stop a running export (at its next chunk of frames); the target file is left as it was."""
        if self.is_exporting():
            self._export_task.cancel()

    def is_exporting(self) -> bool:
        """True from the start of an export until its end has been handled (buttons reset)."""
        return self._export_task is not None

    def _on_exported(self, result) -> None:
        self.last_export = {"path": str(result.path), "frames": result.frames, "width": result.width,
                            "height": result.height, "seconds": result.seconds, "format": result.format}
        self._set_status(f"Wrote {result.path} ({result.frames} frames, {result.width}×{result.height}) "
                         f"in {result.seconds:.1f} s")
        self.exported.emit(str(result.path))

    def _on_export_failed(self, message: str) -> None:
        self._set_status(f"Export failed: {message}", error=True)
        self.exportFailed.emit(message)

    def _export_dir(self) -> Path:
        if self.run is not None and self.run.path.parent.name == "checkpoints":
            return self.run.path.parent.parent / "exports"
        return Path.home()

    # --- choosing a run -------------------------------------------------------------------------------
    def choose_run(self) -> None:
        """Open… a run folder (or, when that dialog is cancelled, a checkpoint file)."""
        path = QFileDialog.getExistingDirectory(self, "Open a run folder")
        if not path:
            path, _ = QFileDialog.getOpenFileName(self, "…or a checkpoint", "", "Checkpoints (*.pt);;All files (*)")
        if path:
            self.load_run(path)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.open_path(paths[0])

    def open_path(self, path: Path) -> None:
        """A dropped path: a run folder or .pt opens a model; an image is encoded or used as the input."""
        if path.is_dir() or path.suffix.lower() == ".pt":
            self.load_run(path)
        elif is_image_name(path.name):
            self.use_image(path)
        else:
            self._set_status(f"{path}: drop a run folder, a checkpoint (.pt) or an image", error=True)

    # --- housekeeping -----------------------------------------------------------------------------------
    def _set_model_widgets(self) -> None:
        method = self.method
        latent = method is not None and has_latent(method)
        self.samples.set_controls_enabled(latent)
        self.selection.directions_button.setEnabled(latent)
        self.selection.reset_button.setEnabled(latent)
        self.export_panel.export_button.setEnabled(latent and not self.is_exporting())
        self.selection.set_image_mode(method)
        self.refresh_button.setEnabled(self._live_source is not None)
        self.auto_check.setEnabled(self._live_source is not None)
        self.labels_box.setVisible(method is not None and not self.label_bar.isHidden())
        self.timeline_panel.add_image_button.setEnabled(method is not None and method.has_encoder)
        for b in (self.timeline_panel.add_seed_button, self.timeline_panel.add_selection_button):
            b.setEnabled(latent)

    def _on_auto_toggled(self, on: bool) -> None:
        if on:
            self.auto_timer.start()
            self.refresh_from_training()
        else:
            self.auto_timer.stop()

    def _auto_refresh(self) -> None:
        if self.isVisible() and self._live_source is not None and self._load_task is None:
            self.refresh_from_training()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self._live_source is not None and self.method is None:
            self.refresh_from_training()

    def hideEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.timeline_panel.stop()
        super().hideEvent(event)

    def _set_status(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #d9534f;" if error else "")

    def _forget(self, task: BackgroundTask, attr: str) -> None:
        if getattr(self, attr) is task:
            setattr(self, attr, None)
        task.deleteLater()

    def busy(self) -> bool:
        """True while anything runs in the background (renders, loading, directions, export)."""
        tasks = (self._load_task, self._directions_task, self._export_task)  # each cleared once its end is handled
        return self.renders.busy() or any(t is not None for t in tasks)

    def shutdown(self) -> None:
        """Stop playing, cancel background work and end the render thread (the main window calls this)."""
        if self._shut_down:
            return
        self._shut_down = True
        self.auto_timer.stop()
        self.timeline_panel.stop()
        for task in (self._load_task, self._directions_task, self._export_task):
            if task is not None:
                task.cancel()
                task.wait(60_000)
        self.renders.stop()


def _hwc(image: torch.Tensor) -> np.ndarray:
    """C×H×W in [-1, 1] -> H×W×C uint8 for display."""
    return np.ascontiguousarray(to_uint8(image).permute(1, 2, 0).cpu().numpy())
