"""Runs side by side share the cores (issue 26): the register of training runs, each run's share, a run
ended by a kill leaving no trace, and the trainer setting its torch threads to its share while it trains."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import torch

from studio.engine.coreshare import CoreShare, share_of
from studio.engine.runlock import TrainingEntry, live_entries


def test_shares_of_the_cores():
    assert [share_of(2, 1, 0)] == [2]
    assert [share_of(2, 3, r) for r in range(3)] == [1, 1, 1]  # never fewer than one
    assert [share_of(4, 3, r) for r in range(3)] == [2, 1, 1]  # the first to join takes the spare core
    assert [share_of(16, 4, r) for r in range(4)] == [4, 4, 4, 4]


def test_runs_in_the_register_count_each_other_and_leave(tmp_path):
    entries = [TrainingEntry(f"run-{i}", tmp_path).join() for i in range(3)]
    assert live_entries(tmp_path) == [e.path for e in entries]  # in the order they joined
    entries[1].leave()
    assert live_entries(tmp_path) == [entries[0].path, entries[2].path]
    (tmp_path / "00000000000000000001-999999-0.lock").write_text("{}")  # a run killed before it could leave
    assert len(live_entries(tmp_path)) == 2 and not (tmp_path / "00000000000000000001-999999-0.lock").exists()
    for e in entries:
        e.leave()
    assert live_entries(tmp_path) == []


def test_a_killed_runs_entry_is_dropped_by_the_kernel(tmp_path):
    code = ("import sys, time; from studio.engine.runlock import TrainingEntry; "
            f"entry = TrainingEntry('child', {str(tmp_path)!r}).join(); print('in', flush=True); time.sleep(60)")
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "in"
        mine = TrainingEntry("parent", tmp_path).join()
        assert len(live_entries(tmp_path)) == 2
    finally:
        child.kill()
        child.wait()
    assert live_entries(tmp_path) == [mine.path]
    mine.leave()


def test_core_share_sets_this_threads_count_to_its_share(tmp_path):
    before = torch.get_num_threads()
    torch.set_num_threads(4)
    others = []
    try:
        share = CoreShare("a", tmp_path, cores=4)
        assert share.adjust() == 4 and torch.get_num_threads() == 4  # alone: every core it started with
        others = [TrainingEntry(f"other-{i}", tmp_path).join() for i in range(2)]
        assert share.adjust() == 4  # looked less than a second ago: unchanged
        assert share.adjust(force=True) == 2 and torch.get_num_threads() == 2  # first of three on 4 cores
        others[0].leave()
        assert share.adjust(force=True) == 2  # 4 // 2
        others[1].leave()
        assert share.adjust(force=True) == 4  # alone again: back to what it started with, never more
        share.leave()
        assert live_entries(tmp_path) == []
    finally:
        for e in others:
            e.leave()
        torch.set_num_threads(before)


def test_sharing_can_be_turned_off(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_SHARE_CORES", "0")
    share = CoreShare("a", tmp_path, cores=2)
    assert share.adjust(force=True) is None and live_entries(tmp_path) == []


def test_the_trainer_trains_on_its_share_and_leaves_the_register(tmp_path, monkeypatch):
    from studio.engine import RunConfig, Trainer
    from studio.engine.events import Scalars

    monkeypatch.setenv("STUDIO_TRAINING_REGISTER", str(tmp_path / "register"))
    other = TrainingEntry("another run", tmp_path / "register").join()  # a run training elsewhere
    seen: list[tuple[int, int]] = []

    def on_event(event) -> None:  # called on the training thread, where the share is set
        if isinstance(event, Scalars):
            seen.append((len(live_entries(tmp_path / "register")), torch.get_num_threads()))

    config = RunConfig(method="dcgan", dataset="builtin:shapes", preset="tiny", steps=6, image_size=16,
                       dataset_count=64, device="cpu", log_every=2, sample_every=100, checkpoint_every=100)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        trainer = Trainer(config, run_dir=tmp_path / "run", subscribers=(on_event,))
        trainer.cores.cores = 2  # as on a 2-core machine, whatever this one has
        assert trainer.run() == "finished"
    finally:
        torch.set_num_threads(before)
        other.leave()
    assert seen and all(entry == (2, 1) for entry in seen)  # two runs on 2 cores: one thread each
    assert live_entries(tmp_path / "register") == []  # it left when it ended


@pytest.mark.skipif(sys.platform == "win32", reason="flock")
def test_joining_never_shows_an_unlocked_entry(tmp_path):
    """A reader scanning while runs join never takes a new entry for a stale one."""
    entries = []
    end = time.monotonic() + 0.5
    while time.monotonic() < end:
        entries.append(TrainingEntry("r", tmp_path).join())
        assert len(live_entries(tmp_path)) == len(entries)
    for e in entries:
        e.leave()
