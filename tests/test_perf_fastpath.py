"""The fast training path computes what the plain path computes, for every method (issue 8).

The plain path is the reference-script way: contiguous NCHW tensors, float32, torch's per-tensor
optimizer loop. The fast path's CPU-testable switches (channels_last, foreach and fused optimizers)
must give the same losses from the same seed and batch within float tolerance; bf16 autocast cannot
match exactly, so it is checked to run, stay finite and come close, and to be off where it is not valid.
"""

from __future__ import annotations

import json
import math

import pytest
import torch

from studio.data.dataset import DatasetKind
from studio.engine import RunConfig, Trainer
from studio.engine.trainer import run_step
from studio.fastpath import Performance, implementation_flags
from studio.methods import Batch, ConfigError, DataSpec, all_methods, get_method

METHODS = sorted(all_methods())


def spec_and_batch(cls, n: int = 8, size: int = 16) -> tuple[DataSpec, Batch]:
    """A data spec the method trains on and one batch of it (labels for conditional methods)."""
    gen = torch.Generator().manual_seed(5)
    kind = cls.kinds[0]
    if kind == DatasetKind.POINTS:
        return DataSpec(kind, point_dim=2), Batch(torch.randn(n, 2, generator=gen))

    def images() -> torch.Tensor:
        return torch.rand(n, 3, size, size, generator=gen) * 2 - 1

    conditional = bool(getattr(cls.make_params(None, {}), "conditional", False))
    labels = 4 if conditional else 0
    spec = DataSpec(kind, 3, size, label_dim=labels, label_names=tuple("abcd"[:labels]))
    y = torch.nn.functional.one_hot(torch.arange(n) % 4, 4).float() if labels else None
    target = images() if kind in (DatasetKind.PAIRED, DatasetKind.UNPAIRED) else None
    return spec, Batch(images(), y, target)


def first_step_losses(name: str, perf: Performance) -> dict[str, float]:
    """The scalars of one training step from seed 0 weights and seed 1 noise, on the fixed batch."""
    cls = get_method(name)
    spec, batch = spec_and_batch(cls)
    # pix2pix's dropout masks are drawn in memory order, so channels_last would draw other masks:
    # with dropout off the two layouts compute the same function.
    overrides = {"dropout": 0.0} if name == "pix2pix" else {}
    torch.manual_seed(0)
    method = cls(cls.make_params("tiny", overrides), spec, "cpu", perf=perf)
    fmt = perf.memory_format()
    as_fmt = (lambda t: t if t is None or t.dim() != 4 else t.contiguous(memory_format=fmt))  # the sampler's layout
    batch = Batch(as_fmt(batch.x), batch.y, as_fmt(batch.target))
    torch.manual_seed(1)
    return {k: float(v) for k, v in run_step(method, lambda: batch).items()}


@pytest.mark.parametrize("name", METHODS)
def test_the_fast_path_step_computes_the_plain_path_losses(name):
    plain = first_step_losses(name, Performance.plain())
    assert plain and all(math.isfinite(v) for v in plain.values())
    for perf in (Performance(channels_last=True, optimizer="fused"), Performance(channels_last=True, optimizer="foreach"),
                 Performance(channels_last=False, optimizer="fused")):
        fast = first_step_losses(name, perf)
        assert fast.keys() == plain.keys()
        for key, value in plain.items():
            assert fast[key] == pytest.approx(value, rel=1e-5, abs=1e-6), f"{name} {key} with {perf}"


@pytest.mark.parametrize("name", [n for n in METHODS if get_method(n).amp_ok])
def test_bf16_autocast_runs_finite_and_close(name):
    plain = first_step_losses(name, Performance.plain())
    mixed = first_step_losses(name, Performance(amp="bf16", optimizer="fused"))
    assert mixed.keys() == plain.keys()
    for key, value in plain.items():
        assert math.isfinite(mixed[key]), f"{name} {key} is not finite under bf16"
        assert abs(mixed[key] - value) <= 0.15 * max(1.0, abs(value)), f"{name} {key}: {mixed[key]} vs {value}"


def test_defaults_are_right_per_device(monkeypatch):
    dcgan, wgan_gp, wgan = get_method("dcgan"), get_method("wgan-gp"), get_method("wgan")
    monkeypatch.setattr("studio.fastpath.cpu_bf16", lambda: False)
    cpu = Performance.resolve("cpu", dcgan)
    assert cpu == Performance(channels_last=True, amp="off", optimizer="fused", compile=False)
    monkeypatch.setattr("studio.fastpath.native_bf16", lambda device: True)
    gpu = Performance.resolve("cuda", dcgan)
    assert gpu.channels_last and gpu.amp == "bf16" and gpu.optimizer == "fused" and not gpu.compile
    # Where bf16 is not valid it stays off by default, and asking for it is refused with the reason.
    assert Performance.resolve("cuda", wgan_gp).amp == "off" and Performance.resolve("cuda", wgan).amp == "off"
    with pytest.raises(ValueError, match="gradient penalty"):
        Performance.resolve("cuda", wgan_gp, amp="bf16")
    assert Performance.resolve("cuda", dcgan, amp="off", channels_last="off", optimizer="plain") == Performance.plain()
    assert wgan_gp.no_compile == ("critic",)


def test_auto_takes_bf16_on_a_cpu_with_bf16_units_for_image_runs(monkeypatch):
    dcgan, wgan_gp = get_method("dcgan"), get_method("wgan-gp")
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: True)
    assert Performance.resolve("cpu", dcgan).amp == "bf16"
    assert Performance.resolve("cpu", wgan_gp).amp == "off"  # its amp_ok is False
    # The 2-D point sets' small MLPs run slower under bf16 on a CPU: float32 there.
    assert Performance.resolve("cpu", dcgan, images=False).amp == "off"


def test_auto_stays_float32_on_a_cpu_without_bf16_units(monkeypatch):
    # torch's own check of oneDNN's bf16 support, patched as on a CPU without AVX512-BF16 or AMX.
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False)
    assert Performance.resolve("cpu", get_method("dcgan")).amp == "off"
    assert Performance.resolve("cpu", get_method("dcgan"), amp="bf16").amp == "bf16"  # asked for: still honoured


def test_a_run_records_and_announces_the_precision_auto_chose(tmp_path, monkeypatch):
    from studio.engine import RunConfig, Trainer
    from studio.engine.events import Status
    from studio.engine.state import StatusNote

    for supported, expected in ((True, "bf16"), (False, "off")):
        monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda s=supported: s)
        seen = []
        run = tmp_path / expected
        config = RunConfig(method="dcgan", preset="tiny", steps=2, image_size=8, dataset_count=16,
                           params={"batch_size": 8}, sample_every=10, checkpoint_every=10)
        Trainer(config, run_dir=run, subscribers=(seen.append,)).run()
        recorded = json.loads((run / "config.json").read_text())
        assert recorded["performance"]["amp"] == expected and recorded["run"]["amp"] == "auto"
        started = [e for e in seen if isinstance(e, Status) and e.state == StatusNote.STARTED]
        assert started and started[0].detail["amp"] == expected


def test_every_method_builds_its_optimizers_through_the_shared_helper():
    for name in METHODS:
        cls = get_method(name)
        spec, _ = spec_and_batch(cls)
        for choice, expected in (("plain", {"foreach": False}), ("foreach", {"foreach": True})):
            method = cls(cls.make_params("tiny", {}), spec, "cpu", perf=Performance(optimizer=choice))
            for opt_name, opt in method.opts.items():
                for group in implementation_flags(opt):
                    assert group.get("foreach") == expected["foreach"] and not group.get("fused"), (name, opt_name)
        fused = cls(cls.make_params("tiny", {}), spec, "cpu", perf=Performance(optimizer="fused"))
        for opt in fused.opts.values():  # fused where torch has the kernel (Adam), foreach where not (RMSprop)
            group = opt.param_groups[0]
            assert group.get("fused") or group.get("foreach"), name


def test_a_checkpoint_steps_as_the_loading_machine_is_set(tmp_path):
    cls = get_method("dcgan")
    spec, batch = spec_and_batch(cls)
    torch.manual_seed(0)
    saver = cls(cls.make_params("tiny", {}), spec, "cpu", perf=Performance(optimizer="plain"))
    run_step(saver, lambda: batch)
    state = saver.state_dict()
    loader = cls(cls.make_params("tiny", {}), spec, "cpu", perf=Performance(optimizer="fused"))
    loader.load_state_dict(state)
    for opt in loader.opts.values():
        assert opt.param_groups[0]["fused"] and not opt.param_groups[0].get("foreach")
    run_step(loader, lambda: batch)  # steps with the fused kernel from the plain loop's state


def test_trainer_records_the_switches_and_refuses_bf16_where_invalid(tmp_path):
    config = RunConfig(method="dcgan", preset="tiny", steps=2, dataset_count=64, log_every=1, sample_every=100,
                       checkpoint_every=100, channels_last="on", optimizer="foreach", amp="off")
    trainer = Trainer(config, run_dir=tmp_path / "run")
    assert trainer.run() == "finished"
    assert trainer.method.perf == Performance(channels_last=True, amp="off", optimizer="foreach")
    assert trainer.sampler.draw().x.is_contiguous(memory_format=torch.channels_last)
    recorded = json.loads((tmp_path / "run" / "config.json").read_text())["run"]
    assert recorded["channels_last"] == "on" and recorded["optimizer"] == "foreach" and recorded["compile"] is False

    refused = Trainer(RunConfig(method="wgan-gp", preset="tiny", steps=2, dataset_count=64, amp="bf16"))
    assert refused.run() == "error" and "amp=bf16 is not valid for wgan-gp" in refused.message
    with pytest.raises(ConfigError, match="amp"):
        RunConfig(amp="fp8").validate()


def test_train_command_takes_the_fast_path_flags(tmp_path):
    from studio.cli import main

    run = tmp_path / "run"
    assert main(["train", "--quiet", "--method", "dcgan", "--preset", "tiny", "--steps", "2", "--run-dir", str(run),
                 "--amp", "off", "--channels-last", "on", "--optimizer-impl", "plain"]) == 0
    recorded = json.loads((run / "config.json").read_text())["run"]
    assert (recorded["amp"], recorded["channels_last"], recorded["optimizer"]) == ("off", "on", "plain")


@pytest.mark.slow
def test_compiled_networks_train_and_keep_their_checkpoint_keys(tmp_path):
    """torch.compile (in place) leaves state_dict keys alone; WGAN-GP's critic, differentiated twice, stays eager."""
    config = RunConfig(method="wgan-gp", preset="tiny", steps=2, dataset_count=64, compile=True, log_every=1,
                       sample_every=100, checkpoint_every=100)
    trainer = Trainer(config, run_dir=tmp_path / "run")
    assert trainer.run() == "finished", trainer.message
    nets = trainer.method.nets
    assert nets["generator"]._compiled_call_impl is not None and nets["critic"]._compiled_call_impl is None
    cls = get_method("wgan-gp")
    eager = cls(cls.make_params("tiny", {}), trainer.method.spec, "cpu", perf=Performance.plain())
    for name, net in nets.items():
        assert net.state_dict().keys() == eager.nets[name].state_dict().keys()
