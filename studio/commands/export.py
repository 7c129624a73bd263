"""`studio export`: a run's generator (and encoder) as ONNX or TorchScript, with a JSON sidecar."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import UserError


def add_command(sub) -> None:
    p = sub.add_parser("export", help="export a run's generator (and encoder) as ONNX or TorchScript",
                       description="Export the generator of a run (with its label input for conditional models, "
                       "and the encoder as OUT.encoder.* for methods that have one), plus OUT.json describing "
                       "the inputs: latent size and distribution, labels, image size, range [-1, 1], NCHW.")
    p.add_argument("--run", required=True, help="run directory or checkpoint file")
    p.add_argument("--format", choices=("onnx", "torchscript"), default=None,
                   help="onnx or torchscript (default: from the --out suffix, .onnx or .pt)")
    p.add_argument("--out", default=None, help="file to write, e.g. G.onnx (default <run>/exports/generator.onnx)")
    p.add_argument("--checkpoint", default="last", choices=("last", "best"), help="which checkpoint of a run directory")
    p.add_argument("--raw", action="store_true",
                   help="use the generator's own last weights, not their moving average (runs trained with ema)")
    p.add_argument("--opset", type=int, default=17, help="ONNX opset (17 or newer; default 17)")
    p.add_argument("--no-check", action="store_true", help="skip comparing the exported model with PyTorch")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..export import FORMATS, TOLERANCE, ExportError, export_run

    if args.opset < 17:
        raise UserError(f"--opset {args.opset}: use 17 or newer")
    out = Path(args.out) if args.out else None
    if out is None:
        base = Path(args.run) if Path(args.run).is_dir() else Path(args.run).parent
        out = base / "exports" / f"generator{FORMATS[args.format or 'onnx']}"
    try:
        result = export_run(args.run, out, args.format, which=args.checkpoint, opset=args.opset,
                            check=not args.no_check, raw=args.raw)
    except ExportError as exc:
        raise UserError(str(exc)) from None
    for path in [*result.files, result.sidecar]:
        print(f"wrote {path}")
    for note in result.notes:
        print(note)
    if result.max_error is not None:
        verdict = "matches" if result.max_error <= TOLERANCE else "DIFFERS from"
        print(f"checked with {result.checked_with}: {verdict} PyTorch (largest difference {result.max_error:.2g})")
        if result.max_error > TOLERANCE:
            print(f"studio export: error: the exported model differs from PyTorch by {result.max_error:.3g} "
                  f"(more than {TOLERANCE:g}); please report this with the run's method and settings", file=sys.stderr)
            return 1
    return 0
