"""`studio selfcheck --out DIR`: open the real window offscreen, train a tiny DCGAN through it, save grabs."""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys


def add_command(sub) -> None:
    p = sub.add_parser("selfcheck", help="check the GUI end to end (offscreen) and save screenshots",
                       description="Open the studio window (offscreen when there is no display), load "
                       "builtin:shapes, train a tiny DCGAN with the Start button, visit every tab, and write "
                       "train.png, monitor.png, sample.png and selfcheck.json to DIR (DIR/run holds the tiny run and is "
                       "replaced). Exits 0 only if all worked.")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the screenshots and selfcheck.json")
    p.add_argument("--steps", type=int, default=40, help="training steps (default 40)")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for loading and training")
    p.add_argument("--soak", type=float, metavar="MINUTES",
                   help="instead: a long session. Train in the window for half the time, then follow a `studio "
                   "train` process for the other half; report survival, memory growth of both processes and the "
                   "UI stall (DIR/soak.json, DIR/soak-end.png)")
    p.add_argument("--paint-hz", type=float, default=0.0, metavar="HZ",
                   help="with --soak: also repaint the whole window HZ times a second, so a leak per Qt call shows "
                   "in a short soak")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from . import UserError

    if args.steps < 1:
        raise UserError(f"--steps {args.steps}: give at least 1 step")
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if args.soak is not None and not args.soak > 0:
        raise UserError(f"--soak {args.soak}: give the minutes to soak, e.g. --soak 30")
    if args.paint_hz < 0:
        raise UserError(f"--paint-hz {args.paint_hz}: give a rate of 0 (off) or more, e.g. 60")
    missing = [name for name in ("PySide6", "pyqtgraph") if importlib.util.find_spec(name) is None]
    if missing:  # the window's third-party packages, named
        raise UserError(f"the GUI cannot be loaded: {' and '.join(missing)} not installed; install PySide6 and "
                        "pyqtgraph (pip install PySide6-Essentials pyqtgraph)")
    from ..gui.selfcheck import run_selfcheck
    from ..gui.soak import format_soak, run_soak
    if args.soak is not None:
        report = run_soak(args.out, args.soak, paint_hz=args.paint_hz, log=lambda m: print(m, file=sys.stderr))
        print(format_soak(report))
        if not report["ok"]:
            failed = [k for k, v in report.get("checks", {}).items() if not v]
            print(f"failed checks: {', '.join(failed)}; errors: {'; '.join(report['errors']) or 'none'}",
                  file=sys.stderr)
        return 0 if report["ok"] else 1
    result = run_selfcheck(args.out, steps=args.steps, timeout=args.timeout)
    verdict = "passed" if result["ok"] else "FAILED"
    print(f"selfcheck {verdict}: {result.get('steps_done', 0)}/{args.steps} steps, "
          f"{result.get('scalar_updates', 0)} scalar updates, {result.get('sample_grids', 0)} sample grids, "
          f"{result.get('seconds', 0):.1f} s; see {os.path.join(args.out, 'selfcheck.json')}")
    if not result["ok"]:
        failed = [k for k, v in result.get("checks", {}).items() if not v]
        print(f"failed checks: {', '.join(failed)}; errors: {'; '.join(result['errors']) or 'none'}", file=sys.stderr)
    return 0 if result["ok"] else 1
