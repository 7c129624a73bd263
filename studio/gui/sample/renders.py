"""The Sample tab's renders: one request per view to the latest-request-wins worker, each with the
callback that shows its result in that view. *When* to render is not decided here: the tab's one
change handler decides; this module knows *how* each view is drawn.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PySide6.QtCore import QObject

from ...latent.explorer import Explorer
from ...latent.render import RenderResult, error_text, render
from ...latent.timeline import Keyframe, Timeline, encode_image, has_latent, image_tensor
from ...methods.base import Method
from .bridge import RenderBridge
from .samples_panel import SamplesPanel
from .selection_panel import SelectionPanel
from .timeline_panel import TimelinePanel

FRAME_CHUNK = 8  # frames rendered per preview request: playback fills its cache ahead
Report = Callable[[str, bool], None]  # (status line, is it an error)


class SampleRenders(QObject):
    """Renders the grid, the selection, timeline frames and keyframe thumbnails off the GUI thread.

    Results go straight to their views; a failed job or render goes to `report` as one line.
    """

    def __init__(self, explorer: Explorer, samples: SamplesPanel, selection: SelectionPanel,
                 timeline: TimelinePanel, report: Report, device: torch.device, parent: QObject | None = None):
        super().__init__(parent)
        self.explorer = explorer
        self._samples_panel, self._selection_panel, self._timeline_panel = samples, selection, timeline
        self._report, self._device = report, device
        self.bridge = RenderBridge(self)
        self.encode_cache: dict = {}  # encoded images' latents, shared by keyframes, frames and exports
        self._frames: dict[int, np.ndarray] = {}  # rendered timeline frames by index

    def forget_model(self) -> None:
        """A model is shown anew: nothing asked of the old one is shown, nothing of it is cached."""
        self.bridge.discard()
        self.encode_cache = {}
        self._frames.clear()

    def forget_frames(self) -> None:
        """The timeline changed: its rendered frames (and those on their way) show something else now."""
        self._frames.clear()
        self.bridge.discard("frame")

    # --- the views ------------------------------------------------------------------------------------
    def grid(self, method: Method, reference: torch.Tensor | None) -> None:
        """Render the page of seeds (latest request wins)."""
        state = self.explorer.copy()

        def show(result: RenderResult) -> None:
            self._samples_panel.grid.set_images(result.images, [str(s) for s in state.seeds()])
            e = self.explorer
            self._samples_panel.show_seed(e.selected_seed, e.seeds(), e.selected_latent is None)
            self._report(f"{len(result.images)} samples in {result.seconds * 1000:.0f} ms on {self._device.type}",
                         False)

        self.bridge.submit("grid", lambda: render(method, state.grid_latents(method), state.labels, reference),
                           self._unless_failed(show))

    def selection(self, method: Method, reference: torch.Tensor | None) -> bool:
        """Render the selected sample with its direction moves; False when there is nothing to render."""
        state, latent = self.explorer.copy(), has_latent(method)
        if not latent and reference is None:
            return False

        def job() -> RenderResult:
            return render(method, state.selection_latent(method) if latent else None, state.labels, reference)

        def show(result: RenderResult) -> None:
            self._selection_panel.view.set_image(result.images[0])

        # Progressive: while a slider is dragged, an in-between result is still a point on the user's path.
        self.bridge.submit("selection", job, self._unless_failed(show), progressive=True)
        return True

    def frame(self, method: Method, index: int, reference: torch.Tensor | None) -> None:
        """Show timeline frame `index`: from the cache, or render it and the next few (progressive)."""
        if index in self._frames:
            self._timeline_panel.show_frame(index, self._frames[index])
            return
        timeline = self._timeline_panel.timeline()
        if timeline.frame_count == 0:
            return
        cache, stop = self.encode_cache, min(index + FRAME_CHUNK, timeline.frame_count)

        def show(result: RenderResult) -> None:
            for i, image in enumerate(result.images):
                self._frames[index + i] = image
            current = self._timeline_panel.current_frame
            if current in self._frames:  # else the request for it is still on its way
                self._timeline_panel.show_frame(current, self._frames[current])

        def job() -> RenderResult:
            z, labels = timeline.frames(timeline.resolve(method, cache), index, stop)
            return render(method, z, labels, reference)

        self.bridge.submit("frame", job, self._unless_failed(show), progressive=True)

    def thumbnail(self, method: Method, key: Keyframe, reference: torch.Tensor | None) -> None:
        """Render `key`'s thumbnail; each keyframe is its own key, so thumbnails never replace each other."""
        cache = self.encode_cache

        def job() -> RenderResult:
            keys = Timeline([key], 1).resolve(method, cache)
            return render(method, keys.latents, keys.labels, reference)

        self.bridge.submit(("thumbnail", id(key)), job,
                           self._unless_failed(lambda r: self._timeline_panel.set_thumbnail(key, r.images[0])))

    def encode(self, method: Method, path: Path, done: Callable[[torch.Tensor, torch.Tensor], None]) -> None:
        """Encode the image at `path` (kept for keyframes and exports); `done(latent, pixels)` follows."""
        cache = self.encode_cache

        def job() -> tuple[torch.Tensor, torch.Tensor]:
            z = encode_image(method, path)
            cache[("image", str(path))] = z
            return z, image_tensor(path, method.spec)

        self.bridge.submit("encode", job, self._unless_failed(lambda value: done(*value)))

    def _unless_failed(self, show: Callable[[Any], None]) -> Callable[[Any], None]:
        """A result callback: what a job raised, or a render that failed, goes to the status line instead."""
        def deliver(value: Any) -> None:
            if isinstance(value, BaseException):
                self._report(error_text(value), True)
            elif isinstance(value, RenderResult) and not value.ok:
                self._report(f"Could not generate: {value.error}", True)
            else:
                show(value)

        return deliver

    # --- housekeeping ---------------------------------------------------------------------------------
    def busy(self) -> bool:
        """True while a render is waiting or running."""
        return not self.bridge.worker.is_idle()

    def stop(self) -> None:
        """End the render thread; nothing more is shown."""
        self.bridge.stop()
