"""TorchScript export: `torch.jit.trace` of a small wrapper module, loadable without the studio."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import torch
from torch import nn

from ..fileio import atomic_write_bytes


def export_torchscript(module: nn.Module, inputs: tuple[torch.Tensor, ...], path: Path) -> Path:
    """Trace `module` on `inputs` and save it to `path` (load with `torch.jit.load`)."""
    module.eval()
    with warnings.catch_warnings():
        # TorchScript is in maintenance upstream (FutureWarning); it still loads in C++ and Python.
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.simplefilter("ignore", FutureWarning)
        traced = torch.jit.trace(module, inputs, check_trace=False)
        traced = torch.jit.freeze(traced)  # keeps only the weights sampling uses, as constants
        buf = io.BytesIO()
        torch.jit.save(traced, buf)
    atomic_write_bytes(Path(path), buf.getvalue())
    return Path(path)


def torchscript_error(path: Path, inputs: tuple[torch.Tensor, ...], expected: torch.Tensor) -> float:
    """Largest absolute difference between the saved TorchScript model's output and `expected`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        loaded = torch.jit.load(str(path), map_location="cpu")
    with torch.no_grad():
        got = loaded(*inputs)
    return float((got - expected).abs().max())
