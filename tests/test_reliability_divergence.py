"""Divergence (issue 7): a run driven to NaN by a huge learning rate stops with status "diverged",
a message naming the step and the loss, and the last good checkpoint intact; resuming from that
checkpoint with a lower learning rate trains on.

The learning-rate settings are range-checked (at most 0.1), so the huge rate is put straight into
the optimizers after step 5, as a bad schedule or a hand-edited checkpoint could. The loss then
really becomes NaN through the training dynamics (no loss is poisoned by the test). The GUI side
(banner, "Resume from last checkpoint with a lower learning rate") is proved by
tests/test_gui.py::test_divergence_offers_resume_with_a_lower_learning_rate.
"""

from __future__ import annotations

import math
import re

import pytest
import torch

from studio.engine import RunConfig, RunDirectory, Trainer, load_checkpoint
from studio.engine.events import Status


def config(method: str, steps: int) -> RunConfig:
    return RunConfig(method=method, preset="tiny", steps=steps, image_size=16, dataset_count=128, log_every=1,
                     checkpoint_every=5, sample_every=1000, device="cpu")


def set_learning_rates(trainer: Trainer, value=None, scale=None) -> None:
    for opt in trainer.method.opts.values():
        for group in opt.param_groups:
            group["lr"] = value if value is not None else group["lr"] * scale


@pytest.mark.parametrize("method", ["dcgan", "wgan-gp"])
def test_huge_learning_rate_stops_as_diverged_and_keeps_the_last_good_checkpoint(method, tmp_path):
    run = tmp_path / "run"
    events = []
    trainer = Trainer(config(method, 60), run_dir=run, subscribers=[events.append])
    trainer.setup()
    real_phase = trainer.method.train_phase

    def phase(name, batch):
        if trainer.step >= 5:  # after the step-5 checkpoint: a learning rate of 1e30
            set_learning_rates(trainer, value=1e30)
        return real_phase(name, batch)

    trainer.method.train_phase = phase
    assert trainer.run() == "diverged"
    [status] = [e for e in events if isinstance(e, Status) and e.state == "diverged"]
    step = trainer.step
    assert 5 < step < 60
    named = re.search(r"diverged at step (\d+): (\w+) became", status.message)
    assert named and int(named.group(1)) == step, status.message
    loss = named.group(2)
    assert "last good checkpoint (step 5)" in status.message and "lower learning rate" in status.message

    checkpoint = load_checkpoint(run / "checkpoints" / "last.pt")
    assert checkpoint["step"] == 5
    for net in checkpoint["state"]["nets"].values():
        assert all(torch.isfinite(t).all() for t in net.values() if t.is_floating_point()), "a NaN checkpoint"
    assert not list((run / "checkpoints").glob(".*")), "a half-written checkpoint was left"
    assert RunDirectory(run).read_status()["state"] == "diverged"
    records = RunDirectory(run).read_metrics()
    assert records[-1]["event"] == "diverged" and records[-1]["step"] == step
    logged = [r for r in records if "event" not in r]
    assert logged and all(math.isfinite(v) for r in logged for v in r.values() if isinstance(v, float))
    assert loss in logged[-1], f"{loss} is not one of the logged losses"

    # Resume from the good checkpoint with a lower learning rate (what the GUI's offer does): it trains on.
    resumed = Trainer(config(method, 10), run_dir=run, resume=True)
    resumed.setup()
    assert resumed.step == 5
    set_learning_rates(resumed, scale=0.5)
    assert resumed.run() == "finished" and resumed.step == 10
