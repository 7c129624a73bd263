"""The training engine: run records, resume, control from another thread, NaN guard, snapshots."""

from __future__ import annotations

import json
import threading
import time

import pytest
import torch

from studio.cli import main
from studio.engine import RunConfig, RunDirectory, Trainer, load_checkpoint, load_method, method_from_state
from studio.engine.events import Scalars, Status
from studio.engine.trainer import Diverged


def train_cli(*args: str) -> int:
    return main(["train", "--quiet", *args])


def test_train_then_resume_leaves_a_complete_run_directory(tmp_path):
    run = tmp_path / "D"
    assert train_cli("--method", "dcgan", "--dataset", "builtin:shapes", "--preset", "tiny", "--steps", "30",
                     "--run-dir", str(run)) == 0
    config = json.loads((run / "config.json").read_text())
    assert config["run"]["method"] == "dcgan" and config["params"]["width"] == 8
    records = RunDirectory(run).read_metrics()
    assert records and all("d_loss" in r and "g_loss" in r for r in records if "metric" not in r)
    state = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
    assert state["step"] == 30
    assert list((run / "samples").glob("*.png"))

    assert train_cli("--resume", str(run), "--steps", "60") == 0
    steps = [r["step"] for r in RunDirectory(run).read_metrics() if "d_loss" in r]
    assert steps == sorted(set(steps)), "a step was logged twice"
    assert max(steps) == 60 and any(s > 30 for s in steps)
    assert load_checkpoint(run / "checkpoints" / "last.pt")["step"] == 60


def test_resume_keeps_fixed_batch_and_continues_identically(tmp_path):
    """20 + 20 steps with a resume in between equals 40 straight (CPU, fixed seed)."""
    def cfg(steps):
        return RunConfig(method="dcgan", preset="tiny", steps=steps, seed=3, log_every=5, sample_every=100,
                         checkpoint_every=100, dataset_count=512)

    Trainer(cfg(40), run_dir=tmp_path / "straight").run()
    Trainer(cfg(20), run_dir=tmp_path / "split").run()
    Trainer(cfg(40), run_dir=tmp_path / "split", resume=True).run()
    a = load_checkpoint(tmp_path / "straight" / "checkpoints" / "last.pt")
    b = load_checkpoint(tmp_path / "split" / "checkpoints" / "last.pt")
    for net in a["state"]["nets"]:
        for key, value in a["state"]["nets"][net].items():
            assert torch.equal(value, b["state"]["nets"][net][key]), f"{net}.{key} differs after resume"
    assert torch.equal(a["fixed"]["z"], b["fixed"]["z"])
    la = [r for r in RunDirectory(tmp_path / "straight").read_metrics() if "d_loss" in r]
    lb = [r for r in RunDirectory(tmp_path / "split").read_metrics() if "d_loss" in r]
    assert [r["d_loss"] for r in la] == [r["d_loss"] for r in lb]


def test_stop_from_another_thread_answers_within_a_second(tmp_path):
    trainer = Trainer(RunConfig(method="dcgan", preset="tiny", steps=100_000, log_every=5), run_dir=tmp_path / "r")
    thread = threading.Thread(target=trainer.run)
    thread.start()
    deadline = time.time() + 60
    while trainer.step < 3 and time.time() < deadline:
        time.sleep(0.05)
    trainer.pause()
    time.sleep(0.5)
    paused_at = trainer.step
    time.sleep(0.5)
    assert trainer.step == paused_at, "steps advanced while paused"
    trainer.resume()
    time.sleep(0.5)
    t0 = time.perf_counter()
    trainer.stop()
    thread.join(10)
    assert not thread.is_alive()
    assert time.perf_counter() - t0 < 1.0
    assert trainer.state == "stopped"
    assert load_checkpoint(tmp_path / "r" / "checkpoints" / "last.pt")["step"] == trainer.step


def test_divergence_stops_with_a_clear_status_and_keeps_the_last_good_checkpoint(tmp_path):
    run = tmp_path / "nan"
    events = []
    cfg = RunConfig(method="dcgan", preset="tiny", steps=200, log_every=1, checkpoint_every=5, sample_every=1000,
                    params={"lr_g": 1e-2, "lr_d": 1e-2})
    trainer = Trainer(cfg, run_dir=run, subscribers=[events.append])
    trainer.setup()
    original_phase = trainer.method.train_phase

    def poisoned(phase, batch):  # a NaN in the loss from step 8 on, as a huge learning rate would give
        out = original_phase(phase, batch)
        if trainer.step >= 7 and phase == "generator":
            out["g_loss"] = out["g_loss"] * float("nan")
        return out

    trainer.method.train_phase = poisoned
    assert trainer.run() == "diverged"
    status = [e for e in events if isinstance(e, Status) and e.state == "diverged"][0]
    assert "step 8" in status.message and "g_loss" in status.message and "step 5" in status.message
    assert load_checkpoint(run / "checkpoints" / "last.pt")["step"] == 5
    assert RunDirectory(run).read_status()["state"] == "diverged"


def test_train_steps_trains_as_run_does_without_samples_checkpoints_or_status():
    """`Trainer.train_steps` (what `studio bench` times) is run's step loop: same scalars at the same steps."""
    def cfg():
        return RunConfig(method="dcgan", preset="tiny", steps=10, seed=3, log_every=5, sample_every=100,
                         checkpoint_every=100, dataset_count=256)

    def logged(events):
        return [(e.step, {k: v for k, v in e.values.items() if k != "images_per_sec"})
                for e in events if isinstance(e, Scalars)]

    ran, stepped = [], []
    Trainer(cfg(), subscribers=[ran.append]).run()
    trainer = Trainer(cfg(), subscribers=[stepped.append])
    trainer.train_steps(4)  # sets the trainer up on first use
    trainer.train_steps(6)
    assert trainer.step == 10
    assert [step for step, _ in logged(stepped)] == [5, 10]
    assert logged(stepped) == logged(ran)
    assert all(isinstance(e, Scalars) for e in stepped), "train_steps emits scalars only"
    assert all(e.time > 0 and e.values["images_per_sec"] > 0 for e in stepped), "its clocks start with it"


def test_train_steps_raises_diverged_on_a_non_finite_loss():
    trainer = Trainer(RunConfig(method="dcgan", preset="tiny", steps=100, log_every=2, dataset_count=256))
    trainer.setup()
    original_phase = trainer.method.train_phase

    def poisoned(phase, batch):
        out = original_phase(phase, batch)
        if phase == "generator":
            out["g_loss"] = out["g_loss"] * float("inf")
        return out

    trainer.method.train_phase = poisoned
    with pytest.raises(Diverged, match="step 1: g_loss"):
        trainer.train_steps(2)


def test_metrics_log_survives_a_torn_last_line(tmp_path):
    rd = RunDirectory(tmp_path)
    rd.create({"run": {}})
    rd(Scalars(1, {"loss": 1.0}))
    rd(Scalars(2, {"loss": 2.0}))
    rd.close()
    with open(rd.metrics_path, "a") as fh:
        fh.write('{"step": 3, "lo')  # a crash mid-write
    assert [r["step"] for r in rd.read_metrics()] == [1, 2]
    rd(Scalars(4, {"loss": 4.0}))  # the next writer repairs the tail first
    rd.close()
    assert [r["step"] for r in rd.read_metrics()] == [1, 2, 4]


def test_snapshot_while_training_samples_like_the_run(tmp_path):
    trainer = Trainer(RunConfig(method="cgan", preset="tiny", steps=100_000, log_every=5))
    thread = threading.Thread(target=trainer.run)
    thread.start()
    try:
        deadline = time.time() + 60
        while trainer.step < 2 and time.time() < deadline:
            time.sleep(0.05)
        snap = trainer.snapshot()
    finally:
        trainer.stop()
        thread.join(10)
    loaded = method_from_state(snap)
    images = loaded.method.sample(loaded.fixed_z[:4], loaded.fixed_labels[:4])
    assert images.shape == (4, 3, 32, 32) and images.abs().max() <= 1.0


def test_load_method_rebuilds_the_generator_from_the_checkpoint_alone(tmp_path):
    Trainer(RunConfig(method="dcgan", preset="tiny", steps=3), run_dir=tmp_path / "r").run()
    loaded = load_method(tmp_path / "r")
    z = loaded.fixed_z[:2]
    assert torch.equal(loaded.method.sample(z), load_method(tmp_path / "r" / "checkpoints" / "last.pt").method.sample(z))


def test_unknown_method_and_bad_settings_give_one_clear_line(tmp_path, capsys):
    assert train_cli("--method", "nope", "--run-dir", str(tmp_path / "a")) != 0
    assert "unknown method 'nope'" in capsys.readouterr().err
    assert train_cli("--preset", "tiny", "--set", "batch_size=0", "--run-dir", str(tmp_path / "b")) != 0
    err = capsys.readouterr().err
    assert "batch_size=0 is out of range" in err and "Traceback" not in err
    assert train_cli("--preset", "tiny", "--set", "widht=3", "--run-dir", str(tmp_path / "c")) != 0
    assert "unknown setting 'widht'" in capsys.readouterr().err
    assert train_cli("--method", "dcgan", "--dataset", "builtin:rings", "--run-dir", str(tmp_path / "d")) != 0
    assert "pick a dataset of the right kind" in capsys.readouterr().err
    assert main(["train", "--resume", str(tmp_path / "nothing")]) != 0
    assert "no such run directory" in capsys.readouterr().err


@pytest.mark.parametrize("size,channels", [(16, 1), (28, 1), (32, 3), (64, 3)])
def test_dcgan_adapts_to_image_size_and_channels(size, channels):
    from studio.data import DatasetKind
    from studio.methods import DataSpec, get_method

    cls = get_method("dcgan")
    method = cls(cls.make_params("tiny"), DataSpec(DatasetKind.IMAGES, channels, size), "cpu")
    out = method.sample(method.latent(2))
    assert out.shape == (2, channels, size, size)
    assert method.nets["discriminator"](out).shape == (2,)


def test_resume_with_lr_scale_lowers_every_learning_rate_and_set_is_refused(tmp_path, capsys):
    run = tmp_path / "D"
    assert train_cli("--method", "dcgan", "--dataset", "builtin:shapes", "--preset", "tiny", "--steps", "4",
                     "--run-dir", str(run)) == 0
    assert train_cli("--resume", str(run), "--steps", "6", "--set", "lr_g=1e-5") == 2
    assert "--lr-scale" in capsys.readouterr().err
    assert train_cli("--resume", str(run), "--steps", "8", "--lr-scale", "0.5") == 0
    ckpt = load_checkpoint(run / "checkpoints" / "last.pt")
    assert ckpt["step"] == 8
    assert ckpt["params"]["lr_g"] == pytest.approx(1e-4) and ckpt["params"]["lr_d"] == pytest.approx(1e-4)
    groups = [g for opt in ckpt["state"]["opts"].values() for g in opt["param_groups"]]
    assert groups and all(g["lr"] == pytest.approx(1e-4) for g in groups)
