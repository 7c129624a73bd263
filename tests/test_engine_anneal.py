"""lr_anneal: every learning rate falls linearly over the run's last share of steps, and survives a resume."""

from __future__ import annotations

import pytest

from studio.engine import RunConfig, Trainer
from studio.engine.config import LR_ANNEAL_FLOOR
from studio.methods import ConfigError


def config(steps: int, anneal: float) -> RunConfig:
    return RunConfig(method="gan", dataset="builtin:rings", preset="tiny", steps=steps, lr_anneal=anneal,
                     log_every=5, sample_every=100, checkpoint_every=5, device="cpu")


def rates(trainer: Trainer) -> list[float]:
    return [g["lr"] for opt in trainer.method.opts.values() for g in opt.param_groups]


def test_lr_factor_is_constant_then_linear_to_the_floor():
    cfg = config(100, 0.5)
    assert [cfg.lr_factor(s) for s in (0, 50)] == [1.0, 1.0]
    assert cfg.lr_factor(75) == pytest.approx(1 - (1 - LR_ANNEAL_FLOOR) / 2)
    assert cfg.lr_factor(100) == pytest.approx(LR_ANNEAL_FLOOR)
    assert config(100, 0.0).lr_factor(99) == 1.0
    with pytest.raises(ConfigError, match="lr_anneal=1.5"):
        config(100, 1.5).validate()


def test_trainer_anneals_every_optimizer_and_a_resume_continues_the_schedule(tmp_path):
    trainer = Trainer(config(10, 0.5), run_dir=tmp_path / "run")
    trainer.train_steps(5)
    assert rates(trainer) == [pytest.approx(2e-4)] * 2  # the first half runs at the preset's rate
    trainer.train_steps(5)
    expected = 2e-4 * config(10, 0.5).lr_factor(9)
    assert rates(trainer) == [pytest.approx(expected)] * 2
    trainer.save("last")
    resumed = Trainer(config(10, 0.5), run_dir=tmp_path / "run", resume=True)
    resumed.setup()
    # The starting rates come back from the checkpoint, not the annealed ones.
    assert [g["initial_lr"] for o in resumed.method.opts.values() for g in o.param_groups] == [pytest.approx(2e-4)] * 2
