"""Interpolation between latents: lerp, slerp, and the easing curves that pace a morph."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

Easing = Callable[[float], float]


def linear(t: float) -> float:
    """Constant speed."""
    return t


def ease_in_out(t: float) -> float:
    """Slow at both keys, fast in between (half a cosine): the morph lingers on each keyframe."""
    return 0.5 - 0.5 * math.cos(math.pi * t)


def ease_in(t: float) -> float:
    """Slow start, fast arrival."""
    return 1.0 - math.cos(0.5 * math.pi * t)


def ease_out(t: float) -> float:
    """Fast start, slow arrival."""
    return math.sin(0.5 * math.pi * t)


EASINGS: dict[str, Easing] = {"linear": linear, "ease-in-out": ease_in_out, "ease-in": ease_in, "ease-out": ease_out}
MODES = ("lerp", "slerp")


def get_easing(name: str) -> Easing:
    """The easing function called `name`; ValueError listing the known names otherwise."""
    try:
        return EASINGS[name]
    except KeyError:
        raise ValueError(f"unknown easing {name!r}; choose one of {', '.join(EASINGS)}") from None


def lerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """Straight line from a (t=0) to b (t=1)."""
    return a + (b - a) * t


def slerp(a: torch.Tensor, b: torch.Tensor, t: float, eps: float = 1e-7) -> torch.Tensor:
    """Great-circle path from a to b, per row (first dimension is the batch when a is 2-D or more).

    The direction moves along the sphere and the length is lerped, so two keys of equal norm give
    latents of exactly that norm all the way (a Gaussian prior has almost all its mass near that
    shell; a straight line cuts through the low-density middle and gives washed-out midpoints).
    Nearly parallel or zero vectors fall back to lerp.
    """
    if a.shape != b.shape:
        raise ValueError(f"slerp needs latents of one shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    batched = a.dim() >= 2
    a2 = (a.reshape(a.shape[0], -1) if batched else a.reshape(1, -1)).double()
    b2 = (b.reshape(b.shape[0], -1) if batched else b.reshape(1, -1)).double()
    na, nb = a2.norm(dim=1, keepdim=True), b2.norm(dim=1, keepdim=True)
    ua, ub = a2 / na.clamp_min(eps), b2 / nb.clamp_min(eps)
    cos = (ua * ub).sum(dim=1, keepdim=True).clamp(-1.0, 1.0)
    omega = torch.acos(cos)
    sin = torch.sin(omega)
    safe = sin.abs() > 1e-6
    wa = torch.where(safe, torch.sin((1 - t) * omega) / torch.where(safe, sin, 1.0), torch.full_like(sin, 1 - t))
    wb = torch.where(safe, torch.sin(t * omega) / torch.where(safe, sin, 1.0), torch.full_like(sin, t))
    direction = wa * ua + wb * ub
    # Renormalise the direction (the fallback path is not unit length) and lerp the radius.
    direction = direction / direction.norm(dim=1, keepdim=True).clamp_min(eps)
    out = direction * ((1 - t) * na + t * nb)
    degenerate = (na <= eps) | (nb <= eps)
    out = torch.where(degenerate, (1 - t) * a2 + t * b2, out)
    return out.to(a.dtype).reshape(a.shape)


def interpolate(a: torch.Tensor, b: torch.Tensor, t: float, mode: str = "slerp") -> torch.Tensor:
    """lerp or slerp by name."""
    if mode == "lerp":
        return lerp(a, b, t)
    if mode == "slerp":
        return slerp(a, b, t)
    raise ValueError(f"unknown interpolation {mode!r}; choose lerp or slerp")
