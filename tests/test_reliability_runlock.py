"""One writer per run directory (issue 17): a second writer refuses before touching anything.

Real `python -m studio train` processes train a tiny dcgan into one folder at once; a torchrun
job's rank 0 holds the lock; the writer is SIGKILLed and the run resumed; readers (following,
`studio sample`, `studio export`) work on a run whose lock is held; the window's *Continue* meets a
run a subprocess writes.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from studio.cli import main
from studio.engine import RunDirectory, load_checkpoint
from studio.engine.follow import RunFollower
from studio.engine.runlock import LOCK_FILE, Holder, RunLock, RunLocked, new_run_dir

WAIT = 120.0  # seconds any one wait may take (a loaded 2-core machine is slow)
BIG = 1_000_000  # steps: the writers here never finish on their own
TINY = ["--method", "dcgan", "--dataset", "builtin:shapes", "--preset", "tiny", "--size", "16", "--device", "cpu",
        "--log-every", "1", "--checkpoint-every", "3", "--sample-every", "5"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "STUDIO_TEST_THREADS": "1"}


def train(*args: str, cwd: Path | None = None) -> subprocess.Popen:
    """A real `studio train` process (in its own session, so a kill reaches all of it)."""
    return subprocess.Popen([sys.executable, "-m", "studio", "train", "--quiet", *args], env=ENV, cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def finish(proc: subprocess.Popen) -> tuple[int, str]:
    _, err = proc.communicate(timeout=WAIT)
    return proc.returncode, err


def kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.communicate(timeout=30)


def holder(run: Path) -> Holder | None:
    try:
        return Holder.parse((run / LOCK_FILE).read_bytes())
    except OSError:
        return None


def wait_until(what: str, condition, procs: list[subprocess.Popen]) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        ended = [p for p in procs if p.poll() is not None]
        if ended:
            raise AssertionError(f"a training process ended (exit {ended[0].returncode}) while waiting for {what}: "
                                 f"{ended[0].stderr.read()[-2000:]}")
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def checkpointed(run: Path) -> bool:
    return (run / "checkpoints" / "last.pt").exists() and len(logged_steps(run)) >= 3


def logged_steps(run: Path) -> list[int]:
    return [r["step"] for r in RunDirectory(run).read_metrics() if "d_loss" in r]


def assert_refused(code: int, err: str, run: Path, writer_pid: int, command: str = "studio train") -> None:
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert code == 2, err
    assert len(lines) == 1, err  # one line, no traceback
    assert f"{run} is being written by PID {writer_pid} on this host ({command}" in lines[0], lines[0]
    assert f"watch it with `studio --run {run}`" in lines[0], lines[0]


# --- the lock itself -------------------------------------------------------------------------------
def test_a_second_lock_is_refused_with_the_holder_and_a_release_frees_it(tmp_path):
    with RunLock(tmp_path, "studio train") as lock:
        assert lock.held
        with pytest.raises(RunLocked) as refused:
            RunLock(tmp_path, "studio train --resume").acquire()
        assert refused.value.holder.pid == os.getpid() and refused.value.holder.command == "studio train"
        assert str(refused.value).startswith(f"{tmp_path} is being written by PID {os.getpid()} on this host "
                                             f"(studio train, started {time.strftime('%H:%M')}")
    assert (tmp_path / LOCK_FILE).read_bytes() == b""  # a clean end leaves no holder behind
    with RunLock(tmp_path, "studio train --resume") as again:
        assert holder(tmp_path).command == "studio train --resume" and again.held


def test_without_working_locks_the_recorded_pid_decides(tmp_path, monkeypatch):
    # Some network and FUSE file systems answer flock with ENOLCK: the record's PID decides instead.
    fcntl = pytest.importorskip("fcntl")

    def no_locks(fd, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        record = Holder(other.pid, Holder.me("").host, "studio train", time.time())
        (tmp_path / LOCK_FILE).write_bytes(record.to_bytes())
        with pytest.raises(RunLocked, match=f"PID {other.pid} on this host"):
            RunLock(tmp_path, "studio train").acquire()
    finally:
        other.kill()
        other.wait()
    with RunLock(tmp_path, "studio train"):  # the recorded writer is dead: the run is free
        assert holder(tmp_path).pid == os.getpid()
    assert (tmp_path / LOCK_FILE).read_bytes() == b""


def test_new_run_folders_are_claimed_atomically(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # Folders already taken for this second and the next: the claim moves on to -2 instead of sharing.
    now = time.time()
    for t in (now, now + 1):
        (tmp_path / "runs" / f"gan-{time.strftime('%Y%m%d-%H%M%S', time.localtime(t))}").mkdir(parents=True)
    claimed = new_run_dir("gan")
    assert claimed.name.endswith("-2") and claimed.is_dir()
    # Eight threads claiming at one moment get eight folders.
    start, out = threading.Barrier(8), []
    threads = [threading.Thread(target=lambda: (start.wait(), out.append(new_run_dir("wgan")))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(out)) == 8 and all(p.is_dir() for p in out)


# --- studio train ----------------------------------------------------------------------------------
def test_two_train_commands_into_one_directory_exactly_one_writes(tmp_path):
    run = tmp_path / "R"
    first, second = train(*TINY, "--steps", str(BIG), "--run-dir", str(run)), train(*TINY, "--steps", str(BIG),
                                                                                       "--run-dir", str(run))
    try:
        # Exactly one trains: the other exits 2 at once, naming the writer's PID.
        deadline = time.monotonic() + WAIT
        while first.poll() is None and second.poll() is None:
            assert time.monotonic() < deadline, "neither process was refused"
            time.sleep(0.05)
        refused, writer = (first, second) if first.poll() is not None else (second, first)
        assert_refused(*finish(refused), run, writer.pid)
        wait_until("the writer's checkpoint", lambda: checkpointed(run), [writer])
        assert holder(run).pid == writer.pid
        config = (run / "config.json").read_bytes()

        # --resume while it trains is refused the same way, and touches nothing.
        resumed = train("--resume", str(run), "--steps", str(BIG))
        assert_refused(*finish(resumed), run, writer.pid)
        wait_until("more steps", lambda: len(logged_steps(run)) >= 8, [writer])
        assert writer.poll() is None and (run / "config.json").read_bytes() == config
    finally:
        kill(first)
        kill(second)
    steps = logged_steps(run)
    assert steps and all(a < b for a, b in zip(steps, steps[1:], strict=False)), steps  # one writer's lines only


def test_resume_starts_at_once_after_the_writer_is_killed(tmp_path):
    run = tmp_path / "R"
    writer = train(*TINY, "--steps", str(BIG), "--run-dir", str(run))
    try:
        wait_until("a checkpoint", lambda: checkpointed(run), [writer])
    finally:
        kill(writer)  # SIGKILL: no chance to release anything; the kernel drops the lock
    assert holder(run).pid == writer.pid  # the dead writer's record is still there, and does not matter
    reached = load_checkpoint(run / "checkpoints" / "last.pt")["step"]
    began = time.monotonic()
    code, err = finish(train("--resume", str(run), "--steps", str(reached + 3)))
    assert code == 0, err
    print(f"\nresume after SIGKILL of the writer: exit 0 in {time.monotonic() - began:.1f} s")
    assert RunDirectory(run).read_status()["state"] == "finished"
    assert (run / LOCK_FILE).read_bytes() == b""


def test_default_named_runs_started_together_land_in_two_folders(tmp_path):
    procs = [train(*TINY, "--steps", "4", cwd=tmp_path) for _ in range(2)]
    results = [finish(p) for p in procs]
    assert [code for code, _ in results] == [0, 0], results
    runs = sorted((tmp_path / "runs").iterdir())
    assert len(runs) == 2, runs
    for run in runs:
        assert logged_steps(run) == [1, 2, 3, 4] and RunDirectory(run).read_status()["pid"] in {p.pid for p in procs}


def test_rank_0_of_a_torchrun_job_holds_the_lock(tmp_path):
    run = tmp_path / "R"
    job = train("--gpus", "2", *TINY, "--steps", str(BIG), "--run-dir", str(run))  # two gloo ranks under torchrun
    rank0 = None
    try:
        wait_until("a checkpoint", lambda: checkpointed(run), [job])
        rank0 = holder(run)
        assert rank0.command == "studio train (rank 0 of 2)" and rank0.pid != job.pid  # not the launcher
        assert rank0.alive()
        # A resume in one process, and one with --gpus (its launcher checks before starting torchrun).
        refused = [train("--resume", str(run), "--steps", str(BIG)),
                   train("--gpus", "2", "--device", "cpu", "--resume", str(run), "--steps", str(BIG))]
        for proc in refused:
            assert_refused(*finish(proc), run, rank0.pid)
    finally:
        os.killpg(job.pid, signal.SIGINT)  # Ctrl-C: torchrun ends its ranks
        job.communicate(timeout=60)
        deadline = time.monotonic() + 60
        while rank0 is not None and rank0.alive() and time.monotonic() < deadline:
            time.sleep(0.1)
    assert rank0 is not None and not rank0.alive()
    steps = logged_steps(run)
    assert all(a < b for a, b in zip(steps, steps[1:], strict=False)), steps


# --- readers ---------------------------------------------------------------------------------------
def test_following_sampling_and_exporting_a_locked_run_work(tmp_path):
    run = tmp_path / "R"
    assert main(["train", "--quiet", *TINY, "--steps", "6", "--run-dir", str(run)]) == 0
    # flock conflicts between two opens in one process too: a reader that took the lock would fail here.
    with RunLock(run, "studio train") as lock:
        events = RunFollower(run).poll()
        assert any(type(e).__name__ == "Scalars" for e in events)
        assert main(["sample", str(run), "--out", str(tmp_path / "s.png"), "--n", "4", "--device", "cpu"]) == 0
        assert (tmp_path / "s.png").stat().st_size > 0
        assert main(["export", "--run", str(run), "--format", "torchscript", "--out", str(tmp_path / "G.pt")]) == 0
        assert (tmp_path / "G.pt").stat().st_size > 0
        assert lock.held and holder(run).pid == os.getpid()


# --- the window ------------------------------------------------------------------------------------
def test_window_continue_on_a_run_a_subprocess_writes_offers_to_follow_it(window, qtbot, tmp_path):
    run = tmp_path / "R"
    writer = train(*TINY, "--steps", str(BIG), "--run-dir", str(run))
    try:
        wait_until("a checkpoint", lambda: checkpointed(run), [writer])
        config = (run / "config.json").read_bytes()
        assert window.continue_run(run) is False
        assert window.runs.session is None and window.run_state == "idle"  # nothing started
        text = window.banner.text
        assert f"{run} is being written by PID {writer.pid} on this host (studio train" in text, text
        assert window.banner.action_button.isVisible() and window.banner.action_button.text() == "Follow it"
        assert (run / "config.json").read_bytes() == config and holder(run).pid == writer.pid

        window.banner.action_button.click()  # Follow it: the run opens live on the Monitor tab
        assert window.runs.follower is not None and window.runs.follower.path == run
        assert window.tabs.currentWidget() is window.monitor_tab
        seen = window.monitor_tab.step
        qtbot.waitUntil(lambda: window.monitor_tab.step > seen, timeout=int(WAIT * 1000))
        assert writer.poll() is None and holder(run).pid == writer.pid
    finally:
        kill(writer)
    json.loads((run / "status.json").read_text())  # the writer's record, untouched by the window


def test_the_windows_training_holds_the_lock_until_it_ends(window, qtbot, tmp_path):
    run = tmp_path / "R"
    assert main(["train", "--quiet", *TINY, "--steps", "3", "--run-dir", str(run)]) == 0
    window.train_tab.steps.setValue(window.train_tab.steps.maximum())
    assert window.continue_run(run)
    try:
        qtbot.waitUntil(lambda: window.run_state == "running", timeout=int(WAIT * 1000))
        record = holder(run)
        assert record.pid == os.getpid() and record.command == "the GAN Studio window"
        assert_refused(*finish(train("--resume", str(run), "--steps", str(BIG))), run, os.getpid(),
                       command="the GAN Studio window")
    finally:
        assert window.runs.session.stop_and_wait()
    assert (run / LOCK_FILE).read_bytes() == b""  # released as the training thread ended
    with RunLock(run, "studio train --resume"):
        pass
