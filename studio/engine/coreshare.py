"""Training runs side by side share the cores: each run's torch thread count is its share of them.

Every torch process spins an OpenMP team as wide as the machine, so three runs on 2 cores each woke
two threads for every op and the three together ran about 9× slower than one alone. Each training run
enters the machine's register of training runs while it trains (`runlock.TrainingEntry`: a locked
file beside the others, dropped by the kernel when the process ends), counts the live entries, and
sets its thread count to its share of the cores: cores // runs, the first `cores % runs` runs (in the
order they joined) one more, never more than the run started with (OMP_NUM_THREADS, --threads, a
test's one thread), never fewer than one. It looks again at most every `CHECK_SECONDS`, from the
trainer's own thread, so a run that starts or ends elsewhere changes the others' share within
seconds. STUDIO_SHARE_CORES=0 turns it off (each run then keeps torch's own count).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from .runlock import TrainingEntry, live_entries

CHECK_SECONDS = 1.0
SHARE_ENV = "STUDIO_SHARE_CORES"


def machine_cores() -> int:
    """The cores this process may run on (its affinity where the OS says, else the CPU count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def share_of(cores: int, runs: int, rank: int) -> int:
    """The threads of the run `rank` (0 first) of `runs` sharing `cores`: at least one."""
    runs = max(1, runs)
    return max(1, cores // runs + (1 if rank < cores % runs else 0))


class CoreShare:
    """One training run's place among the machine's runs; `adjust()` from the thread that trains."""

    def __init__(self, run_dir: str | Path | None = None, register: str | Path | None = None,
                 cores: int | None = None):
        self.entry = TrainingEntry(run_dir, register)
        self.cores = cores or machine_cores()
        self.enabled = os.environ.get(SHARE_ENV, "1") != "0"
        self.base: int | None = None  # the threads the run started with: the most it ever takes
        self.threads: int | None = None  # the count set now
        self.runs = 1  # how many runs trained at the last look
        self._checked = 0.0

    def adjust(self, force: bool = False) -> int | None:
        """Join the register if not yet, count the runs, and set this thread's torch thread count to the
        share (at most every CHECK_SECONDS unless `force`); the count, or None when sharing is off."""
        if not self.enabled:
            return None
        now = time.monotonic()
        if not force and now - self._checked < CHECK_SECONDS:
            return self.threads
        self._checked = now
        import torch

        if self.base is None:
            self.base = torch.get_num_threads()
            try:
                self.entry.join()
            except OSError:
                self.enabled = False  # a register that cannot be written: train as torch would
                return None
        live = live_entries(self.entry.register)
        self.runs = max(1, len(live))
        rank = live.index(self.entry.path) if self.entry.path in live else len(live)
        threads = min(self.base, share_of(self.cores, self.runs, rank))
        if threads != self.threads:
            torch.set_num_threads(threads)
            self.threads = threads
        return threads

    def leave(self) -> None:
        """Leave the register (the run ended); the thread count is left as it is."""
        self.entry.leave()
