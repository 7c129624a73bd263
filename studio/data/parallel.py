"""Run one function over a list of image files on every core, results in file order, with progress and cancel.

Decoding holds the GIL for much of its time (torchvision's decoder, Pillow's per-file Python), so
threads barely help: where the platform can fork, worker processes do the work, inheriting the
file list, and the calling process works beside them. Pixels come back per chunk through the
pipe into private memory: a shared mapping would be faulted in 4 KiB page by page (shared memory
gets no huge pages), which costs more than the copy. Elsewhere threads do the work; small lists
run inline. A progress callback that raises (the GUI's Cancel) ends the workers at once.
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
MAX_CHUNK = 512  # the most per task: a Cancel waits for at most one such chunk per worker

# A job maps a chunk's openers, and the rows of `out` for them (None without `out`), to a small
# picklable result per opener, writing each one's pixels into its row. Whole chunks, so that a job
# can batch work across files (resizing: studio/data/resize.py).
Job = Callable[[Sequence[Opener], "np.ndarray | None"], list[Any]]
_job: tuple[Job, Sequence[Opener], tuple[int, ...] | None] | None = None  # what forked workers inherit
_job_lock = threading.Lock()


def can_fork() -> bool:
    """True where worker processes can inherit the parent's state (Linux and other Unixes) safely: only from
    a process whose one Python thread is the caller. In the window (Qt's threads, a loader thread) a fork
    holds the interpreter lock long enough to freeze a frame and copies locks other threads may hold, so
    threads do the work there."""
    return ("fork" in multiprocessing.get_all_start_methods() and os.name == "posix"
            and threading.active_count() == 1 and threading.current_thread() is threading.main_thread())


def worker_count(n: int) -> int:
    """How many workers for `n` files (the calling process counts as one): one per core available."""
    if n < INLINE_BELOW:
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(cores, -(-n // CHUNK)))


def output_array(shape: tuple[int, ...]) -> np.ndarray:
    """An uninitialised uint8 array for decoded images, its memory committed up front.

    Fresh memory faults in page by page on first write: for 245 MB that cost 1.3 s here (this
    machine gives no huge pages), against 0.2 s for the kernel to commit it at once (MAP_POPULATE).
    """
    nbytes = int(np.prod(shape))
    flags = getattr(mmap, "MAP_POPULATE", None)
    if flags is None or nbytes < 2**24:
        return np.empty(shape, dtype=np.uint8)
    memory = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | flags)
    return np.frombuffer(memory, dtype=np.uint8).reshape(shape)


def chunk_size(n: int, workers: int) -> int:
    """Files per task: about eight tasks per worker (each task costs a round trip through a pipe)."""
    return max(CHUNK, min(MAX_CHUNK, n // (8 * workers)))


def run(
    job: Job,
    openers: Sequence[Opener],
    report: Callable[[int], None],
    *,
    workers: int,
    out: np.ndarray | None = None,
    archive: Path | None = None,
    keys: Sequence[str] | None = None,
) -> list:
    """`job` over chunks of `openers` on `workers` workers, its results in file order, each file's
    pixels in its row of `out`; `report(done)` as chunks finish.

    For a zip (`archive` and its member names `keys`), each worker process opens the archive
    itself: a file offset shared across processes would interleave their reads.
    """
    n = len(openers)
    results: list = [None] * n
    if workers <= 1 or n == 0:
        for start in range(0, n, CHUNK):
            _inline(job, openers, range(start, min(n, start + CHUNK)), out, results)
            report(min(n, start + CHUNK))
        return results
    size = chunk_size(n, workers)
    chunks = [range(s, min(n, s + size)) for s in range(0, n, size)]
    if can_fork():
        _run_processes(job, openers, chunks, report, workers, archive, keys, out, results)
    else:
        _run_threads(job, openers, chunks, report, workers, out, results)
    return results


def _inline(job: Job, openers: Sequence[Opener], chunk: range, out: np.ndarray | None, results: list) -> None:
    """One chunk in this process, straight into its rows of `out`."""
    rows = None if out is None else out[chunk.start : chunk.stop]
    results[chunk.start : chunk.stop] = job(openers[chunk.start : chunk.stop], rows)


def _run_chunk(chunk: range) -> tuple[list, np.ndarray | None]:
    """In a worker: one chunk's results and its pixels as one array (one pickle, not one per image)."""
    job, openers, row = _job
    pixels = None if row is None else np.zeros((len(chunk), *row), dtype=np.uint8)
    return job(openers[chunk.start : chunk.stop], pixels), pixels


def _reopen_archive(archive: Path, keys: Sequence[str]) -> None:
    """In a worker: openers over this process's own handle on the zip (the first copy of each name)."""
    global _job
    zf = zipfile.ZipFile(archive)
    first: dict[str, zipfile.ZipInfo] = {}
    for info in zf.infolist():
        first.setdefault(info.filename, info)
    _job = (_job[0], [functools.partial(zf.open, first[k]) for k in keys], _job[2])


def _start_worker(archive: Path | None, keys: Sequence[str] | None) -> None:
    # The parent may have run parallel torch ops; GNU OpenMP's team does not survive a fork, so a worker
    # runs torch on one thread (no parallel region to hang in).
    import sys

    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
    if archive is not None:
        _reopen_archive(archive, keys)


def _run_processes(job, openers, chunks, report, workers, archive, keys, out, results) -> None:
    global _job
    initializer, initargs = _start_worker, (archive, keys)
    pool = ProcessPoolExecutor(
        workers - 1, mp_context=multiprocessing.get_context("fork"), initializer=initializer, initargs=initargs
    )
    with _job_lock:  # the workers copy this process's memory when the first task starts them, _job included
        _job = (job, openers, None if out is None else out.shape[1:])
        try:
            futures = [pool.submit(_run_chunk, chunk) for chunk in chunks]
        finally:
            _job = None
    done = 0

    def collect(k: int) -> None:
        nonlocal done
        part, pixels = futures[k].result()
        chunk = chunks[k]
        results[chunk.start : chunk.stop] = part
        if pixels is not None:
            out[chunk.start : chunk.stop] = pixels
        done += len(chunk)

    try:
        pending = list(range(len(chunks)))
        # This process works too, taking chunks from the back of the queue while the workers take
        # them from the front, and gathers what the workers finished between its own chunks.
        while pending and futures[pending[-1]].cancel():
            chunk = chunks[pending.pop()]
            _inline(job, openers, chunk, out, results)
            done += len(chunk)
            report(done)
            for k in [k for k in pending if futures[k].done()]:
                collect(k)
                pending.remove(k)
                report(done)
        for k in pending:
            collect(k)
            report(done)
    except BaseException:
        # Cancel, or a worker's failure: drop the queued chunks (those running end within a chunk).
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=False)  # the workers exit on their own; waiting for that only adds time


def _run_threads(job, openers, chunks, report, workers, out, results) -> None:
    def work(chunk: range) -> None:
        _inline(job, openers, chunk, out, results)

    done = 0
    with ThreadPoolExecutor(workers) as pool:
        try:
            for chunk, _ in zip(chunks, pool.map(work, chunks), strict=True):
                done += len(chunk)
                report(done)
        except BaseException:
            # A cancelled load stops now, not after decoding every queued file.
            pool.shutdown(wait=False, cancel_futures=True)
            raise
