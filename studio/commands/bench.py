"""`studio bench`: training, window, long-run, FID and launch speed, measured side by side (docs/BENCHMARKS.md)."""

from __future__ import annotations

import argparse
import json
import sys

PARTS = ("train", "amp", "augment", "window", "runs", "fid", "launch", "data", "eval", "concurrent")


def add_command(sub) -> None:
    p = sub.add_parser(
        "bench", help="measure training, window, long-run, FID, launch, data and evaluation speed on this machine",
        description="Measure, side by side in one run: training images/s of the fast path against a plain "
                    "reference loop (DCGAN and WGAN-GP, 32x32, batch 64), float32 against bf16 autocast and what "
                    "--amp auto chose, what the small-data aids add to a DCGAN step, headless against with the window "
                    "attached, the UI stall while training, opening a 500,000-record run in the window, FID "
                    "feature extraction and Fréchet distance against pytorch-fid, the time from launch to a visible "
                    "window, how fast a JPEG folder loads, first and from the decoded cache, what the live "
                    "evaluation (precision, recall, density, coverage) costs a run, and three training runs side by "
                    "side against one alone. See docs/BENCHMARKS.md.")
    p.add_argument("--json", action="store_true", help="print one JSON object with every figure")
    p.add_argument("--device", default="auto", help="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:1, mps")
    p.add_argument("--quick", action="store_true",
                   help="a run of seconds, not minutes (smaller networks, fewer steps and images): for tests")
    p.add_argument("--threads", type=int, default=None, metavar="N", help="torch CPU threads (default: torch's)")
    p.add_argument("--width", type=int, default=None, metavar="W",
                   help="width of the trained networks (default 64 on a GPU, 32 on a CPU, 8 with --quick)")
    p.add_argument("--skip", action="append", choices=PARTS, default=[], help="leave out a part (repeatable)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..bench import format_report, run_bench
    from ..bench.window import (  # each in its own process
        measure_compare_open_in_process,
        measure_run_open_in_process,
        measure_window_in_process,
    )

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    result = run_bench(device=args.device, quick=args.quick, threads=args.threads, width=args.width,
                       skip=tuple(args.skip), log=log, measure_window=measure_window_in_process,
                       measure_runs=measure_run_open_in_process, measure_compare=measure_compare_open_in_process)
    print(json.dumps(result) if args.json else format_report(result))
    return 0
