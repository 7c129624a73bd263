"""`studio datasets`: the built-in and online dataset sources, and what else can be opened."""

from __future__ import annotations

import argparse
import json


def add_command(sub) -> None:
    p = sub.add_parser("datasets", help="list built-in datasets and supported sources")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--inspect", metavar="SOURCE", help="open SOURCE and print its facts and skipped files")
    p.set_defaults(handler=run)


def list_sources() -> list[dict]:
    """Built-in, online and file sources as plain dicts (the data layer's list)."""
    from ..data import list_sources as data_sources

    return data_sources()


def run(args: argparse.Namespace) -> int:
    if args.inspect:
        from ..data import open_dataset

        ds = open_dataset(args.inspect)
        facts = ds.describe()
        facts["skipped_files"] = [{"path": s.path, "reason": s.reason} for s in ds.skipped]
        print(json.dumps(facts, indent=2) if args.json else "\n".join(f"{k}: {v}" for k, v in facts.items()))
        return 0
    sources = list_sources()
    if args.json:
        print(json.dumps(sources, indent=2))
        return 0
    for s in sources:
        online = "  (downloads)" if s.get("online") else ""
        print(f"{s['name']:<32} {s['kind']:<9} {s['description']}{online}")
    print("\nFolders are recognised by their layout; docs/DATA.md shows each one and what each method accepts.")
    from ..data.decode.fastjpeg import missing

    for note in missing():
        print(f"note: {note}")
    return 0
