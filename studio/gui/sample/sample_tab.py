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
from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QFileDialog, QGroupBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ...data.decode.images import is_image_name
from ...engine.checkpoint import LoadedRun
from ...engine.device import pick_device
from ...grids import to_uint8
from ...latent.directions import principal_directions
from ...latent.explorer import Explorer
from ...latent.timeline import Keyframe, has_latent, image_tensor
from ...methods.base import Method
from .export_panel import ExportPanel
from .labels import LabelBar
from .loading import describe, same_shape
from .model_bar import ModelBar
from .protocol import Snapshot
from .renders import SampleRenders
from .samples_panel import SamplesPanel
from .selection_panel import N_DIRECTIONS, SelectionPanel, reference_word, selection_caption
from .task_slot import TaskSlot
from .timeline_panel import TimelinePanel

DIRECTION_SAMPLES = 256
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
        self._directions = TaskSlot(self, "sample-directions")
        self.last_export: dict[str, Any] = {}
        self._shut_down = False
        self._build()
        self._shortcuts()
        self.renders = SampleRenders(self.explorer, self.samples, self.selection, self.timeline_panel,
                                     self._set_status, self.device, self)
        self.explorer.subscribe(self._on_changed)
        self.timeline_panel.changed.connect(self.renders.forget_frames)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self._set_model_widgets()

    # --- layout -----------------------------------------------------------------------------------
    def _build(self) -> None:
        self.model_bar = ModelBar(self.device)
        self.model_bar.loaded.connect(self.install)
        self.model_bar.failed.connect(self._on_load_failed)
        self.model_bar.status.connect(self._set_status)

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
        self.export_panel.exported.connect(self._on_exported)
        self.export_panel.failed.connect(self._on_export_failed)
        self.export_panel.cancelled.connect(lambda: self._set_status("Export cancelled; no file was written."))
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
        layout.addWidget(self.model_bar)
        layout.addLayout(middle, 1)
        layout.addWidget(timeline)
        layout.addWidget(self.status)

    def _shortcuts(self) -> None:
        keys: list[tuple[str, Callable[[], None]]] = [
            ("Ctrl+O", self.model_bar.choose_run), ("F5", self.refresh_from_training), ("R", lambda: self.turn_page(1)),
            ("Shift+R", lambda: self.turn_page(-1)), ("S", self.add_seed_keyframe), ("K", self.add_selection_keyframe),
            ("D", self.compute_directions), ("P", self.timeline_panel.toggle_play),
            ("]", self.timeline_panel.step_forward), ("[", self.timeline_panel.step_back),
            ("Ctrl+E", self.choose_export), ("Escape", self.cancel_export),
        ]
        self.shortcut_keys = tuple(seq for seq, _ in keys)  # SampleView: the window lends these while the tab shows
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
        self.model_bar.load_run(path)

    def set_live_source(self, fn: Snapshot | None) -> None:
        """Follow training: `fn()` returns a `Trainer.snapshot()` dict (or None before it has one)."""
        self.model_bar.set_live_source(fn)
        if fn is not None and self.isVisible() and self.method is None:
            self.refresh_from_training()

    def refresh_from_training(self) -> None:
        """Take a snapshot of the run being trained (it keeps training) and show its generator."""
        self.model_bar.refresh_from_training()

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
            self.model_bar.info_label.setText(f"{method.name} · 2-D points")
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
        self.model_bar.info_label.setText(text)
        self._set_status(note or f"Loaded {text}")
        with self.explorer.changes():  # one redraw of everything, once the state is settled
            self.explorer.announce("model")
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
        if method is None or not has_latent(method) or self._directions.busy:
            return
        labels = self.explorer.labels

        def work(report):
            return method, principal_directions(method, N_DIRECTIONS, DIRECTION_SAMPLES, labels, progress=report)

        task = self._directions.new(work)
        task.done.connect(self._on_directions)
        task.failed.connect(lambda message: self._set_status(f"Directions: {message}", error=True))
        task.progress.connect(lambda done, total: self.selection.show_progress(100 * done // max(total, 1)))
        task.finished.connect(lambda: self.selection.show_progress(None))
        task.finished.connect(lambda: self.selection.directions_button.setEnabled(self.method is not None))
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
            self.explorer.announce("reference")
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
        self.selection.caption.setText(selection_caption(self.explorer, self.method))

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
        self.export_panel.start(Path(path), method, timeline, self.reference, dict(self.renders.encode_cache))
        self._set_status(f"Exporting {timeline.frame_count} frames to {path}…")
        return True

    def cancel_export(self) -> None:
        """Stop a running export (at its next chunk of frames); the target file is left as it was."""
        self.export_panel.cancel()

    def is_exporting(self) -> bool:
        """True from the start of an export until its end has been handled (buttons reset)."""
        return self.export_panel.is_exporting()

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

    # --- dropping a run or an image ---------------------------------------------------------------------
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
        self.labels_box.setVisible(method is not None and not self.label_bar.isHidden())
        self.timeline_panel.add_image_button.setEnabled(method is not None and method.has_encoder)
        for b in (self.timeline_panel.add_seed_button, self.timeline_panel.add_selection_button):
            b.setEnabled(latent)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self.model_bar.live_source is not None and self.method is None:
            self.refresh_from_training()

    def hideEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.timeline_panel.stop()
        super().hideEvent(event)

    def _set_status(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #d9534f;" if error else "")

    def busy(self) -> bool:
        """True while anything runs in the background (renders, loading, directions, export)."""
        # Each is busy until its end has been handled.
        return (self.renders.busy() or self.model_bar.busy() or self.export_panel.is_exporting()
                or self._directions.busy)

    def show_latest_grid(self, image: np.ndarray) -> None:
        """The run's newest sample grid: this tab draws its own samples from the live generator instead."""

    def shutdown(self) -> None:
        """Stop playing, cancel background work and end the render thread (the main window calls this)."""
        if self._shut_down:
            return
        self._shut_down = True
        self.model_bar.shutdown()
        self.export_panel.shutdown()
        self.timeline_panel.stop()
        self._directions.shutdown()
        self.renders.stop()


def _hwc(image: torch.Tensor) -> np.ndarray:
    """C×H×W in [-1, 1] -> H×W×C uint8 for display."""
    return np.ascontiguousarray(to_uint8(image).permute(1, 2, 0).cpu().numpy())
