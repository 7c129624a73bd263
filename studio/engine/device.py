"""Choosing the training device."""

from __future__ import annotations

import torch


def pick_device(name: str = "auto") -> torch.device:
    """CUDA, then MPS, then CPU for 'auto'; otherwise the named device, checked to exist."""
    if name in ("auto", "", None):
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device '{name}' was asked for but no CUDA GPU is available; use --device cpu")
    return dev


def describe_device(dev: torch.device) -> str:
    """A short human name such as 'CUDA: NVIDIA H100' or 'CPU'."""
    if dev.type == "cuda":
        return f"CUDA: {torch.cuda.get_device_name(dev)}"
    return dev.type.upper()
