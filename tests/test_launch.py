"""One way to start a run: the Trainer never changes its caller's config, and the multi-GPU command carries
a RunConfig whole (`--config <run>/config.json`), so RunConfig -> command -> RunConfig is the identity."""

from __future__ import annotations

import dataclasses
import json

import pytest

from studio.cli import build_parser, main
from studio.commands.train import _config
from studio.engine.config import RunConfig
from studio.engine.launch import train_command
from studio.engine.outputs import run_outputs
from studio.engine.trainer import Trainer
from studio.methods import get_method

# A value other than the default for each field, each valid; `classes` and `attributes` exclude each other.
CHANGED = {
    "method": "wgan-gp", "dataset": "builtin:rings", "preset": "tiny",
    "params": {"batch_size": 8, "lr_g": 2.5e-4, "critic_steps": 3}, "steps": 1234, "seed": 7, "device": "cuda",
    "image_size": 24, "channels": 1, "dataset_count": 500, "classes": ["ring 1", "ring 2"], "split": "all",
    "direction": "BtoA", "epochs": 2.5, "time_limit": 5400.0, "log_every": 3, "sample_every": 17,
    "checkpoint_every": 99, "eval_every": 50, "eval_samples": 300, "eval_metrics": ["kid", "diversity"],
    "fixed_samples": 36, "collapse_check": False, "collapse_threshold": 0.4, "collapse_warmup": 80,
    "lr_anneal": 0.75, "experiment": "ring-fast", "channels_last": "on", "amp": "off", "optimizer": "plain",
    "compile": True,
}


def changed_config(**overrides) -> RunConfig:
    """A RunConfig whose every field differs from the default (a field this table does not know yet gets an
    automatic change by its type, and the test says so if that is not enough)."""
    default = RunConfig()
    values = {}
    for f in dataclasses.fields(RunConfig):
        if f.name in {**CHANGED, **overrides}:
            values[f.name] = {**CHANGED, **overrides}[f.name]
        else:
            old = getattr(default, f.name)
            values[f.name] = (not old if isinstance(old, bool) else old + 1 if isinstance(old, int)
                              else old / 2 if isinstance(old, float) and old else old)
    config = RunConfig(**values)
    config.validate()
    return config


def unchanged_fields(config: RunConfig) -> list[str]:
    default = RunConfig()
    return [f.name for f in dataclasses.fields(RunConfig) if getattr(config, f.name) == getattr(default, f.name)]


def round_trip(config: RunConfig, run_dir) -> RunConfig:
    """The config `studio train` builds from the window's multi-GPU command for `config`."""
    command = train_command(config, run_dir, 2, tensorboard=True)
    args = build_parser().parse_args(command[3:])  # after `python -m studio`
    assert args.gpus == 2 and args.tensorboard and args.run_dir == str(run_dir)
    return _config(args)


@pytest.mark.parametrize("condition", [{}, {"classes": None, "attributes": ["Male", "Smiling"]}])
def test_runconfig_to_multi_gpu_command_and_back_is_the_identity_for_every_field(tmp_path, condition):
    config = changed_config(**condition)
    assert unchanged_fields(config) == (["classes"] if condition else ["attributes"])
    back = round_trip(config, tmp_path / "run")
    differ = {f.name: (getattr(config, f.name), getattr(back, f.name)) for f in dataclasses.fields(RunConfig)
              if getattr(config, f.name) != getattr(back, f.name) or type(getattr(config, f.name)) is not type(
                  getattr(back, f.name))}
    assert differ == {}
    assert back == config


def test_the_defaults_round_trip_too(tmp_path):
    assert round_trip(RunConfig(), tmp_path / "run") == RunConfig()


def test_a_device_the_gpus_cannot_be_is_refused_before_anything_is_written(tmp_path):
    from studio.methods.params import ConfigError

    with pytest.raises(ConfigError, match="set Device to auto or cuda"):
        train_command(RunConfig(device="cpu"), tmp_path / "run", 2)
    assert not (tmp_path / "run").exists()


def test_studio_train_starts_from_a_config_file_and_the_options_change_it(tmp_path):
    config = RunConfig(method="dcgan", preset="tiny", steps=5, image_size=16, dataset_count=32, fixed_samples=16,
                       log_every=2, sample_every=3, checkpoint_every=100, collapse_check=False, seed=3,
                       params={"batch_size": 8})
    (tmp_path / "mine.json").write_text(json.dumps(config.to_dict()))
    run = tmp_path / "run"
    assert main(["train", "--config", str(tmp_path / "mine.json"), "--run-dir", str(run), "--steps", "2",
                 "--set", "lr_g=1e-4", "--device", "cpu", "--quiet"]) == 0
    recorded = RunConfig.load(run / "config.json")
    assert recorded == dataclasses.replace(config, steps=2, device="cpu", params={"batch_size": 8, "lr_g": "1e-4"})
    assert main(["train", "--config", str(tmp_path / "mine.json"), "--resume", str(run)]) == 2


def test_the_trainer_never_changes_its_callers_config(tmp_path):
    config = RunConfig(method="cgan", dataset="builtin:shapes", preset="tiny", epochs=0.5, image_size=16,
                       dataset_count=64, classes=["CIRCLE", "Square"], log_every=1, sample_every=100,
                       checkpoint_every=100, collapse_check=False, device="cpu")
    before = copy_of(config)
    trainer = Trainer(config, run_dir=tmp_path / "run", lr_scale=0.5)
    assert trainer.run() == "finished", trainer.message
    assert config == before  # the caller's copy, as it gave it
    # The run's own, resolved: steps from the epochs, classes as the data spells them, learning rates scaled.
    resolved = trainer.config
    assert resolved.steps == resolved.steps_for_epochs(len(trainer.dataset), trainer.method.params.batch_size)
    assert resolved.steps != config.steps and resolved.classes == ["circle", "square"]
    assert resolved.params["lr_g"] == pytest.approx(0.5 * get_method("cgan").make_params("tiny").lr_g)
    saved = json.loads((tmp_path / "run" / "config.json").read_text())["run"]
    assert saved["steps"] == resolved.steps and saved["classes"] == ["circle", "square"]


def test_the_outputs_helper_builds_the_console_and_tensorboard_views(tmp_path):
    import io

    from studio.engine.console import ProgressBar, print_warnings

    stream = io.StringIO()
    outputs = run_outputs(tmp_path, console="progress", steps=10, stream=stream)
    assert [type(s) for s in outputs.subscribers] == [ProgressBar] and outputs.problems == []
    assert run_outputs(tmp_path, console="warnings").subscribers == (print_warnings,)
    assert run_outputs(tmp_path).subscribers == () and run_outputs(tmp_path).close() == []
    pytest.importorskip("tensorboard")
    board = run_outputs(tmp_path, tensorboard=True)
    assert len(board.subscribers) == 1 and (tmp_path / "tensorboard").is_dir()
    assert board.close() == [] and board.close() == []


def copy_of(config: RunConfig) -> RunConfig:
    return RunConfig.from_dict(json.loads(json.dumps(config.to_dict())))
