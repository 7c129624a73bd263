"""The decoded-dataset cache: a folder or zip decoded once, memory-mapped on every later load.

An entry is `<key>.npy` (the uint8 N×C×H×W images) and `<key>.json` (which files were skipped and
why, and a record of the array's shape and size). The key hashes the load options and every
file's name, size, modification and change times (for a zip: the archive's), so a changed, added
or deleted file makes a new key. Both files are written to a temporary name and renamed; the JSON
comes last and is the entry's commit mark. An entry whose files disagree with their record
(truncated, damaged header, missing half) is deleted and rebuilt, never used. The folder is kept
under a size limit (the "dataset_cache_gb" setting) by evicting the least recently used entries.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import fastjpeg
from .dataset import Skipped
from .options import LoadOptions, cache_root

VERSION = 1  # bump when decoding changes what an image decodes to
DEFAULT_LIMIT_GB = 20.0
MIN_ITEMS = 32  # smaller sets decode in milliseconds: not worth a disk entry
SETTING = "dataset_cache_gb"


@dataclass
class Entry:
    """A usable cache entry: the images, which items they came from, and the decode-time skips."""

    data: np.ndarray  # copy-on-write memory map: writing to it never changes the cache file
    ok: np.ndarray  # bool per item given to the load
    skipped: list[Skipped]


def cache_folder(cache_dir: Path | None = None) -> Path:
    """Where decoded datasets are kept: <cache root>/decoded."""
    return cache_root(cache_dir) / "decoded"


def limit_bytes() -> int:
    """The cache's size limit from the settings (0 turns the cache off)."""
    from ..settings import get_setting

    value = get_setting(SETTING, DEFAULT_LIMIT_GB)
    try:
        return max(0, int(float(value) * 2**30))
    except (TypeError, ValueError):
        return int(DEFAULT_LIMIT_GB * 2**30)


def entry_key(names: list[str], keys: list, opts: LoadOptions, archive: Path | None) -> str | None:
    """The key of a load of these items with these options, or None when it cannot be cached."""
    if len(names) < MIN_ITEMS or opts.stream is True or not opts.decoded_cache:
        return None
    h = hashlib.sha256()
    options = [VERSION, fastjpeg.available(), opts.size, opts.channels, opts.max_pixels, opts.max_file_bytes,
               list(opts.background), opts.memory_limit, opts.stream]
    h.update(json.dumps(options).encode())
    if archive is not None:
        h.update(f"zip\0{os.path.abspath(archive)}\0{_stamp(archive)}\n".encode())
        h.update("\n".join(names).encode("utf-8", "surrogateescape"))
        return h.hexdigest()[:32]
    if not all(isinstance(key, (str, os.PathLike)) for key in keys):
        return None
    lines = [os.getcwd()]  # keys may be relative to it
    lines += [f"{name}\0{key}\0{_stamp(key)}" for name, key in zip(names, keys, strict=True)]
    h.update("\n".join(lines).encode("utf-8", "surrogateescape"))
    return h.hexdigest()[:32]


def _stamp(path) -> str:
    try:
        st = os.stat(path)
    except OSError as exc:
        return f"error {exc.errno}"  # a missing or unreadable file is part of what the load saw
    return f"{st.st_size} {st.st_mtime_ns} {st.st_ctime_ns} {st.st_ino}"


def load(key: str, cache_dir: Path | None = None) -> Entry | None:
    """The entry for `key`, or None when there is none or it is damaged (then it is deleted)."""
    folder = cache_folder(cache_dir)
    meta_path, array_path = folder / f"{key}.json", folder / f"{key}.npy"
    if not meta_path.exists():
        return None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("version") != VERSION or os.path.getsize(array_path) != meta["file_bytes"]:
            raise ValueError("entry does not match its record")
        data = np.load(array_path, mmap_mode="c", allow_pickle=False)
        if data.dtype != np.uint8 or list(data.shape) != meta["shape"]:
            raise ValueError("array does not match its record")
        ok = np.ones(meta["items"], dtype=bool)
        ok[meta["failed"]] = False
        if int(ok.sum()) != data.shape[0]:
            raise ValueError("item count does not match the array")
        skipped = [Skipped(p, r) for p, r in meta["skipped"]]
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        remove(key, cache_dir)
        return None
    os.utime(meta_path)  # last used: what eviction goes by
    return Entry(data, ok, skipped)


def store(key: str, data: np.ndarray, ok: np.ndarray, skipped: list[Skipped], source: str,
          cache_dir: Path | None = None) -> Path | None:
    """Write an entry (atomically), evicting old ones to stay under the limit; None when it does not fit."""
    limit = limit_bytes()
    if data.nbytes > limit:
        return None
    folder = cache_folder(cache_dir)
    folder.mkdir(parents=True, exist_ok=True)
    evict(limit - data.nbytes, cache_dir)
    array_path = folder / f"{key}.npy"
    tmp = folder / f".{key}.{os.getpid()}.npy.tmp"
    try:
        with open(tmp, "wb") as f:
            np.lib.format.write_array(f, np.ascontiguousarray(data), allow_pickle=False)
        os.replace(tmp, array_path)
    finally:
        tmp.unlink(missing_ok=True)
    meta = {
        "version": VERSION,
        "source": source,
        "shape": list(data.shape),
        "file_bytes": os.path.getsize(array_path),
        "items": len(ok),
        "failed": np.flatnonzero(~ok).tolist(),
        "skipped": [[s.path, s.reason] for s in skipped],
        "created": time.time(),
    }
    meta_tmp = folder / f".{key}.{os.getpid()}.json.tmp"
    meta_tmp.write_text(json.dumps(meta), encoding="utf-8")
    os.replace(meta_tmp, folder / f"{key}.json")
    return array_path


def remove(key: str, cache_dir: Path | None = None) -> None:
    """Delete one entry's files (either may be missing)."""
    folder = cache_folder(cache_dir)
    for suffix in (".json", ".npy"):
        (folder / f"{key}{suffix}").unlink(missing_ok=True)


def entries(cache_dir: Path | None = None) -> list[dict]:
    """Every entry, most recently used first: key, source, shape, bytes, last used (epoch seconds)."""
    folder = cache_folder(cache_dir)
    found = []
    for meta_path in folder.glob("*.json"):
        key = meta_path.stem
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            size = os.path.getsize(folder / f"{key}.npy")
            used = meta_path.stat().st_mtime
        except (OSError, ValueError):
            continue
        found.append({"key": key, "source": meta.get("source", "?"), "shape": meta.get("shape"),
                      "bytes": size, "last_used": used, "skipped": len(meta.get("skipped", []))})
    return sorted(found, key=lambda e: -e["last_used"])


def evict(keep_bytes: int, cache_dir: Path | None = None) -> int:
    """Remove least recently used entries until at most `keep_bytes` remain, and stray files; return how many went."""
    folder = cache_folder(cache_dir)
    _remove_strays(folder)
    current = entries(cache_dir)
    total = sum(e["bytes"] for e in current)
    removed = 0
    for entry in reversed(current):  # oldest first
        if total <= keep_bytes:
            break
        remove(entry["key"], cache_dir)
        total -= entry["bytes"]
        removed += 1
    return removed


def clear(cache_dir: Path | None = None) -> tuple[int, int]:
    """Delete every entry; return (entries, bytes) removed."""
    current = entries(cache_dir)
    for entry in current:
        remove(entry["key"], cache_dir)
    _remove_strays(cache_folder(cache_dir), max_age_s=0)
    return len(current), sum(e["bytes"] for e in current)


def _remove_strays(folder: Path, max_age_s: float = 3600) -> None:
    """Arrays without a record (a load that died before committing) and old temporary files."""
    if not folder.is_dir():
        return
    now = time.time()
    for path in folder.iterdir():
        try:
            age = now - path.stat().st_mtime
            stray = path.suffix == ".npy" and not path.with_suffix(".json").exists()
            if (path.name.endswith(".tmp") or stray) and age >= max_age_s:
                path.unlink(missing_ok=True)
        except OSError:
            continue
