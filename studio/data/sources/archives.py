"""Extract a downloaded .tar(.gz) or .zip safely: into a temporary folder renamed into place only when complete.

Refused, with nothing left behind: member paths that could escape the folder (`..`, absolute
paths), links of any kind (a link is how an archive writes outside the folder later), devices,
pipes and other special members, and archives over a size limit (total uncompressed bytes or
member count: a small archive can expand to fill the disk).
"""

from __future__ import annotations

import os
import shutil
import stat
import tarfile
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import IO

from ..errors import DatasetError
from .zips import unsafe_member

MAX_TOTAL_BYTES = 16 * 2**30  # edges2handbags, the largest pix2pix set, is about 9 GB unpacked
MAX_MEMBERS = 500_000
_COPY = 1 << 20
_PARTIAL = ".extracting-"  # the temporary folder: .<name>.extracting-<random>
STALE_S = 24 * 3600  # a temporary folder this old was left by a process that died while extracting


class _Refused(Exception):
    """One member the archive may not contain; the message says why."""

    def __init__(self, member: str, reason: str):
        super().__init__(reason)
        self.member = member


def extract_safely(
    archive: Path,
    dest: Path,
    *,
    progress: Callable[[int, int], None] | None = None,
    max_bytes: int | None = None,
    max_members: int | None = None,
) -> Path:
    """Extract `archive` to the folder `dest` (which must not exist yet); DatasetError when refused or unreadable.

    `progress(done, total)` reports the archive's bytes read; it may raise (Cancel) to stop. The
    limits default to MAX_TOTAL_BYTES and MAX_MEMBERS.
    """
    max_bytes = MAX_TOTAL_BYTES if max_bytes is None else max_bytes
    max_members = MAX_MEMBERS if max_members is None else max_members
    _remove_stale(dest)
    tmp = dest.with_name(f".{dest.name}{_PARTIAL}{uuid.uuid4().hex[:8]}")
    tmp.mkdir(parents=True)
    try:
        with archive.open("rb") as raw:
            total = os.fstat(raw.fileno()).st_size
            is_zip = zipfile.is_zipfile(raw)
            raw.seek(0)
            members = _zip_members(raw) if is_zip else _tar_members(raw)
            count = written = 0
            for name, kind, size, read in members:
                count += 1
                if count > max_members:
                    raise _Refused(name, f"the archive holds more than {max_members:,} members")
                reason = unsafe_member(name) or _kind_reason(kind)
                if reason:
                    raise _Refused(name, reason)
                written += size
                if written > max_bytes:
                    raise _Refused(name, f"the archive unpacks to more than {max_bytes:,} bytes")
                _write(tmp, name, kind, read, size)
                if progress is not None:
                    progress(raw.tell(), total)
        _move_into_place(tmp, dest)
    except _Refused as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise DatasetError(
            f"{archive.name}: refused to extract member {exc.member!r}: {exc}; nothing was extracted"
        ) from None
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        reason = f"{type(exc).__name__}: {exc}"
        raise DatasetError(f"{archive.name}: cannot extract ({reason}); nothing was extracted") from None
    except BaseException:  # Cancel from the progress callback, Ctrl-C: no half-extracted folder stays
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest


def _move_into_place(tmp: Path, dest: Path) -> None:
    try:
        os.rename(tmp, dest)
    except OSError:
        if not dest.is_dir():
            raise
        shutil.rmtree(tmp, ignore_errors=True)  # another process extracted the same archive first: use its folder


def _remove_stale(dest: Path) -> None:
    """Delete temporary folders a killed extraction of `dest` left (old enough that none is still running)."""
    now = time.time()
    for old in dest.parent.glob(f".{dest.name}{_PARTIAL}*"):
        try:
            if now - old.stat().st_mtime > STALE_S:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            continue


# A member: (name, kind, declared size, a function opening its bytes). Kinds: "file", "dir" or what else it is.
Member = tuple[str, str, int, Callable[[], IO[bytes]]]


def _kind_reason(kind: str) -> str | None:
    if kind in ("file", "dir"):
        return None
    return f"{kind} inside the archive (only plain files and folders are extracted)"


def _tar_members(raw: IO[bytes]) -> Iterator[Member]:
    with tarfile.open(fileobj=raw, mode="r:*") as tf:
        for m in tf:  # streamed: a .tar.gz is read once
            if m.isfile():
                kind = "file"
            elif m.isdir():
                kind = "dir"
            elif m.issym() or m.islnk():
                kind = f"link to {m.linkname!r}"
            elif m.isdev() or m.isfifo():
                kind = "device or pipe"
            else:
                kind = "special member"
            yield m.name, kind, m.size if kind == "file" else 0, lambda m=m, tf=tf: tf.extractfile(m)


def _zip_members(raw: IO[bytes]) -> Iterator[Member]:
    with zipfile.ZipFile(raw) as zf:
        for info in zf.infolist():
            kind_bits = stat.S_IFMT(info.external_attr >> 16)  # 0 when the archiver recorded no Unix type
            if info.is_dir():
                kind = "dir"
            elif kind_bits == stat.S_IFLNK:
                kind = "link"
            elif kind_bits not in (0, stat.S_IFREG):
                kind = "device or pipe"
            elif info.flag_bits & 0x1:
                kind = "encrypted member"
            else:
                kind = "file"
            yield info.filename, kind, info.file_size, lambda info=info, zf=zf: zf.open(info)


def _write(root: Path, name: str, kind: str, read: Callable[[], IO[bytes]], size: int) -> None:
    parts = [p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("", ".")]
    if not parts:
        return
    target = root.joinpath(*parts)
    if kind == "dir":
        target.mkdir(parents=True, exist_ok=True)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    # "xb": never through anything already there; the reader stops at the declared size.
    with read() as src, open(target, "xb") as out:
        copied = 0
        while block := src.read(_COPY):
            copied += len(block)
            if copied > size:
                raise _Refused(name, "the member holds more bytes than its header declares")
            out.write(block)
