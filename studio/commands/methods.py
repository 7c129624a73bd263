"""`studio methods`: every registered method with its description, source, scalars and presets."""

from __future__ import annotations

import argparse
import json


def add_command(sub) -> None:
    p = sub.add_parser("methods", help="list the methods the studio can train")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..methods.registry import describe_methods

    methods = describe_methods()
    if args.json:
        print(json.dumps(methods, indent=2, default=str))
        return 0
    for m in methods:
        print(f"{m['name']:<14} {m['title']}  [{', '.join(m['datasets'])}]  presets: {', '.join(m['presets'])}")
    return 0
