"""The encoder methods: VAE, VAE-GAN, U-Net VAE-GAN and alpha-GAN (tiny networks, a few steps)."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from studio.cli import main
from studio.data.dataset import DatasetKind
from studio.engine import RunConfig, RunDirectory, Trainer, load_checkpoint, run_step
from studio.engine.events import Scalars
from studio.methods import Batch, DataSpec, get_method
from studio.methods.unet_vae_gan import perturb_skips
from studio.methods.vae import gaussian_kl
from studio.nn.unet import UNet, UNetDecoder, UNetEncoder

METHODS = ("vae", "vae-gan", "unet-vae-gan", "alpha-gan")


def make(name: str, size: int = 16, channels: int = 3, label_dim: int = 0, **overrides):
    cls = get_method(name)
    spec = DataSpec(DatasetKind.IMAGES, channels, size, label_dim=label_dim)
    return cls(cls.make_params("tiny", {"batch_size": 4, **overrides}), spec)


def batch_of(n: int, channels: int, size: int, label_dim: int = 0) -> Batch:
    y = nn.functional.one_hot(torch.arange(n) % label_dim, label_dim).float() if label_dim else None
    return Batch(torch.rand(n, channels, size, size) * 2 - 1, y)


# --- the VAE's KL term ----------------------------------------------------------------------------


def test_kl_matches_its_closed_form():
    assert gaussian_kl(torch.zeros(3, 5), torch.zeros(3, 5)).item() == 0.0
    mu = torch.tensor([[1.0, 2.0], [0.0, 0.0]])
    logvar = torch.tensor([[0.0, math.log(4.0)], [0.0, 0.0]])
    # Row 1: dim 1 gives -½(1 + 0 - 1 - 1) = 0.5; dim 2 gives -½(1 + ln 4 - 4 - 4) = 3.5 - ln 2. Row 2: 0.
    expected = (0.5 + 3.5 - math.log(2.0) + 0.0) / 2
    assert gaussian_kl(mu, logvar).item() == pytest.approx(expected, rel=1e-6)
    # A narrower posterior (log σ² = -2) away from zero costs more than the prior itself.
    assert gaussian_kl(torch.ones(1, 1), torch.full((1, 1), -2.0)).item() == pytest.approx(
        -0.5 * (1 - 2 - 1 - math.exp(-2)), rel=1e-6)


# --- alpha-GAN ------------------------------------------------------------------------------------


def count_steps(method) -> dict[str, int]:
    counts = {name: 0 for name in method.opts}
    for name, opt in method.opts.items():
        original = opt.step

        def step(*args, _name=name, _original=original, **kwargs):
            counts[_name] += 1
            return _original(*args, **kwargs)

        opt.step = step
    return counts


@pytest.mark.parametrize("ae_steps", [2, 3])
def test_alpha_gan_updates_the_autoencoder_ae_steps_times_per_discriminator_update(ae_steps):
    method = make("alpha-gan", ae_steps=ae_steps)
    assert method.schedule() == [("autoencoder", ae_steps), ("discriminators", 1)]
    counts = count_steps(method)
    for _ in range(2):
        run_step(method, lambda: batch_of(4, 3, 16))
    assert counts == {"encoder": 2 * ae_steps, "generator": 2 * ae_steps, "discriminator": 2,
                      "code_discriminator": 2}
    assert get_method("alpha-gan").make_params().ae_steps == 2  # seed 001's default


def test_code_discriminator_calls_prior_samples_real_and_encodings_fake():
    method = make("alpha-gan", latent_dim=8)
    # An encoder whose codes are all 5, and a code discriminator whose logit is 10·mean(z) - 25:
    # it says "real" (logit +25) to those codes and "fake" (about -25) to prior samples around 0.
    encoder = nn.Sequential(nn.Flatten(), nn.Linear(3 * 16 * 16, 8))
    critic = nn.Linear(8, 1)
    with torch.no_grad():
        encoder[1].weight.zero_()
        encoder[1].bias.fill_(5.0)
        critic.weight.fill_(10.0 / 8)
        critic.bias.fill_(-25.0)
    method.nets["encoder"] = encoder
    method.nets["code_discriminator"] = nn.Sequential(critic, nn.Flatten(0))
    method.opts["encoder"] = torch.optim.SGD(encoder.parameters(), lr=0.0)
    method.opts["code_discriminator"] = torch.optim.SGD(critic.parameters(), lr=0.0)
    torch.manual_seed(0)
    d = method.train_phase("discriminators", batch_of(16, 3, 16))
    # Prior called real: this discriminator is wrong on both sides, so its loss is about 25 + 25.
    assert d["code_d_loss"].item() > 40
    e = method.train_phase("autoencoder", batch_of(16, 3, 16))
    # The encoder wants its codes called real, which this discriminator already does.
    assert e["e_loss"].item() < 1e-6


# --- the command line -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", METHODS)
def test_cli_trains_each_method_and_logs_its_scalars(name, tmp_path):
    run = tmp_path / name
    assert main(["train", "--method", name, "--dataset", "builtin:shapes", "--preset", "tiny", "--steps", "5",
                 "--run-dir", str(run), "--quiet", "--log-every", "1"]) == 0
    records = [r for r in RunDirectory(run).read_metrics() if "metric" not in r and "event" not in r]
    assert [r["step"] for r in records] == [1, 2, 3, 4, 5]
    documented = set(get_method(name).scalars)
    assert "reconstruction" in documented and ("kl" in documented or name == "alpha-gan")
    for record in records:
        assert documented <= set(record), f"missing {documented - set(record)}"
        assert all(math.isfinite(record[k]) for k in documented)
    if name == "unet-vae-gan":
        out = tmp_path / "f.png"
        assert main(["sample", str(run), "--out", str(out), "--n", "8"]) == 0
        from PIL import Image

        with Image.open(out) as image:
            assert image.size[0] > 2 * 32  # reference/generation pairs laid out in a grid


# --- learning ----------------------------------------------------------------------------------


def test_vae_reconstruction_error_falls_on_shapes():
    logged: list[dict] = []
    config = RunConfig(method="vae", dataset="builtin:shapes", preset="tiny", steps=60, seed=0, log_every=10,
                       sample_every=1000, checkpoint_every=1000, dataset_count=512, fixed_samples=4,
                       params={"lr": 3e-3})
    trainer = Trainer(config, subscribers=(lambda e: logged.append(e.values) if isinstance(e, Scalars) else None,))
    assert trainer.run() == "finished", trainer.message
    curve = [v["reconstruction"] for v in logged]
    assert len(curve) == 6
    assert curve[-1] < 0.5 * curve[0], curve


# --- sampling, encoding, reconstruction -------------------------------------------------------------


@pytest.mark.parametrize("name", METHODS)
def test_sample_encode_and_decode_of_encode_equals_reconstruction(name):
    torch.manual_seed(0)
    method = make(name, reference_noise=0.0) if name == "unet-vae-gan" else make(name)
    for _ in range(2):  # BatchNorm running statistics now differ from any batch's own
        run_step(method, lambda: batch_of(4, 3, 16))
    x = torch.rand(3, 3, 16, 16) * 2 - 1
    z = method.encode(x)
    assert z.shape == (3, method.params.latent_dim)
    assert all(net.training for net in method.nets.values()), "encode left a network in eval mode"
    if name == "unet-vae-gan":
        with pytest.raises(ValueError, match="needs reference images"):
            method.sample(method.latent(3))
        decoded = method.sample(z, reference=x)  # with α = 0 the skips are the image's own
    else:
        decoded = method.sample(z)
    assert torch.allclose(decoded, method.reconstruct(x), atol=1e-6)
    assert torch.allclose(method.encode(x[:1]), z[:1], atol=1e-5), "encoding depends on the rest of the batch"
    samples = method.sample(method.latent(5), reference=x)
    assert samples.shape == (5, 3, 16, 16) and samples.min() >= -1 and samples.max() <= 1
    assert all(net.training for net in method.nets.values())


def test_unet_generation_perturbs_the_reference_skips_as_seed_004():
    skips = [torch.randn(2, 4, 8, 8), torch.randn(2, 8, 4, 4)]
    out = perturb_skips(skips, 0.5, torch.Generator().manual_seed(7))
    gen = torch.Generator().manual_seed(7)
    for s, o in zip(skips, out, strict=True):
        eps = torch.randn(s.shape, generator=gen)
        assert torch.allclose(o, s * (1 + 0.5 * eps))
    assert all(torch.equal(s, o) for s, o in zip(skips, perturb_skips(skips, 0.0), strict=True))

    torch.manual_seed(0)
    method = make("unet-vae-gan", reference_noise=1.0)
    run_step(method, lambda: batch_of(4, 3, 16))
    z, refs = method.latent(2), torch.rand(2, 3, 16, 16) * 2 - 1
    a = method.sample(z, reference=refs)
    assert torch.equal(a, method.sample(z, reference=refs)), "the same inputs must give the same images"
    assert not torch.allclose(a, method.sample(z, reference=refs.flip(0)))
    assert not torch.allclose(a, method.sample(z, reference=refs, generator=torch.Generator().manual_seed(1)))
    grid = method.preview(torch.cat([z, z]), None, refs)
    assert grid.shape == (4, 3, 16, 16) and torch.equal(grid[0], refs[0]) and torch.equal(grid[1], a[0])


def test_sampling_does_not_disturb_training_so_resume_is_exact(tmp_path):
    """6 + 6 steps with a resume (and an extra sample grid at step 6) equal 12 straight."""
    def config(steps):
        return RunConfig(method="unet-vae-gan", preset="tiny", steps=steps, seed=1, log_every=3, sample_every=4,
                         checkpoint_every=100, dataset_count=64, fixed_samples=4,
                         params={"batch_size": 4})

    Trainer(config(12), run_dir=tmp_path / "straight").run()
    Trainer(config(6), run_dir=tmp_path / "split").run()
    Trainer(config(12), run_dir=tmp_path / "split", resume=True).run()
    a = load_checkpoint(tmp_path / "straight" / "checkpoints" / "last.pt")["state"]["nets"]
    b = load_checkpoint(tmp_path / "split" / "checkpoints" / "last.pt")["state"]["nets"]
    for net in a:
        for key in a[net]:
            assert torch.equal(a[net][key], b[net][key]), f"{net}.{key} differs after resume"


@pytest.mark.parametrize("name", ["vae-gan", "alpha-gan"])
def test_conditional_models_follow_the_label(name):
    torch.manual_seed(0)
    method = make(name, label_dim=4, conditional=True)
    run_step(method, lambda: batch_of(4, 3, 16, label_dim=4))
    z = method.latent(1).expand(2, -1)
    out = method.sample(z, torch.tensor([0, 3]))
    assert not torch.allclose(out[0], out[1]), "the label changed nothing"
    with pytest.raises(ValueError, match="conditional"):
        method.sample(z)


def test_vae_gan_feature_reconstruction_measures_inside_the_discriminator():
    torch.manual_seed(0)
    pixel, feature = make("vae-gan"), make("vae-gan", feature_reconstruction=True)
    feature.load_state_dict(pixel.state_dict())
    torch.manual_seed(1)
    a = pixel.train_phase("step", batch_of(4, 3, 16))
    torch.manual_seed(1)
    b = feature.train_phase("step", batch_of(4, 3, 16))
    assert a["kl"].item() == pytest.approx(b["kl"].item())
    assert b["reconstruction"].item() != pytest.approx(a["reconstruction"].item(), rel=1e-3)
    assert math.isfinite(b["decoder_loss"].item())


# --- sizes and channels -----------------------------------------------------------------------------


@pytest.mark.parametrize("size", [16, 28, 32, 64, 128])
@pytest.mark.parametrize("channels", [1, 3])
def test_every_method_builds_and_runs_at_each_size(size, channels):
    x = torch.rand(2, channels, size, size) * 2 - 1
    for name in METHODS:
        torch.manual_seed(0)
        method = make(name, size, channels, batch_size=2, width=4)
        for phase, _ in method.schedule():
            out = method.train_phase(phase, Batch(x))
            assert all(v.dim() == 0 and not v.requires_grad and torch.isfinite(v) for v in out.values()), name
        assert method.sample(method.latent(2), reference=x).shape == (2, channels, size, size), name
        assert method.encode(x).shape == (2, method.params.latent_dim), name


def test_general_unet_halves_compose_and_check_their_skips():
    net = UNet(3, 1, 32, width=4, dropout=0.5)
    assert net(torch.rand(2, 3, 32, 32)).shape == (2, 1, 32, 32)
    encoder = UNetEncoder(3, 28, width=4)
    skips = encoder(torch.rand(2, 3, 28, 28))
    assert [s.shape[-1] for s in skips] == [28, 14, 7] and [s.shape[1] for s in skips] == encoder.skip_channels
    with pytest.raises(ValueError, match="3 skip maps"):
        UNetDecoder(3, 28, width=4)(skips[-1], skips[:-1])
    with pytest.raises(ValueError, match="depth 3"):
        UNetEncoder(3, 28, depth=3)
