"""The run timelapse (issue 26): `studio timelapse` streams a run's saved grids into a GIF (or MP4) a frame at
a time, so memory stays bounded whatever the run's length; one frame per grid chosen; cancel leaves no file."""

from __future__ import annotations

import json
import os
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio.cli import main
from studio.latent.errors import Cancelled, ExportError
from studio.latent.timelapse import TimelapseOptions, choose_grids, run_grids, write_timelapse
from studio.latent.video import GifWriter, mp4_available


def grid_run(folder: Path, count: int, side: int = 64, distinct: int = 10, reconstructions: bool = False) -> Path:
    """A run directory with `count` saved grids (`distinct` different pictures, copied byte for byte)."""
    (folder / "samples").mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"run": {"method": "dcgan", "dataset": "builtin:shapes"}}))
    (folder / "metrics.jsonl").write_text("")
    rng = np.random.default_rng(0)
    pictures = []
    for i in range(distinct):
        base = rng.integers(0, 255, (side // 32 or 1, side // 32 or 1, 3), dtype=np.uint8)
        image = np.kron(base, np.ones((32, 32, 1), np.uint8))[:side, :side]
        image[: 4 + i, :4] = 255  # each picture differs from the next
        path = folder / f"picture-{i}.png"
        Image.fromarray(image).save(path)
        pictures.append(path.read_bytes())
    for n in range(count):
        (folder / "samples" / f"step-{10 * n:07d}.png").write_bytes(pictures[n % distinct])
        if reconstructions:
            (folder / "samples" / f"reconstructions-step-{10 * n:07d}.png").write_bytes(pictures[(n + 1) % distinct])
    return folder


def _memory(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def _reset_peak() -> bool:
    """Start the kernel's peak-resident-memory count (VmHWM) anew; False where that cannot be done."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


@pytest.mark.slow
def test_a_thousand_grids_stream_into_a_gif_with_bounded_memory(tmp_path, capsys):
    """1,000 saved 384×384 grids: held as frames they would take 440 MB; streamed, the peak grows < 200 MB."""
    run = grid_run(tmp_path / "run", 1000, side=384)
    out = tmp_path / "timelapse.gif"
    main(["timelapse", str(run), "--out", str(tmp_path / "warm.gif"), "--every", "500", "--quiet"])  # imports done
    rss_peak_known = _reset_peak()
    before = _memory("VmRSS") if rss_peak_known else 0
    tracemalloc.start()
    try:
        assert main(["timelapse", str(run), "--out", str(out), "--quiet"]) == 0
        _, traced_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    growth = (_memory("VmHWM") - before) if rss_peak_known else traced_peak
    with capsys.disabled():  # the figures, for the record (pytest -s)
        print(f"\n1,000 grids: peak growth {growth / 2**20:.1f} MB resident, {traced_peak / 2**20:.1f} MB traced")
    assert growth < 200 * 2**20 and traced_peak < 200 * 2**20
    assert "1000 frames" in capsys.readouterr().out
    with Image.open(out) as gif:
        assert gif.n_frames == 1000 and gif.size == (384, 384)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_one_frame_per_grid_chosen_with_every_and_fps(tmp_path, capsys):
    run = grid_run(tmp_path / "run", 23)
    out = tmp_path / "t.gif"
    assert main(["timelapse", str(run), "--out", str(out), "--every", "5", "--fps", "4", "--quiet"]) == 0
    chosen = choose_grids(list(range(23)), 5)
    assert chosen == [0, 5, 10, 15, 20, 22]  # the last grid always ends the timelapse
    with Image.open(out) as gif:
        assert gif.n_frames == len(chosen) and gif.info["duration"] == 250 and gif.info["loop"] == 0
        frames = []
        for i in range(gif.n_frames):
            gif.seek(i)
            frames.append(np.asarray(gif.convert("RGB")).copy())
    # Frame k is grid chosen[k], colour for colour (a GIF's palette holds every colour of these grids).
    for frame, n in zip(frames, chosen, strict=True):
        expected = np.asarray(Image.open(run / f"picture-{n % 10}.png").convert("RGB"))
        assert np.array_equal(frame, expected)
    assert "wrote" in capsys.readouterr().out


def test_identical_grids_stay_separate_frames(tmp_path):
    run = grid_run(tmp_path / "run", 6, distinct=1)
    frames, beside = run_grids(run)
    result = write_timelapse(frames, tmp_path / "same.gif", TimelapseOptions(fps=10))
    with Image.open(result.path) as gif:
        assert gif.n_frames == 6 == result.frames  # Pillow's writer would have folded them into one


def test_reconstructions_go_beside_their_grid(tmp_path):
    run = grid_run(tmp_path / "run", 3, reconstructions=True)
    frames, beside = run_grids(run)
    assert beside is not None and len(beside) == 3
    result = write_timelapse(frames, tmp_path / "pairs.gif", beside=beside)
    assert (result.width, result.height) == (64 + 8 + 64, 64)


def test_cancel_and_a_broken_grid_leave_no_file(tmp_path):
    run = grid_run(tmp_path / "run", 10)
    frames, _ = run_grids(run)
    out = tmp_path / "exports" / "t.gif"
    seen = []
    with pytest.raises(Cancelled):
        write_timelapse(frames, out, progress=lambda d, t: seen.append(d), cancel=lambda: len(seen) >= 3)
    assert seen == [1, 2, 3] and list(out.parent.iterdir()) == []
    out.write_bytes(b"an earlier timelapse")
    frames[4].write_bytes(b"not a png")
    with pytest.raises(ExportError, match=str(frames[4].name)):
        write_timelapse(frames, out)
    assert out.read_bytes() == b"an earlier timelapse" and len(list(out.parent.iterdir())) == 1


def test_bad_arguments_are_named(tmp_path, capsys):
    run = grid_run(tmp_path / "run", 2)
    assert main(["timelapse", str(tmp_path / "nope"), "--out", str(tmp_path / "x.gif")]) == 2
    assert "no such run directory" in capsys.readouterr().err
    assert main(["timelapse", str(run), "--out", str(tmp_path / "x.avi")]) == 2
    assert ".gif or .mp4" in capsys.readouterr().err
    assert main(["timelapse", str(run), "--out", str(tmp_path / "x.gif"), "--every", "0"]) == 2
    assert "every 0" in capsys.readouterr().err
    empty = tmp_path / "empty"
    (empty / "samples").mkdir(parents=True)
    (empty / "config.json").write_text("{}")
    assert main(["timelapse", str(empty), "--out", str(tmp_path / "x.gif")]) == 2
    assert "no saved sample grids" in capsys.readouterr().err


def test_gif_writer_fits_a_frame_of_another_size_and_refuses_none(tmp_path):
    with GifWriter(tmp_path / "a.gif", 100) as writer:
        writer.add(np.full((10, 12, 3), 200, np.uint8))
        writer.add(np.full((20, 5, 1), 90, np.uint8))  # grey, taller and narrower: cropped and padded
    with Image.open(tmp_path / "a.gif") as gif:
        assert gif.size == (12, 10) and gif.n_frames == 2
    writer = GifWriter(tmp_path / "b.gif")
    with pytest.raises(ExportError, match="no frames"):
        writer.close()
    assert not (tmp_path / "b.gif").exists() and not [p for p in os.listdir(tmp_path) if p.startswith(".")]


@pytest.mark.skipif(not mp4_available(), reason="MP4 needs imageio-ffmpeg (the mp4 extra)")
def test_mp4_timelapse(tmp_path):
    run = grid_run(tmp_path / "run", 12)
    assert main(["timelapse", str(run), "--out", str(tmp_path / "t.mp4"), "--every", "2", "--quiet"]) == 0
    import imageio.v2 as imageio

    with imageio.get_reader(tmp_path / "t.mp4") as reader:
        assert sum(1 for _ in reader) == len(choose_grids(list(range(12)), 2)) == 7  # 0, 2, ..., 10 and the last
