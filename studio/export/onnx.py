"""ONNX export of a traceable module, and a check of the file with onnxruntime.

Uses torch's TorchScript-based exporter (`dynamo=False`): it needs only the `onnx` package, while
the torch.export-based one also needs onnxscript. Opset 17, a dynamic batch axis on every input
and output.
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

OPSET = 17
INSTALL_HINT = "pip install onnx onnxruntime (or pip install 'gan-studio[onnx]')"


class OnnxMissing(ImportError):
    """A package ONNX export needs is not installed; the message says how to install it."""


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def require_onnx() -> None:
    """Raise OnnxMissing unless the onnx package is importable."""
    if not _installed("onnx"):
        raise OnnxMissing(f"ONNX export needs the onnx package: {INSTALL_HINT}")


def onnxruntime_available() -> bool:
    """True when exported files can be checked (and run) with onnxruntime."""
    return _installed("onnxruntime")


def export_onnx(module: nn.Module, inputs: tuple[torch.Tensor, ...], input_names: list[str],
                output_name: str, path: Path, opset: int = OPSET) -> Path:
    """Trace `module` on `inputs` and write it to `path` as ONNX with a dynamic batch axis."""
    require_onnx()
    import onnx

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    module.eval()  # the exporter restores this mode afterwards, recursively: keep it eval
    axes = {name: {0: "batch"} for name in [*input_names, output_name]}
    with warnings.catch_warnings():
        # The legacy exporter's deprecation notice and tracer remarks are not the user's concern.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.simplefilter("ignore", UserWarning)
        torch.onnx.export(module, inputs, str(path), input_names=list(input_names), output_names=[output_name],
                          dynamic_axes=axes, opset_version=opset, dynamo=False)
    onnx.checker.check_model(str(path))
    return path


def run_onnx(path: Path, feeds: dict[str, np.ndarray]) -> np.ndarray:
    """The first output of the ONNX model at `path` on `feeds` (onnxruntime, CPU)."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)[0]


def onnx_error(path: Path, input_names: list[str], inputs: tuple[torch.Tensor, ...], expected: torch.Tensor) -> float:
    """Largest absolute difference between onnxruntime's output and `expected` on the same inputs."""
    got = run_onnx(path, {n: t.detach().cpu().numpy() for n, t in zip(input_names, inputs)})
    return float(np.abs(got - expected.detach().cpu().numpy()).max())
