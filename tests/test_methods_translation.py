"""pix2pix and CycleGAN: CLI runs, learning, the sample command, and translation without a latent."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from studio.cli import main
from studio.data.dataset import DatasetKind
from studio.data.sources.builtin import outlines2shapes
from studio.engine import RunConfig, RunDirectory, Scalars, Trainer, load_method
from studio.grids import to_unit_range
from studio.methods import DataSpec, get_method
from studio.nn.patchgan import PatchDiscriminator
from studio.nn.translators import unet_depth

PAIRED = DataSpec(DatasetKind.PAIRED, 3, 16)
UNPAIRED = DataSpec(DatasetKind.UNPAIRED, 3, 16)


def tiny(name: str, spec: DataSpec, **overrides):
    cls = get_method(name)
    torch.manual_seed(0)
    return cls(cls.make_params("tiny", overrides), spec)


def train_logging(method: str, dataset: str, steps: int, run_dir=None, **params) -> tuple[Trainer, list[dict]]:
    """A tiny 16-px run logged every 5 steps; returns the trainer and its logged scalars."""
    config = RunConfig(method=method, dataset=dataset, preset="tiny", params=params, steps=steps, image_size=16,
                       dataset_count=512, log_every=5, seed=0)
    trainer = Trainer(config, run_dir=run_dir)
    logged: list[dict] = []
    trainer.subscribe(lambda e: logged.append(e.values) if isinstance(e, Scalars) else None)
    return trainer, logged


@pytest.mark.parametrize("method,dataset", [("pix2pix", "builtin:outlines2shapes"),
                                            ("cyclegan", "builtin:outlines|shapes")])
def test_cli_trains_logs_documented_scalars_and_sample_command_works(tmp_path, method, dataset, capsys):
    run = tmp_path / method
    assert main(["train", "--method", method, "--dataset", dataset, "--preset", "tiny", "--steps", "5",
                 "--run-dir", str(run), "--quiet", "--log-every", "1"]) == 0
    records = [r for r in RunDirectory(run).read_metrics() if "step" in r and "metric" not in r and "event" not in r]
    assert [r["step"] for r in records] == [1, 2, 3, 4, 5]
    cls = get_method(method)
    for record in records:
        assert set(cls.scalars) <= set(record), f"missing {set(cls.scalars) - set(record)}"
    assert set(cls.scalars) == {s for plot in cls.plots for s in plot.scalars}
    assert list((run / "samples").glob("*.png"))
    grid = Image.open(sorted((run / "samples").glob("*.png"))[-1])
    # 64 fixed inputs, each beside its translation: an 8×8 grid of 32×64 pairs with 2-px padding.
    assert grid.size == (8 * (64 + 2) + 2, 8 * (32 + 2) + 2)

    out = tmp_path / "f.png"
    assert main(["sample", str(run), "--out", str(out)]) == 0
    assert Image.open(out).size == grid.size
    # The sampled translations are the model's: the input halves of its pairs hold the dataset's outlines.
    pixels = torch.from_numpy(np.array(Image.open(out).convert("RGB"))).float()
    left, right = pixels[2:34, 2:34], pixels[2:34, 34:66]
    assert not torch.equal(left, right)


def test_pix2pix_l1_to_held_out_targets_falls():
    held = outlines2shapes(size=16, count=32, seed=99)  # not the training set (seed 0)
    x, y = to_unit_range(held.data), to_unit_range(held.targets)
    trainer, logged = train_logging("pix2pix", "builtin:outlines2shapes", 50)
    trainer.setup()
    before = (trainer.method.translate(x) - y).abs().mean().item()
    assert trainer.run() == "finished", trainer.message
    after = (trainer.method.translate(x) - y).abs().mean().item()
    assert after < 0.85 * before, (before, after)
    assert logged[-1]["l1"] < 0.85 * logged[0]["l1"]


def test_cyclegan_cycle_loss_falls_and_identity_is_zero_when_off():
    trainer, logged = train_logging("cyclegan", "builtin:outlines|shapes", 20, identity_weight=0.0)
    assert trainer.run() == "finished", trainer.message
    assert logged[-1]["cycle"] < 0.7 * logged[0]["cycle"], [r["cycle"] for r in logged]
    assert all(r["identity"] == 0.0 for r in logged)

    trainer, logged = train_logging("cyclegan", "builtin:outlines|shapes", 5)
    assert trainer.run() == "finished", trainer.message
    assert logged[0]["identity"] > 0.1


def test_cyclegan_resume_is_exact_including_the_image_pool(tmp_path):
    # tiny: batch 8, pool 16, so the pool is full after two steps and swaps (drawing random numbers) after.
    def run(steps, run_dir, resume=False):
        config = RunConfig(method="cyclegan", dataset="builtin:outlines|shapes", preset="tiny", steps=steps,
                           image_size=16, dataset_count=64, seed=3)
        trainer = Trainer(config, run_dir=run_dir, resume=resume)
        assert trainer.run() == "finished", trainer.message
        return trainer.method

    straight = run(5, tmp_path / "straight")
    run(3, tmp_path / "split")
    resumed = run(5, tmp_path / "split", resume=True)
    assert straight.pools["b"].count == 16
    for name, net in straight.nets.items():
        for (key, a), b in zip(net.state_dict().items(), resumed.nets[name].state_dict().values(), strict=True):
            assert torch.equal(a, b), f"{name}.{key} differs after resume"
    assert torch.equal(straight.pools["a"].images, resumed.pools["a"].images)


@pytest.mark.parametrize("name,spec", [("pix2pix", PAIRED), ("cyclegan", UNPAIRED)])
def test_sampling_needs_a_reference_and_keeps_its_shape(name, spec):
    method = tiny(name, spec)
    assert method.needs_reference
    with pytest.raises(ValueError, match="reference"):
        method.sample(None)
    with pytest.raises(ValueError, match="latent"):
        method.latent(4)
    x = torch.rand(5, 3, 16, 16) * 2 - 1
    out = method.sample(None, None, x)
    assert out.shape == x.shape and out.min() >= -1 and out.max() <= 1
    assert torch.equal(out, method.sample(None, None, x))  # eval mode: no dropout, a fixed translation
    preview = method.preview(None, None, x)
    assert preview.shape == (5, 3, 16, 32)
    assert torch.equal(preview[..., :16], x) and torch.equal(preview[..., 16:], out)
    with pytest.raises(ValueError, match=r"3×16×16"):
        method.sample(None, None, torch.zeros(2, 1, 16, 16))
    assert method.nets[method.generator_nets()[0]].training  # translating leaves training mode alone


def test_cyclegan_translates_both_ways_and_pix2pix_one_way():
    cyc = tiny("cyclegan", UNPAIRED)
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    ab, ba = cyc.translate(x, "ab"), cyc.sample(None, None, x, direction="ba")
    assert ab.shape == ba.shape == x.shape and not torch.equal(ab, ba)
    assert torch.equal(ab, cyc.nets["g_ab"].eval()(x))
    with pytest.raises(ValueError, match="direction 'ba'"):
        tiny("pix2pix", PAIRED).translate(x, "ba")


@pytest.mark.parametrize("size", [16, 28, 32, 64, 128])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("name,kind,extra", [("pix2pix", DatasetKind.PAIRED, {}),
                                             ("cyclegan", DatasetKind.UNPAIRED, {}),
                                             ("cyclegan", DatasetKind.UNPAIRED, {"generator": "unet"})])
def test_builds_and_translates_at_every_size(size, channels, name, kind, extra):
    method = tiny(name, DataSpec(kind, channels, size), **extra)
    x = torch.rand(2, channels, size, size) * 2 - 1
    assert method.translate(x).shape == x.shape
    d = method.nets["discriminator" if name == "pix2pix" else "d_b"]
    logits = d(torch.cat([x, x], 1) if name == "pix2pix" else x)
    assert logits.shape[:2] == (2, 1) and logits.shape[-1] >= 2


def test_unet_depth_and_patch_size_follow_the_image():
    assert [unet_depth(s) for s in (16, 28, 32, 64, 128, 256)] == [4, 2, 5, 6, 7, 8]
    assert unet_depth(256, max_depth=3) == 3
    with pytest.raises(ValueError, match="size 27"):
        unet_depth(27)
    assert PatchDiscriminator(6, 256).receptive_field == 70  # the paper's 70×70 PatchGAN
    assert PatchDiscriminator(6, 16).receptive_field < 70  # fewer strided layers on small images


def test_sample_command_rejects_a_bad_reference_source(tmp_path, capsys):
    run = tmp_path / "p"
    assert main(["train", "--method", "pix2pix", "--dataset", "builtin:outlines2shapes", "--preset", "tiny",
                 "--steps", "1", "--size", "16", "--run-dir", str(run), "--quiet"]) == 0
    loaded = load_method(run)
    assert loaded.fixed_z is None and loaded.method.spec.image_size == 16
    assert main(["sample", str(run), "--out", str(tmp_path / "x.png"), "--reference", "builtin:nope"]) != 0
    assert "builtin:nope" in capsys.readouterr().err
    assert not Path(tmp_path / "x.png").exists()


@pytest.mark.parametrize("method,dataset", [("pix2pix", "builtin:outlines2shapes"),
                                            ("cyclegan", "builtin:outlines|shapes")])
def test_the_real_images_beside_translations_show_the_targets_too(method, dataset):
    """The Monitor's real grid of a translator holds what it learns to make, laid out as its samples are:
    each input beside its real target (pix2pix), a row of domain A over a row of domain B (CycleGAN)."""
    from studio.engine import Images
    from studio.grids import image_grid

    config = RunConfig(method=method, dataset=dataset, preset="tiny", steps=1, image_size=16, dataset_count=32,
                       sample_every=100, checkpoint_every=100, collapse_check=False)
    trainer = Trainer(config)
    grids = {}
    trainer.subscribe(lambda e: grids.setdefault(e.name, e.image) if isinstance(e, Images) else None)
    trainer.run()
    ds = trainer.dataset
    if method == "pix2pix":
        assert grids["real"].shape == grids["samples"].shape  # 64 double-width cells, as the samples
        assert np.array_equal(grids["real"], image_grid(torch.cat([ds.data[:64], ds.targets[:64]], dim=3)))
    else:
        assert np.array_equal(grids["real"], image_grid(torch.cat([ds.data[:8], ds.targets[:8]]), columns=8))


def test_sample_command_counts_the_translations_it_drew(tmp_path, capsys):
    """A dataset of 3 pairs gives 3 references, so 3 translations: the message says 3, not the 64 asked for."""
    folder = tmp_path / "three"
    for i in range(3):
        image = Image.new("RGB", (32, 16), (200, 30 * i, 30))
        folder.mkdir(exist_ok=True)
        image.save(folder / f"{i}.png")
    run = tmp_path / "run"
    assert main(["train", "--method", "pix2pix", "--dataset", str(folder), "--preset", "tiny", "--steps", "1",
                 "--run-dir", str(run), "--quiet", "--no-collapse-check"]) == 0
    capsys.readouterr()
    assert main(["sample", str(run), "--out", str(tmp_path / "s.png")]) == 0
    assert "(3 samples from" in capsys.readouterr().out
