"""`studio reconstruct`: a grid PNG of dataset images, each beside the run's reconstruction of it."""

from __future__ import annotations

import argparse
from pathlib import Path

from . import UserError


def add_command(sub) -> None:
    p = sub.add_parser("reconstruct",
                       help="write a grid of images beside their reconstructions (methods with an encoder)")
    p.add_argument("run", help="run directory or checkpoint file")
    p.add_argument("--dataset", default=None,
                   help="dataset source of the images to reconstruct (default: the run's dataset)")
    p.add_argument("--n", type=int, default=32, help="number of images (default 32)")
    p.add_argument("--seed", type=int, default=0, help="which images: a seed for drawing them (default 0)")
    p.add_argument("--out", default="reconstructions.png", help="PNG file to write (default reconstructions.png)")
    p.add_argument("--checkpoint", default="last", choices=("last", "best"), help="which checkpoint of a run directory")
    p.add_argument("--raw", action="store_true",
                   help="use the generator's own last weights, not their moving average (runs trained with ema)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, ...")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from ..data import open_dataset
    from ..engine import load_method, pick_device
    from ..engine.rundir import atomic_write_bytes, png_bytes
    from ..grids import image_grid, to_uint8, to_unit_range
    from ..methods.autoencoding import reconstruction_pairs
    from ..methods.base import condition_vectors

    if args.n < 1:
        raise UserError("--n must be at least 1")
    loaded = load_method(args.run, pick_device(args.device), which=args.checkpoint, raw=args.raw)
    method = loaded.method
    if not method.has_encoder:
        raise UserError(f"{loaded.path}: {method.name} has no encoder, so it cannot reconstruct images; "
                        f"use a run of ae, vae, vae-gan, unet-vae-gan or alpha-gan")
    source = args.dataset or loaded.config.get("dataset")
    if not source:
        raise UserError("--dataset: the run does not name its dataset; give a dataset source")
    ds = open_dataset(source, size=method.spec.image_size, channels=method.spec.channels)
    if not ds.is_images:
        raise UserError(f"--dataset {source}: holds {ds.kind.value}, not images")
    idx = torch.randperm(len(ds.data), generator=torch.Generator().manual_seed(args.seed))[: args.n]
    labels = None
    if method.conditional:
        if ds.labels is None or ds.label_dim != method.spec.label_dim:
            raise UserError(f"--dataset {source}: this model is conditional on {method.spec.label_dim} labels; "
                            f"give a dataset with the same labels (the run's own, by default)")
        labels = condition_vectors(ds.labels[idx], method.spec, method.device)
    pairs = reconstruction_pairs(method, to_unit_range(ds.data[idx].to(method.device)), labels)
    atomic_write_bytes(Path(args.out), png_bytes(image_grid(to_uint8(pairs))))
    print(f"wrote {args.out} ({len(idx)} images from {source} beside their reconstructions by {loaded.path}, "
          f"step {loaded.step})")
    return 0
