"""selfcheck_hook: drive the Sample tab as a user would and report what happened, as plain facts."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QWidget

from ...engine.rundir import RunDirectory
from .sample_tab import SampleTab
from .stall import sample_tab_stall, wait_until

TIMEOUT = 180.0


def _tiny_run(out_dir: Path) -> Path:
    """Train a tiny conditional GAN (a few seconds on a CPU) to have something to explore."""
    from ...engine import RunConfig, Trainer

    run_dir = out_dir / "selfcheck-run"
    if not RunDirectory(run_dir).last_checkpoint.is_file():
        Trainer(RunConfig(method="cgan", preset="tiny", steps=30, image_size=16, dataset_count=256,
                          sample_every=30, checkpoint_every=30, log_every=10), run_dir=run_dir).run()
    return run_dir


def selfcheck_hook(window_or_tab: QWidget, out_dir: str | Path) -> dict:
    """Load a run (the shown one, or a tiny trained one), toggle a label, replace the timeline with three
    seed keys, export out_dir/morph.gif (17 frames) in the background, drag a direction slider while
    measuring the event-loop stall, save out_dir/sample_tab.png; return the facts."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tab = window_or_tab if isinstance(window_or_tab, SampleTab) else window_or_tab.findChild(SampleTab)
    own = tab is None
    if own:
        tab = SampleTab()
        tab.resize(1280, 800)
    facts: dict = {"own_tab": own}
    t0 = time.perf_counter()
    try:
        if tab.method is None:
            run_dir = _tiny_run(out_dir)
            tab.load_run(run_dir)
            facts["trained_run"] = str(run_dir)
        if not wait_until(lambda: tab.method is not None, TIMEOUT):
            facts["error"] = f"no model loaded: {tab.status.text()}"
            return facts
        method = tab.method
        wait_until(lambda: tab.samples.grid.updates > 0 and tab.selection.view.updates > 0, TIMEOUT)
        facts.update(method=method.name, step=tab.run.step, grid_cells=0 if tab.samples.grid.images is None
                     else len(tab.samples.grid.images), conditional=method.conditional,
                     label_toggles_visible=tab.labels_box.isVisibleTo(tab))
        if method.conditional and len(tab.label_bar.buttons) > 1:
            before = tab.selection.view.image.copy()
            shown = tab.selection.view.updates
            tab.label_bar.buttons[1].click()
            wait_until(lambda: tab.selection.view.updates > shown and tab.renders.bridge.worker.is_idle(), TIMEOUT)
            facts["label_toggled"] = tab.label_bar.buttons[1].text()
            facts["label_changed_output"] = bool(np.any(tab.selection.view.image != before))
        panel = tab.timeline_panel
        panel.clear()
        panel.frames_spin.setValue(8)
        for seed in (0, 1, 2):
            tab.go_to_seed(seed)
            tab.add_seed_keyframe()
        facts["keyframes"] = len(panel.keyframes)
        facts["timeline_frames"] = panel.frame_count()
        tab.export_panel.size_spin.setValue(64)
        gif = out_dir / "morph.gif"
        started = time.perf_counter()
        if tab.export_to(gif):
            wait_until(lambda: not tab.is_exporting(), TIMEOUT)
        facts["export_seconds"] = round(time.perf_counter() - started, 3)
        facts["export"] = dict(tab.last_export)
        if gif.is_file():
            from PIL import Image

            with Image.open(gif) as im:
                facts.update(gif=str(gif), gif_frames=im.n_frames, gif_size=list(im.size),
                             gif_duration_ms=im.info.get("duration"), gif_loop=im.info.get("loop"))
        stall = sample_tab_stall(tab, 1.5)  # drags a direction slider (finds directions first)
        facts.update(stall_p99_ms=round(stall["p99_ms"], 2), stall_max_ms=round(stall["max_ms"], 2),
                     drag_requests=stall["render_requests"], drag_renders=stall["renders"])
        tab.renders.bridge.worker.wait_idle(30.0)
        wait_until(lambda: not tab.busy(), 30.0)
        shot = out_dir / "sample_tab.png"
        tab.grab().save(str(shot))
        facts["screenshot"] = str(shot)
        facts["background_busy"] = tab.busy()
        facts["status"] = tab.status.text()
    finally:
        facts["seconds"] = round(time.perf_counter() - t0, 3)
        if own:
            tab.shutdown()
            tab.deleteLater()
    return facts
