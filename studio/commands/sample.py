"""`studio sample`: a grid PNG of samples from a run directory or checkpoint, or (with --out X.npy)
the raw samples as an array: float32 N×D points, or uint8 N×C×H×W images."""

from __future__ import annotations

import argparse
from pathlib import Path

from . import UserError


def add_command(sub) -> None:
    p = sub.add_parser("sample", help="write a grid of samples from a run or checkpoint as PNG")
    p.add_argument("run", help="run directory or checkpoint file")
    p.add_argument("--out", default="samples.png",
                   help="PNG file to write (default samples.png); a .npy name writes the raw samples as an array "
                        "(float32 N×D points, or uint8 N×C×H×W images)")
    p.add_argument("--n", type=int, default=None, help="number of samples (default 64 images, or 2,500 points)")
    p.add_argument("--seed", type=int, default=0, help="latent seed (default 0)")
    p.add_argument("--label", default=None, help="class name or index for conditional models (default: cycle through classes)")
    p.add_argument("--reference", default=None, help="dataset source of reference/input images (U-Net VAE-GAN, pix2pix, CycleGAN); default: the run's dataset")
    p.add_argument("--checkpoint", default="last", choices=("last", "best"), help="which checkpoint of a run directory")
    p.add_argument("--raw", action="store_true",
                   help="use the generator's own last weights, not their moving average (runs trained with ema)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, ...")
    p.set_defaults(handler=run)


def label_vectors(spec, label: str | None, n: int):
    """Condition vectors for `n` samples: one named/indexed class, or cycling through classes."""
    import torch

    from ..methods.base import condition_vectors

    if spec.label_dim == 0:
        if label is not None:
            raise UserError("--label: this model is not conditional")
        return None
    if label is None:
        if spec.multi_label:
            return torch.zeros(n, spec.label_dim)
        return condition_vectors(torch.arange(n) % spec.label_dim, spec)
    names = list(spec.label_names)
    chosen = [part.strip() for part in label.split("+")]
    vec = torch.zeros(spec.label_dim)
    for part in chosen:
        if part in names:
            vec[names.index(part)] = 1.0
        elif part.isdigit() and int(part) < spec.label_dim:
            vec[int(part)] = 1.0
        else:
            raise UserError(f"--label {part!r}: not one of this model's labels ({', '.join(names)})")
    return vec.expand(n, -1).clone()


def run(args: argparse.Namespace) -> int:
    import torch

    from ..engine import load_method, pick_device
    from ..engine.rundir import png_bytes
    from ..fileio import atomic_write_bytes
    from ..grids import image_grid, to_uint8
    from ..latent.references import reference_images, run_direction

    if args.n is not None and args.n < 1:
        raise UserError("--n must be at least 1")
    loaded = load_method(args.run, pick_device(args.device), which=args.checkpoint, raw=args.raw)
    method = loaded.method
    if not method.spec.is_images:
        return write_scatter(args, loaded)
    args.n = args.n or 64
    gen = torch.Generator().manual_seed(args.seed)
    z = method.latent(args.n, generator=gen).to(method.device) if hasattr(method.params, "latent_dim") else None
    labels = label_vectors(method.spec, args.label, args.n)
    reference = None
    if method.needs_reference:
        reference = reference_images(args.reference or loaded.config.get("dataset"), method, args.n, args.seed,
                                     run_direction(loaded.config))
    if _wants_array(args.out):
        out = method.sample(z, None if labels is None else labels.to(method.device), reference)
        return _write_array(args.out, to_uint8(out), loaded)
    out = method.preview(z, None if labels is None else labels.to(method.device), reference)
    atomic_write_bytes(Path(args.out), png_bytes(image_grid(out)))
    # Fewer than --n when a translator's references run out: say how many were drawn.
    print(f"wrote {args.out} ({len(out)} samples from {loaded.path}, step {loaded.step})")
    return 0


def write_scatter(args: argparse.Namespace, loaded) -> int:
    """A run on 2-D points: its samples as a scatter PNG over the real modes (when the dataset has them)."""
    import torch

    from ..data import DatasetError, open_dataset
    from ..engine.rundir import png_bytes
    from ..fileio import atomic_write_bytes
    from ..grids import scatter_image

    method, n = loaded.method, args.n or 2500
    gen = torch.Generator().manual_seed(args.seed)
    labels = label_vectors(method.spec, args.label, n)
    with torch.no_grad():
        points = method.sample(method.latent(n, generator=gen).to(method.device),
                               None if labels is None else labels.to(method.device))
    if _wants_array(args.out):
        return _write_array(args.out, points.float(), loaded)
    modes = None
    try:
        modes = open_dataset(loaded.config.get("dataset", "")).modes
    except DatasetError:
        pass  # the data may be gone; the scatter alone still shows the samples
    atomic_write_bytes(Path(args.out), png_bytes(scatter_image(points, modes)))
    print(f"wrote {args.out} ({n} points from {loaded.path}, step {loaded.step}, as a scatter plot)")
    return 0


def _wants_array(out: str) -> bool:
    return out.lower().endswith(".npy")


def _write_array(out: str, samples, loaded) -> int:
    """The raw samples as a .npy array, written atomically."""
    import io

    import numpy as np

    from ..engine.rundir import atomic_write_bytes

    arr = samples.detach().cpu().numpy()
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    atomic_write_bytes(Path(out), buf.getvalue())
    print(f"wrote {out} ({arr.shape[0]} samples as a {arr.dtype} array of shape {arr.shape} from {loaded.path}, "
          f"step {loaded.step})")
    return 0
