"""`studio methods`: every registered method with its description, source, scalars and presets."""

from __future__ import annotations

import argparse
import json


def add_command(sub) -> None:
    p = sub.add_parser("methods", help="list the methods the studio can train")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=run)


def describe_methods() -> list[dict]:
    """Plain facts about each method, for the CLI and the GUI."""
    from ..methods import all_methods
    from ..methods.params import describe_params

    out = []
    for name, cls in all_methods().items():
        out.append({
            "name": name, "title": cls.title, "description": cls.description, "source": cls.source,
            "datasets": [k.value for k in cls.kinds], "presets": list(cls.presets),
            "scalars": dict(cls.scalars), "has_encoder": cls.has_encoder, "needs_reference": cls.needs_reference,
            "params": [{"name": i.name, "type": i.type.__name__, "default": i.default, "help": i.help,
                        "low": i.low, "high": i.high, "choices": list(i.choices) if i.choices else None}
                       for i in describe_params(cls.Params)],
        })
    return out


def run(args: argparse.Namespace) -> int:
    methods = describe_methods()
    if args.json:
        print(json.dumps(methods, indent=2, default=str))
        return 0
    for m in methods:
        print(f"{m['name']:<14} {m['title']}  [{', '.join(m['datasets'])}]  presets: {', '.join(m['presets'])}")
    return 0
