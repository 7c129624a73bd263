"""Run length (issue 13): --epochs instead of --steps, and --time-limit ending a run cleanly with a checkpoint."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from studio.cli import main
from studio.engine.console import ProgressBar
from studio.engine import RunDirectory, load_checkpoint
from studio.engine.config import RunConfig, format_duration, parse_duration
from studio.engine.events import Status
from studio.engine.state import StatusNote
from studio.methods.params import ConfigError

TINY = ("--method", "dcgan", "--preset", "tiny", "--size", "8", "--log-every", "1", "--sample-every", "1000",
        "--checkpoint-every", "100000", "--no-collapse-check", "--quiet")


@pytest.fixture
def images48(tmp_path) -> Path:
    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(48):
        Image.new("RGB", (8, 8), (i * 5, 100, 200 - i * 3)).save(folder / f"{i:02d}.png")
    return folder


def test_epochs_decide_the_steps(images48, tmp_path):
    run = tmp_path / "run"
    assert main(["train", *TINY, "--dataset", str(images48), "--epochs", "2", "--run-dir", str(run)]) == 0
    config = json.loads((run / "config.json").read_text())["run"]
    assert config["epochs"] == 2 and config["steps"] == 6  # ceil(2 × 48 ÷ 16)
    assert load_checkpoint(run / "checkpoints" / "last.pt")["step"] == 6
    assert RunDirectory(run).read_status()["state"] == "finished"
    # A fraction of an epoch rounds up to whole steps; --steps on resume counts in steps from then on.
    assert RunConfig(epochs=0.5).steps_for_epochs(48, 16) == 2
    assert main(["train", "--quiet", "--resume", str(run), "--steps", "8"]) == 0
    assert json.loads((run / "config.json").read_text())["run"]["epochs"] is None
    assert load_checkpoint(run / "checkpoints" / "last.pt")["step"] == 8


def test_steps_and_epochs_are_alternatives(images48, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train", *TINY, "--dataset", str(images48), "--epochs", "2", "--steps", "5"])
    assert exit_.value.code == 2 and "not allowed with argument" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="epochs=0"):
        RunConfig(epochs=0).validate()


def test_time_limit_finishes_with_a_checkpoint_and_resume_counts_this_session(images48, tmp_path, capsys):
    run = tmp_path / "run"
    code = main(["train", *TINY, "--dataset", str(images48), "--steps", "10000000", "--time-limit", "1s",
                 "--run-dir", str(run)])
    assert code == 0
    out = capsys.readouterr().out
    status = RunDirectory(run).read_status()
    assert status["state"] == "finished" and status["message"].startswith("finished (time limit) at step")
    assert "finished (time limit)" in out
    first = load_checkpoint(run / "checkpoints" / "last.pt")
    assert 1 <= first["step"] == status["step"] < 10_000_000 and first["elapsed"] >= 1.0
    assert json.loads((run / "config.json").read_text())["run"]["time_limit"] == 1.0
    # Resumed, the limit counts this session's time, not the run's: it trains on, for about another second.
    assert main(["train", "--quiet", "--resume", str(run)]) == 0
    second = load_checkpoint(run / "checkpoints" / "last.pt")
    assert second["step"] > first["step"] and second["elapsed"] >= 2.0
    assert RunDirectory(run).read_status()["message"].startswith("finished (time limit)")
    # `--time-limit none` removes the limit: the run ends at its steps.
    end = second["step"] + 3
    assert main(["train", "--quiet", "--resume", str(run), "--time-limit", "none", "--steps", str(end)]) == 0
    assert json.loads((run / "config.json").read_text())["run"]["time_limit"] is None
    status = RunDirectory(run).read_status()
    assert status["state"] == "finished" and status["step"] == end and "time limit" not in status["message"]


def test_bad_time_limit_is_one_clear_line(images48, capsys):
    assert main(["train", *TINY, "--dataset", str(images48), "--time-limit", "ten minutes"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "'ten minutes' is not a duration" in err and "1h30m" in err


def test_durations_read_and_write():
    assert [parse_duration(t) for t in ("90m", "2h", "45s", "1h30m", "1.5h", " 2h 5s ")] == \
        [5400, 7200, 45, 5400, 5400, 7205]
    for bad in ("", "10", "2d", "5m5m", "m", "-3m", "0s"):
        with pytest.raises(ValueError):
            parse_duration(bad)
    assert [format_duration(s) for s in (5400, 7200, 45, 3725, 2.5)] == ["1h30m", "2h", "45s", "1h2m5s", "2.5s"]
    assert all(parse_duration(format_duration(s)) == s for s in (1, 59, 61, 3600, 5405, 0.25))


def test_progress_bar_learns_the_steps_an_epoch_count_gives():
    bar = ProgressBar(1000, stream=io.StringIO())
    bar(Status(0, StatusNote.STARTED, "dcgan on x from step 0 to 6", detail={"steps": 6}))
    assert bar.total == 6
