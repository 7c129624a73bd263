"""What every part of `studio bench` shares: the image size and batch, the log callback, device sync."""

from __future__ import annotations

from collections.abc import Callable

BATCH = 64  # the training figures' batch size
SIZE = 32  # the training and FID images' size, in pixels
Log = Callable[[str], None]


def sync(device) -> None:
    """Wait for the device's queued work, so a timer stops when the work is done, not when it is queued."""
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)
