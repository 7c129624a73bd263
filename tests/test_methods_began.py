"""BEGAN's networks as Berthelot et al. draw them (§3.5, figure 1, §3.5.1's skip connections), at 32×32 and
64×64, and runs saved with the studio's earlier BEGAN still rebuilding."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from studio.data.dataset import DatasetKind
from studio.methods import Batch, DataSpec, get_method
from studio.nn.autoencoder import began_pyramid


def build(size: int, **overrides):
    cls = get_method("began")
    torch.manual_seed(0)
    params = cls.make_params("paper", {"width": 8, "hidden_dim": 16, "latent_dim": 16, "batch_size": 4, **overrides})
    return cls(params, DataSpec(DatasetKind.IMAGES, 3, size))


def convs(net: nn.Module) -> list[nn.Conv2d]:
    return [m for m in net.modules() if isinstance(m, nn.Conv2d)]


@pytest.mark.parametrize("size", [32, 64])
@pytest.mark.parametrize("skip", [False, True])
def test_paper_architecture_builds_and_trains_a_step(size, skip):
    method = build(size, skip_connections=skip)
    n, doublings = 8, {32: 2, 64: 3}[size]
    G, D = method.nets["generator"], method.nets["discriminator"]
    for decoder in (G, D.decoder):
        # h (or z) -> 8×8×n by a linear map with no non-linearity (§3.5), then n filters at every resolution.
        assert decoder.project.out_features == n * 8 * 8 and decoder.start == 8
        assert sum(isinstance(m, nn.Upsample) and m.mode == "nearest" for m in decoder.modules()) == doublings
        assert {c.out_channels for c in convs(decoder)[:-1]} == {n} and convs(decoder)[-1].out_channels == 3
        # With skips, the convolution after each upsampling takes the map and h0 upsampled: 2n channels.
        assert sum(c.in_channels == 2 * n for c in convs(decoder)) == (doublings if skip else 0)
    strided = [c for c in convs(D.encoder) if c.stride == (2, 2)]
    assert [c.out_channels for c in strided] == [n * (i + 2) for i in range(doublings)]  # n, 2n, 3n, ... (linear)
    assert D.encoder.head.out_features == 16 and D.encoder.head.in_features == n * (doublings + 1) * 8 * 8
    everything = [m for net in (G, D) for m in net.modules()]
    assert not any(isinstance(m, (nn.BatchNorm2d, nn.ReLU, nn.LeakyReLU)) for m in everything)
    # Every 3×3 convolution is followed by an ELU but the two that output images.
    assert sum(isinstance(m, nn.ELU) for m in everything) == len(convs(G)) - 1 + len(convs(D)) - 1
    # Adam at 1e-4, halved on a stall (§4.1).
    assert method.params.lr == 1e-4 and method.params.lr_decay
    assert isinstance(method.opts["generator"], torch.optim.Adam)
    before = copy.deepcopy(G.state_dict())
    out = method.train_phase("step", Batch(torch.rand(4, 3, size, size) * 2 - 1))
    assert all(torch.isfinite(v) for v in out.values())
    assert any(not torch.equal(before[k], v) for k, v in G.state_dict().items())
    assert method.sample(method.latent(2)).shape == (2, 3, size, size)


def test_skip_connections_join_h0_upsampled_after_each_upsampling():
    method = build(32, skip_connections=True)
    G = method.nets["generator"]
    z = method.latent(3)
    h0 = G.project(z).view(3, 8, 8, 8)
    layers = list(G.body)

    def conv_elu(i: int, h: torch.Tensor) -> torch.Tensor:
        return F.elu(layers[i](h))

    # Recomputed from §3.5.1: after each upsampling step the output is concatenated with h0 upsampled.
    h = conv_elu(2, conv_elu(0, h0))
    h = F.interpolate(h, scale_factor=2, mode="nearest")
    h = torch.cat([h, F.interpolate(h0, size=(16, 16), mode="nearest")], 1)
    h = conv_elu(7, conv_elu(5, h))
    h = F.interpolate(h, scale_factor=2, mode="nearest")
    h = torch.cat([h, F.interpolate(h0, size=(32, 32), mode="nearest")], 1)
    h = layers[-1](conv_elu(12, conv_elu(10, h)))
    assert torch.allclose(G(z), h, atol=1e-6)


def test_the_first_map_is_the_largest_of_at_most_eight_pixels_that_doubles_to_the_image():
    assert [began_pyramid(s) for s in (8, 16, 28, 32, 64, 128)] == [(8, 0), (8, 1), (7, 2), (8, 2), (8, 3), (8, 4)]
    assert began_pyramid(32, 0) == (4, 3) and began_pyramid(16, 0) == (4, 2)  # the studio's earlier BEGAN
    with pytest.raises(ValueError, match="image size 18"):
        began_pyramid(18)


def test_a_run_saved_before_the_paper_architecture_rebuilds_its_networks():
    cls = get_method("began")
    spec = DataSpec(DatasetKind.IMAGES, 1, 16)
    old = cls(cls.make_params("tiny", {"start_size": 0}), spec)
    saved = old.params_dict()
    del saved["start_size"], saved["skip_connections"]  # a checkpoint from before these settings existed
    rebuilt = cls(cls.restore_params(saved), spec)
    assert rebuilt.params.start_size == 0 and rebuilt.nets["generator"].start == 4
    rebuilt.load_state_dict(old.state_dict())
    z = old.latent(2)
    assert torch.equal(rebuilt.sample(z), old.sample(z))
    assert cls.make_params("tiny").start_size == 8  # a new run is the paper's


def test_a_checkpoint_from_before_the_halvings_were_counted_keeps_its_halved_rate():
    cls = get_method("began")
    spec = DataSpec(DatasetKind.IMAGES, 1, 16)
    old = cls(cls.make_params("tiny", {"lr": 1e-4, "lr_decay": True}), spec)
    for opt in old.opts.values():
        opt.param_groups[0]["lr"] = 2.5e-5  # halved twice, as the rate itself was saved then
    state = old.state_dict()
    del state["extra"]["lr_halvings"]
    resumed = cls(cls.make_params("tiny", {"lr": 1e-4, "lr_decay": True}), spec)
    resumed.load_state_dict(state)
    assert resumed.halvings == 2
    resumed.schedule_learning_rates(0, 10)
    assert {g["lr"] for o in resumed.opts.values() for g in o.param_groups} == {2.5e-5}
