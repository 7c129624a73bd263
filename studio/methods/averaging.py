"""The averaged generator: an exponential moving average of the generating networks' weights and buffers.

Samples from an average of the generator's recent weights are steadier and usually better than
from its last weights (Karras et al., Progressive Growing of GANs, 2018; Yazıcı et al., The Unusual
Effectiveness of Averaging in GAN Training, 2019; lightweight-gan and StyleGAN2-ADA sample from one).
Built on torch's `AveragedModel` with `get_ema_multi_avg_fn`, over parameters and buffers alike
(`use_buffers=True`, so BatchNorm's running statistics are averaged with the weights they belong to).

The decay ramps up as TensorFlow's ExponentialMovingAverage does with `num_updates`:
decay_t = min(decay, (1 + t) / (10 + t)), so early on, while the weights move fast, the average
follows them closely instead of remembering the random initialisation.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn


def ramped_decay(decay: float, updates: int) -> float:
    """The decay of update number `updates` (0-based): min(decay, (1 + t) / (10 + t))."""
    return min(decay, (1.0 + updates) / (10.0 + updates))


class GeneratorAverage:
    """Moving averages of the networks named in `nets` (a method's generator, decoder, encoder or translators)."""

    def __init__(self, nets: dict[str, nn.Module], decay: float):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"ema={decay}: the decay of the averaged generator must be between 0 and 1 (0: off)")
        self.decay = decay
        self.updates = 0  # counted here too, so choosing the decay never reads a tensor
        # AveragedModel keeps its update count on the CPU: updating never waits for the device.
        self.models = {name: AveragedModel(net, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)
                       for name, net in nets.items()}
        for model in self.models.values():
            model.requires_grad_(False)

    def update(self, nets: dict[str, nn.Module]) -> None:
        """Fold the networks' current weights and buffers into the averages."""
        average = get_ema_multi_avg_fn(ramped_decay(self.decay, self.updates))
        for name, model in self.models.items():
            model.multi_avg_fn = average
            model.update_parameters(nets[name])
        self.updates += 1

    def modules(self) -> dict[str, nn.Module]:
        """The averaged networks, by name, to use in place of the trained ones."""
        return {name: model.module for name, model in self.models.items()}

    def state_dict(self) -> dict[str, Any]:
        return {"nets": {name: model.state_dict() for name, model in self.models.items()}, "updates": self.updates}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for name, model in self.models.items():
            model.load_state_dict(state["nets"][name])
        self.updates = int(state["updates"])

    @torch.no_grad()
    def cpu_state(self) -> dict[str, Any]:
        """A CPU copy of `state_dict()`, safe to hand to another thread."""
        return {"nets": {name: {k: t.detach().to("cpu", copy=True) for k, t in model.state_dict().items()}
                         for name, model in self.models.items()}, "updates": self.updates}
