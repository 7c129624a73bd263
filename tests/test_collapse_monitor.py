"""The live collapse monitor (issue 19): on by default, flags a generator that ignores z within a few
sample intervals, never flags one whose samples vary like the data; in metrics.jsonl, on the command
line, for a followed run, and in the window (banner and outlined near-duplicates)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from studio.data import Dataset, DatasetKind, open_dataset
from studio.engine import RunConfig, RunDirectory, Status, Trainer
from studio.engine.follow import RunFollower
from studio.grids import MARK_COLOURS, image_grid, outline_cells
from studio.methods.registry import get_method
from studio.metrics.collapse import CollapseMonitor, collapse_monitor_for, duplicate_groups, generated_part

SIDE = 16
STEPS, EVERY = 30, 5
WAIT = 60_000


@pytest.fixture(scope="module")
def shapes():
    return open_dataset("builtin:shapes", size=SIDE, count=256)


def real_unit(dataset, n=64, offset=0) -> torch.Tensor:
    return dataset.data[offset:offset + n].float() / 127.5 - 1


@pytest.fixture
def ignores_z(monkeypatch):
    """DCGAN's generator fed one z for every sample: it still trains, but draws one image."""
    cls = get_method("dcgan")
    real_sample = cls.sample
    monkeypatch.setattr(cls, "sample", lambda self, z, labels=None, reference=None:
                        real_sample(self, z[:1].expand_as(z).contiguous(), labels, reference))


@pytest.fixture
def varies_like_data(monkeypatch, shapes):
    """A generator whose samples are real images picked by z: as varied as the data, whatever it learns."""
    real = real_unit(shapes, 256)
    monkeypatch.setattr(get_method("dcgan"), "sample", lambda self, z, labels=None, reference=None:
                        real[(z.flatten(1)[:, 0] * 1e4).long() % len(real)].to(z.device))


def config(**overrides) -> RunConfig:
    values = dict(method="dcgan", dataset="builtin:shapes", preset="tiny", image_size=SIDE, dataset_count=256,
                  steps=STEPS, device="cpu", log_every=EVERY, sample_every=EVERY, checkpoint_every=STEPS,
                  fixed_samples=16, collapse_warmup=0)
    values.update(overrides)
    return RunConfig(**values)


def train(run_dir, shapes, **overrides) -> list:
    events = []
    trainer = Trainer(config(**overrides), run_dir=run_dir, dataset=shapes, subscribers=(events.append,))
    assert trainer.run() == "finished", trainer.message
    return events


# --- the monitor on its own ------------------------------------------------------------------------
def test_identical_samples_are_called_after_patience_and_once(shapes):
    monitor = CollapseMonitor(real_unit(shapes), threshold=0.25, warmup=0, patience=3)
    one = real_unit(shapes, 1).expand(64, -1, -1, -1)
    assert [monitor(s, one) is not None for s in (10, 20, 30, 40)] == [False, False, True, False]
    collapse = monitor(50, real_unit(shapes)) or monitor(60, one)
    assert collapse is None  # varied again at 50 re-arms, but one low interval is not a collapse
    assert [monitor(s, one) is not None for s in (70, 80)] == [False, True]  # 60, 70, 80: a new collapse


def test_a_collapse_names_its_start_its_ratio_and_its_duplicates(shapes):
    monitor = CollapseMonitor(real_unit(shapes), threshold=0.25, warmup=0, patience=2)
    samples = real_unit(shapes, 64, offset=100).clone()
    samples[:60] = samples[0]  # 60 copies of one image
    samples[60:] = samples[60]  # and 4 of another
    monitor(5, samples)
    collapse = monitor(10, samples)
    assert collapse is not None and collapse.since == 5 and collapse.ratio < 0.25
    assert collapse.duplicates == [list(range(60)), list(range(60, 64))]
    assert collapse.message.startswith("possible mode collapse at step 10: since step 5 the samples have been less "
                                       "varied than 0.25× real images")
    assert collapse.message.endswith("64 of 64 are near-duplicates")


def test_varied_samples_and_the_warm_up_are_never_flagged(shapes):
    monitor = CollapseMonitor(real_unit(shapes), threshold=0.25, warmup=100, patience=1)
    blob = torch.zeros(64, 3, SIDE, SIDE)  # an untrained generator's grey blob: not a collapse yet
    assert all(monitor(s, blob) is None for s in range(0, 100, 10))
    assert all(monitor(s, real_unit(shapes, 64, offset=s)) is None for s in range(100, 200, 10))
    assert monitor.last_ratio > 0.8


def test_duplicate_groups_and_the_cells_that_show_them():
    features = torch.tensor([[0.0], [0.05], [5.0], [9.0], [9.02], [9.04]])
    assert duplicate_groups(features, within=0.1) == [[3, 4, 5], [0, 1]]



@pytest.mark.parametrize("layout", ["pairs-side-by-side", "pairs-interleaved"])
def test_translation_previews_are_judged_on_their_generated_half(shapes, layout):
    """A grid that shows real inputs beside the samples still collapses when the samples do."""
    monitor = CollapseMonitor(real_unit(shapes), threshold=0.25, warmup=0, patience=1)
    inputs = real_unit(shapes, 32, offset=64)
    outputs = real_unit(shapes, 1).expand(32, -1, -1, -1)
    if layout == "pairs-side-by-side":
        preview = torch.cat([inputs, outputs], dim=3)
        assert torch.equal(generated_part(preview, layout), outputs)
    else:
        preview = torch.stack([inputs, outputs], dim=1).flatten(0, 1)
    collapse = monitor(0, preview, layout)
    assert collapse is not None and collapse.cells == len(preview)
    cells = list(range(32)) if layout == "pairs-side-by-side" else list(range(1, 64, 2))
    assert collapse.duplicates == [cells]


def test_outlined_cells_are_ringed_in_their_group_colour():
    grid = image_grid(torch.zeros(16, 1, 4, 4, dtype=torch.uint8))
    marked = outline_cells(grid, [[0, 5], [15]], 16)
    assert marked.shape == (*grid.shape[:2], 3) and not grid.any()
    ring = marked[0:8, 0:2]  # the left edge of cell 0's ring
    assert (ring == MARK_COLOURS[0]).all()
    assert (marked[6:14, 6:8] == MARK_COLOURS[0]).all()  # cell 5: row 1, column 1
    assert (marked[-2:, -8:] == MARK_COLOURS[1]).all()  # cell 15, the other group
    assert not marked[8:12, 14:20].any()  # cell 10 and its ring untouched


def test_the_monitor_is_on_by_default_and_can_be_switched_off(shapes):
    assert RunConfig().collapse_check
    assert collapse_monitor_for(config(), shapes) is not None
    assert collapse_monitor_for(config(collapse_check=False), shapes) is None
    assert collapse_monitor_for(config(fixed_samples=4), shapes) is None  # too few samples to judge
    one_image = Dataset(shapes.source, DatasetKind.IMAGES, shapes.data[:1].expand(16, -1, -1, -1).contiguous())
    assert collapse_monitor_for(config(), one_image) is None  # no variety to measure against: no monitor
    with pytest.raises(Exception, match="collapse_threshold"):
        config(collapse_threshold=0).validate()


# --- in a real run: metrics.jsonl, the follower, the command line ------------------------------------
def test_a_generator_that_ignores_z_is_flagged_and_recorded(tmp_path, shapes, ignores_z):
    events = train(tmp_path / "run", shapes)
    collapses = [e for e in events if isinstance(e, Status) and e.state == "collapse"]
    assert [e.step for e in collapses] == [2 * EVERY]  # samples at 0, 5, 10: three low intervals
    detail = collapses[0].detail
    assert detail["ratio"] < 0.01 and detail["since"] == 0 and detail["cells"] == 16
    assert detail["duplicates"] == [list(range(16))] and detail["method"] == "dcgan"
    assert detail["checkpoint"] is None  # none written before step 10
    run = RunDirectory(tmp_path / "run")
    [record] = [r for r in run.read_metrics() if r.get("event") == "collapse"]
    assert record["step"] == 2 * EVERY and record["duplicates"] == [list(range(16))]
    assert run.read_status()["state"] == "finished"  # a note, not a state
    followed = [e for e in RunFollower(tmp_path / "run").poll() if isinstance(e, Status) and e.state == "collapse"]
    assert [(e.step, e.detail["duplicates"]) for e in followed] == [(2 * EVERY, [list(range(16))])]


def test_samples_as_varied_as_the_data_are_never_flagged(tmp_path, shapes, varies_like_data):
    events = train(tmp_path / "run", shapes)
    assert not [e for e in events if isinstance(e, Status) and e.state == "collapse"]
    assert not [r for r in RunDirectory(tmp_path / "run").read_metrics() if r.get("event") == "collapse"]


def test_switched_off_nothing_is_flagged(tmp_path, shapes, ignores_z):
    events = train(tmp_path / "run", shapes, collapse_check=False)
    assert not [e for e in events if isinstance(e, Status) and e.state == "collapse"]


def test_the_command_line_prints_one_warning_line(tmp_path, ignores_z, capsys):
    from studio.cli import main

    args = ["train", "--method", "dcgan", "--preset", "tiny", "--dataset", "builtin:shapes", "--size", str(SIDE),
            "--steps", "40", "--sample-every", "5", "--device", "cpu", "--collapse-warmup", "0"]
    for quiet in ([], ["--quiet"]):
        assert main([*args, "--run-dir", str(tmp_path / f"run{len(quiet)}"), *quiet]) == 0
        warnings = [line for line in capsys.readouterr().err.splitlines() if "collapse" in line]
        assert len(warnings) == 1 and warnings[0].startswith("warning: possible mode collapse at step 10")
        assert "--lr-scale 0.5" in warnings[0]
    assert main([*args, "--run-dir", str(tmp_path / "off"), "--no-collapse-check"]) == 0
    assert "collapse" not in capsys.readouterr().err


# --- in the window -------------------------------------------------------------------------------
def train_in_window(window, qtbot, run_dir, shapes):
    window.train_in_window(config(checkpoint_every=EVERY), run_dir, shapes)
    qtbot.waitUntil(lambda: window.run_state.is_final, timeout=WAIT)
    window.runs.poll()


def test_the_window_shows_a_collapse_banner_and_outlines_the_duplicates(window, qtbot, tmp_path, shapes,
                                                                       ignores_z):
    train_in_window(window, qtbot, tmp_path / "run", shapes)
    qtbot.waitUntil(lambda: window.monitor_tab.duplicates is not None, timeout=WAIT)
    banner = window.banner
    assert "Mode collapse" in banner.text and f"step {2 * EVERY}" in banner.text
    assert "lower learning rate" in banner.text and banner.action_button.isVisible()
    assert f"The last checkpoint (step {EVERY}) is from after the collapse began (step 0)" in banner.text
    monitor = window.monitor_tab
    assert monitor.duplicates == (2 * EVERY, [list(range(16))], 16)
    shown = monitor.sample_view.image
    assert shown.shape[2] == 3 and (shown[0, :, :] == MARK_COLOURS[0]).all(axis=1).any()
    assert "16 near-duplicates outlined" in monitor.sample_title.text()
    window.tabs.setCurrentWidget(monitor)
    window.grab().save(str(tmp_path / "collapse-banner.png"))


def test_the_window_says_nothing_for_a_healthy_run(window, qtbot, tmp_path, shapes, varies_like_data):
    train_in_window(window, qtbot, tmp_path / "run", shapes)
    assert "collapse" not in window.banner.text.lower()
    assert window.monitor_tab.duplicates is None
    assert not np.array_equal(window.monitor_tab.sample_view.image[0, 0], MARK_COLOURS[0])


def test_a_followed_run_shows_its_collapse_too(window, qtbot, tmp_path, shapes, ignores_z):
    train(tmp_path / "run", shapes)
    assert window.open_run(tmp_path / "run")
    qtbot.waitUntil(lambda: window.monitor_tab.duplicates is not None, timeout=WAIT)
    assert "Mode collapse" in window.banner.text
    assert window.monitor_tab.sample_view.image is not None


def test_the_train_tab_switches_the_monitor_for_the_run_and_its_processes(window, tmp_path):
    from studio.engine.launch import train_command

    tab = window.train_tab
    assert tab.collapse_check.isChecked()  # on by default
    tab.collapse_check.setChecked(False)
    assert tab.state()["collapse_check"] is False
    tab.apply_config(RunConfig(collapse_check=True))
    assert tab.collapse_check.isChecked()
    tab.restore({"collapse_check": False})
    assert not tab.collapse_check.isChecked()
    off = RunConfig(device="cuda", collapse_check=False)
    command = train_command(off, tmp_path / "gpus", 2)
    assert RunConfig.load(command[command.index("--config") + 1]).collapse_check is False
    command = train_command(RunConfig(device="cuda"), tmp_path / "gpus", 2)
    assert RunConfig.load(command[command.index("--config") + 1]).collapse_check is True
