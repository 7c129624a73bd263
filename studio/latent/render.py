"""The renderer: plain arguments in, uint8 images plus timing and an error string out.

`render` never raises: whatever goes wrong (a bad latent, out of memory, a model that cannot
sample) comes back as `RenderResult.error`, so a UI thread can show it and carry on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ..grids import to_uint8
from ..methods.base import Method


@dataclass
class RenderResult:
    """N×H×W×C uint8 images (None on error), the seconds it took, and what went wrong ('' if nothing)."""

    images: np.ndarray | None
    seconds: float
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


class RenderError(Exception):
    """The model cannot render what was asked; the message says why and what to do."""


def _expand(t: torch.Tensor | None, n: int, device: torch.device) -> torch.Tensor | None:
    if t is None:
        return None
    t = torch.as_tensor(t).to(device)
    if t.dim() == 1:  # one label vector for every image
        t = t.unsqueeze(0)
    if t.shape[0] == 1 and n > 1:
        t = t.expand(n, *t.shape[1:])
    return t


@torch.no_grad()
def generate(method: Method, z: torch.Tensor | None, labels: torch.Tensor | None = None,
             reference: torch.Tensor | None = None, batch_size: int = 64) -> torch.Tensor:
    """Images for latents (and labels, reference) as N×C×H×W uint8 on the CPU, in batches; raises."""
    if not method.spec.is_images:
        raise RenderError(f"{method.name} on this run generates 2-D points, not images; "
                          f"see its scatter on the Monitor tab")
    if z is None and reference is None:
        raise RenderError("nothing to render: give latents, or a reference image for translation models")
    if method.needs_reference and reference is None:
        raise RenderError(f"{method.name} generates from a reference (input) image; drop or open one first")
    if reference is not None and torch.as_tensor(reference).dim() == 3:  # one C×H×W image for all
        reference = torch.as_tensor(reference).unsqueeze(0)
    n = z.shape[0] if z is not None else reference.shape[0]
    device = method.device
    labels = _expand(labels, n, device) if method.conditional else None
    reference = _expand(reference, n, device)
    out = []
    for start in range(0, n, batch_size):
        sl = slice(start, start + batch_size)
        zb = None if z is None else z[sl].to(device)
        images = method.sample(zb, None if labels is None else labels[sl],
                               None if reference is None else reference[sl])
        out.append(to_uint8(images).cpu())
    return torch.cat(out) if out else torch.zeros(0, method.spec.channels, method.spec.image_size,
                                                  method.spec.image_size, dtype=torch.uint8)


def error_text(exc: BaseException) -> str:
    """One readable line for an exception (out-of-memory gets advice)."""
    first = (str(exc).strip().splitlines() or [""])[0]
    if isinstance(exc, torch.OutOfMemoryError) or "out of memory" in first.lower():
        return f"out of memory while generating ({first[:160]}); render fewer images or use the CPU"
    if isinstance(exc, (RenderError, ValueError)) and first:
        return first
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def render_call(fn: Callable[[], torch.Tensor]) -> RenderResult:
    """Run `fn` (returning N×C×H×W images) and package pixels, timing and any error; never raises."""
    start = time.perf_counter()
    try:
        images = to_uint8(fn()).cpu()
        arr = np.ascontiguousarray(images.permute(0, 2, 3, 1).numpy())
        return RenderResult(arr, time.perf_counter() - start)
    except Exception as exc:  # noqa: BLE001 - the renderer's contract: errors are values
        return RenderResult(None, time.perf_counter() - start, error_text(exc))


def render(method: Method, z: torch.Tensor | None, labels: torch.Tensor | None = None,
           reference: torch.Tensor | None = None, batch_size: int = 64) -> RenderResult:
    """`generate` as a never-raising renderer: N×H×W×C uint8, seconds, error string."""
    return render_call(lambda: generate(method, z, labels, reference, batch_size))
