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

import ctypes
import functools
from collections.abc import Callable
from pathlib import Path

_RUNTIMES = ("libgomp", "libiomp", "libomp")  # GNU, Intel and LLVM OpenMP


def limit_this_thread(threads: int = 1) -> bool:
    """Make torch's CPU ops on the calling thread use at most `threads` threads; True if that holds now."""
    import torch

    torch.get_num_threads()  # runs torch's lazy per-thread set-up first, so it cannot undo this later
    setter = _omp_set_num_threads()
    if setter is None:
        return False
    setter(int(threads))
    return torch.get_num_threads() <= threads


@functools.lru_cache(maxsize=1)
def _omp_set_num_threads() -> Callable[[int], None] | None:
    """`omp_set_num_threads` of the OpenMP runtime torch loaded (None where it cannot be found)."""
    for path in _loaded_libraries():
        if Path(path).name.startswith(_RUNTIMES):
            try:
                return ctypes.CDLL(path).omp_set_num_threads
            except (OSError, AttributeError):
                continue
    return None


def _loaded_libraries() -> list[str]:
    """Shared libraries mapped into this process (Linux: /proc/self/maps; elsewhere none are found)."""
    try:
        lines = Path("/proc/self/maps").read_text().splitlines()
    except OSError:
        return []
    paths = {line.split(maxsplit=5)[5] for line in lines if len(line.split(maxsplit=5)) == 6}
    return sorted(p for p in paths if ".so" in Path(p).name)
