"""`studio compare RUN...`: one table across runs (FID/KID last and best with N, mode coverage, every other
metric by name, time); `--plot out.png` draws their curves overlaid as the Compare view does."""

from __future__ import annotations

import argparse
from pathlib import Path

from . import UserError


def add_command(sub) -> None:
    p = sub.add_parser("compare", help="a table comparing runs (method, data, steps, time, FID/KID with N, "
                       "coverage); --plot draws their curves",
                       description="Compare runs in one table read from each run directory's config.json and "
                       "metrics.jsonl: last and best FID/KID (with the N each came from) and mode coverage.")
    p.add_argument("runs", nargs="+", metavar="RUN", help="run directories")
    p.add_argument("--csv", action="store_true", help="CSV instead of a markdown table")
    p.add_argument("--out", metavar="FILE", help="write the table to FILE instead of printing it")
    p.add_argument("--plot", metavar="PNG", help="also draw the runs' curves overlaid, chart by chart, into this PNG "
                   "(no window needed); the smoothing, x axis and log charts default to the window's remembered ones")
    p.add_argument("--smoothing", type=float, default=None, metavar="W",
                   help="TensorBoard's smoothing weight for --plot, 0 (raw) to 0.999")
    p.add_argument("--x", dest="x_axis", choices=("step", "epoch", "time"), default=None,
                   help="what the x axis counts in --plot: steps, epochs (passes over the data) or training time")
    p.add_argument("--log", action="append", default=None, metavar="CHART",
                   help="draw this chart (its title, e.g. FID) on a log scale in --plot; repeat for more")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..fileio import atomic_write_bytes
    from ..runs.compare import csv_table, markdown_table, summarize_run

    missing = [r for r in args.runs if not Path(r).is_dir()]
    if missing:
        raise UserError(f"{missing[0]}: no such run directory; give folders written by `studio train`")
    if args.plot:
        summaries = _plot(args)
    else:
        summaries = [summarize_run(r) for r in args.runs]
    table = csv_table(summaries) if args.csv else markdown_table(summaries)
    if args.out:
        atomic_write_bytes(Path(args.out), table.encode("utf-8"))
        print(f"wrote {args.out} ({len(summaries)} runs)")
    else:
        print(table, end="")
    return 0


def _plot(args: argparse.Namespace) -> list:
    """Draw --plot; the runs' summaries from the same reading (each log is read once)."""
    from ..engine.rundir import RunDirError
    from ..runs.compared import MAX_RUNS, Comparison
    from ..runs.curve_settings import load_curve_settings
    from ..runs.plot import render_png
    from ..runs.smoothing import MAX_WEIGHT

    remembered = load_curve_settings()
    weight = remembered.smoothing if args.smoothing is None else args.smoothing
    if not 0 <= weight <= MAX_WEIGHT:
        raise UserError(f"--smoothing {args.smoothing}: give a weight from 0 (raw curves) to {MAX_WEIGHT}")
    if len(args.runs) > MAX_RUNS:
        raise UserError(f"--plot draws at most {MAX_RUNS} runs in one figure; {len(args.runs)} were given")
    try:
        comparison = Comparison(args.runs)
        comparison.read()
        out = render_png(comparison, args.plot, axis=args.x_axis or remembered.x_axis, smoothing=weight,
                         log_charts=args.log if args.log is not None else remembered.log_charts)
    except (RunDirError, ValueError) as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:
        from ..fileio import os_error_message

        raise UserError(os_error_message(exc)) from None
    print(f"wrote {out} ({len(comparison.runs)} runs, {len(comparison.charts())} charts)")
    return comparison.summaries()
