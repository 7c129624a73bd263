"""The traceable modules an export is made of: a method's sampler and encoder as plain forward()s.

A method samples through `Method.sample(z, labels, reference)` and encodes through `encode(x)`;
wrapping those calls (rather than one named network) exports exactly what the studio draws, for
every method: BEGAN's clamp, a VAE's decoder, a conditional generator's label input.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
from torch import nn

from ..methods.base import Method

LATENT, LABELS, IMAGE = "z", "labels", "image"  # the generator's possible inputs, in call order


def has_latent(method: Method) -> bool:
    """True when the method samples from a latent prior (translation methods have none)."""
    if not hasattr(method.params, "latent_dim"):
        return False
    try:
        method.latent(1, generator=torch.Generator())
    except (ValueError, NotImplementedError, AttributeError):
        return False
    return True


def generator_inputs(method: Method) -> list[str]:
    """The names of the exported generator's inputs, among z, labels and image."""
    names = [LATENT] if has_latent(method) else []
    if method.conditional:
        names.append(LABELS)
    if method.needs_reference:
        names.append(IMAGE)
    if not names:
        raise ValueError(f"{method.name}: nothing to feed the generator (no latent, labels or input image)")
    return names


class SampleModule(nn.Module):
    """forward(*inputs) = method.sample(z, labels, reference), inputs named by `names`."""

    def __init__(self, method: Method, names: list[str]):
        super().__init__()
        self.nets = nn.ModuleDict(method.nets)  # registered, so tracing keeps the weights as parameters
        self.method = method
        self.names = list(names)

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        given = dict(zip(self.names, inputs))
        return self.method.sample(given.get(LATENT), given.get(LABELS), given.get(IMAGE))


class EncodeModule(nn.Module):
    """forward(images) = method.encode(images): images in [-1, 1] to latent codes."""

    def __init__(self, method: Method):
        super().__init__()
        self.nets = nn.ModuleDict(method.nets)
        self.method = method

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.method.encode(images)


RANDOM_OPS = ("rand", "randn", "randint", "rand_like", "randn_like", "randint_like", "normal", "bernoulli",
              "multinomial", "uniform_", "normal_", "bernoulli_", "randperm", "exponential_", "poisson")


def random_ops(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> list[str]:
    """The random-number ops in `module`'s traced forward (an exported file cannot reproduce them)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = torch.jit.trace(module, inputs, check_trace=False).inlined_graph
    kinds = {node.kind() for node in graph.nodes()}
    return sorted(k for k in kinds if k.startswith("aten::") and k.split("::")[1] in RANDOM_OPS)


def example_inputs(method: Method, names: list[str], batch: int, seed: int = 0) -> tuple[torch.Tensor, ...]:
    """Inputs of the kinds the model expects (latents from its prior, valid label vectors, images)."""
    gen = torch.Generator().manual_seed(seed)
    out: list[torch.Tensor] = []
    for name in names:
        if name == LATENT:
            out.append(method.latent(batch, generator=gen).float())
        elif name == LABELS:
            out.append(example_labels(method, batch, gen))
        elif name == IMAGE:
            out.append(example_images(method, batch, gen))
    return tuple(out)


def example_labels(method: Method, batch: int, gen: torch.Generator) -> torch.Tensor:
    """One-hot rows cycling through the classes, or random multi-hot attribute rows."""
    k = method.spec.label_dim
    if method.spec.multi_label:
        return (torch.rand(batch, k, generator=gen) < 0.5).float()
    return torch.nn.functional.one_hot(torch.arange(batch) % k, k).float()


def example_images(method: Method, batch: int, gen: torch.Generator) -> torch.Tensor:
    """Random images in [-1, 1] of the model's size and channels."""
    s = method.spec
    return torch.rand(batch, s.channels, s.image_size, s.image_size, generator=gen) * 2 - 1


def latent_distribution(method: Method) -> dict[str, Any]:
    """How to draw the latent: {"distribution": "normal", "mean": 0, "std": 1} or uniform with low/high.

    A method may say so itself (`latent_distribution` attribute, a dict like these); otherwise a large
    draw from its prior is classified, which tells N(0, 1) from BEGAN's uniform [-1, 1] at once.
    """
    declared = getattr(method, "latent_distribution", None)
    if isinstance(declared, dict):
        return dict(declared)
    z = method.latent(20000, generator=torch.Generator().manual_seed(0)).double().flatten()
    lo, hi, mean, std = z.min().item(), z.max().item(), z.mean().item(), z.std().item()
    for low, high in ((-1.0, 1.0), (0.0, 1.0)):
        width = high - low
        if low <= lo and hi <= high and lo < low + 0.01 * width and hi > high - 0.01 * width \
                and abs(std - width / 12**0.5) < 0.05 * width:
            return {"distribution": "uniform", "low": low, "high": high,
                    "description": f"uniform on [{low:g}, {high:g}]"}
    if abs(mean) < 0.05 and abs(std - 1.0) < 0.05:
        return {"distribution": "normal", "mean": 0.0, "std": 1.0, "description": "standard normal N(0, 1)"}
    return {"distribution": "unknown", "min": lo, "max": hi, "mean": mean, "std": std,
            "description": "not a standard prior: draw latents with the studio (Method.latent)"}
