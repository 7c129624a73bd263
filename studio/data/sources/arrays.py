"""Numpy arrays as images: .npy/.npz files (Quick, Draw! bitmaps included) and shared conversions.

Accepted layouts: N×D with D a square (N×784 is Quick, Draw!'s 28×28), N×H×W, N×H×W×C and
N×C×H×W with C in 1, 3, 4; dtypes uint8, bool, small integers, or float in [0,1], [-1,1] or [0,255].
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..dataset import Dataset, DatasetKind
from ..errors import DatasetError
from ..options import LoadOptions

IMAGE_KEYS = ("x", "images", "image", "data", "x_train", "train_images", "imgs", "arr_0")
LABEL_KEYS = ("y", "labels", "label", "targets", "y_train", "train_labels")
_CHUNK = 4096  # images converted at a time, so a float64 copy of a big array is never made at once


def to_nchw(arr: np.ndarray, source: str) -> np.ndarray:
    """View an image array as N×C×H×W (no copy where possible); raise DatasetError on other shapes."""
    shape = arr.shape
    if arr.ndim == 2:
        side = math.isqrt(shape[1]) if shape[1] > 0 else 0
        if side * side != shape[1] or side == 0:
            raise DatasetError(
                f"{source}: a 2-D array must be N×D with D a square number of pixels (N×784 for 28×28 "
                f"Quick, Draw! bitmaps); this one is {_dims(shape)}"
            )
        return arr.reshape(shape[0], 1, side, side)
    if arr.ndim == 3:
        return arr[:, None]
    if arr.ndim == 4:
        first, last = shape[1] in (1, 3, 4), shape[3] in (1, 3, 4)
        if first and (not last or shape[2] == shape[3]):
            return arr
        if last:
            return arr.transpose(0, 3, 1, 2)
    raise DatasetError(
        f"{source}: cannot read an array of shape {_dims(shape)} as images; expected N×784, N×H×W, "
        "N×H×W×C or N×C×H×W with 1, 3 or 4 channels"
    )


def _dims(shape) -> str:
    return "×".join(str(s) for s in shape) or "a scalar"


def to_uint8(chunk: np.ndarray, source: str) -> np.ndarray:
    """Map a chunk of pixel values to uint8, refusing NaN, odd dtypes and out-of-range values."""
    kind = chunk.dtype.kind
    if chunk.dtype == np.uint8:
        return chunk
    if kind == "b":
        return chunk.astype(np.uint8) * 255
    if kind in "iu":
        lo, hi = (int(chunk.min()), int(chunk.max())) if chunk.size else (0, 0)
        if lo < 0 or hi > 255:
            raise DatasetError(
                f"{source}: integer pixels must lie in 0..255, found {lo}..{hi} ({chunk.dtype}); "
                "convert the array to uint8 first"
            )
        return chunk.astype(np.uint8)
    if kind == "f":
        if chunk.size and not np.isfinite(chunk).all():
            raise DatasetError(f"{source}: the array holds NaN or infinite values; clean or re-export it")
        lo, hi = (float(chunk.min()), float(chunk.max())) if chunk.size else (0.0, 0.0)
        eps = 1e-3
        if lo >= -eps and hi <= 1 + eps:
            scaled = chunk * 255.0
        elif lo >= -1 - eps and hi <= 1 + eps:
            scaled = (chunk + 1.0) * 127.5
        elif lo >= -eps and hi <= 255 + eps:
            scaled = chunk
        else:
            raise DatasetError(f"{source}: float pixels must lie in [0,1], [-1,1] or [0,255]; found {lo:.3g}..{hi:.3g}")
        return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    raise DatasetError(
        f"{source}: pixels of type {chunk.dtype} cannot be images; use uint8 (0..255) or float (0..1 or -1..1)"
    )


def fit_images(images: torch.Tensor, size: int | None, channels: int | None) -> torch.Tensor:
    """Square centre crop, resize to `size` and convert to `channels`, uint8 in and out."""
    n, c, h, w = images.shape
    if c == 4:
        images = images[:, :3]  # arrays carry no compositing convention: the alpha plane is dropped
        c = 3
    side = min(h, w)
    target = size or side
    out_c = channels or c
    if (h, w) == (target, target) and out_c == c:
        return images.contiguous()
    out = torch.empty((n, out_c, target, target), dtype=torch.uint8)
    top, left = (h - side) // 2, (w - side) // 2
    for start in range(0, n, _CHUNK):
        x = images[start : start + _CHUNK, :, top : top + side, left : left + side]
        if side != target:
            # antialias=True averages when shrinking, as Pillow does, instead of aliasing.
            x = F.interpolate(x.float(), size=(target, target), mode="bilinear", antialias=True, align_corners=False)
        x = x.float()
        if out_c == 1 and c == 3:
            x = (x * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
        elif out_c == 3 and c == 1:
            x = x.expand(-1, 3, -1, -1)
        out[start : start + _CHUNK] = x.round().clamp(0, 255).to(torch.uint8)
    return out


def array_images(arr: np.ndarray, source: str, opts: LoadOptions) -> torch.Tensor:
    """An image array of any accepted layout and dtype as uint8 N×C×H×W, honouring count/size/channels."""
    if arr.dtype.hasobject or arr.dtype.names is not None:
        raise DatasetError(f"{source}: the array holds Python objects or records, not pixel values")
    if arr.ndim == 0 or arr.shape[0] == 0:
        raise DatasetError(f"{source}: the array is empty (shape {_dims(arr.shape)})")
    nchw = to_nchw(arr, source)
    if opts.count is not None:
        nchw = nchw[: opts.count]  # slicing a memory map reads only these rows from disk
    out = np.empty(nchw.shape, dtype=np.uint8)
    for start in range(0, nchw.shape[0], _CHUNK):
        out[start : start + _CHUNK] = to_uint8(np.asarray(nchw[start : start + _CHUNK]), source)
    return fit_images(torch.from_numpy(out), opts.size, opts.channels)


def array_labels(labels: np.ndarray | None, n: int, source: str) -> torch.Tensor | None:
    """Integer class labels for n images, or None when they do not match (the caller notes it)."""
    if labels is None or labels.ndim != 1 or labels.dtype.kind not in "iu" or labels.shape[0] < n:
        return None
    out = torch.from_numpy(np.asarray(labels[:n], dtype=np.int64).copy())
    return out if n == 0 or int(out.min()) >= 0 else None


def _load(path: Path, source: str):
    try:
        # allow_pickle=False: an object array in a .npy could run code when unpickled.
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise DatasetError(
                f"{source}: the array holds Python objects (pickled), which are not loaded for safety; "
                "save plain numeric arrays with np.save"
            ) from None
        raise DatasetError(f"{source}: not a valid .npy/.npz file ({exc})") from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise DatasetError(
            f"{source}: cannot read the array file ({exc}); it may be truncated, re-download it"
        ) from None


def open_array(path: Path, opts: LoadOptions, *, source: str | None = None) -> Dataset:
    """Load a .npy or .npz file of images (with labels when the .npz has them)."""
    source = source or str(path)
    loaded = _load(path, source)
    labels_arr = None
    notes: list[str] = []
    if isinstance(loaded, np.lib.npyio.NpzFile):
        with loaded:
            images_arr, labels_arr, key = _pick_npz(loaded, source)
        notes.append(f"images from array '{key}'")
    else:
        images_arr = loaded
    try:
        data = array_images(images_arr, source, opts)
    except (ValueError, OSError) as exc:  # a memory map over a truncated file fails on first read
        raise DatasetError(f"{source}: cannot read the array data ({exc}); the file may be truncated") from None
    labels = array_labels(labels_arr, data.shape[0], source)
    if labels_arr is not None and labels is None:
        notes.append("the label array does not match the images (shape or type) and was ignored")
    names = [str(i) for i in range(int(labels.max()) + 1)] if labels is not None and len(labels) else []
    return Dataset(
        source=source,
        kind=DatasetKind.IMAGES,
        data=data,
        labels=labels if names else None,
        label_names=names,
        notes=notes,
    )


def _pick_npz(npz, source: str):
    keys = list(npz.files)
    try:
        key = next((k for k in IMAGE_KEYS if k in keys), None)
        if key is None:
            candidates = [k for k in keys if npz[k].ndim >= 2]
            if len(candidates) != 1:
                raise DatasetError(
                    f"{source}: cannot tell which array holds the images (arrays: {', '.join(keys) or 'none'}); "
                    f"name it one of {', '.join(IMAGE_KEYS[:4])}"
                )
            key = candidates[0]
        label_key = next((k for k in LABEL_KEYS if k in keys), None)
        return npz[key], (npz[label_key] if label_key else None), key
    except ValueError as exc:
        raise DatasetError(f"{source}: cannot load the arrays ({exc}); object arrays are refused for safety") from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise DatasetError(f"{source}: the .npz archive is damaged ({exc})") from None
