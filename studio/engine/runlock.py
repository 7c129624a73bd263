"""One writer per run directory: an OS file lock on <run>/writer.lock, with a record of who holds it.

Two processes writing one run interleave their metrics and overwrite each other's checkpoints,
so every writer (`studio train`, new or `--resume`; the window's training; rank 0 of a torchrun
job, the rank that records the run) takes `RunLock` before it writes anything and holds it until
it ends. A second writer gets `RunLocked`, whose message names the holder and how to watch the run
instead. Readers (following, sampling, exporting, FID) never take the lock, so they never wait
and never make a writer wait.

The lock is `flock` (`msvcrt.locking` on Windows) on `writer.lock`: the kernel drops it when the
holding process ends in any way, SIGKILL and power loss included, so a dead writer never leaves a
run locked. The file also holds the holder's record (PID, host, command, start time) for the
message; a clean release empties it. On a file system without working locks (some network and
FUSE mounts) the record alone decides: the run is taken while the recorded PID is alive on this
host (a record from another host is believed).
"""

from __future__ import annotations

import errno
import itertools
import json
import os
import shlex
import socket
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

LOCK_FILE = "writer.lock"
# Errors of a file system that has no working locks: fall back to the record's PID.
_NO_LOCKS = {errno.ENOLCK, errno.EOPNOTSUPP, getattr(errno, "ENOTSUP", errno.EOPNOTSUPP), errno.ENOSYS,
             errno.EINVAL}
_WINDOWS_LOCK_OFFSET = 1 << 30  # Windows locks bytes; lock one far past the record, which stays readable


@dataclass(frozen=True)
class Holder:
    """Who writes a run: enough to name it in a message and to check it is alive."""

    pid: int
    host: str
    command: str
    started: float

    @classmethod
    def me(cls, command: str) -> Holder:
        return cls(os.getpid(), socket.gethostname(), command, time.time())

    @classmethod
    def parse(cls, data: bytes) -> Holder | None:
        """The record in a lock file, or None for an empty or unreadable one."""
        try:
            raw = json.loads(data)
            return cls(int(raw["pid"]), str(raw["host"]), str(raw["command"]), float(raw["started"]))
        except (ValueError, TypeError, KeyError):
            return None

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self)).encode("utf-8")

    @property
    def on_this_host(self) -> bool:
        return self.host == socket.gethostname()

    def alive(self) -> bool:
        """False only when the process is known to be gone (it ran on this host and has ended)."""
        return not self.on_this_host or _pid_alive(self.pid)

    def describe(self) -> str:
        """'PID 4242 on this host (studio train, started 10:31)'."""
        where = "this host" if self.on_this_host else self.host
        return f"PID {self.pid} on {where} ({self.command}, started {_clock(self.started)})"


class RunLocked(Exception):
    """Another process writes this run directory; `holder` says which (None if it left no record)."""

    def __init__(self, path: Path, holder: Holder | None):
        self.path = Path(path)
        self.holder = holder
        super().__init__(f"{self.who}; watch it with `studio --run {shlex.quote(str(self.path))}`")

    @property
    def who(self) -> str:
        """The message without the command-line hint (the window offers a Follow button instead)."""
        by = self.holder.describe() if self.holder is not None else "another process"
        return f"{self.path} is being written by {by}"


class RunLock:
    """The writer's lock on one run directory (which must exist): `with RunLock(dir, "studio train"):`."""

    def __init__(self, run_dir: str | Path, command: str):
        self.path = Path(run_dir)
        self.command = command
        self._fh = None

    @property
    def lock_path(self) -> Path:
        return self.path / LOCK_FILE

    @property
    def held(self) -> bool:
        return self._fh is not None

    def acquire(self) -> RunLock:
        """Take the lock now or raise RunLocked; never waits. OSError if the folder cannot be written."""
        if self.held:
            return self
        fh = open(self.lock_path, "a+b")  # never truncated before it is ours: the record is the holder's
        try:
            got = _try_lock(fh)
            if not got:
                holder = _read_holder(fh, wait=got is False)
                if got is False or (holder is not None and holder.pid != os.getpid() and holder.alive()):
                    raise RunLocked(self.path, holder)
            fh.seek(0)
            fh.truncate()
            fh.write(Holder.me(self.command).to_bytes())
            fh.flush()
        except BaseException:
            fh.close()  # closing drops the OS lock too
            raise
        self._fh = fh
        return self

    def release(self) -> None:
        """Empty the record and drop the lock (safe to call twice); the file itself stays."""
        fh, self._fh = self._fh, None
        if fh is None:
            return
        try:
            fh.seek(0)
            fh.truncate()  # a clean end leaves no holder behind, even where locks do not work
            fh.flush()
            if sys.platform == "win32":  # Windows may keep a closed handle's lock for a while
                import msvcrt

                fh.seek(_WINDOWS_LOCK_OFFSET)
                msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
        except OSError:
            pass
        finally:
            fh.close()  # closing drops the OS lock

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def new_run_dir(method: str, root: str | Path = "runs") -> Path:
    """Create and return a fresh runs/<method>-<time>; two runs started in the same second get
    <name> and <name>-2 (the folder is made with an exclusive mkdir, so the claim is atomic)."""
    base = Path(root) / f"{method}-{time.strftime('%Y%m%d-%H%M%S')}"
    base.parent.mkdir(parents=True, exist_ok=True)
    for n in itertools.count(1):
        candidate = base if n == 1 else base.with_name(f"{base.name}-{n}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise AssertionError("unreachable")


# --- the OS lock -----------------------------------------------------------------------------------
def _try_lock(fh) -> bool | None:
    """True: locked. False: another process holds it. None: this file system has no working locks."""
    try:
        if sys.platform == "win32":
            import msvcrt

            fh.seek(_WINDOWS_LOCK_OFFSET)
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    except OSError as exc:
        if sys.platform == "win32" and exc.errno in (errno.EACCES, errno.EDEADLK):
            return False
        if exc.errno in _NO_LOCKS:
            return None
        raise


def _read_holder(fh, wait: bool) -> Holder | None:
    # The holder writes its record just after locking: give it a moment if it is not there yet.
    for _ in range(20 if wait else 1):
        fh.seek(0)
        holder = Holder.parse(fh.read(4096))
        if holder is not None or not wait:
            return holder
        time.sleep(0.05)
    return None


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    if sys.platform == "win32":
        import ctypes

        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        ctypes.windll.kernel32.CloseHandle(handle)
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, as another user
    return True


def _clock(started: float) -> str:
    if time.strftime("%Y%m%d", time.localtime(started)) == time.strftime("%Y%m%d"):
        return time.strftime("%H:%M", time.localtime(started))
    return time.strftime("%b %d %H:%M", time.localtime(started))


# --- the register of training runs -----------------------------------------------------------------
REGISTER_ENV = "STUDIO_TRAINING_REGISTER"  # where trainers register (default: a folder per user in the temp dir)


def register_dir() -> Path:
    """The folder where this machine's training runs register while they train."""
    import tempfile

    folder = os.environ.get(REGISTER_ENV)
    if folder:
        return Path(folder)
    user = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    return Path(tempfile.gettempdir()) / f"gan-studio-{user}" / "training"


class TrainingEntry:
    """One training run's entry in the register: a file of its own, locked while the run trains.

    A run's lock on its directory says who writes it; this entry says, machine-wide, that it trains,
    so that runs started apart can count each other (`live_entries`) and share the cores. The kernel
    drops the lock when the process ends in any way; an entry whose lock is free is stale and removed
    by whoever finds it.
    """

    def __init__(self, run_dir: str | Path | None = None, register: str | Path | None = None):
        self.register = Path(register) if register is not None else register_dir()
        self.run_dir = str(run_dir) if run_dir is not None else ""
        self.path: Path | None = None
        self._fh = None

    @property
    def held(self) -> bool:
        return self._fh is not None

    def join(self) -> TrainingEntry:
        """Enter the register (OSError if its folder cannot be written)."""
        if self.held:
            return self
        self.register.mkdir(parents=True, exist_ok=True)
        # Named by start time, so every reader orders the runs alike; locked under a name readers skip, then
        # renamed into view, so no reader ever finds it unlocked and takes it for stale.
        name = f"{time.time_ns():020d}-{os.getpid()}-{id(self):x}"
        path = self.register / f"{name}.lock"
        hidden = path if sys.platform == "win32" else self.register / f".{name}"  # Windows renames no open file
        fh = open(hidden, "a+b")
        try:
            _try_lock(fh)  # True; None on a file system without locks, where the record's PID decides
            fh.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "run": self.run_dir}).encode())
            fh.flush()
            if hidden != path:
                os.replace(hidden, path)
        except BaseException:
            fh.close()
            hidden.unlink(missing_ok=True)
            raise
        self._fh, self.path = fh, path
        return self

    def leave(self) -> None:
        """Leave the register (safe to call twice)."""
        fh, self._fh = self._fh, None
        if fh is None:
            return
        try:
            self.path.unlink()
        except OSError:
            pass
        fh.close()


def live_entries(register: str | Path | None = None) -> list[Path]:
    """The register's entries of runs training now, in the order they joined; stale entries are removed."""
    folder = Path(register) if register is not None else register_dir()
    try:
        names = sorted(folder.glob("*.lock"))
    except OSError:
        return []
    live = []
    for path in names:
        try:
            fh = open(path, "rb")
        except OSError:
            continue  # removed meanwhile: it left
        with fh:
            got = _try_lock(fh)
            if got is False:
                live.append(path)
            elif got is None:  # no working locks here: believe a live process on this host
                record = _entry_record(fh)
                if record is None or _pid_alive(int(record.get("pid", 0))):
                    live.append(path)
            else:
                try:
                    path.unlink()  # its run ended without leaving (killed): the lock died with it
                except OSError:
                    pass
    return live


def _entry_record(fh) -> dict | None:
    fh.seek(0)
    try:
        record = json.loads(fh.read(4096))
    except ValueError:
        return None
    return record if isinstance(record, dict) else None
