"""`studio cache`: what the decoded-dataset cache holds, its size limit, and clearing it."""

from __future__ import annotations

import argparse
import datetime
import json

from . import UserError


def add_command(sub) -> None:
    p = sub.add_parser(
        "cache", help="show or clear the decoded-dataset cache (folders and zips decoded once)",
        description="Folders and zips are decoded once and kept, per size and channels, in the studio's cache "
                    "($STUDIO_CACHE_DIR/decoded or ~/.cache/gan-studio/decoded); later loads of the same files "
                    "map them from disk. Without options: what the cache holds.")
    p.add_argument("--clear", action="store_true", help="delete every entry")
    p.add_argument("--limit", type=float, metavar="GB",
                   help="set the size limit in GiB (0 turns the cache off); least recently used entries go first")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..data.cache import decoded_cache
    from ..settings import update_settings

    if args.limit is not None:
        if not 0 <= args.limit < float("inf"):
            raise UserError(f"--limit {args.limit}: give a size in GiB, 0 or more (0 turns the cache off)")
        update_settings(**{decoded_cache.SETTING: args.limit})
        decoded_cache.evict(decoded_cache.limit_bytes())
    if args.clear:
        count, size = decoded_cache.clear()
        if not args.json:
            print(f"removed {_entries(count)} ({_size(size)}) from {decoded_cache.cache_folder()}")
    entries = decoded_cache.entries()
    limit = decoded_cache.limit_bytes()
    if args.json:
        print(json.dumps({"folder": str(decoded_cache.cache_folder()), "limit_bytes": limit,
                          "bytes": sum(e["bytes"] for e in entries), "entries": entries}, indent=2))
        return 0
    if args.clear:
        return 0
    total = sum(e["bytes"] for e in entries)
    off = "  (cache off: `studio cache --limit GB` turns it on)" if not limit else ""
    print(f"{decoded_cache.cache_folder()}: {_entries(len(entries))}, {_size(total)} of {_size(limit)}{off}")
    for e in entries:
        used = datetime.datetime.fromtimestamp(e["last_used"]).strftime("%Y-%m-%d %H:%M")
        shape = "×".join(map(str, e["shape"] or []))
        skipped = f", {e['skipped']} skipped" if e["skipped"] else ""
        print(f"  {e['key'][:12]}  {_size(e['bytes']):>9}  {used}  {shape:<18} {e['source']}{skipped}")
    return 0


def _entries(n: int) -> str:
    return f"{n} entr{'y' if n == 1 else 'ies'}"


def _size(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:,} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"
