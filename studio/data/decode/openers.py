"""Openers that reopen themselves in another process: a zip member opened through this process's own handle
on its archive.

A file on disk is opened by its path anywhere (`images.PathOpener`). A zip member is read through a
`ZipFile`, whose file offset must not be shared: a forked decoding worker, or a DataLoader worker,
reading through the parent's handle would interleave its reads with the parent's. So a `ZipMember`
keeps the handle it was made with for the process that made it, and any other process opens the
archive once for itself (one handle per archive per process, kept while the process lives). The
decoders call an opener and never learn where the bytes come from.
"""

from __future__ import annotations

import os
import threading
import zipfile
from pathlib import Path
from typing import IO

_handles: dict[str, zipfile.ZipFile] = {}  # this process's own handle on each archive, by absolute path
_handles_pid = os.getpid()
_handles_lock = threading.Lock()


def archive_handle(archive: str | os.PathLike) -> zipfile.ZipFile:
    """This process's handle on `archive`, opened on first use (a forked process opens its own)."""
    global _handles_pid
    key = os.path.abspath(archive)
    with _handles_lock:
        if _handles_pid != os.getpid():  # a fork's copy of the parent's handles: never read through them
            _handles.clear()
            _handles_pid = os.getpid()
        handle = _handles.get(key)
        if handle is None:
            handle = _handles[key] = zipfile.ZipFile(key)
        return handle


class ZipMember:
    """Opens one member of a zip (an Opener); ZipExtFile never yields more than the declared size.

    `handle` is the caller's open ZipFile, used in the process that made the opener; elsewhere the
    archive is reopened by path. Picklable: the handle stays behind.
    """

    __slots__ = ("archive", "info", "handle", "pid")

    def __init__(self, archive: str | os.PathLike, info: zipfile.ZipInfo | str,
                 handle: zipfile.ZipFile | None = None):
        self.archive, self.info, self.handle, self.pid = Path(archive), info, handle, os.getpid()

    def __call__(self) -> IO[bytes]:
        handle = self.handle if self.handle is not None and self.pid == os.getpid() else archive_handle(self.archive)
        return handle.open(self.info)

    def __getstate__(self) -> dict:
        return {"archive": self.archive, "info": self.info, "handle": None, "pid": None}

    def __setstate__(self, state: dict) -> None:
        for name, value in state.items():
            setattr(self, name, value)
