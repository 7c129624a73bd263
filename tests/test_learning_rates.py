"""The learning-rate policy, one mechanism: a method's own schedule (BEGAN's halvings on a stall,
CycleGAN's linear decay) times the run's lr_anneal, set before every step; the logged `lr` is the rate
the optimizer stepped with, read back from the optimizer itself."""

from __future__ import annotations

import pytest
import torch

from studio.engine import RunConfig, Trainer
from studio.engine.events import Scalars
from studio.methods import began as began_module


def spy_rates(trainer: Trainer, opt: str) -> list[float]:
    """The rate of each step `opt` takes, read from the optimizer as it steps."""
    seen: list[float] = []
    optimizer = trainer.method.opts[opt]
    real_step = optimizer.step

    def step(*args, **kwargs):
        seen.append(optimizer.param_groups[0]["lr"])
        return real_step(*args, **kwargs)

    optimizer.step = step
    return seen


def logged(events: list) -> dict[int, float]:
    return {e.step: e.values["lr"] for e in events if isinstance(e, Scalars)}


def test_began_halving_and_the_run_anneal_compose_and_the_log_is_the_optimizers_rate(monkeypatch):
    # M_global rising every step: every window after the first stalls, so the rate halves each window.
    rising = iter(range(1, 1000))
    monkeypatch.setattr(began_module, "began_convergence",
                        lambda real, fake, gamma: torch.tensor(float(next(rising))))
    events: list = []
    config = RunConfig(method="began", dataset="builtin:shapes", preset="tiny", steps=12, image_size=16,
                       dataset_count=64, lr_anneal=0.5, log_every=1, sample_every=1000, checkpoint_every=1000,
                       params={"lr": 1e-3, "lr_decay": True, "decay_patience": 2})
    trainer = Trainer(config, subscribers=(events.append,))
    trainer.setup()
    used_g, used_d = spy_rates(trainer, "generator"), spy_rates(trainer, "discriminator")
    trainer.train_steps(12)

    # Window k (steps 2k-1, 2k) is judged when step 2k+1 runs, so its halving applies from step 2k+2; the
    # first window beats "nothing yet", every later one stalls.
    halvings = [max(0, (step - 4) // 2) for step in range(1, 13)]
    expected = [1e-3 * 0.5 ** h * config.lr_factor(step - 1) for step, h in zip(range(1, 13), halvings, strict=True)]
    assert used_g == pytest.approx(expected, rel=1e-12) and used_d == used_g
    assert halvings[-1] == 4 and config.lr_factor(11) < 1  # both schedules were at work by the end
    assert trainer.method.halvings == 4
    # The record is what the optimizer used, step by step (before: the halved rate while Adam ran at the annealed one).
    assert list(logged(events).values()) == pytest.approx(used_g, rel=1e-6)


def test_began_resume_continues_both_schedules(tmp_path, monkeypatch):
    rising = iter(range(1, 1000))
    monkeypatch.setattr(began_module, "began_convergence",
                        lambda real, fake, gamma: torch.tensor(float(next(rising))))

    def config(steps: int) -> RunConfig:
        return RunConfig(method="began", dataset="builtin:shapes", preset="tiny", steps=steps, image_size=16,
                         dataset_count=64, lr_anneal=0.5, log_every=1, sample_every=1000, checkpoint_every=1000,
                         params={"lr": 1e-3, "lr_decay": True, "decay_patience": 2})

    assert Trainer(config(7), run_dir=tmp_path / "run").run() == "finished"
    events: list = []
    resumed = Trainer(config(10), run_dir=tmp_path / "run", resume=True, subscribers=(events.append,))
    resumed.setup()
    assert resumed.method.halvings == 2
    used = spy_rates(resumed, "generator")
    resumed.train_steps(3)
    halvings = [max(0, (step - 4) // 2) for step in (8, 9, 10)]
    assert used == pytest.approx([1e-3 * 0.5 ** h * config(10).lr_factor(step - 1)
                                  for step, h in zip((8, 9, 10), halvings, strict=True)], rel=1e-12)
    assert list(logged(events).values()) == pytest.approx(used, rel=1e-6)


def test_cyclegan_linear_decay_and_the_run_anneal_multiply_and_the_log_follows():
    events: list = []
    config = RunConfig(method="cyclegan", dataset="builtin:outlines|shapes", preset="tiny", steps=8, seed=0,
                       image_size=16, dataset_count=16, lr_anneal=0.5, log_every=1, sample_every=100,
                       checkpoint_every=100, fixed_samples=4,
                       params={"batch_size": 2, "pool_size": 0, "lr_g": 1e-3, "lr_d": 1e-3, "decay_start": 0.25})
    trainer = Trainer(config, subscribers=(events.append,))
    trainer.setup()
    used = spy_rates(trainer, "generator")
    trainer.train_steps(8)
    from studio.methods.base import linear_decay

    expected = [1e-3 * linear_decay(s, 8, 0.25) * config.lr_factor(s) for s in range(8)]
    assert used == pytest.approx(expected, rel=1e-12)
    assert list(logged(events).values()) == pytest.approx(used, rel=1e-6)
