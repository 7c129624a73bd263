"""Per-thread CPU parallelism: threads that do only light torch work run it on one core.

Why it matters: with GNU OpenMP (torch's CPU backend on Linux) every thread that has run a parallel
torch op keeps its own team of idle helper threads for as long as it lives. Once the process holds
more such threads than there are CPUs, libgomp stops spinning between parallel regions ("throttled"
waiting), so the trainer's team goes through the kernel to wake for every op. One idle team beside
the trainer's cost a tiny DCGAN about 9% of its images/s on 2 cores. The GUI thread therefore runs
its torch work (previews, snapshots) on one thread and never creates a team; background threads that
need the cores end when idle, which frees theirs (see studio.latent.worker).

`omp_set_num_threads` sets the calling thread's team size only; other threads keep torch's default.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
from collections.abc import Callable, Iterator
from pathlib import Path

_RUNTIMES = ("libgomp", "libiomp", "libomp")  # GNU, Intel and LLVM OpenMP


def limit_this_thread(threads: int = 1) -> bool:
    """Make torch's CPU ops on the calling thread use at most `threads` threads; True if that holds now."""
    import torch

    torch.get_num_threads()  # runs torch's lazy per-thread set-up first, so it cannot undo this later
    # Other packages may load an OpenMP runtime of their own (scikit-learn bundles a libgomp): the
    # one that limits torch is the one torch then reports the limit from.
    for setter in _omp_setters():
        setter(int(threads))
        if torch.get_num_threads() <= threads:
            return True
    return False


@functools.lru_cache(maxsize=1)
def _omp_setters() -> tuple[Callable[[int], None], ...]:
    """`omp_set_num_threads` of every OpenMP runtime loaded, those in torch's own folders first."""
    import torch

    home = str(Path(torch.__file__).resolve().parent.parent)  # site-packages: torch/lib, torch.libs
    found = []
    for path in sorted(_loaded_libraries(), key=lambda p: not (p.startswith(home) and "torch" in p)):
        if Path(path).name.startswith(_RUNTIMES):
            try:
                found.append(ctypes.CDLL(path).omp_set_num_threads)
            except (OSError, AttributeError):
                continue
    return tuple(found)


def _loaded_libraries() -> list[str]:
    """Shared libraries mapped into this process (Linux: /proc/self/maps; elsewhere none are found)."""
    try:
        lines = Path("/proc/self/maps").read_text().splitlines()
    except OSError:
        return []
    paths = {line.split(maxsplit=5)[5] for line in lines if len(line.split(maxsplit=5)) == 6}
    return sorted(p for p in paths if ".so" in Path(p).name)


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Torch's CPU ops inside the block run on the calling thread alone; its team size comes back after.

    For short batched work beside other workers (a loader's process decoding next to its worker
    processes): a team of its own would oversubscribe the cores they already fill.
    """
    import torch

    before = torch.get_num_threads()
    if before <= 1:
        yield
        return
    limit_this_thread(1)
    try:
        yield
    finally:
        limit_this_thread(before)
