"""PacGAN's packing and LinearMaxout: shapes, which samples end up together, gradients, and every method that packs."""

from __future__ import annotations

import pytest
import torch

from studio.data import DatasetKind
from studio.methods import DataSpec, get_method
from studio.methods.base import Batch
from studio.nn.blocks import LinearMaxout, MaxoutCritic, MLPCritic
from studio.nn.losses import gradient_penalty
from studio.nn.packing import Packed, pack, with_packing


def test_pack_joins_consecutive_samples_along_features():
    points = torch.arange(12.0).view(6, 2)  # sample i is (2i, 2i+1)
    packed = pack(points, 3)
    assert packed.shape == (2, 6)
    assert packed[0].tolist() == [0, 1, 2, 3, 4, 5] and packed[1].tolist() == [6, 7, 8, 9, 10, 11]
    images = torch.randn(4, 3, 8, 8)
    assert torch.equal(pack(images, 2)[1], torch.cat([images[2], images[3]], 0))  # channels of both images
    assert pack(images, 1) is images
    with pytest.raises(ValueError, match="batch of 5 samples cannot be packed in groups of 2.*divisible"):
        pack(torch.randn(5, 2), 2)


def test_packed_critic_scores_each_group_and_gradients_reach_every_sample():
    torch.manual_seed(0)
    critic = with_packing(lambda shape, cond: MLPCritic(shape, 16, 2, cond), (2,), 3, 2)
    assert isinstance(critic, Packed) and critic.inner.net[0].in_features == 2 * 2 + 3 * 2
    x = torch.randn(8, 2, requires_grad=True)
    y = torch.eye(3)[torch.arange(8) % 3]
    scores = critic(x, y)
    assert scores.shape == (4,)
    scores[1].backward()  # the second pack: samples 2 and 3 only
    touched = x.grad.abs().sum(1) > 0
    assert touched.tolist() == [False, False, True, True, False, False, False, False]
    plain = with_packing(lambda shape, cond: MLPCritic(shape, 16, 2, cond), (2,), 0, 1)
    assert isinstance(plain, MLPCritic)  # pack=1 keeps the plain network and its checkpoint keys


def test_linear_maxout_takes_the_largest_piece():
    layer = LinearMaxout(2, 3, pieces=4)
    x = torch.randn(5, 2)
    pieces = layer.linear(x).view(5, 3, 4)
    assert torch.equal(layer(x), pieces.max(2).values)
    critic = MaxoutCritic((4,), hidden=8, layers=3, pieces=5)
    assert critic(torch.randn(6, 4)).shape == (6,)
    assert sum(isinstance(m, LinearMaxout) for m in critic.modules()) == 3


def test_gradient_penalty_groups_follow_the_pack():
    # A critic that is 1-Lipschitz on each packed input (norm of the packed vector) but has gradient
    # norm 1/sqrt(2) on each sample alone: zero penalty only when measured per pack.
    critic = lambda v: pack(v, 2).norm(dim=1)  # noqa: E731
    real, fake = torch.randn(8, 2) + 5, torch.randn(8, 2) + 5
    assert gradient_penalty(critic, real, fake, group=2).item() == pytest.approx(0.0, abs=1e-6)
    assert gradient_penalty(critic, real, fake, group=1).item() > 0.05


@pytest.mark.parametrize("name, kind", [("gan", DatasetKind.POINTS), ("dcgan", DatasetKind.IMAGES),
                                        ("cgan", DatasetKind.IMAGES), ("wgan", DatasetKind.POINTS),
                                        ("wgan-gp", DatasetKind.IMAGES), ("wgan-gp", DatasetKind.POINTS)])
def test_every_discriminator_method_packs_and_trains(name, kind):
    torch.manual_seed(0)
    cls = get_method(name)
    if kind == DatasetKind.POINTS:
        spec = DataSpec(kind, point_dim=2)
        batch = Batch(torch.randn(8, 2))
    else:
        labels = 3 if name == "cgan" else 0
        spec = DataSpec(kind, channels=1, image_size=8, label_dim=labels, label_names=tuple("abc"[:labels]))
        batch = Batch(torch.rand(8, 1, 8, 8) * 2 - 1, torch.eye(3)[torch.arange(8) % 3] if labels else None)
    params = cls.make_params("tiny", {"pack": 2, "batch_size": 8, **({"width": 4} if kind == DatasetKind.IMAGES else {})})
    method = cls(params, spec, "cpu")
    critic = method.nets.get("discriminator", method.nets.get("critic"))
    assert isinstance(critic, Packed) and critic.m == 2
    for phase, _ in method.schedule():
        scalars = method.train_phase(phase, batch)
        assert all(torch.isfinite(v) for v in scalars.values())


def test_pacgan_preset_builds_the_papers_networks():
    cls = get_method("gan")
    params = cls.make_params("pacgan", {"pack": 2, "batch_size": 200})
    method = cls(params, DataSpec(DatasetKind.POINTS, point_dim=2), "cpu")
    G, D = method.nets["generator"], method.nets["discriminator"]
    assert sum(isinstance(m, torch.nn.BatchNorm1d) for m in G.modules()) == 4
    assert [m.linear.out_features for m in D.modules() if isinstance(m, LinearMaxout)] == [1000, 1000, 1000]
    assert D.inner.net[0].linear.in_features == 4  # two 2-d points
    assert method.latent(3).shape == (3, 2)
