"""Run one function over a list of image files on every core, results in file order, with progress and cancel.

Decoding holds the GIL for much of its time (torchvision's decoder, Pillow's per-file Python), so
threads barely help: where the platform can fork, worker processes do the work, inheriting the
file list, and the calling process works beside them. Every process takes the next chunk from one
shared counter and writes its pixels straight into the shared output array; only the small
per-file results come back, through a pipe per worker. (A ProcessPoolExecutor cost a third more:
its workers waited for the pool's manager thread, which needs the interpreter lock the busy calling
process holds, before each task, and pixels sent through a pipe wait for the reader.) Elsewhere
threads do the work; small lists run inline. A progress callback that raises (the GUI's Cancel)
stops every worker after the chunk it is on.

It knows files only as openers: an opener that must not share its handle across processes (a zip
member, `openers.ZipMember`) reopens what it needs in the worker that calls it.
"""

from __future__ import annotations

import contextlib
import mmap
import multiprocessing
import multiprocessing.connection
import os
import signal
import struct
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from .images import Opener

INLINE_BELOW = 32  # fewer files than this decode in the calling thread: no worker start-up cost
CHUNK = 64  # files per progress report inline, and the fewest per task on workers
MAX_CHUNK = 512  # the most per task: a Cancel waits for at most one such chunk per worker

# A job maps a chunk's openers, and the rows of `out` for them (None without `out`), to a small
# picklable result per opener, writing each one's pixels into its row. Whole chunks, so that a job
# can batch work across files (resizing: studio/data/decode/resize.py). A job is a value (collection.py's
# ProbeJob and ReadJob dataclasses): what it needs travels with it.
Job = Callable[[Sequence[Opener], "np.ndarray | None"], list[Any]]
# What forked workers inherit: the job, the openers, the shared output (or one row's shape, or None), the chunks.
_job: tuple[Job, Sequence[Opener], np.ndarray | tuple[int, ...] | None, list[range]] | None = None
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


class _SharedMemory(mmap.mmap):
    """Memory that forked workers write into and this process sees."""


def output_array(shape: tuple[int, ...]) -> np.ndarray:
    """An uninitialised uint8 array for decoded images.

    Where workers fork, the memory is shared with them and each process writes its own rows: nothing
    is copied back, and the pages are faulted in by the processes that write them, on every core at
    once (for 245 MB, committing them up front took 0.14 s of this process's time alone). Otherwise
    (threads share memory anyway) it is committed up front: private memory faulting in page by page
    as images arrive cost 1.3 s for 245 MB here (no huge pages), against 0.2 s for the kernel to
    commit it at once (MAP_POPULATE).
    """
    nbytes = int(np.prod(shape))
    populate = getattr(mmap, "MAP_POPULATE", None)
    if can_fork() and nbytes:
        memory = _SharedMemory(-1, nbytes, flags=mmap.MAP_SHARED | mmap.MAP_ANONYMOUS)
        return np.frombuffer(memory, dtype=np.uint8).reshape(shape)
    if populate is None or nbytes < 2**24:
        return np.empty(shape, dtype=np.uint8)
    memory = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | populate)
    return np.frombuffer(memory, dtype=np.uint8).reshape(shape)


def _shared(array: np.ndarray | None) -> bool:
    while isinstance(array, np.ndarray):
        array = array.base
    return isinstance(array.obj if isinstance(array, memoryview) else array, _SharedMemory)


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
) -> list:
    """`job` over chunks of `openers` on `workers` workers, its results in file order, each file's
    pixels in its row of `out`; `report(done)` as chunks finish."""
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
        _run_processes(job, openers, chunks, report, workers, out, results)
    else:
        _run_threads(job, openers, chunks, report, workers, out, results)
    return results


def _inline(job: Job, openers: Sequence[Opener], chunk: range, out: np.ndarray | None, results: list) -> None:
    """One chunk in this process, straight into its rows of `out`."""
    rows = None if out is None else out[chunk.start : chunk.stop]
    results[chunk.start : chunk.stop] = job(openers[chunk.start : chunk.stop], rows)


def _start_worker() -> None:
    # The parent may have run parallel torch ops; GNU OpenMP's team does not survive a fork, so a worker
    # runs torch on one thread (no parallel region to hang in).
    import sys

    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
    # Ctrl-C reaches the whole process group: the caller stops the load (no chunk is taken after the
    # ones being decoded), so a worker need not print a KeyboardInterrupt of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_processes(job, openers, chunks, report, workers, out, results) -> None:
    """Forked workers and this process take chunks in turn from one shared counter, so nobody waits
    for a scheduler: each worker sends each chunk's results (and its pixels, unless it wrote them into
    the shared output) through a pipe of its own, read between this process's chunks."""
    global _job
    context = multiprocessing.get_context("fork")
    multiprocessing.active_children()  # reap the workers of earlier loads
    counter = _ChunkCounter(context, len(chunks))
    rows = out if out is None or _shared(out) else out.shape[1:]  # shared rows, or the shape of one
    workers_and_pipes = []
    with _job_lock:  # each worker is a copy of this process at its fork, _job included
        _job = (job, openers, rows, chunks)
        try:
            for _ in range(workers - 1):
                receive, send = context.Pipe(duplex=False)
                process = context.Process(target=_work, args=(send, counter), daemon=True)
                process.start()
                send.close()
                workers_and_pipes.append((process, receive))
        finally:
            _job = None
    live = {pipe: process for process, pipe in workers_and_pipes}
    taken: dict = {}  # each worker's chunk in hand (it says which before decoding it)
    done = 0

    def advance(count: int) -> None:  # one progress report per chunk finished, wherever
        nonlocal done
        done += count
        report(done)

    def gather(timeout: float | None) -> None:
        for pipe in multiprocessing.connection.wait(list(live), timeout):
            try:
                message = pipe.recv()
            except EOFError:
                process = live[pipe]
                process.join(1)
                raise WorkerCrashed(process.exitcode, chunks[taken[pipe]] if pipe in taken else None) from None
            if isinstance(message, int):  # the chunk it takes next
                taken[pipe] = message
            elif message is None:  # no chunks left for it
                del live[pipe]
            elif isinstance(message, BaseException):
                raise message
            else:
                k, part, pixels = message
                chunk = chunks[k]
                results[chunk.start : chunk.stop] = part
                if pixels is not None:
                    out[chunk.start : chunk.stop] = pixels
                advance(len(chunk))

    try:
        while (k := counter.take()) is not None:
            _inline(job, openers, chunks[k], out, results)
            advance(len(chunks[k]))
            gather(0)
        while live:
            gather(None)
    except BaseException:
        counter.stop()  # cancel, or a worker's failure: no chunk is taken after the ones being decoded now
        raise
    finally:
        for _, pipe in workers_and_pipes:
            pipe.close()  # a worker still sending gets a broken pipe and ends


class WorkerCrashed(RuntimeError):
    """A worker process died (a decoder crashed on some file): its exit code and the indices of the
    chunk it was decoding (None if unknown)."""

    def __init__(self, exitcode: int | None, chunk: range | None):
        super().__init__(f"a decoding worker process ended unexpectedly (exit code {exitcode})")
        self.exitcode, self.chunk = exitcode, chunk


class _ChunkCounter:
    """The index of the next chunk to take, shared by this process and the workers it forks.

    In a mapping of its own, not multiprocessing's shared heap (`Value`): the heap hands a freed
    block to the next allocation, and a cancelled load's workers, still finishing their chunk,
    would then take the next load's chunks from it (and those rows would never be decoded).
    """

    def __init__(self, context, total: int):
        self._memory = mmap.mmap(-1, 8, flags=mmap.MAP_SHARED | mmap.MAP_ANONYMOUS)
        self._lock = context.Lock()
        self.total = total

    def take(self) -> int | None:
        """The next chunk's index; None when all are taken."""
        with self._lock:
            (k,) = struct.unpack_from("q", self._memory)
            if k >= self.total:
                return None
            struct.pack_into("q", self._memory, 0, k + 1)
        return k

    def stop(self) -> None:
        """No chunk is taken from now on."""
        with self._lock:
            struct.pack_into("q", self._memory, 0, self.total)


def _work(pipe, counter) -> None:
    """A worker process: chunks until none are left, each one's results sent as (index, results, pixels)."""
    _start_worker()
    job, openers, rows, chunks = _job
    try:
        while (k := counter.take()) is not None:
            pipe.send(k)  # should the decoder crash on this chunk, the caller can say which files
            chunk = chunks[k]
            mine = openers[chunk.start : chunk.stop]
            if rows is None or isinstance(rows, np.ndarray):  # no pixels, or rows of the shared output
                pixels = None
                part = job(mine, None if rows is None else rows[chunk.start : chunk.stop])
            else:  # one array for the chunk's pixels: one pickle, not one per image
                pixels = np.zeros((len(chunk), *rows), dtype=np.uint8)
                part = job(mine, pixels)
            pipe.send((k, part, pixels))
        pipe.send(None)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the load was cancelled or failed: nobody is listening
    except Exception as exc:  # noqa: BLE001 - the caller raises it as its own
        try:
            pipe.send(exc)
        except Exception:  # noqa: BLE001 - an exception that does not pickle, or a closed pipe
            with contextlib.suppress(OSError):
                pipe.send(RuntimeError(f"a decoding worker failed: {type(exc).__name__}: {exc}"))
    finally:
        pipe.close()


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
