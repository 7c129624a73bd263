"""`studio selfcheck --out DIR`: open the real window offscreen, train a tiny DCGAN through it, save grabs."""

from __future__ import annotations

import argparse
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
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from . import UserError

    if args.steps < 1:
        raise UserError(f"--steps {args.steps}: give at least 1 step")
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    try:
        from ..gui.selfcheck import run_selfcheck
    except ImportError as exc:
        raise UserError(f"the GUI cannot be loaded ({exc}); install PySide6 and pyqtgraph "
                        "(pip install PySide6-Essentials pyqtgraph)") from None
    result = run_selfcheck(args.out, steps=args.steps, timeout=args.timeout)
    verdict = "passed" if result["ok"] else "FAILED"
    print(f"selfcheck {verdict}: {result.get('steps_done', 0)}/{args.steps} steps, "
          f"{result.get('scalar_updates', 0)} scalar updates, {result.get('sample_grids', 0)} sample grids, "
          f"{result.get('seconds', 0):.1f} s; see {os.path.join(args.out, 'selfcheck.json')}")
    if not result["ok"]:
        failed = [k for k, v in result.get("checks", {}).items() if not v]
        print(f"failed checks: {', '.join(failed)}; errors: {'; '.join(result['errors']) or 'none'}", file=sys.stderr)
    return 0 if result["ok"] else 1
