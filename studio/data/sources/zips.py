"""A zip of an image folder, read member by member in memory: nothing is extracted to disk.

Member names are still checked, so an archive crafted with `../` or absolute paths (zip-slip) is
reported rather than trusted by any code that later extracts it.
"""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path, PurePosixPath

from ..dataset import Dataset, Skipped
from ..decode.collection import Item, Labels, LoadJob, folder_labels, load_items
from ..decode.openers import ZipMember
from ..errors import DatasetError
from ..options import LoadOptions
from .folders import split_candidates

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tgz", ".gz", ".bz2", ".xz", ".7z", ".rar")


def unsafe_member(name: str) -> str | None:
    """The reason a member name could escape an extraction folder, or None when it is safe."""
    if "\x00" in name:
        return "unsafe path in archive (NUL byte), rejected"
    posix = name.replace("\\", "/")
    if posix.startswith("/") or (len(posix) > 1 and posix[1] == ":"):
        return "unsafe absolute path in archive (zip-slip), rejected"
    if ".." in PurePosixPath(posix).parts:
        return "unsafe path with '..' in archive (zip-slip), rejected"
    return None


def open_archive(path: Path, source: str) -> zipfile.ZipFile:
    """Open a zip or raise DatasetError saying why it cannot be read."""
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise DatasetError(f"{source}: not a readable zip archive ({exc}); re-download or re-create it") from None


def zip_members(zf: zipfile.ZipFile, opts: LoadOptions, skipped: list[Skipped]) -> dict[str, zipfile.ZipInfo]:
    """Image-like members by name, after rejecting unsafe, encrypted, linked, nested and huge ones."""
    usable: dict[str, zipfile.ZipInfo] = {}
    for info in zf.infolist():
        name = info.filename
        if info.is_dir():
            continue
        reason = unsafe_member(name)
        if reason is None and info.flag_bits & 0x1:
            reason = "encrypted member; extract the archive with its password first"
        if reason is None and stat.S_ISLNK(info.external_attr >> 16):
            reason = "symbolic link inside the archive, not followed"
        if reason is None and name.lower().endswith(ARCHIVE_SUFFIXES):
            reason = "nested archive not opened; extract it and open the inner archive itself"
        if reason is None and info.file_size > opts.max_file_bytes:
            reason = f"member is {info.file_size:,} bytes uncompressed, over the {opts.max_file_bytes:,}-byte limit"
        if reason is not None:
            skipped.append(Skipped(name, reason))
        elif name not in usable:
            usable[name] = info
        else:
            skipped.append(Skipped(name, "duplicate name in archive; the first copy is used"))
    return usable


def member_opener(zf: zipfile.ZipFile, info: zipfile.ZipInfo, archive: Path) -> ZipMember:
    """An opener for one member of `archive` (open as `zf` here; reopened by any other process)."""
    return ZipMember(archive, info, zf)


def open_zip(path: Path, opts: LoadOptions, *, source: str | None = None) -> Dataset:
    """Load the images in a zip; sub-folders inside it become class labels."""
    source = source or str(path)
    skipped: list[Skipped] = []
    with open_archive(path, source) as zf:
        members = zip_members(zf, opts, skipped)
        names = split_candidates(list(members), skipped)
        classes, label_ids = folder_labels(names)
        items = [
            Item(n, member_opener(zf, members[n], path), n, None if label_ids is None else label_ids[i])
            for i, n in enumerate(names)
        ]
        return load_items(LoadJob(source, items, opts, skipped, labels=Labels(classes), archive=path))
