"""Hand a trained model off: its generator (and encoder) as ONNX or TorchScript, with a JSON sidecar.

    result = export_run("runs/dcgan-1", "G.onnx", "onnx")
    # G.onnx, G.json (and G.encoder.onnx for methods with an encoder)

The exported models take float32 NCHW tensors with a dynamic batch axis and return images in
[-1, 1]; the sidecar says how to draw the latent, which labels exist and how they are encoded.
Each file is checked against PyTorch on fresh inputs of another batch size (onnxruntime for ONNX,
where it is installed): `ExportResult.max_error` is the largest difference seen.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..engine.checkpoint import load_method
from ..engine.rundir import RunDirError
from ..errors import ExportError
from ..fileio import write_error_message
from ..methods.base import Method
from .modules import IMAGE, EncodeModule, SampleModule, example_images, example_inputs, generator_inputs, random_ops
from .onnx import OnnxMissing, export_onnx, onnx_error, onnxruntime_available, require_onnx
from .sidecar import describe, input_info, output_info, write_sidecar
from .torchscript import export_torchscript, torchscript_error

FORMATS = {"onnx": ".onnx", "torchscript": ".pt"}
TRACE_BATCH, CHECK_BATCH = 2, 3  # checking on another batch size proves the batch axis is dynamic
TOLERANCE = 1e-4


@dataclass
class ExportResult:
    """What an export wrote and how closely the exported models match PyTorch."""

    files: list[Path]
    sidecar: Path
    max_error: float | None  # None where nothing could check the files (onnxruntime missing)
    checked_with: str = ""
    notes: list[str] = field(default_factory=list)


def format_for(out: Path, fmt: str | None) -> str:
    """The export format: `fmt` if given, else from the file suffix (.onnx, .pt/.ts/.torchscript)."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise ExportError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")
        return fmt
    suffix = Path(out).suffix.lower()
    if suffix == ".onnx":
        return "onnx"
    if suffix in (".pt", ".ts", ".torchscript"):
        return "torchscript"
    raise ExportError(f"{out}: cannot tell the format from the suffix {suffix or '(none)'}; "
                      f"give --format {' or --format '.join(FORMATS)}")


def encoder_path(out: Path) -> Path:
    """G.onnx -> G.encoder.onnx (beside the generator)."""
    out = Path(out)
    return out.with_name(f"{out.stem}.encoder{out.suffix}")


def _extra(fmt: str, opset: int, method, averaged: bool) -> dict | None:
    """The sidecar's notes: the ONNX opset, and which weights a run with an averaged generator gave."""
    extra = {"opset": opset} if fmt == "onnx" else {}
    if method.average is not None:
        extra["weights"] = "averaged (exponential moving average)" if averaged else "raw (the last trained weights)"
    return extra or None


def export_run(run: str | Path, out: str | Path, fmt: str | None = None, *, which: str = "last",
               opset: int = 17, check: bool = True, raw: bool = False) -> ExportResult:
    """Export the generator (and encoder) of the run or checkpoint `run` to `out`, with `out`.json: its
    averaged generator where the run kept one (the `ema` setting), or the raw trained weights with `raw`."""
    out = Path(out)
    fmt = format_for(out, fmt)
    if fmt == "onnx":
        try:
            require_onnx()
        except OnnxMissing as exc:
            raise ExportError(str(exc)) from None
    try:
        loaded = load_method(run, "cpu", which=which, raw=raw)
    except RunDirError as exc:
        raise ExportError(f"{exc}; train it first (studio train --run-dir {run}) or pick a run that has "
                          "checkpoints/last.pt") from None
    method = loaded.method
    method.train(False)
    job = _Job(fmt, opset, f"{method.name} ({run})", check)
    sidecar = out.with_suffix(".json")
    # Every file is first written under a temp name beside its target and only renamed once all of
    # them are written and checked: a failure (a full disk included) leaves the previous export whole.
    try:
        generator = _export_generator(job, method, out)
        encoder = _export_encoder(job, method, encoder_path(out)) if method.has_encoder else None
        doc = describe(method, fmt=fmt, step=loaded.step, source=str(loaded.path), generator=generator,
                       encoder=encoder, extra=_extra(fmt, opset, method, loaded.averaged))
        staged_sidecar = _staging_path(sidecar)
        job.staged.append((staged_sidecar, sidecar))
        try:
            write_sidecar(staged_sidecar, doc)
        except OSError as exc:
            raise ExportError(_write_failure(sidecar, exc)) from None
        for staged, _ in job.staged:
            staged.chmod(0o644)  # hand-off files: readable by others (temp files start private)
        for staged, final in job.staged:
            try:
                os.replace(staged, final)
            except OSError as exc:
                raise ExportError(_write_failure(final, exc)) from None
    finally:
        for staged, _ in job.staged:  # whatever was not renamed into place
            staged.unlink(missing_ok=True)
    checked = [e for e in job.errors if e is not None]
    result = ExportResult(job.files, sidecar, max(checked) if checked else None,
                          ("onnxruntime" if fmt == "onnx" else "torch.jit.load") if checked else "")
    if check and not checked:
        result.notes.append("not checked against PyTorch: onnxruntime is not installed (pip install onnxruntime)")
    return result


@dataclass
class _Job:
    """One export in progress: its settings, the files written so far and the differences measured."""

    fmt: str
    opset: int
    label: str  # "dcgan (runs/x)", for messages
    check: bool
    files: list[Path] = field(default_factory=list)
    errors: list[float | None] = field(default_factory=list)
    staged: list[tuple[Path, Path]] = field(default_factory=list)  # (temp file written, final name)


def _staging_path(final: Path) -> Path:
    """A new, empty temp file beside `final` (same folder, so the last rename is atomic)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.stem}.", suffix=f".partial{final.suffix}", dir=final.parent)
    os.close(fd)
    return Path(tmp)


def _write_failure(path: Path, exc: OSError) -> str:
    previous = "; the previous file is unchanged" if path.exists() else ""
    return f"{write_error_message(path, exc)}, or choose another --out{previous}"


def _export_generator(job: _Job, method: Method, out: Path) -> dict[str, Any]:
    """Write the sampler to `out`; return its sidecar entry."""
    names = generator_inputs(method)
    output_name = "images" if method.spec.is_images else "points"
    sampler = SampleModule(method, names)
    with torch.no_grad():
        example = _save(job, sampler, example_inputs(method, names, TRACE_BATCH), names, output_name, out,
                        example_inputs(method, names, CHECK_BATCH, seed=1))
    return {"file": out.name, "inputs": [input_info(method, n) for n in names],
            "output": output_info(output_name, example, method)}


def _export_encoder(job: _Job, method: Method, path: Path) -> dict[str, Any]:
    """Write the encoder to `path`; return its sidecar entry."""
    encode = EncodeModule(method)
    with torch.no_grad():
        codes = _save(job, encode, (example_images(method, TRACE_BATCH, torch.Generator().manual_seed(0)),),
                      ["images"], "z", path, (example_images(method, CHECK_BATCH, torch.Generator().manual_seed(1)),))
    return {"file": path.name,
            "inputs": [{**input_info(method, IMAGE), "name": "images", "description": "images to encode"}],
            "output": {"name": "z", "shape": ["batch", *codes.shape[1:]], "dtype": "float32",
                       "description": "deterministic latent codes (a VAE's mean): feed them to the generator's z"}}


def _save(job: _Job, module: torch.nn.Module, inputs: tuple, in_names: list[str], out_name: str, path: Path,
          probe: tuple) -> torch.Tensor:
    """Export `module` traced on `inputs` to `path`, check it on `probe`; return its output on `inputs`."""
    module.eval()
    drawn = random_ops(module, inputs)
    if drawn:
        raise ExportError(f"{job.label} cannot be exported: its sampling draws random numbers inside the model "
                          f"({', '.join(drawn)}), which an exported file would not reproduce; "
                          "sample it with `studio sample` instead")
    try:
        staged = _staging_path(path)
    except OSError as exc:
        raise ExportError(_write_failure(path, exc)) from None
    job.staged.append((staged, path))
    try:
        if job.fmt == "onnx":
            export_onnx(module, inputs, in_names, out_name, staged, job.opset)
        else:
            export_torchscript(module, inputs, staged)
    except OSError as exc:
        raise ExportError(_write_failure(path, exc)) from None
    except Exception as exc:  # tracing or conversion refused this method's sampling code
        first = next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        raise ExportError(f"{job.label} cannot be exported to {job.fmt}: {first[:200]}; "
                          "sample it with `studio sample` instead") from None
    job.files.append(path)
    if job.check:
        job.errors.append(_difference(job.fmt, staged, module, in_names, probe))
    return module(*inputs)


def _difference(fmt: str, path: Path, module: torch.nn.Module, names: list[str], inputs: tuple) -> float | None:
    """Largest difference between the exported file and PyTorch on `inputs` (None if it can't run)."""
    expected = module(*inputs)
    if fmt == "onnx":
        if not onnxruntime_available():
            return None
        return onnx_error(path, names, inputs, expected)
    return torchscript_error(path, inputs, expected)


__all__ = ["FORMATS", "ExportError", "ExportResult", "encoder_path", "export_run", "format_for"]
