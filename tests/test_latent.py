"""The latent layer without Qt: interpolation, timelines, rendering, directions, the latest-request
worker, export (GIF, PNG strip) and `studio morph`."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from studio.cli import main as cli_main
from studio.engine import RunConfig, Trainer, load_method
from studio.grids import to_uint8
from studio.latent import (
    Cancelled,
    ExportError,
    ExportOptions,
    Keyframe,
    KeyframeError,
    LatestRequestWorker,
    Timeline,
    apply_directions,
    export_morph,
    generate,
    lerp,
    principal_directions,
    render,
    slerp,
)
from studio.latent.explorer import Explorer
from studio.latent.interpolate import EASINGS, ease_in_out
from studio.latent.timeline import has_latent, seed_latent
from studio.methods import all_methods


def train_tiny(method: str, run_dir: Path, steps: int = 20) -> Path:
    """A tiny run (16×16 shapes, a few steps): enough weights to sample from."""
    Trainer(RunConfig(method=method, preset="tiny", steps=steps, image_size=16, dataset_count=256, log_every=10,
                      sample_every=steps, checkpoint_every=steps), run_dir=run_dir).run()
    return run_dir


@pytest.fixture(scope="module")
def cgan_run(tmp_path_factory) -> Path:
    return train_tiny("cgan", tmp_path_factory.mktemp("cgan") / "run")


@pytest.fixture(scope="module")
def cgan(cgan_run):
    return load_method(cgan_run, "cpu").method


def key_image(method, key: Keyframe) -> torch.Tensor:
    """What a keyframe looks like on its own (uint8 C×H×W), rendered without any timeline."""
    keys = Timeline([key], 1).resolve(method)
    return generate(method, keys.latents, keys.labels)[0]


# --- interpolation -----------------------------------------------------------------------------------


def test_slerp_keeps_the_norm_where_lerp_does_not():
    gen = torch.Generator().manual_seed(1)
    a = torch.randn(1, 64, generator=gen)
    b = torch.randn(1, 64, generator=gen)
    b = b / b.norm() * a.norm()  # two keys of equal norm
    norm = float(a.norm())
    for t in np.linspace(0, 1, 25):
        assert abs(float(slerp(a, b, float(t)).norm()) - norm) < 1e-4
    assert float(lerp(a, b, 0.5).norm()) < norm - 0.1  # the straight line cuts through the middle
    assert torch.allclose(slerp(a, b, 0.0), a, atol=1e-5) and torch.allclose(slerp(a, b, 1.0), b, atol=1e-5)


def test_slerp_of_parallel_keys_falls_back_to_a_straight_line():
    a = torch.ones(2, 8)
    out = slerp(a, 3 * a, 0.5)
    assert torch.isfinite(out).all() and torch.allclose(out, 2 * a, atol=1e-5)


def test_easings_start_at_0_and_end_at_1_and_ease_in_out_is_slow_at_the_keys():
    for name, fn in EASINGS.items():
        assert fn(0.0) == pytest.approx(0.0, abs=1e-9), name
        assert fn(1.0) == pytest.approx(1.0, abs=1e-9), name
    assert ease_in_out(0.1) < 0.1 and ease_in_out(0.9) > 0.9


# --- timelines -------------------------------------------------------------------------------------------


def test_frame_counts_with_and_without_loop():
    keys = [Keyframe("seed", s) for s in (1, 2, 3)]
    assert Timeline(keys, 8).frame_count == 17
    assert Timeline(keys, 8, loop=True).frame_count == 25
    assert Timeline(keys[:1], 8).frame_count == 1
    assert Timeline([], 8).frame_count == 0


def test_first_and_last_frames_are_the_keyframes(cgan):
    square = torch.tensor([0.0, 1.0, 0.0, 0.0])
    keys = [Keyframe("seed", 3), Keyframe("seed", 8, square), Keyframe("seed", 5)]
    timeline = Timeline(keys, 6, "slerp", "ease-in-out")
    z, labels = timeline.frames(timeline.resolve(cgan))
    frames = generate(cgan, z, labels)
    assert frames.shape[0] == 13
    assert torch.equal(frames[0], key_image(cgan, keys[0]))
    assert torch.equal(frames[6], key_image(cgan, keys[1]))  # the middle key, with its own label
    assert torch.equal(frames[-1], key_image(cgan, keys[-1]))
    assert not torch.equal(frames[3], frames[0])  # it does move in between


def test_with_loop_the_last_frame_returns_to_the_first_key(cgan):
    keys = [Keyframe("seed", 3), Keyframe("seed", 8)]
    timeline = Timeline(keys, 5, loop=True)
    z, labels = timeline.frames(timeline.resolve(cgan))
    frames = generate(cgan, z, labels)
    assert frames.shape[0] == 11
    assert torch.equal(frames[-1], key_image(cgan, keys[0]))
    assert torch.equal(frames[5], key_image(cgan, keys[1]))


def test_label_state_changes_the_output_of_a_conditional_model(cgan):
    z = seed_latent(cgan, 7)
    circle, triangle = torch.eye(4)[0], torch.eye(4)[2]
    a = render(cgan, z, circle)
    b = render(cgan, z, triangle)
    assert a.ok and b.ok and a.images.shape == (1, 16, 16, 3)
    assert not np.array_equal(a.images, b.images)
    assert np.array_equal(a.images, render(cgan, z, circle).images)  # same latent + label: same image


def test_bad_keyframes_say_what_is_wrong(cgan):
    with pytest.raises(KeyframeError, match="whole number"):
        Keyframe("seed", "x")
    with pytest.raises(KeyframeError, match="kind"):
        Keyframe("noise", 1)
    with pytest.raises(KeyframeError, match="no encoder"):
        Timeline([Keyframe("image", torch.zeros(3, 16, 16))], 4).resolve(cgan)
    with pytest.raises(KeyframeError, match="no keyframes"):
        Timeline([], 4).resolve(cgan)
    with pytest.raises(KeyframeError, match="5 values, the model.s latent has 16"):
        Timeline([Keyframe("latent", torch.zeros(5))], 4).resolve(cgan)


def test_render_returns_errors_as_text_and_never_raises(cgan):
    result = render(cgan, torch.zeros(2, 3))  # the wrong latent size
    assert result.images is None and result.error and not result.ok
    assert result.seconds >= 0


def test_explorer_pages_and_selection(cgan):
    ex = Explorer(page_size=16)
    ex.go_to_seed(37)
    assert ex.page == 2 and 37 in ex.seeds()
    ex.turn_page(1)
    assert ex.page == 3 and ex.selected_seed == 53  # the same cell on the next page
    z = ex.grid_latents(cgan)
    assert z.shape == (16, 16) and torch.equal(z[5], seed_latent(cgan, 53)[0])
    assert ex.selection_keyframe(cgan).kind == "seed"


def test_explorer_announces_each_change_once_with_the_fields_that_changed(cgan):
    ex = Explorer(page_size=16)
    heard: list[frozenset[str]] = []
    ex.subscribe(heard.append)
    ex.go_to_seed(37)  # seed and page in one announcement: one redraw
    assert heard == [{"selected_seed", "page"}]
    ex.go_to_seed(37)  # nothing changed: nothing announced
    ex.scale = 1.0
    ex.labels = torch.eye(4)[1]
    ex.labels = torch.eye(4)[1]  # a fresh tensor holding the same labels is no change
    ex.amounts = [0.5, 0.0]
    assert heard[1:] == [{"labels"}, {"amounts"}]
    ex.select_latent(seed_latent(cgan, 3), "cat.png")
    ex.turn_page(1)  # back to a seed: the encoded selection is forgotten in the same announcement
    assert heard[3:] == [{"selected_latent", "selected_image"},
                         {"page", "selected_seed", "selected_latent", "selected_image"}]
    with ex.changes():
        ex.scale = 0.5
        ex.amounts = [0.0, 0.0]
        ex.announce("model")  # something else the view draws from: in the same announcement
    assert heard[5:] == [{"scale", "amounts", "model"}]
    copy = ex.copy()
    copy.page = 9  # a render job's copy announces nothing to the view
    ex.unsubscribe(heard.append)
    ex.page = 0
    assert len(heard) == 6 and ex.page == 0 and copy.scale == 0.5
    with pytest.raises(AttributeError, match="no field 'zoom'"):
        ex.update(zoom=2)


# --- directions -------------------------------------------------------------------------------------------


def test_principal_directions_move_the_output(cgan):
    d = principal_directions(cgan, k=3, n=64, labels=torch.eye(4)[0])
    assert d.vectors.shape == (3, 16) and torch.isfinite(d.vectors).all()
    assert all(0 < e < 1 for e in d.explained) and d.explained == sorted(d.explained, reverse=True)
    z = seed_latent(cgan, 2)
    moved = apply_directions(z, d, [3.0, 0, 0])
    assert not torch.equal(generate(cgan, moved, torch.eye(4)[0]), generate(cgan, z, torch.eye(4)[0]))
    assert torch.equal(apply_directions(z, d, [0, 0, 0]), z)


def test_direction_search_can_be_cancelled(cgan):
    with pytest.raises(Cancelled):
        principal_directions(cgan, k=2, n=64, batch_size=16, cancel=lambda: True)


# --- latest request wins -------------------------------------------------------------------------------


def test_fifty_rapid_requests_give_few_renders_and_the_last_one_is_delivered(cgan):
    delivered: list[object] = []
    worker = LatestRequestWorker()
    try:
        gate = threading.Event()
        worker.submit("selection", lambda: gate.wait(5) and None, delivered.append)  # busy while requests pile up
        ids = []
        for amount in range(50):
            z = seed_latent(cgan, 4) * (1 + amount / 50)
            ids.append(worker.submit("selection", lambda z=z: render(cgan, z, torch.eye(4)[1]), delivered.append))
        gate.set()
        assert worker.wait_idle(30)
    finally:
        worker.stop()
    assert not worker.running
    assert worker.completed <= 3 and worker.dropped >= 48  # far fewer renders than requests
    assert len(delivered) == 1 and ids[-1] == worker.latest_id("selection")  # the gate's result was stale
    expected = render(cgan, seed_latent(cgan, 4) * (1 + 49 / 50), torch.eye(4)[1])
    assert np.array_equal(delivered[0].images, expected.images)


def test_each_result_reaches_its_own_callback_and_keys_do_not_replace_each_other():
    seen: dict[str, list] = {"a": [], "grid": [], "selection": []}
    worker = LatestRequestWorker()
    gate = threading.Event()
    worker.submit("a", lambda: gate.wait(5) and "first", seen["a"].append)
    worker.submit("grid", lambda: "grid", seen["grid"].append)
    worker.submit(("thumbnail", 7), lambda: "selection", seen["selection"].append)  # any hashable key
    gate.set()
    assert worker.wait_idle(10)
    worker.stop()
    assert seen == {"a": ["first"], "grid": ["grid"], "selection": ["selection"]}


def test_a_stale_result_is_dropped_unless_the_view_is_progressive():
    # The results are handed over later, as the GUI's queued signal does, so requests made meanwhile count.
    handed: list = []
    worker = LatestRequestWorker(deliver=handed.append)
    shown: dict[str, list] = {"grid": [], "selection": []}
    for view, progressive in (("grid", False), ("selection", True)):
        worker.submit(view, lambda: "old", shown[view].append, progressive=progressive)
        assert worker.wait_idle(10)
        worker.submit(view, lambda: "new", shown[view].append, progressive=progressive)  # asked before "old" arrives
        assert worker.wait_idle(10)
    for call in handed:
        call()
    worker.stop()
    assert shown == {"grid": ["new"], "selection": ["old", "new"]}
    assert worker.stale == 1 and worker.completed == 4


def test_an_older_result_never_replaces_a_newer_one_and_discard_drops_what_was_asked_before():
    handed: list = []
    worker = LatestRequestWorker(deliver=handed.append)
    shown: list = []
    for value in ("first", "second"):
        worker.submit("frame", lambda value=value: value, shown.append, progressive=True)
        assert worker.wait_idle(10)
    handed[1]()  # "second" arrives first: "first" is then older than what the view shows
    handed[0]()
    worker.submit("frame", lambda: "before", shown.append, progressive=True)
    worker.submit("grid", lambda: "other key", shown.append)
    assert worker.wait_idle(10)
    worker.discard("frame")  # e.g. the timeline changed: frames asked for until now show something else
    worker.submit("frame", lambda: "after", shown.append, progressive=True)
    assert worker.wait_idle(10)
    for call in handed[2:]:
        call()
    worker.stop()
    assert shown == ["second", "other key", "after"]


def test_discard_drops_waiting_jobs_on_every_key():
    shown: list = []
    worker = LatestRequestWorker()
    started, gate = threading.Event(), threading.Event()
    worker.submit("a", lambda: started.set() or (gate.wait(5) and "running"), shown.append)
    assert started.wait(10)
    worker.submit("b", lambda: "waiting", shown.append)
    dropped = worker.dropped
    worker.discard()  # another model is shown: nothing asked of the old one matters
    worker.submit("c", lambda: "new model", shown.append)
    gate.set()
    assert worker.wait_idle(10)
    worker.stop()
    assert shown == ["new model"] and worker.dropped == dropped + 1 and worker.completed == 2


def test_a_job_that_raises_comes_back_as_the_exception():
    seen = []
    worker = LatestRequestWorker()
    worker.submit("a", lambda: 1 / 0, seen.append)
    worker.submit("b", lambda: "still alive", seen.append)
    assert worker.wait_idle(10)
    worker.stop()
    assert isinstance(seen[0], ZeroDivisionError) and seen[1] == "still alive"


def test_the_worker_thread_ends_when_idle_and_the_next_job_starts_another(monkeypatch):
    from studio.latent import worker as worker_module

    monkeypatch.setattr(worker_module, "IDLE_EXIT_SECONDS", 0.1)
    seen = []
    worker = LatestRequestWorker()
    assert not worker.running  # no thread until there is work
    worker.submit("a", lambda: threading.current_thread().ident, seen.append)
    assert worker.wait_idle(10)
    first = seen[-1]
    deadline = time.monotonic() + 10
    while worker.running and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not worker.running  # idle: its thread (and any CPU thread team it held) is gone
    worker.submit("a", lambda: threading.current_thread().ident, seen.append)
    assert worker.wait_idle(10)
    worker.stop()
    assert worker.threads_started == 2 and len(seen) == 2 and seen[0] == first

# --- export --------------------------------------------------------------------------------------------


def read_gif(path: Path) -> tuple[Image.Image, list[np.ndarray]]:
    im = Image.open(path)
    frames = []
    for i in range(im.n_frames):
        im.seek(i)
        frames.append(np.asarray(im.convert("RGB")).copy())
    return im, frames


def test_gif_has_the_requested_frames_size_duration_and_loop(cgan, tmp_path):
    timeline = Timeline([Keyframe("seed", 3), Keyframe("seed", 8), Keyframe("seed", 1)], 9)
    calls = []
    out = export_morph(tmp_path / "morph.gif", cgan, timeline, ExportOptions(size=48, fps=10, plays=0, chunk=5),
                       progress=lambda d, t: calls.append((d, t)))
    im, frames = read_gif(out.path)
    assert (im.n_frames, im.size, im.info["duration"], im.info["loop"]) == (19, (48, 48), 100, 0)
    assert out.frames == 19 and (out.width, out.height) == (48, 48)
    assert calls[-1] == (19, 19) and len(calls) == 4  # one report per chunk of 5
    assert [p.name for p in tmp_path.iterdir()] == ["morph.gif"]  # no temporary file left behind


def test_gif_plays_once_or_n_times(cgan, tmp_path):
    timeline = Timeline([Keyframe("seed", 3), Keyframe("seed", 8)], 4)
    once = export_morph(tmp_path / "once.gif", cgan, timeline, ExportOptions(plays=1, fps=25))
    thrice = export_morph(tmp_path / "thrice.gif", cgan, timeline, ExportOptions(plays=3))
    assert "loop" not in Image.open(once.path).info and Image.open(once.path).info["duration"] == 40
    assert Image.open(thrice.path).info["loop"] == 2  # the GIF field counts repeats after the first play


def test_identical_frames_are_kept_and_look_identical(cgan, tmp_path):
    # Pillow would fold equal frames into one; a morph must keep its frame count.
    timeline = Timeline([Keyframe("seed", 3), Keyframe("seed", 3)], 7)
    out = export_morph(tmp_path / "still.gif", cgan, timeline, ExportOptions(size=32))
    im, frames = read_gif(out.path)
    assert im.n_frames == 8
    assert all(np.array_equal(f, frames[0]) for f in frames)


def test_gif_frames_match_the_rendered_keyframes(cgan, tmp_path):
    keys = [Keyframe("seed", 3), Keyframe("seed", 8)]
    out = export_morph(tmp_path / "m.gif", cgan, Timeline(keys, 4), ExportOptions())
    _, frames = read_gif(out.path)
    first = key_image(cgan, keys[0]).permute(1, 2, 0).numpy().astype(int)
    last = key_image(cgan, keys[1]).permute(1, 2, 0).numpy().astype(int)
    # A GIF has a 255-colour palette: equal up to quantisation.
    assert np.abs(frames[0].astype(int) - first).mean() < 3
    assert np.abs(frames[-1].astype(int) - last).mean() < 3


def test_grid_of_morphs_and_png_strip_share_the_layout(cgan, tmp_path):
    timeline = Timeline([Keyframe("seed", 3), Keyframe("seed", 8)], 3)
    variations = [timeline.with_seed_offset(1000 * i) for i in range(4)]
    grid = export_morph(tmp_path / "grid.gif", cgan, variations, ExportOptions(size=20, padding=2))
    assert Image.open(grid.path).size == (2 * 22 + 2, 2 * 22 + 2) and Image.open(grid.path).n_frames == 4
    strip = export_morph(tmp_path / "strip.png", cgan, timeline, ExportOptions(size=20, padding=2))
    assert Image.open(strip.path).size == (4 * 22 + 2, 24) and strip.frames == 4


def test_cancelled_export_leaves_the_old_file(cgan, tmp_path):
    target = tmp_path / "m.gif"
    target.write_bytes(b"old")
    timeline = Timeline([Keyframe("seed", 3), Keyframe("seed", 8)], 40)
    reports = []

    def cancel() -> bool:
        return len(reports) >= 1  # stop after the first chunk

    with pytest.raises(Cancelled):
        export_morph(target, cgan, timeline, ExportOptions(chunk=8), progress=lambda d, t: reports.append(d),
                     cancel=cancel)
    assert target.read_bytes() == b"old" and reports == [8]


def test_export_refuses_bad_names_and_options(cgan, tmp_path):
    timeline = Timeline([Keyframe("seed", 3)], 4)
    with pytest.raises(ExportError, match=r"\.gif"):
        export_morph(tmp_path / "m.avi", cgan, timeline)
    with pytest.raises(ExportError, match="fps"):
        export_morph(tmp_path / "m.gif", cgan, timeline, ExportOptions(fps=0))


def test_mp4_export_when_imageio_ffmpeg_is_there(cgan, tmp_path):
    pytest.importorskip("imageio_ffmpeg")
    import imageio.v2 as imageio

    out = export_morph(tmp_path / "m.mp4", cgan, Timeline([Keyframe("seed", 3), Keyframe("seed", 8)], 5),
                       ExportOptions(size=33, fps=10))
    reader = imageio.get_reader(out.path)
    assert reader.count_frames() == 6 and reader.get_meta_data()["fps"] == 10


# --- encoders and translation ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def vae(tmp_path_factory):
    if "vae" not in all_methods():
        pytest.skip("no encoder method (vae) registered yet")
    return load_method(train_tiny("vae", tmp_path_factory.mktemp("vae") / "run", steps=10), "cpu").method


def test_encoded_image_keyframe_reproduces_the_reconstruction(vae, tmp_path):
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(3, 16, 16, generator=gen) * 2 - 1
    path = tmp_path / "doodle.png"
    Image.fromarray(to_uint8(x).permute(1, 2, 0).numpy()).save(path)
    pixels = torch.from_numpy(np.array(Image.open(path))).permute(2, 0, 1).float() / 127.5 - 1
    expected = to_uint8(vae.sample(vae.encode(pixels[None]))[0]).cpu()
    keys = [Keyframe("image", path), Keyframe("seed", 3)]
    timeline = Timeline(keys, 4)
    cache: dict = {}
    z, labels = timeline.frames(timeline.resolve(vae, cache))
    frames = generate(vae, z, labels)
    assert torch.equal(frames[0], expected)
    assert ("image", str(path)) in cache  # encoded once, reused by later renders
    assert has_latent(vae)


def test_translation_models_have_no_latent_to_morph(tmp_path):
    if "pix2pix" not in all_methods():
        pytest.skip("pix2pix not registered yet")
    from studio.data import DatasetKind
    from studio.methods import DataSpec, get_method

    cls = get_method("pix2pix")
    method = cls(cls.make_params("tiny"), DataSpec(DatasetKind.PAIRED, 3, 16), "cpu")
    assert not has_latent(method)
    with pytest.raises(KeyframeError, match="no latent space"):
        Timeline([Keyframe("seed", 1)], 2).resolve(method)
    result = render(method, None, reference=torch.zeros(1, 3, 16, 16))
    assert result.ok and result.images.shape == (1, 16, 16, 3)


# --- studio morph -------------------------------------------------------------------------------------------


def test_studio_morph_writes_the_gif(cgan_run, tmp_path, capsys):
    out = tmp_path / "morph.gif"
    rc = cli_main(["morph", "--run", str(cgan_run), "--keys", "seed:3@circle,seed:8@square,seed:3", "--frames",
                   "6", "--slerp", "--out", str(out), "--fps", "20", "--size", "32", "--loop"])
    assert rc == 0
    im = Image.open(out)
    assert (im.n_frames, im.size, im.info["duration"]) == (19, (32, 32), 50)  # 3 segments × 6 + 1
    assert "19 frames" in capsys.readouterr().out


@pytest.mark.parametrize("keys, message", [
    ("seed:x", "seed must be a whole number"),
    ("image:whatever.png", "has no encoder"),
    ("seed:3@unicorn", "not one of this model's labels"),
    ("noise:3", "write seed:N or image:PATH"),
])
def test_studio_morph_bad_keys_give_one_clear_line(cgan_run, tmp_path, capsys, keys, message):
    rc = cli_main(["morph", "--run", str(cgan_run), "--keys", keys, "--out", str(tmp_path / "m.gif")])
    err = capsys.readouterr().err.strip()
    assert rc != 0 and len(err.splitlines()) == 1
    assert message in err and err.startswith("studio morph: error:")
    assert not (tmp_path / "m.gif").exists()


def test_studio_morph_with_an_image_key_for_an_encoder_model(vae, tmp_path):
    from studio.engine.checkpoint import save_checkpoint

    path = tmp_path / "x.png"
    Image.fromarray(np.full((16, 16, 3), 120, np.uint8)).save(path)
    ckpt = tmp_path / "vae.pt"
    save_checkpoint(ckpt, {"step": 0, "method": vae.name, "params": vae.params_dict(), "spec": vae.spec.to_dict(),
                           "state": vae.state_dict(), "config": {}})
    out = tmp_path / "m.png"
    assert cli_main(["morph", "--run", str(ckpt), "--keys", f"image:{path},seed:2", "--frames", "3",
                     "--out", str(out)]) == 0
    assert Image.open(out).size == (4 * 18 + 2, 20)  # a strip of 4 frames, 2 pixels apart


def test_studio_morph_refuses_labels_for_an_unconditional_model(tmp_path, capsys):
    from studio.data import DatasetKind
    from studio.engine.checkpoint import save_checkpoint
    from studio.methods import DataSpec, get_method

    cls = get_method("dcgan")
    spec = DataSpec(DatasetKind.IMAGES, 3, 16, label_dim=4, label_names=("circle", "square", "triangle", "cross"))
    method = cls(cls.make_params("tiny"), spec, "cpu")  # labelled data, trained without conditioning
    ckpt = tmp_path / "dcgan.pt"
    save_checkpoint(ckpt, {"step": 0, "method": "dcgan", "params": method.params_dict(), "spec": spec.to_dict(),
                           "state": method.state_dict(), "config": {}})
    rc = cli_main(["morph", "--run", str(ckpt), "--keys", "seed:1,seed:2", "--label", "circle",
                   "--out", str(tmp_path / "m.gif")])
    assert rc == 2 and "takes no labels" in capsys.readouterr().err
    assert cli_main(["morph", "--run", str(ckpt), "--keys", "seed:1,seed:2", "--frames", "2",
                     "--out", str(tmp_path / "m.gif")]) == 0
    assert Image.open(tmp_path / "m.gif").n_frames == 3
