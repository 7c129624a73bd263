"""`studio timelapse RUN --out x.gif|x.mp4`: a run's saved sample grids as an animation, streamed a frame
at a time (memory stays that of one frame, however long the run)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import UserError


def add_command(sub) -> None:
    p = sub.add_parser("timelapse", help="write a run's saved sample grids as a GIF or MP4 timelapse",
                       description="Write the sample grids a run saved (samples/step-N.png, in step order; the "
                       "reconstructions of the same step beside them for methods with an encoder) as a looping GIF "
                       "or an MP4, one frame at a time, so memory stays bounded whatever the run's length.")
    p.add_argument("run", metavar="RUN", help="run directory")
    p.add_argument("--out", required=True, help="file to write: .gif or .mp4 (MP4 needs imageio-ffmpeg)")
    p.add_argument("--every", type=int, default=1, metavar="N",
                   help="one saved grid in every N (the first and the last always kept; default 1: all)")
    p.add_argument("--fps", type=float, default=5.0, help="frames per second (default 5)")
    p.add_argument("--max-side", type=int, default=768, help="shrink larger frames to this many pixels (default 768)")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..latent.errors import ExportError
    from ..latent.timelapse import TimelapseOptions, run_grids, write_timelapse

    if not Path(args.run).is_dir():
        raise UserError(f"{args.run}: no such run directory; give a folder written by `studio train`")
    options = TimelapseOptions(every=args.every, fps=args.fps, max_side=args.max_side)
    try:
        options.validate()
        frames, beside = run_grids(args.run, args.every)
        if not frames:
            raise UserError(f"{args.run}: no saved sample grids (samples/step-N.png); train a little longer, or "
                            "lower --sample-every")
        result = write_timelapse(frames, args.out, options, beside=beside,
                                 progress=None if args.quiet else _progress)
    except ExportError as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:
        from ..fileio import os_error_message

        raise UserError(os_error_message(exc)) from None
    if not args.quiet:
        print(file=sys.stderr)
    print(f"wrote {result.path} ({result.frames} frames, {result.width}×{result.height}, {args.fps:g} fps)")
    return 0


def _progress(done: int, total: int) -> None:
    if sys.stderr.isatty() or done == total:
        print(f"\rframe {done}/{total}", end="", file=sys.stderr, flush=True)
