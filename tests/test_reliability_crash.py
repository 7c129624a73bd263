"""Crash safety (issue 7): SIGKILL the training process at random moments, again and again.

A real `python -m studio train` process trains dcgan on builtin:shapes with a checkpoint every 3
steps and a metrics line every step, and is killed with SIGKILL: at a random moment of training,
at a random moment from launch (imports, dataset, config, checkpoint loading), while a checkpoint
is half-written, and while a metrics line is half-written. STUDIO_TEST_WRITE_DELAY makes every
write pause half-way, so the last two really land inside writes. After each kill:

- checkpoints/last.pt loads with torch.load(weights_only=True), and its step never goes back;
- metrics.jsonl parses: every complete line is JSON, at most the last line is torn (and it is
  ignored), and every line seen after the previous kill is still there, byte for byte;
- `studio train --resume` starts from the checkpoint's step (its status says so), cuts the torn
  line before appending, and removes the temp files the killed writer left.

At the end the run is resumed to completion, and every step that was trained twice (after the
checkpoint, before a kill, then again after the resume) logged the same losses both times.

CI runs a few kills (STUDIO_KILL_LOOP, default 4: one of each kind). The full loop:

    STUDIO_KILL_LOOP=25 .venv/bin/python -m pytest tests/test_reliability_crash.py
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from studio.engine import RunDirectory, load_checkpoint
from studio.engine.state import RunState

KILLS = int(os.environ.get("STUDIO_KILL_LOOP", "4"))
SEED = int(os.environ.get("STUDIO_KILL_SEED", "20240607"))
MOMENTS = ["random", "mid-checkpoint", "mid-metrics-line", "from-launch"]
WAIT = 120.0  # seconds any one wait may take before the test gives up (a loaded CI machine is slow)
BIG = 1_000_000  # steps: the killed runs never finish on their own


def launch(run: Path, log: Path, *, resume: bool, steps: int = BIG, delay: float = 0.03) -> subprocess.Popen:
    if resume:
        args = ["--resume", str(run)]
    else:
        args = ["--method", "dcgan", "--dataset", "builtin:shapes", "--preset", "tiny", "--size", "16",
                "--device", "cpu", "--seed", "5", "--run-dir", str(run)]
    args += ["--steps", str(steps), "--log-every", "1", "--checkpoint-every", "3", "--sample-every", "4"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "STUDIO_TEST_THREADS": "1",
           "STUDIO_TEST_WRITE_DELAY": str(delay) if delay else ""}
    with open(log, "ab") as err:
        # Its own session, so the kill reaches any child process it may have started too.
        return subprocess.Popen([sys.executable, "-m", "studio", "train", "--quiet", *args], env=env,
                                stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)


def kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(30)


def wait_for(what: str, condition, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"the training process ended (exit {proc.returncode}) while waiting for {what}:\n"
                                 + log.read_text(errors="replace")[-3000:])
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.001)


def started(run: Path, proc: subprocess.Popen) -> bool:
    status = RunDirectory(run).read_status()
    return status.get("pid") == proc.pid and status.get("state") is RunState.RUNNING


def temp_files(run: Path) -> set[Path]:
    folders = [f for f in (run, run / "checkpoints", run / "samples") if f.is_dir()]
    return {p for folder in folders for p in folder.glob(".*.tmp")}


def checkpoint_half_written(run: Path) -> bool:
    return any((run / "checkpoints").glob(".last.pt.*.tmp"))


def metrics_line_half_written(run: Path) -> bool:
    try:
        with open(run / "metrics.jsonl", "rb") as fh:
            fh.seek(-1, os.SEEK_END)
            return fh.read(1) != b"\n"
    except OSError:  # not there yet, or empty
        return False


def checkpoint_step(run: Path) -> int | None:
    """The step of checkpoints/last.pt, loaded with weights_only=True; None when there is none yet."""
    path = run / "checkpoints" / "last.pt"
    if not path.exists():
        return None
    state = torch.load(path, map_location="cpu", weights_only=True)  # raises if it does not load
    assert load_checkpoint(path)["step"] == state["step"]
    assert {"state", "sampler", "rng", "fixed"} <= set(state), "a checkpoint without its resume state"
    return int(state["step"])


def complete_lines(run: Path) -> bytes:
    """metrics.jsonl up to its last newline, after checking every complete line parses."""
    path = run / "metrics.jsonl"
    data = path.read_bytes() if path.exists() else b""
    complete = data[: data.rfind(b"\n") + 1]
    for line in complete.splitlines():
        assert isinstance(json.loads(line), dict), line
    assert len(RunDirectory(run).read_metrics()) == len(complete.splitlines())  # the torn line is ignored
    return complete


@pytest.mark.slow
@pytest.mark.timeout(max(300, 60 * KILLS))
def test_sigkill_at_random_moments_never_loses_the_run(tmp_path):
    rng = random.Random(SEED)
    run, log = tmp_path / "run", tmp_path / "stderr.log"
    seen_lines = b""
    last_step: int | None = None
    stale: set[Path] = set()
    landed = {moment: 0 for moment in MOMENTS}
    proc = None
    try:
        for i in range(KILLS):
            moment = MOMENTS[i % len(MOMENTS)]
            proc = launch(run, log, resume=last_step is not None)
            if moment == "from-launch":
                time.sleep(rng.uniform(0.2, 5.0))
            else:
                wait_for("training to start", lambda p=proc: started(run, p), proc, log)
                if last_step is not None:  # resumed from the checkpoint's own step
                    message = RunDirectory(run).read_status()["message"]
                    assert f"from step {last_step} " in message, message
                    assert not any(p.exists() for p in stale), "temp files of a killed writer were not removed"
                    stale = set()
                if moment == "random":
                    time.sleep(rng.uniform(0.0, 1.5))
                elif moment == "mid-checkpoint":
                    wait_for("a checkpoint write", lambda: checkpoint_half_written(run), proc, log)
                else:
                    wait_for("a metrics line", lambda: metrics_line_half_written(run), proc, log)
            kill(proc)
            # What the kill interrupted (for the record: the test asserts each kind happened at least once).
            landed[moment] += {"mid-checkpoint": checkpoint_half_written(run),
                               "mid-metrics-line": metrics_line_half_written(run)}.get(moment, True)

            step = checkpoint_step(run)
            assert last_step is None or (step is not None and step >= last_step), "a checkpoint went back"
            lines = complete_lines(run)
            assert lines.startswith(seen_lines), "a metrics line written before the kill was lost or changed"
            seen_lines, last_step = lines, step
            stale |= temp_files(run)

        # Resume to completion without the write delay: exit 0, and re-trained steps logged the same losses.
        target = (last_step or 0) + 6
        proc = launch(run, log, resume=last_step is not None, steps=target, delay=0.0)
        assert proc.wait(WAIT) == 0, log.read_text(errors="replace")[-3000:]
    finally:
        if proc is not None and proc.poll() is None:
            kill(proc)
    assert checkpoint_step(run) == target and not temp_files(run)
    data = (run / "metrics.jsonl").read_bytes()
    assert data.endswith(b"\n") and data.startswith(seen_lines)
    assert complete_lines(run) == data  # every line parses: no torn line was glued to a later one
    by_step: dict[int, set] = {}
    for record in RunDirectory(run).read_metrics():
        if "d_loss" in record:
            by_step.setdefault(record["step"], set()).add((record["d_loss"], record["g_loss"]))
    assert sorted(by_step) == list(range(1, target + 1)), "a step's losses are missing from the log"
    redone = [s for s, values in by_step.items() if len(values) > 1]
    assert not redone, f"steps re-trained after a kill logged different losses: {redone[:5]}"
    if KILLS >= len(MOMENTS):
        assert all(landed.values()), f"some kinds of kill never landed where intended: {landed}"
    print(f"{KILLS} kills (seed {SEED}): {landed}; final checkpoint step {target}")
