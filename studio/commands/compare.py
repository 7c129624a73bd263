"""`studio compare RUN...`: one table across runs (FID/KID last and best with N, mode coverage, time)."""

from __future__ import annotations

import argparse
from pathlib import Path

from . import UserError


def add_command(sub) -> None:
    p = sub.add_parser("compare", help="a table comparing runs: method, data, steps, time, FID/KID with N, coverage",
                       description="Compare runs in one table read from each run directory's config.json and "
                       "metrics.jsonl: last and best FID/KID (with the N each came from) and mode coverage.")
    p.add_argument("runs", nargs="+", metavar="RUN", help="run directories")
    p.add_argument("--csv", action="store_true", help="CSV instead of a markdown table")
    p.add_argument("--out", metavar="FILE", help="write the table to FILE instead of printing it")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..fileio import atomic_write_bytes
    from ..runs.compare import csv_table, markdown_table, summarize_run

    missing = [r for r in args.runs if not Path(r).is_dir()]
    if missing:
        raise UserError(f"{missing[0]}: no such run directory; give folders written by `studio train`")
    summaries = [summarize_run(r) for r in args.runs]
    table = csv_table(summaries) if args.csv else markdown_table(summaries)
    if args.out:
        atomic_write_bytes(Path(args.out), table.encode("utf-8"))
        print(f"wrote {args.out} ({len(summaries)} runs)")
    else:
        print(table, end="")
    return 0
