"""The JSON sidecar beside an exported model: everything a consumer needs to feed it and read it.

    G.onnx, G.encoder.onnx (methods with an encoder) and G.json:
    {"format": "onnx", "method": "dcgan", "step": 1000,
     "generator": {"file": "G.onnx", "inputs": [{"name": "z", "shape": ["batch", 100], ...}],
                   "output": {"name": "images", "shape": ["batch", 3, 32, 32], "layout": "NCHW", "range": [-1, 1]}},
     "latent": {"size": 100, "distribution": "normal", "mean": 0.0, "std": 1.0},
     "labels": {"size": 4, "names": ["circle", ...], "multi_hot": false} or null,
     "image": {"channels": 3, "size": 32, "layout": "NCHW", "range": [-1, 1]},
     "encoder": {"file": "G.encoder.onnx", "inputs": [...], "output": {...}} or null}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from ..fileio import atomic_write_bytes
from ..methods.base import Method
from .modules import IMAGE, LABELS, LATENT, has_latent, latent_distribution

SIDECAR_VERSION = 1
IMAGE_RANGE = [-1.0, 1.0]


def image_info(method: Method) -> dict[str, Any] | None:
    """Channels, size, layout and value range of the model's images (None for 2-D point models)."""
    s = method.spec
    if not s.is_images:
        return None
    return {"channels": s.channels, "size": s.image_size, "layout": "NCHW", "range": IMAGE_RANGE,
            "to_uint8": "round((x + 1) * 127.5), clipped to 0..255"}


def labels_info(method: Method) -> dict[str, Any] | None:
    """Size, names and encoding of the condition vector (None for unconditional models)."""
    if not method.conditional:
        return None
    s = method.spec
    return {"size": s.label_dim, "names": list(s.label_names), "multi_hot": s.multi_label,
            "encoding": "multi-hot float vector (1 = attribute on)" if s.multi_label
            else "one-hot float vector (1 at the class index)"}


def input_info(method: Method, name: str) -> dict[str, Any]:
    """One generator input: name, shape with a dynamic batch axis, dtype and meaning."""
    s = method.spec
    if name == LATENT:
        dist = latent_distribution(method)
        return {"name": name, "shape": ["batch", method.params.latent_dim], "dtype": "float32",
                **{k: v for k, v in dist.items() if k != "description"},
                "description": f"latent vectors, {dist['description']}"}
    if name == LABELS:
        info = labels_info(method) or {}
        return {"name": name, "shape": ["batch", s.label_dim], "dtype": "float32",
                "description": info.get("encoding", "")}
    if name == IMAGE:
        return {"name": name, "shape": ["batch", s.channels, s.image_size, s.image_size], "dtype": "float32",
                "layout": "NCHW", "range": IMAGE_RANGE, "description": "input images to translate or encode"}
    raise ValueError(f"unknown input {name!r}")


def output_info(name: str, example: torch.Tensor, method: Method) -> dict[str, Any]:
    """The model's output: name, shape with a dynamic batch axis, and for images layout and range."""
    info: dict[str, Any] = {"name": name, "shape": ["batch", *example.shape[1:]], "dtype": "float32"}
    if name == "images":
        info.update(layout="NCHW", range=IMAGE_RANGE)
    return info


def describe(method: Method, *, fmt: str, step: int, source: str, generator: dict[str, Any],
             encoder: dict[str, Any] | None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The sidecar document for an export of `method` (generator and encoder entries already filled)."""
    latent = None
    if has_latent(method):
        dist = latent_distribution(method)
        latent = {"size": method.params.latent_dim, **dist}
    doc = {
        "sidecar_version": SIDECAR_VERSION,
        "format": fmt,
        "method": method.name,
        "title": method.title,
        "step": step,
        "source": source,
        "torch_version": torch.__version__,
        "generator": generator,
        "latent": latent,
        "labels": labels_info(method),
        "image": image_info(method),
        "encoder": encoder,
    }
    if extra:
        doc.update(extra)
    return doc


def write_sidecar(path: Path, doc: dict[str, Any]) -> None:
    """Write the sidecar as indented JSON, atomically."""
    atomic_write_bytes(Path(path), (json.dumps(doc, indent=2) + "\n").encode("utf-8"))


def read_sidecar(path: Path) -> dict[str, Any]:
    """Read a sidecar written by `write_sidecar`."""
    return json.loads(Path(path).read_text(encoding="utf-8"))
