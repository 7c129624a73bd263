"""The decoded-dataset cache: a folder or zip decoded once, memory-mapped on every later load.

An entry is `<key>.npy` (the uint8 N×C×H×W images) and `<key>.json` (which files were skipped and
why, and a record of the array's shape and size). The key hashes the load options and every
file's name, path, size, modification and change times and inode (for a zip: the archive's), so a changed, added
or deleted file makes a new key. Both files are written to a temporary name and renamed; the JSON
comes last and is the entry's commit mark. An entry whose files disagree with their record
(truncated, damaged header, missing half) is deleted and rebuilt, never used. The folder is kept
under a size limit (the "dataset_cache_gb" setting) by evicting the least recently used entries.

Files derived from an entry's images (the real images' features, studio/metrics/real_features.py)
are kept beside it as `<key>.<name>` (`sidecar_path`) and deleted with it; `entry_of(images)` says
which entry an array a load returned is.

A load writes its entry on a background thread (`store_later`): writing hundreds of megabytes can
take longer than the decoding did, and the caller need not wait for it. The writer checksums the
images before and after writing, and drops the entry if they changed meanwhile; a lookup of the
same key waits for its writer, and the interpreter waits for writers before it exits.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import uuid
import weakref
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..dataset import Skipped
from ..options import LoadOptions, cache_root

VERSION = 2  # bump when decoding changes what an image decodes to (2: scaled JPEG decoding, bicubic resize)
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
    from ...settings import get_setting

    value = get_setting(SETTING, DEFAULT_LIMIT_GB)
    try:
        return max(0, int(float(value) * 2**30))
    except (TypeError, ValueError, OverflowError):
        return int(DEFAULT_LIMIT_GB * 2**30)


def entry_key(names: list[str], keys: list, opts: LoadOptions, archive: Path | None,
              decoder: str | None = None) -> str | None:
    """The key of a load of these items with these options, or None when it cannot be cached. `decoder`
    names the JPEG decoder the load uses (decode/fastjpeg.py): another one decodes other pixels."""
    if len(names) < MIN_ITEMS or opts.stream is True or not opts.decoded_cache:
        return None
    h = hashlib.sha256()
    options = [VERSION, decoder, opts.size, opts.channels, opts.max_pixels, opts.max_file_bytes,
               list(opts.background), opts.memory_limit, opts.stream]
    h.update(json.dumps(options).encode())
    if archive is not None:
        h.update("\0".join(["zip", os.path.abspath(archive), *names]).encode("utf-8", "surrogateescape"))
        h.update(file_stamps([os.fspath(archive)]).tobytes())
        return h.hexdigest()[:32]
    if not all(isinstance(key, (str, os.PathLike)) for key in keys):
        return None
    paths = [os.fspath(key) for key in keys]
    # The names the load gave each file, and where it found them (relative paths: from the working folder).
    h.update("\0".join([os.getcwd(), *names, *paths]).encode("utf-8", "surrogateescape"))
    h.update(file_stamps(paths).tobytes())
    return h.hexdigest()[:32]


INO_MASK = 2**63 - 1  # inode numbers are unsigned 64-bit; the rows are signed


def file_stamps(paths: list[str]) -> np.ndarray:
    """Each file's size, modification and change times (ns) and inode as a row of int64 (a file that
    cannot be checked: its negated errno, which is part of what the load saw).

    Every cached load checks every file this way, and it is most of that load's time: 20,000 files
    take 47 ms here (2.3 µs a file, 1.35 µs of it the system call). Two threads gained little
    (38–50 ms): the interpreter lock is taken and given back around every call.
    """
    rows = []
    for path in paths:
        try:
            st = os.stat(path)
        except OSError as exc:
            rows.append((-(exc.errno or 1), 0, 0, 0))
            continue
        rows.append((st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino & INO_MASK))
    return np.array(rows, dtype=np.int64).reshape(len(paths), 4)


# The arrays loads returned, by address: (the array, weakly; its size; its key; its cache folder).
_returned: dict[int, tuple[weakref.ref, int, str, Path | None]] = {}
_returned_lock = threading.Lock()


def _remember(key: str, data: np.ndarray, cache_dir: Path | None) -> None:
    with _returned_lock:
        for address in [a for a, (ref, *_) in _returned.items() if ref() is None]:
            del _returned[address]
        _returned[data.ctypes.data] = (weakref.ref(data), data.nbytes, key, cache_dir)


def entry_of(images) -> tuple[str, Path | None] | None:
    """(key, cache folder) of the committed entry whose images `images` is (the whole array a load returned,
    or a torch tensor on its memory; not a copy or a part of it), or None. Waits for the entry's writer."""
    address = images.data_ptr() if hasattr(images, "data_ptr") else images.ctypes.data
    nbytes = images.numel() * images.element_size() if hasattr(images, "numel") else images.nbytes
    with _returned_lock:
        ref, size, key, cache_dir = _returned.get(address, (lambda: None, 0, "", None))
    if ref() is None or size != nbytes:
        return None
    wait_for_writes(key)
    return (key, cache_dir) if (cache_folder(cache_dir) / f"{key}.json").exists() else None


def sidecar_path(key: str, name: str, cache_dir: Path | None = None) -> Path:
    """Where a file derived from entry `key` is kept (`name` without dots): removed when the entry is."""
    return cache_folder(cache_dir) / f"{key}.{name}"


_writers: dict[str, threading.Thread] = {}
_writers_lock = threading.Lock()
_last_writer: threading.Thread | None = None  # the newest background write


def store_later(key: str, data: np.ndarray, ok: np.ndarray, skipped: list[Skipped], source: str,
                cache_dir: Path | None = None) -> threading.Thread:
    """`store` on a background thread (not a daemon: the interpreter lets it finish)."""

    def write() -> None:
        try:
            if previous is not None:
                previous.join()  # entries are written in the order of the loads, so the least recent is evicted
            before = zlib.crc32(data)
            path = store(key, data, ok, skipped, source, cache_dir)
            if path is not None and zlib.crc32(data) != before:
                remove(key, cache_dir)  # the images changed while they were written: the entry is not them
        except OSError:
            pass  # a full disk or a read-only cache folder: the cache is a speed-up, the load succeeded
        finally:
            with _writers_lock:
                if _writers.get(key) is threading.current_thread():
                    del _writers[key]

    global _last_writer
    _remember(key, data, cache_dir)
    thread = threading.Thread(target=write, name=f"decoded-cache-{key[:8]}")
    with _writers_lock:
        _writers[key] = thread
        previous, _last_writer = _last_writer, thread
    thread.start()
    return thread


def wait_for_writes(key: str | None = None) -> None:
    """Wait until the entry `key` (every entry when None) being written in the background is written."""
    with _writers_lock:
        threads = list(_writers.values()) if key is None else [t for k, t in _writers.items() if k == key]
    for thread in threads:
        thread.join()


def load(key: str, cache_dir: Path | None = None) -> Entry | None:
    """The entry for `key`, or None when there is none or it is damaged (then it is deleted)."""
    wait_for_writes(key)
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
    _remember(key, data, cache_dir)
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
    unique = uuid.uuid4().hex[:8]  # two processes, or two threads, may write the same entry
    tmp = folder / f".{key}.{unique}.npy.tmp"
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
    meta_tmp = folder / f".{key}.{unique}.json.tmp"
    meta_tmp.write_text(json.dumps(meta), encoding="utf-8")
    os.replace(meta_tmp, folder / f"{key}.json")
    return array_path


def remove(key: str, cache_dir: Path | None = None) -> None:
    """Delete one entry's files (either may be missing) and its sidecars."""
    folder = cache_folder(cache_dir)
    for suffix in (".json", ".npy"):
        (folder / f"{key}{suffix}").unlink(missing_ok=True)
    for path in folder.glob(f"{key}.*"):
        path.unlink(missing_ok=True)


def entries(cache_dir: Path | None = None) -> list[dict]:
    """Every entry, most recently used first: key, source, shape, bytes, last used (epoch seconds)."""
    wait_for_writes()
    return _entries(cache_dir)


def _entries(cache_dir: Path | None) -> list[dict]:
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
    current = _entries(cache_dir)  # not entries(): a writer evicts, and must not wait for itself
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
    """Arrays and sidecars without a record (a load that died before committing, an entry gone) and old
    temporary files."""
    if not folder.is_dir():
        return
    now = time.time()
    for path in folder.iterdir():
        try:
            age = now - path.stat().st_mtime
            key, _, rest = path.name.partition(".")
            stray = bool(key) and rest != "json" and not (folder / f"{key}.json").exists()
            if (path.name.endswith(".tmp") or stray) and age >= max_age_s:
                path.unlink(missing_ok=True)
        except OSError:
            continue
