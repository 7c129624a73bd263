"""The Sample tab with qtbot (offscreen): loading, grid, labels, directions, latest-request-wins,
background export, live snapshots, the event-loop stall, and the selfcheck hook."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
import threading
from contextlib import contextmanager

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from studio.engine import RunConfig, Trainer, load_method  # noqa: E402
from studio.gui.sample import SampleTab, SampleView, selfcheck_hook  # noqa: E402
from studio.gui.sample.bridge import RenderBridge  # noqa: E402
from studio.gui.sample.stall import sample_tab_stall  # noqa: E402
from studio.latent import apply_directions, render  # noqa: E402
from studio.latent.timeline import seed_latent  # noqa: E402
from studio.methods import all_methods  # noqa: E402

pytestmark = pytest.mark.gui
WAIT = 60_000  # ms: generous, the test machines are shared


def train_tiny(method: str, run_dir, steps: int = 20):
    Trainer(RunConfig(method=method, preset="tiny", steps=steps, image_size=16, dataset_count=256, log_every=10,
                      sample_every=steps, checkpoint_every=steps), run_dir=run_dir).run()
    return run_dir


@pytest.fixture(scope="module")
def cgan_run(tmp_path_factory):
    return train_tiny("cgan", tmp_path_factory.mktemp("gui-cgan") / "run")


@pytest.fixture(scope="module")
def dcgan_run(tmp_path_factory):
    return train_tiny("dcgan", tmp_path_factory.mktemp("gui-dcgan") / "run")


@pytest.fixture
def tab(qtbot):
    widget = SampleTab()
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    widget.show()
    yield widget
    widget.shutdown()
    assert not widget.renders.bridge.worker.running


def test_the_window_reaches_the_tab_through_its_protocol(tab):
    assert isinstance(tab, SampleView)
    for name in ("load_run", "set_live_source", "shutdown"):
        wanted = list(inspect.signature(getattr(SampleView, name)).parameters)[1:]  # without self
        assert list(inspect.signature(getattr(tab, name)).parameters) == wanted, name
    assert {"Ctrl+O", "F5", "Ctrl+E"} <= set(tab.shortcut_keys)
    # The window may name the protocol before torch has loaded (it loads after the first paint).
    code = "import sys, studio.gui.sample as s; s.SampleView; assert 'torch' not in sys.modules, 'torch loaded'"
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "PYTHONPATH": os.getcwd()})


def test_the_bridge_hands_each_result_to_its_own_callback_in_the_gui_thread(qtbot):
    bridge = RenderBridge()
    gui, started, gate, seen = threading.get_ident(), threading.Event(), threading.Event(), []

    def to(view):
        return lambda value: seen.append((view, value, threading.get_ident() == gui))

    bridge.submit("grid", lambda: started.set() or (gate.wait(5) and "old page"), to("grid"))
    assert started.wait(10)
    bridge.submit("selection", lambda: "selected", to("selection"))
    bridge.submit("grid", lambda: "new page", to("grid"))  # the page turned while the old one rendered
    gate.set()
    qtbot.waitUntil(lambda: len(seen) == 2 and bridge.worker.is_idle(), timeout=WAIT)
    qtbot.wait(50)  # the stale "old page" would have arrived by now
    bridge.stop()
    assert seen == [("selection", "selected", True), ("grid", "new page", True)] and bridge.worker.stale == 1


def load(qtbot, tab, run):
    tab.load_run(run)
    qtbot.waitUntil(lambda: tab.method is not None and tab.samples.grid.updates > 0 and tab.selection.view.updates > 0,
                    timeout=WAIT)
    qtbot.waitUntil(lambda: not tab.busy(), timeout=WAIT)


def test_loads_a_run_and_shows_a_grid_of_numbered_seeds(qtbot, tab, cgan_run):
    load(qtbot, tab, cgan_run)
    assert tab.samples.grid.images.shape == (16, 16, 16, 3)
    assert "cgan" in tab.model_bar.info_label.text() and "step 20" in tab.model_bar.info_label.text()
    method = tab.method
    # Cell 5 is seed 5 with the first class: the same image a headless render gives.
    expected = render(method, seed_latent(method, 5), torch.eye(4)[0]).images[0]
    assert np.array_equal(tab.samples.grid.images[5], expected)
    tab.turn_page(1)  # reroll: the next page of seeds
    qtbot.waitUntil(lambda: tab.samples.grid.updates >= 2 and not tab.busy(), timeout=WAIT)
    assert tab.explorer.seeds()[0] == 16 and tab.samples.seed_spin.value() == 16
    expected = render(method, seed_latent(method, 21), torch.eye(4)[0]).images[0]
    assert np.array_equal(tab.samples.grid.images[5], expected)
    tab.samples.seed_spin.setValue(40)  # a seed typed in finds its sample again
    qtbot.waitUntil(lambda: tab.explorer.page == 2 and not tab.busy(), timeout=WAIT)
    assert tab.samples.grid.current == 8
    # The selection is rendered after the grid (its own request): wait for it rather than race it.
    expected = render(method, seed_latent(method, 40), torch.eye(4)[0]).images[0]
    qtbot.waitUntil(lambda: tab.selection.view.image is not None
                    and np.array_equal(tab.selection.view.image, expected), timeout=WAIT)


def test_label_toggles_regenerate_the_same_latents(qtbot, tab, cgan_run):
    load(qtbot, tab, cgan_run)
    assert tab.labels_box.isVisibleTo(tab) and [b.text() for b in tab.label_bar.buttons] == \
        ["circle", "square", "triangle", "cross"]
    before, shown = tab.samples.grid.images.copy(), tab.samples.grid.updates
    tab.label_bar.buttons[2].click()
    qtbot.waitUntil(lambda: tab.samples.grid.updates > shown and not tab.busy(), timeout=WAIT)
    assert tab.label_bar.buttons[2].isChecked() and not tab.label_bar.buttons[0].isChecked()  # exclusive
    assert not np.array_equal(tab.samples.grid.images, before)
    z = torch.cat([seed_latent(tab.method, s) for s in range(16)])
    assert np.array_equal(tab.samples.grid.images, render(tab.method, z, torch.eye(4)[2]).images)


def test_unconditional_model_hides_the_label_toggles(qtbot, tab, dcgan_run):
    load(qtbot, tab, dcgan_run)
    assert not tab.method.conditional
    assert not tab.labels_box.isVisibleTo(tab) and tab.label_bar.buttons == []
    assert tab.samples.grid.images.shape[0] == 16


def test_export_runs_in_the_background_with_progress(qtbot, tab, cgan_run, tmp_path):
    load(qtbot, tab, cgan_run)
    for seed in (0, 5, 9):
        tab.go_to_seed(seed)
        tab.add_seed_keyframe()
    panel = tab.timeline_panel
    panel.frames_spin.setValue(10)
    assert len(panel.keyframes) == 3 and panel.frame_count() == 21
    panel.key_list.setCurrentRow(2)
    panel.move_current(-1)  # reorder: seed 9 before seed 5
    assert [k.value for k in panel.keyframes] == [0, 9, 5]
    tab.export_panel.size_spin.setValue(40)
    tab.export_panel.fps_spin.setValue(20)
    seen = []
    tab.export_panel.progress.valueChanged.connect(seen.append)
    path = tmp_path / "morph.gif"
    with qtbot.waitSignal(tab.exported, timeout=WAIT) as signal:
        assert tab.export_to(path)
        assert tab.is_exporting() and not tab.export_panel.export_button.isEnabled()
    assert signal.args == [str(path)]
    qtbot.waitUntil(lambda: not tab.is_exporting(), timeout=WAIT)
    im = Image.open(path)
    assert (im.n_frames, im.size, im.info["duration"], im.info["loop"]) == (21, (40, 40), 50, 0)
    assert seen[-2:] == [16, 21] and not tab.export_panel.cancel_button.isEnabled()  # one report per 16-frame chunk
    assert "Wrote" in tab.status.text()


def test_export_can_be_cancelled_and_leaves_no_file(qtbot, tab, cgan_run, tmp_path):
    load(qtbot, tab, cgan_run)
    for seed in (1, 2):
        tab.go_to_seed(seed)
        tab.add_seed_keyframe()
    tab.timeline_panel.frames_spin.setValue(480)  # long enough to cancel midway
    path = tmp_path / "long.gif"
    with qtbot.waitSignal(tab.export_panel.progress.valueChanged, timeout=WAIT):
        tab.export_to(path)
    tab.cancel_export()
    qtbot.waitUntil(lambda: not tab.is_exporting(), timeout=WAIT)
    assert not path.exists() and "cancelled" in tab.status.text()


def test_latest_request_wins_while_dragging_a_direction_slider(qtbot, tab, cgan_run):
    load(qtbot, tab, cgan_run)
    tab.compute_directions()
    qtbot.waitUntil(lambda: tab.explorer.directions is not None, timeout=WAIT)
    qtbot.waitUntil(lambda: not tab.busy(), timeout=WAIT)
    assert all(s.isEnabled() for s in tab.selection.sliders) and "%" in tab.selection.labels[0].text()
    worker = tab.renders.bridge.worker
    done = worker.completed
    slider = tab.selection.sliders[1]
    for i in range(50):  # 50 requests, faster than any render
        slider.setValue(-250 + 10 * i)
    qtbot.waitUntil(lambda: not tab.busy(), timeout=WAIT)
    qtbot.wait(50)
    assert worker.completed - done < 25  # far fewer renders than requests
    z = apply_directions(seed_latent(tab.method, 0), tab.explorer.directions, [0, 2.4, 0, 0, 0])
    assert np.array_equal(tab.selection.view.image, render(tab.method, z, torch.eye(4)[0]).images[0])
    assert "moved" in tab.selection.caption.text()
    tab.add_selection_keyframe()  # a moved selection becomes a latent keyframe
    assert tab.timeline_panel.keyframes[-1].kind == "latent"


def test_ui_stall_while_dragging_during_generation(qtbot, tab, cgan_run):
    load(qtbot, tab, cgan_run)
    report = sample_tab_stall(tab, duration_s=2.0)
    print(f"\nSample tab stall while dragging a direction slider: p50 {report['p50_ms']:.1f} ms, "
          f"p99 {report['p99_ms']:.1f} ms, max {report['max_ms']:.1f} ms; "
          f"{report['renders']} renders for {report['render_requests']} requests")
    assert report["ticks"] > 50 and report["render_requests"] > 20
    assert report["renders"] >= 1
    # The target is 50 ms; the bound leaves room for a shared, overloaded test machine.
    assert report["p99_ms"] < 150


@contextmanager
def training_beside(qtbot, run_dir, log_every: int):
    """A long tiny CGAN run on a plain thread beside the window, from its second step until the block ends."""
    trainer = Trainer(RunConfig(method="cgan", preset="tiny", steps=100_000, image_size=16, dataset_count=256,
                                log_every=log_every, sample_every=100_000, checkpoint_every=100_000),
                      run_dir=run_dir)
    thread = threading.Thread(target=trainer.run, daemon=True)
    thread.start()
    try:
        qtbot.waitUntil(lambda: trainer.step >= 2, timeout=WAIT)
        yield trainer, thread
    finally:
        trainer.stop()
        thread.join(30)


def test_ui_stall_while_dragging_during_training(qtbot, tab, cgan_run, tmp_path):
    # The user drags a direction slider while another run trains on a thread beside the window.
    load(qtbot, tab, cgan_run)
    with training_beside(qtbot, tmp_path / "busy", log_every=10) as (trainer, _):
        report = sample_tab_stall(tab, duration_s=2.0)
        trained = trainer.step
    print(f"\nSample tab stall while dragging during training: p50 {report['p50_ms']:.1f} ms, "
          f"p99 {report['p99_ms']:.1f} ms, max {report['max_ms']:.1f} ms; {report['renders']} renders, "
          f"training reached step {trained}")
    assert report["renders"] >= 1 and trained > 2
    assert report["p99_ms"] < 150  # target 50 ms, measured in docs/SAMPLE_TAB.md; room for a loaded machine


def test_live_snapshot_while_training_continues(qtbot, tab, tmp_path):
    with training_beside(qtbot, tmp_path / "live", log_every=50) as (trainer, thread):
        tab.set_live_source(trainer.snapshot)
        assert tab.model_bar.refresh_button.isEnabled()
        tab.refresh_from_training()
        qtbot.waitUntil(lambda: tab.method is not None and not tab.busy(), timeout=WAIT)
        first_step = tab.run.step
        assert "live training snapshot" in tab.model_bar.info_label.text() and thread.is_alive()
        qtbot.waitUntil(lambda: trainer.step > first_step + 2, timeout=WAIT)
        tab.refresh_from_training()
        qtbot.waitUntil(lambda: tab.run.step > first_step and not tab.busy(), timeout=WAIT)
    assert not thread.is_alive()


def test_dropped_paths_open_runs_and_bad_ones_say_why(qtbot, tab, cgan_run, tmp_path):
    tab.open_path(cgan_run / "checkpoints" / "last.pt")
    qtbot.waitUntil(lambda: tab.method is not None and not tab.busy(), timeout=WAIT)
    odd = tmp_path / "notes.txt"
    odd.write_text("x")
    tab.open_path(odd)
    assert "drop a run folder" in tab.status.text()
    image = tmp_path / "x.png"
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(image)
    tab.open_path(image)  # cgan has no encoder
    assert "no encoder" in tab.status.text()
    with qtbot.waitSignal(tab.loadFailed, timeout=WAIT):
        tab.load_run(tmp_path / "nowhere")
    assert "nowhere" in tab.status.text()


def test_an_encoder_model_turns_a_dropped_image_into_a_keyframe(qtbot, tab, tmp_path):
    if "vae" not in all_methods():
        pytest.skip("no encoder method (vae) registered yet")
    run = train_tiny("vae", tmp_path / "vae", steps=10)
    load(qtbot, tab, run)
    assert tab.selection.image_button.isEnabled() and tab.selection.image_button.text() == "Encode image…"
    image = tmp_path / "doodle.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(image)
    tab.open_path(image)
    qtbot.waitUntil(lambda: len(tab.timeline_panel.keyframes) == 1 and not tab.busy(), timeout=WAIT)
    qtbot.waitUntil(lambda: "image doodle.png" in tab.selection.caption.text(), timeout=WAIT)
    method = load_method(run, "cpu").method
    pixels = torch.from_numpy(np.array(Image.open(image))).permute(2, 0, 1).float() / 127.5 - 1
    expected = render(method, method.encode(pixels[None])).images[0]
    assert np.array_equal(tab.selection.view.image, expected)
    assert tab.timeline_panel.keyframes[0].kind == "image"


def test_selfcheck_hook_reports_facts(qtbot, tab, cgan_run, tmp_path):
    load(qtbot, tab, cgan_run)
    facts = selfcheck_hook(tab, tmp_path)
    assert facts["method"] == "cgan" and facts["label_changed_output"] is True
    assert facts["gif_frames"] >= 16 and facts["gif_size"] == [64, 64]
    assert (tmp_path / "morph.gif").is_file() and (tmp_path / "sample_tab.png").is_file()
    assert facts["background_busy"] is False and facts["stall_p99_ms"] >= 0 and facts["drag_requests"] > 0
