"""Run one function over a list of image files on every core, results in file order, with progress and cancel.

Decoding holds the GIL for much of its time (torchvision's decoder, Pillow's per-file Python), so
threads barely help: where the platform can fork, worker processes do the work, inheriting the
file list and writing pixels into a shared buffer (`shared_array`); only small results (header
facts, skip reasons) come back through pipes. Elsewhere threads do it. Small lists run inline.
A progress callback that raises (the GUI's Cancel) ends the workers at once.
"""

from __future__ import annotations

import functools
import mmap
import multiprocessing
import os
import threading
import zipfile
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from .images import Opener

INLINE_BELOW = 32  # fewer files than this decode in the calling thread: no worker start-up cost
CHUNK = 64  # files per progress report inline, and the fewest per task on workers
MAX_CHUNK = 1024  # the most per task: a Cancel waits for at most one such chunk per worker

Job = Callable[[int, Opener], Any]
_job: tuple[Job, Sequence[Opener]] | None = None  # what forked workers inherit
_job_lock = threading.Lock()


def can_fork() -> bool:
    """True where worker processes can inherit the parent's state (Linux and other Unixes)."""
    return "fork" in multiprocessing.get_all_start_methods() and os.name == "posix"


def worker_count(n: int) -> int:
    """How many workers for `n` files: one per core available to this process."""
    if n < INLINE_BELOW:
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(cores, -(-n // CHUNK)))


def chunk_size(n: int, workers: int) -> int:
    """Files per task: about eight tasks per worker (each task costs a round trip through a pipe)."""
    return max(CHUNK, min(MAX_CHUNK, n // (8 * workers)))


def shared_array(shape: tuple[int, ...], workers: int) -> np.ndarray:
    """A zeroed uint8 array that forked workers write into and the parent sees."""
    nbytes = int(np.prod(shape))
    if workers == 1 or not can_fork() or nbytes == 0:
        return np.zeros(shape, dtype=np.uint8)
    # An anonymous shared mapping: one copy of the pixels, no transfer back from the workers.
    return np.frombuffer(mmap.mmap(-1, nbytes), dtype=np.uint8).reshape(shape)


def run(
    job: Job,
    openers: Sequence[Opener],
    report: Callable[[int], None],
    *,
    workers: int,
    archive: Path | None = None,
    keys: Sequence[str] | None = None,
) -> list:
    """`[job(i, openers[i]) for i]`, on `workers` workers; `report(done)` after each chunk.

    For a zip (`archive` and its member names `keys`), each worker process opens the archive
    itself: a file offset shared across processes would interleave their reads.
    """
    n = len(openers)
    if workers <= 1 or n == 0:
        results = []
        for i, opener in enumerate(openers):
            results.append(job(i, opener))
            if (i + 1) % CHUNK == 0 or i + 1 == n:
                report(i + 1)
        return results
    size = chunk_size(n, workers)
    chunks = [range(s, min(n, s + size)) for s in range(0, n, size)]
    if can_fork():
        return _run_processes(job, openers, chunks, report, workers, archive, keys)
    return _run_threads(job, openers, chunks, report, workers)


def _run_chunk(chunk: range) -> list:
    job, openers = _job
    return [job(i, openers[i]) for i in chunk]


def _reopen_archive(archive: Path, keys: Sequence[str]) -> None:
    """In a worker: openers over this process's own handle on the zip (the first copy of each name)."""
    global _job
    zf = zipfile.ZipFile(archive)
    first: dict[str, zipfile.ZipInfo] = {}
    for info in zf.infolist():
        first.setdefault(info.filename, info)
    _job = (_job[0], [functools.partial(zf.open, first[k]) for k in keys])


def _run_processes(job, openers, chunks, report, workers, archive, keys) -> list:
    global _job
    initializer, initargs = (_reopen_archive, (archive, keys)) if archive is not None else (None, ())
    pool = ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("fork"), initializer=initializer, initargs=initargs
    )
    with _job_lock:  # the workers copy this process's memory when the first task starts them, _job included
        _job = (job, openers)
        try:
            futures = [pool.submit(_run_chunk, chunk) for chunk in chunks]
        finally:
            _job = None
    results: list = []
    try:
        for future in futures:
            results.extend(future.result())
            report(len(results))
    except BaseException:
        # Cancel, or a worker's failure: drop the queued chunks (those running end within a chunk).
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return results


def _run_threads(job, openers, chunks, report, workers) -> list:
    results: list = []
    with ThreadPoolExecutor(workers) as pool:
        try:
            for part in pool.map(lambda chunk: [job(i, openers[i]) for i in chunk], chunks):
                results.extend(part)
                report(len(results))
        except BaseException:
            # A cancelled load stops now, not after decoding every queued file.
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return results
