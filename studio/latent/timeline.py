"""Keyframes and timelines: which latent (and label state) every frame of a morph shows.

A keyframe is a seed (its own latent from the prior), an image (encoded by the model's encoder) or a
latent picked in the explorer; each carries its label state. A timeline walks from key to key in
equal segments, with lerp or slerp and an easing curve, optionally back to the first key.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..methods.base import DataSpec, Method
from .errors import KeyframeError
from .interpolate import MODES, get_easing, interpolate, lerp

KINDS = ("seed", "image", "latent")


@dataclass(frozen=True, eq=False)
class Keyframe:
    """One key of a morph: `kind` seed (int), image (path, or C×H×W tensor in [-1, 1]) or latent (tensor).

    `labels` is the condition vector (label_dim,) for conditional models (None: the default label);
    `scale` multiplies a seed's latent (the explorer's truncation slider).
    """

    kind: str
    value: Any
    labels: torch.Tensor | None = None
    scale: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise KeyframeError(f"keyframe kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.kind == "seed" and (isinstance(self.value, bool) or not isinstance(self.value, (int, np.integer))):
            raise KeyframeError(f"seed keyframe needs a whole number, got {self.value!r}")

    def describe(self, spec: DataSpec | None = None) -> str:
        """A short caption, e.g. 'seed 3 · circle' or 'image cat.png'."""
        if self.kind == "seed":
            text = f"seed {self.value}" + (f" ×{self.scale:g}" if self.scale != 1.0 else "")
        elif self.kind == "image":
            text = f"image {Path(self.value).name}" if isinstance(self.value, (str, Path)) else "image"
        else:
            text = "latent"
        if spec is not None and self.labels is not None and spec.label_dim:
            text += " · " + describe_labels(self.labels, spec)
        return text


def describe_labels(labels: torch.Tensor, spec: DataSpec) -> str:
    """The names of the active labels of a condition vector ('circle', 'round+large', 'none')."""
    names = list(spec.label_names) or [str(i) for i in range(spec.label_dim)]
    active = [names[i] for i, v in enumerate(labels.flatten().tolist()) if v > 0.5]
    return "+".join(active) if active else "none"


def default_labels(spec: DataSpec) -> torch.Tensor | None:
    """The label state of a fresh keyframe: the first class, or no attribute switched on."""
    if spec.label_dim == 0:
        return None
    vec = torch.zeros(spec.label_dim)
    if not spec.multi_label:
        vec[0] = 1.0
    return vec


def has_latent(method: Method) -> bool:
    """True when the model samples from a latent prior (translation-only models do not)."""
    if hasattr(method.params, "latent_dim"):
        return True
    try:  # a method with its own prior and no latent_dim param
        method.latent(1, generator=torch.Generator().manual_seed(0))
    except (ValueError, NotImplementedError, AttributeError, TypeError):
        return False
    return True


def seed_latent(method: Method, seed: int, scale: float = 1.0) -> torch.Tensor:
    """The latent of `seed` (1, ...): drawn on the CPU so a seed means the same sample on every device."""
    z = method.latent(1, generator=torch.Generator().manual_seed(int(seed)))
    return z.to(method.device) * scale


def image_tensor(value: Any, spec: DataSpec) -> torch.Tensor:
    """An image keyframe's pixels as C×H×W float in [-1, 1] at the model's size and channels."""
    if isinstance(value, (str, Path)):
        from ..data.decode.images import BadImage, decode, path_opener

        try:
            arr = decode(path_opener(Path(value)), channels=spec.channels, size=spec.image_size)
        except BadImage as exc:
            raise KeyframeError(f"{value}: cannot use this image ({exc}); give a PNG or JPEG file") from None
        return torch.from_numpy(np.ascontiguousarray(arr)).float().div(127.5).sub(1.0)
    x = torch.as_tensor(value)
    if x.dtype == torch.uint8:
        x = x.float().div(127.5).sub(1.0)
    if x.dim() == 4 and x.shape[0] == 1:
        x = x[0]
    expected = (spec.channels, spec.image_size, spec.image_size)
    if tuple(x.shape) != expected:
        raise KeyframeError(f"image keyframe has shape {tuple(x.shape)}, the model wants {expected}")
    return x.float()


def encode_image(method: Method, value: Any) -> torch.Tensor:
    """The model's latent for an image (1, ...); KeyframeError when the model has no encoder."""
    if not method.has_encoder:
        raise KeyframeError(f"{method.name} has no encoder, so it cannot turn an image into a keyframe; "
                            f"use seed keys, or a model with an encoder (vae, alpha-gan, ...)")
    x = image_tensor(value, method.spec).unsqueeze(0).to(method.device)
    with torch.no_grad():
        z = method.encode(x)
    if isinstance(z, (tuple, list)):  # (mu, logvar) style encoders: the mean is the code
        z = z[0]
    return z.detach()


@dataclass
class ResolvedKeys:
    """The keyframes as tensors: latents (K, ...) and condition vectors (K, label_dim) or None."""

    latents: torch.Tensor
    labels: torch.Tensor | None


@dataclass
class Timeline:
    """Keyframes walked in `frames_per_segment` steps each, with lerp/slerp and an easing curve.

    Without `loop` the first frame is the first key and the last frame the last key:
    (K-1)·frames_per_segment + 1 frames. With `loop` the walk goes on from the last key back to the
    first, and the last frame is the first key again: K·frames_per_segment + 1 frames.
    """

    keyframes: list[Keyframe] = field(default_factory=list)
    frames_per_segment: int = 24
    mode: str = "slerp"
    easing: str = "linear"
    loop: bool = False

    def validate(self) -> None:
        """Raise KeyframeError naming the first bad setting."""
        if not self.keyframes:
            raise KeyframeError("the timeline has no keyframes; add at least one (two to morph)")
        if self.frames_per_segment < 1:
            raise KeyframeError(f"frames per segment is {self.frames_per_segment}; it must be at least 1")
        if self.mode not in MODES:
            raise KeyframeError(f"interpolation {self.mode!r} is not one of {', '.join(MODES)}")
        try:
            get_easing(self.easing)
        except ValueError as exc:
            raise KeyframeError(str(exc)) from None

    @property
    def segments(self) -> int:
        k = len(self.keyframes)
        return 0 if k < 2 else (k if self.loop else k - 1)

    @property
    def frame_count(self) -> int:
        """How many frames the timeline renders (0 with no keyframes)."""
        return 0 if not self.keyframes else self.segments * self.frames_per_segment + 1

    def position(self, frame: int) -> tuple[int, int, float]:
        """(key a, key b, eased t) of a frame index: the frame lies between keys a and b."""
        n = self.frame_count
        if not 0 <= frame < n:
            raise IndexError(f"frame {frame} outside 0..{n - 1}")
        if self.segments == 0:
            return 0, 0, 0.0
        seg, step = divmod(frame, self.frames_per_segment)
        if seg == self.segments:  # the closing frame: the end of the last segment
            seg, step = seg - 1, self.frames_per_segment
        t = get_easing(self.easing)(step / self.frames_per_segment)
        return seg, (seg + 1) % len(self.keyframes), t

    def with_seed_offset(self, offset: int) -> Timeline:
        """The same timeline with every seed key moved by `offset` (a variation for grid exports)."""
        keys = [replace(k, value=int(k.value) + offset) if k.kind == "seed" else k for k in self.keyframes]
        return replace(self, keyframes=keys)

    def resolve(self, method: Method, cache: dict | None = None) -> ResolvedKeys:
        """Each keyframe's latent and label vector on the method's device (image keys are encoded).

        `cache` (a dict the caller keeps per loaded model) saves re-encoding image keys.
        """
        self.validate()
        if not has_latent(method):
            raise KeyframeError(f"{method.name} has no latent space (it translates an input image), "
                                f"so there is nothing to morph; use a model that samples from noise")
        shape = method.latent(1, generator=torch.Generator().manual_seed(0)).shape[1:]
        latents = [self._latent(method, key, shape, cache) for key in self.keyframes]
        labels = None
        if method.conditional:
            fallback = default_labels(method.spec)
            rows = []
            for i, key in enumerate(self.keyframes):
                vec = fallback if key.labels is None else torch.as_tensor(key.labels, dtype=torch.float32).flatten()
                if vec.numel() != method.spec.label_dim:
                    raise KeyframeError(f"keyframe {i + 1} has {vec.numel()} labels, the model has "
                                        f"{method.spec.label_dim} ({', '.join(method.spec.label_names)})")
                rows.append(vec)
            labels = torch.stack(rows).to(method.device)
        return ResolvedKeys(torch.cat(latents).to(method.device), labels)

    def _latent(self, method: Method, key: Keyframe, shape: torch.Size, cache: dict | None) -> torch.Tensor:
        if key.kind == "seed":
            return seed_latent(method, int(key.value), key.scale)
        if key.kind == "image":
            ident = ("image", str(key.value)) if isinstance(key.value, (str, Path)) else ("image", id(key.value))
            if cache is not None and ident in cache:
                return cache[ident]
            z = encode_image(method, key.value)
            if cache is not None:
                cache[ident] = z
            return z
        z = torch.as_tensor(key.value).detach().float().to(method.device)
        if z.numel() != shape.numel():
            raise KeyframeError(f"latent keyframe has {z.numel()} values, the model's latent has {shape.numel()}")
        return z.reshape(1, *shape)

    def frames(self, keys: ResolvedKeys, start: int = 0, stop: int | None = None
               ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Latents (n, ...) and labels (n, label_dim) or None for frames start..stop-1."""
        stop = self.frame_count if stop is None else min(stop, self.frame_count)
        zs, ys = [], []
        for f in range(start, stop):
            a, b, t = self.position(f)
            zs.append(interpolate(keys.latents[a:a + 1], keys.latents[b:b + 1], t, self.mode))
            if keys.labels is not None:
                ys.append(lerp(keys.labels[a:a + 1], keys.labels[b:b + 1], t))
        if not zs:
            empty = keys.latents[:0]
            return empty, (None if keys.labels is None else keys.labels[:0])
        return torch.cat(zs), (torch.cat(ys) if ys else None)
