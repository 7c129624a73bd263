"""The small-data aids (issue 25): differentiable augmentation of what every discriminator sees, ADA's
adaptive probability, the averaged generator (EMA) and spectral normalisation, on real tiny models."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from studio.cli import main
from studio.engine import RunConfig, Trainer, load_checkpoint, load_method, method_from_state
from studio.methods.aids import SMALL_DATA_PRESET
from studio.methods.averaging import GeneratorAverage, ramped_decay
from studio.methods.params import ConfigError
from studio.methods.registry import all_methods, get_method
from studio.nn.augment import (
    Augmenter,
    canonical_policy,
    canonical_probability,
    colour,
    cutout,
    diff_augment,
    parse_policy,
    translation,
)
from studio.nn.critics import spectral_normalize

ADVERSARIAL = ["gan", "dcgan", "cgan", "wgan", "wgan-gp", "began", "alpha-gan", "vae-gan", "unet-vae-gan",
               "pix2pix", "cyclegan"]
DATA = {"pix2pix": "builtin:outlines2shapes", "cyclegan": "builtin:outlines|shapes"}
ALL = ("colour", "translation", "cutout")


def images(n=8, c=3, side=16, seed=0):
    return torch.rand(n, c, side, side, generator=torch.Generator().manual_seed(seed)) * 2 - 1


# --- the augmentations ---------------------------------------------------------------------------------
def test_policies_are_spelled_one_way_and_bad_ones_are_named():
    assert canonical_policy("Cutout, color") == "colour,cutout"
    assert canonical_policy("none") == canonical_policy("") == "none"
    assert parse_policy("translation,colour") == ("colour", "translation")
    with pytest.raises(ValueError, match="'blur' is not an augmentation"):
        parse_policy("colour,blur")
    assert canonical_probability("AUTO") == "auto" and canonical_probability("0.50") == "0.5"
    with pytest.raises(ValueError, match="between 0 and 1"):
        canonical_probability("1.5")
    params = get_method("dcgan").make_params(None, {"augment": "cutout , translation", "augment_p": "auto"})
    assert params.augment == "translation,cutout" and params.augment_p == "auto"
    with pytest.raises(ConfigError, match="augment_p='often'"):
        get_method("dcgan").make_params(None, {"augment_p": "often"})


def test_each_operation_keeps_the_shape_and_passes_gradients_to_its_input():
    for op in (colour, translation, cutout):
        x = images().requires_grad_(True)
        y = op(x)
        assert y.shape == x.shape and not torch.equal(y, x), op.__name__
        y.square().sum().backward()
        assert x.grad is not None and x.grad.abs().sum() > 0, f"{op.__name__} blocks the generator's gradient"


def test_translation_shifts_by_at_most_an_eighth_and_pads_with_zero():
    torch.manual_seed(0)
    x = images(n=64, side=16).abs() + 0.5  # no zeros of its own
    y = translation(x)
    for i in range(len(x)):
        found = [(dx, dy) for dx in range(-2, 3) for dy in range(-2, 3)
                 if torch.equal(torch.nn.functional.pad(x[i], [2, 2, 2, 2])[:, 2 + dx:18 + dx, 2 + dy:18 + dy], y[i])]
        assert found, f"image {i} is not a shift of its original by ≤ 2 pixels (1/8 of 16) with zero padding"
    assert (y == 0).any(), "no image was shifted"


def test_cutout_zeroes_one_square_of_at_most_half_the_side():
    torch.manual_seed(1)
    x = images(n=32, side=16).abs() + 0.5
    y = cutout(x)
    zero = (y == 0).all(dim=1)  # (N, H, W): holes go through every channel
    for hole in zero:
        rows, cols = hole.any(1).nonzero().flatten(), hole.any(0).nonzero().flatten()
        assert 4 <= len(rows) <= 8 and 4 <= len(cols) <= 8  # half the side, clipped at the border
        assert hole.sum() == len(rows) * len(cols), "the hole is not one rectangle"


def test_probability_zero_leaves_images_alone_and_one_changes_every_image():
    x = images(n=16)
    assert torch.allclose(diff_augment(x, ALL, 0.0), x, atol=1e-6)  # the colour steps round, by 1e-7
    assert torch.equal(Augmenter(ALL, 0.0, batch_size=16, device="cpu")(x), x)
    changed = (diff_augment(x, ALL, 1.0) != x).flatten(1).any(1)
    assert changed.all()
    torch.manual_seed(0)
    half = (diff_augment(images(n=400), ("cutout",), torch.tensor(0.5)) != images(n=400)).flatten(1).any(1)
    assert 0.4 < half.float().mean() < 0.6, "each image is augmented with probability p"


def test_images_judged_together_get_the_same_transform():
    """pix2pix's discriminator sees an input beside its output (joined along channels): one transform for both."""
    x = images(n=16, c=3)
    torch.manual_seed(3)
    pair = diff_augment(torch.cat([x, x], dim=1), ALL, 1.0, channels=3)
    assert torch.equal(pair[:, :3], pair[:, 3:])
    torch.manual_seed(3)
    alone = diff_augment(x, ALL, 1.0, channels=3)
    assert torch.allclose(alone, pair[:, :3], atol=1e-6), "joining two images changed the first one's transform"


def test_colour_on_grey_images_changes_brightness_and_contrast_only():
    torch.manual_seed(0)
    x = images(c=1)
    y = colour(x)
    assert y.shape == x.shape and torch.isfinite(y).all()
    centred = (y - y.mean(dim=(1, 2, 3), keepdim=True))
    ratio = centred.flatten(1).std(1) / (x - x.mean(dim=(1, 2, 3), keepdim=True)).flatten(1).std(1)
    assert ((ratio >= 0.5 - 1e-4) & (ratio <= 1.5 + 1e-4)).all(), "contrast is scaled by [0.5, 1.5]"


# --- the adaptive probability ----------------------------------------------------------------------------
def test_ada_raises_p_while_the_discriminator_is_sure_of_real_images_and_lowers_it_otherwise():
    aug = Augmenter(ALL, None, batch_size=50, device="cpu", target=0.6, interval=4, speed_images=1000)
    step = 50 * 4 / 1000  # p moves this much per adjustment
    for _ in range(8):  # two adjustments with r_t = 1 (every real image scored real)
        aug.observe(torch.full((50, 1), 3.0))
        logged = aug.step()
    assert float(aug.p) == pytest.approx(2 * step) and float(logged["augment_rt"]) == 1.0
    for _ in range(4):  # r_t = -1/5 + ... below the target: back down
        aug.observe(torch.tensor([1.0, -1.0, -1.0, 1.0, -1.0]))
        aug.step()
    assert float(aug.p) == pytest.approx(step) and float(aug.r_t) == pytest.approx(-0.2)
    for _ in range(40):
        aug.observe(torch.full((8,), -1.0))
        aug.step()
    assert float(aug.p) == 0.0, "p stays within [0, 1]"
    saved = aug.state_dict()
    other = Augmenter(ALL, None, batch_size=50, device="cpu", speed_images=1000)
    other.load_state_dict(saved)
    assert other.steps == aug.steps and torch.equal(other.p, aug.p)


def test_a_fixed_probability_logs_nothing_and_never_moves():
    aug = Augmenter(ALL, 0.5, batch_size=8, device="cpu")
    aug.observe(torch.ones(8))
    assert [aug.step() for _ in range(8)] == [{}] * 8 and float(aug.p) == 0.5


@pytest.mark.parametrize("method", ADVERSARIAL)
def test_every_discriminator_sees_augmented_images_and_adaptive_ones_see_the_real_scores(method):
    """Cutout at p = 1 leaves a zero square in every image the discriminator judges, real or generated."""
    cls = get_method(method)
    params = {"augment": "cutout", "augment_p": "auto" if cls.real_threshold is not None else "1"}
    trainer = Trainer(RunConfig(method=method, dataset=DATA.get(method, "builtin:shapes"), preset="tiny",
                                params=params, steps=1, image_size=16, dataset_count=32, device="cpu"))
    trainer.setup()
    m = trainer.method
    if params["augment_p"] == "auto":
        m.augmenter.p.fill_(1.0)
    if method == "wgan-gp":  # its penalty's points lie between two augmented images: holes blended away
        m.lipschitz_penalty = lambda batch, fake: {}
    seen = []
    for name in m.discriminator_nets():
        first = next(layer for layer in m.nets[name].modules() if isinstance(layer, (nn.Conv2d, nn.Linear)))
        first.register_forward_pre_hook(lambda _, args: seen.append(args[0].detach()))
    trainer.train_steps(1)
    assert seen, f"{method}: no discriminator ran"
    for x in seen:
        zeros = (x.flatten(1) == 0).sum(1)
        assert (zeros >= 16).all(), f"{method}: a discriminator input without a cutout hole"
    if params["augment_p"] == "auto":
        assert float(m.augmenter.sign_count) > 0, f"{method}: ADA never saw the discriminator's real scores"


def test_the_aids_refuse_what_they_cannot_do():
    with pytest.raises(ConfigError, match="2-D points"):
        Trainer(RunConfig(method="gan", dataset="builtin:rings", preset="tiny", params={"augment": "cutout"},
                          steps=1, device="cpu")).setup()
    with pytest.raises(ConfigError, match="augment_p=auto: wgan-gp's discriminator"):
        Trainer(RunConfig(method="wgan-gp", preset="tiny", params={"augment": "cutout", "augment_p": "auto"},
                          steps=1, dataset_count=16, device="cpu")).setup()


# --- spectral normalisation ----------------------------------------------------------------------------
def test_spectral_norm_brings_every_discriminator_layer_to_norm_one():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.Flatten(), nn.Linear(8 * 14 * 14, 1))
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(7.0)
    spectral_normalize(net)
    for _ in range(30):  # one power iteration per training forward pass
        net(torch.randn(4, 3, 16, 16))
    net.eval()
    for layer in (net[0], net[2]):
        sigma = torch.linalg.matrix_norm(layer.weight.detach().flatten(1), ord=2)
        assert sigma == pytest.approx(1.0, abs=0.02)


def test_spectral_norm_is_a_setting_that_survives_a_checkpoint(tmp_path):
    run = tmp_path / "sn"
    cfg = RunConfig(method="dcgan", preset="tiny", params={"spectral_norm": True}, steps=4, image_size=16,
                    dataset_count=32, device="cpu", checkpoint_every=100)
    trainer = Trainer(cfg, run_dir=run)
    assert trainer.run() == "finished"
    d = trainer.method.nets["discriminator"]
    assert all(nn.utils.parametrize.is_parametrized(m, "weight") for m in d.modules() if isinstance(m, nn.Conv2d))
    assert not any(nn.utils.parametrize.is_parametrized(m) for m in trainer.method.nets["generator"].modules())
    loaded = load_method(run)
    assert loaded.method.params.spectral_norm
    for key, value in trainer.method.nets["discriminator"].state_dict().items():
        assert torch.equal(value, loaded.method.nets["discriminator"].state_dict()[key])


# --- the averaged generator ----------------------------------------------------------------------------
def test_the_average_is_torch_ema_with_a_ramp_over_weights_and_buffers():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    average = GeneratorAverage({"generator": net}, decay=0.9)
    reference = AveragedModel(net, use_buffers=True)  # torch's own, updated by hand with each step's decay
    for t in range(12):
        with torch.no_grad():
            for p in net.parameters():
                p.add_(torch.randn_like(p))
        net(torch.randn(8, 3))  # moves BatchNorm's running statistics
        average.update({"generator": net})
        reference.multi_avg_fn = get_ema_multi_avg_fn(ramped_decay(0.9, t))
        reference.update_parameters(net)
    ours, theirs = average.modules()["generator"].state_dict(), reference.module.state_dict()
    for key in ours:
        assert torch.equal(ours[key], theirs[key]), key
    assert not torch.equal(ours["1.running_mean"], net[1].running_mean), "buffers are averaged, not copied"
    assert ramped_decay(0.999, 0) == pytest.approx(0.1) and ramped_decay(0.999, 100_000) == 0.999


def test_grids_sampling_and_export_use_the_average_and_raw_stays_selectable(tmp_path):
    run = tmp_path / "ema"
    cfg = RunConfig(method="dcgan", preset="tiny", params={"ema": 0.9}, steps=6, image_size=16,
                    dataset_count=32, device="cpu", sample_every=3, checkpoint_every=100)
    trainer = Trainer(cfg, run_dir=run)
    grids = []
    trainer.subscribe(lambda e: grids.append(e.image) if getattr(e, "name", "") == "samples" else None)
    assert trainer.run() == "finished"
    method = trainer.method
    averaged, raw = load_method(run), load_method(run, raw=True)
    assert averaged.averaged and not raw.averaged
    g_avg, g_raw = averaged.method.nets["generator"].state_dict(), raw.method.nets["generator"].state_dict()
    assert any(not torch.equal(g_avg[k], g_raw[k]) for k in g_avg)
    for key, value in method.average.modules()["generator"].state_dict().items():
        assert torch.equal(value, g_avg[key])
    for key, value in method.nets["generator"].state_dict().items():
        assert torch.equal(value, g_raw[key])
    # The last grid is the averaged generator's drawing of the fixed batch.
    from studio.grids import image_grid, to_uint8

    z = trainer.fixed_z
    assert (grids[-1] == image_grid(to_uint8(averaged.method.sample(z)))).all()
    assert not (grids[-1] == image_grid(to_uint8(raw.method.sample(z)))).all()
    # A snapshot of training (the Sample tab's) carries the average too.
    snap = trainer.snapshot()
    assert method_from_state(snap).averaged and not method_from_state(snap, raw=True).averaged
    # The commands take --raw.
    assert main(["sample", str(run), "--out", str(tmp_path / "a.png"), "--n", "4"]) == 0
    assert main(["sample", str(run), "--out", str(tmp_path / "r.png"), "--n", "4", "--raw"]) == 0
    assert (tmp_path / "a.png").read_bytes() != (tmp_path / "r.png").read_bytes()
    assert load_checkpoint(run / "checkpoints" / "last.pt")["state"]["average"]["updates"] == 6
    import json

    from studio.export import export_run

    for raw, weights in ((False, "averaged"), (True, "raw")):
        result = export_run(run, tmp_path / f"g-{raw}.pt", "torchscript", raw=raw)
        assert json.loads(result.sidecar.read_text())["weights"].startswith(weights)


def test_every_adversarial_image_method_offers_the_small_data_preset():
    for name, cls in all_methods().items():
        if name in ADVERSARIAL:
            preset = cls.presets[SMALL_DATA_PRESET]
            assert preset["augment"] != "none" and preset["ema"] > 0
            assert preset["augment_p"] == ("auto" if cls.real_threshold is not None else "1")
            cls.make_params(SMALL_DATA_PRESET)
        else:
            assert SMALL_DATA_PRESET not in cls.presets, name
