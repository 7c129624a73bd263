"""Checkpoints: tensors and plain data only, written atomically, read with weights_only=True.

A checkpoint holds the method's name, resolved params and data spec, so the generator can be
rebuilt from the file alone (`load_method`) without the dataset.
"""

from __future__ import annotations

import io
import pickle
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..methods.base import DataSpec, Method
from ..methods.params import ConfigError
from ..methods.registry import get_method
from .rundir import RunDirectory, RunDirError, atomic_write_bytes

FORMAT = 1


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Serialise to memory first, then write atomically: a failure leaves the old file intact."""
    buf = io.BytesIO()
    torch.save({"format": FORMAT, **state}, buf)
    atomic_write_bytes(Path(path), buf.getvalue())


def load_checkpoint(path: Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint without running any code from it; RunDirError names the file if it can't."""
    path = Path(path)
    try:
        with warnings.catch_warnings():  # torch's notes on odd pickle protocols are not the user's concern
            warnings.simplefilter("ignore", UserWarning)
            state = torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise RunDirError(f"{path}: no such checkpoint") from None
    except pickle.UnpicklingError as exc:
        raise RunDirError(
            f"{path}: refused to load: the file holds objects other than tensors and plain data "
            f"(it could run code), or is corrupt ({_refusal_detail(exc)}); nothing in it was run") from None
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        raise RunDirError(f"{path}: not a readable checkpoint ({str(exc).splitlines()[0]})") from None
    if not isinstance(state, dict) or "method" not in state or "state" not in state:
        raise RunDirError(f"{path}: not a GAN Studio checkpoint")
    return state


def _refusal_detail(exc: Exception) -> str:
    """The line of torch's weights-only refusal that says what was refused (not its advice to disable
    the protection)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    for line in lines:
        if any(word in line for word in ("GLOBAL", "Unsupported", "unsupported")):
            return line[:200]
    return lines[-1][:200] if lines else type(exc).__name__


def resolve_checkpoint(path: str | Path, which: str = "last") -> Path:
    """A checkpoint file from a file path or a run directory (its checkpoints/<which>.pt)."""
    path = Path(path)
    if path.is_dir():
        run = RunDirectory(path)
        candidate = run.checkpoint(which)
        if not candidate.is_file() and which != "last":
            candidate = run.last_checkpoint
        if not candidate.is_file():
            raise RunDirError(f"{path}: no checkpoint yet (expected {candidate})")
        return candidate
    if not path.exists():
        raise RunDirError(f"{path}: no such run directory or checkpoint")
    return path


@dataclass
class LoadedRun:
    """A method rebuilt from a checkpoint, with what the run used to show its samples."""

    method: Method
    step: int
    config: dict
    fixed_z: torch.Tensor | None
    fixed_labels: torch.Tensor | None
    path: Path
    averaged: bool = False  # True when the generator holds the run's averaged weights (the `ema` setting)


def build_method(state: dict[str, Any], device: torch.device | str = "cpu") -> Method:
    """Construct the checkpoint's method (untrained) from its name, params and data spec."""
    cls = get_method(state["method"])
    params = cls.restore_params(state["params"])
    return cls(params, DataSpec.from_dict(state["spec"]), device)


def method_from_state(state: dict[str, Any], device: torch.device | str = "cpu", path: Path | None = None,
                      *, raw: bool = False) -> LoadedRun:
    """A ready-to-sample method from a checkpoint dict or a `Trainer.snapshot()`: with the run's averaged
    generator where it has one (the `ema` setting), or the raw trained generator with `raw`."""
    method = build_method(state, device)
    method.load_state_dict(_to(state["state"], device), optimizers=False)
    averaged = not raw and method.use_average()
    method.train(False)
    fixed = state.get("fixed", {})
    return LoadedRun(method, int(state["step"]), state.get("config", {}), fixed.get("z"), fixed.get("labels"),
                     path or Path("<snapshot>"), averaged)


def _to(obj: Any, device) -> Any:
    if isinstance(obj, torch.Tensor):
        return obj.to(device)
    if isinstance(obj, dict):
        return {k: _to(v, device) for k, v in obj.items()}
    return obj


def load_method(path: str | Path, device: torch.device | str = "cpu", which: str = "last", *,
                raw: bool = False) -> LoadedRun:
    """Rebuild the trained method from a run directory or checkpoint file, ready to sample: with its averaged
    generator where the run kept one, or the raw trained generator with `raw`."""
    ckpt_path = resolve_checkpoint(path, which)
    state = load_checkpoint(ckpt_path, map_location=device)
    try:
        return method_from_state(state, device, ckpt_path, raw=raw)
    except ConfigError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, RuntimeError) as exc:
        # Plain data, but not what a GAN Studio checkpoint holds (damaged, or made by hand).
        detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        raise RunDirError(f"{ckpt_path}: not a usable GAN Studio checkpoint ({type(exc).__name__}: {detail})") from None
