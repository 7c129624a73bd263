"""`studio`: the GUI with no arguments, or a subcommand (each lives in studio/commands/)."""

from __future__ import annotations

import argparse
import sys

from .commands import UserError, add_all_commands, known_errors


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="studio", description="GAN Studio: train, watch and explore generative image models.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_all_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `studio` console script."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] == "gui" or (argv[0].startswith("--") and argv[0] in ("--dataset", "--run")):
        return gui_main(argv[1:] if argv and argv[0] == "gui" else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except known_errors() as exc:
        print(f"studio {args.command}: error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, UserError) else 1
    except KeyboardInterrupt:
        print(f"studio {args.command}: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # a full disk, a read-only folder, a permission: one line, no traceback
        from .fileio import os_error_message

        print(f"studio {args.command}: error: {os_error_message(exc)}", file=sys.stderr)
        return 1


def gui_main(argv: list[str] | None = None) -> int:
    """Open the studio window (optionally on a dataset or run: --dataset SRC, --run DIR)."""
    parser = argparse.ArgumentParser(prog="studio", description="Open the GAN Studio window.")
    parser.add_argument("--dataset", help="open this dataset source on the Train tab (e.g. builtin:shapes)")
    parser.add_argument("--run", help="open and follow this run directory")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    from .gui.app import run_app

    return run_app(dataset=args.dataset, run=args.run)


if __name__ == "__main__":
    sys.exit(main())
