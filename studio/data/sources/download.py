"""Resumable HTTP downloads with urllib: a `.part` file, Range requests, a size check, atomic rename."""

from __future__ import annotations

import http.client
import os
import re
import time
import urllib.error
import urllib.request
from pathlib import Path

from ..errors import DatasetError
from ..options import LoadOptions, Progress

CHUNK = 1 << 16
BACKOFF_S = 0.5  # wait BACKOFF_S × attempt between retries: enough for a flaky link to recover
USER_AGENT = "gan-studio"
_RANGE_RE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")


class DownloadError(Exception):
    """A download that could not be completed; `status` is the HTTP status when there was one."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class _Retry(Exception):
    """A transient failure: the connection dropped or the file came up short."""


def download(
    url: str, dest: Path, *, progress: Progress | None = None, retries: int = 3, timeout: float = 30.0
) -> Path:
    """Fetch `url` into `dest` unless it is already there; resume an interrupted `.part` file.

    `progress(done_bytes, total_bytes)` is called as data arrives (total 0 when the server does not
    say). The final file appears only when complete and of the announced size.
    """
    dest = Path(dest)
    if dest.is_file():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    attempt = 0
    while True:
        try:
            _fetch(url, part, progress, timeout)
            os.replace(part, dest)  # atomic: readers see no file or the whole file
            return dest
        except urllib.error.HTTPError as exc:
            raise DownloadError(f"{url}: the server answered HTTP {exc.code} {exc.reason}", exc.code) from None
        except (TimeoutError, _Retry, urllib.error.URLError, http.client.HTTPException, ConnectionError) as exc:
            attempt += 1
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            if attempt > retries:
                kept = f"; {part.stat().st_size:,} bytes kept in {part.name} to resume later" if part.exists() else ""
                raise DownloadError(f"{url}: download failed after {attempt} attempt(s): {reason}{kept}") from None
            time.sleep(BACKOFF_S * attempt)


def _total_from_range(header: str | None) -> tuple[int, int | None]:
    match = _RANGE_RE.match(header or "")
    if not match:
        return -1, None
    total = match.group(3)
    return int(match.group(1)), (None if total == "*" else int(total))


def _fetch(url: str, part: Path, progress: Progress | None, timeout: float) -> None:
    have = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": USER_AGENT}
    if have:
        headers["Range"] = f"bytes={have}-"
    try:
        resp = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:
            # Our partial file is at or past the end: complete if the sizes agree, else start over.
            total = (exc.headers.get("Content-Range") or "").rpartition("/")[2]
            if total.isdigit() and int(total) == have:
                return
            part.unlink(missing_ok=True)
            raise _Retry("the partial file did not match the server's copy; starting over") from None
        raise
    with resp:
        if have and resp.status == 206:
            start, total = _total_from_range(resp.headers.get("Content-Range"))
            if start != have:
                part.unlink(missing_ok=True)
                raise _Retry("the server resumed at the wrong offset; starting over")
        else:
            # 200: the server ignored the Range header (or there was none) and sends the whole file.
            have = 0
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
        done = have
        with part.open("ab" if have else "wb") as f:
            _report(progress, done, total)
            while True:
                try:
                    block = resp.read(CHUNK)
                except (http.client.IncompleteRead, OSError) as exc:
                    raise _Retry(f"connection lost after {done:,} bytes ({exc})") from None
                if not block:
                    break
                f.write(block)
                done += len(block)
                _report(progress, done, total)
            f.flush()
            os.fsync(f.fileno())
    if total is not None and done < total:
        raise _Retry(f"connection closed early: got {done:,} of {total:,} bytes")
    if total is not None and done > total:
        part.unlink(missing_ok=True)
        raise DownloadError(
            f"{url}: got {done:,} bytes but the server announced {total:,}; the partial file was deleted"
        )


def _report(progress: Progress | None, done: int, total: int | None) -> None:
    if progress is not None:
        try:
            progress(done, total or 0)
        except Exception:  # noqa: BLE001 - a UI callback's bug must not break the download
            pass


def fetch_into_cache(url: str, dest: Path, opts: LoadOptions, source: str, not_found: str) -> Path:
    """`download` for a dataset source: failures become one DatasetError naming the source and what to do.

    `not_found` is what an HTTP 404 means for this source (e.g. "there is no such category").
    """
    try:
        return download(url, dest, progress=opts.progress, retries=opts.retries, timeout=opts.timeout)
    except DownloadError as exc:
        if exc.status == 404:
            raise DatasetError(f"{source}: {not_found} (HTTP 404 for {url})") from None
        raise DatasetError(
            f"{source}: download failed: {exc}. Check the internet connection and try again "
            "(the download resumes); built-in sets (builtin:shapes, ...) work offline"
        ) from None
    except OSError as exc:
        raise DatasetError(
            f"{source}: cannot write the download to {dest.parent} ({exc.strerror or exc}); "
            "set STUDIO_CACHE_DIR to a writable folder"
        ) from None
