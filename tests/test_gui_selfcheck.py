"""`studio selfcheck`, `studio --run DIR` start-up, and the window-overhead benchmark helper."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pyqtgraph")

pytestmark = pytest.mark.gui


def test_selfcheck_command_passes_and_writes_grabs(tmp_path, capsys):
    from PIL import Image

    from studio.cli import main

    out = tmp_path / "selfcheck"
    assert main(["selfcheck", "--out", str(out), "--steps", "20"]) == 0
    assert "selfcheck passed: 20/20 steps" in capsys.readouterr().out
    result = json.loads((out / "selfcheck.json").read_text())
    assert result["ok"] and result["steps_done"] == 20 and result["final_state"] == "finished"
    assert result["scalar_updates"] >= 5 and result["sample_grids"] >= 1 and result["seconds"] > 0
    for name in ("train", "monitor", "sample"):
        with Image.open(out / f"{name}.png") as img:
            assert img.size == (1280, 800), name
    assert (out / "run" / "checkpoints" / "last.pt").is_file()


def test_studio_run_dir_opens_the_window_following_that_run(qtbot, tmp_path, monkeypatch):
    from studio.data import open_dataset
    from studio.engine import RunConfig, Trainer
    from studio.gui.app import open_window

    monkeypatch.setenv("STUDIO_CONFIG_DIR", str(tmp_path / "config"))
    run_dir = tmp_path / "run"
    config = RunConfig(method="gan", dataset="builtin:rings", preset="tiny", steps=4, log_every=1, sample_every=2,
                       dataset_count=512, device="cpu")
    Trainer(config, run_dir=run_dir, dataset=open_dataset("builtin:rings", count=512)).run()

    window = open_window(run=str(run_dir))
    window.interactive = False
    qtbot.addWidget(window)
    assert window.isVisible()
    qtbot.waitUntil(lambda: window.runs.follower is not None, timeout=60_000)  # after the deferred set-up
    monitor = window.monitor_tab
    qtbot.waitUntil(lambda: monitor.scalar_updates == 4 and monitor.points_updates >= 1, timeout=60_000)
    assert monitor.sample_stack.currentWidget() is monitor.scatter  # 2-D points: the live scatter
    assert window.tabs.currentWidget() is monitor
    qtbot.waitUntil(lambda: len(monitor.scatter.real.data) > 0, timeout=60_000)  # real points, loaded aside


@pytest.mark.slow
def test_window_overhead_benchmark_reports_both_speeds(tmp_path):
    from studio.gui.benchmark import format_overhead, measure_window_overhead

    result = measure_window_overhead(steps=30, repeats=1, image_size=16, count=256, work_dir=tmp_path)
    assert result["headless_images_per_sec"] > 0 and result["window_images_per_sec"] > 0
    assert result["ratio"] == pytest.approx(result["window_images_per_sec"] / result["headless_images_per_sec"])
    assert "ratio" in format_overhead(result)
