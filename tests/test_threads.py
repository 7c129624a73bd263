"""studio.threads: a thread limited to one CPU thread never starts an OpenMP team; other threads keep theirs."""

from __future__ import annotations

import os
import sys
import threading

import pytest
import torch

from studio.threads import limit_this_thread

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the OpenMP runtime in /proc")


def _os_threads() -> int:
    return len(os.listdir("/proc/self/task"))


def _in_thread(fn):
    result: dict = {}

    def body():
        try:
            result["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            result["error"] = exc

    thread = threading.Thread(target=body)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]


def _parallel_op() -> None:
    x = torch.randn(4_000_000)
    (x * 2).sum()


def _limited_then_unlimited() -> tuple:
    """In a fresh process: one thread limited to one CPU thread, then another left alone."""
    torch.set_num_threads(2)

    def limited():
        before = _os_threads()
        applied = limit_this_thread(1)
        _parallel_op()
        return applied, torch.get_num_threads(), _os_threads() - before

    def unlimited():
        before = _os_threads()
        _parallel_op()
        return torch.get_num_threads(), _os_threads() - before

    return (*_in_thread(limited), *_in_thread(unlimited))


def test_a_limited_thread_uses_one_cpu_thread_and_starts_no_team():
    # A fresh interpreter: OpenMP keeps the threads of ended teams for reuse, so in a process where other
    # tests have run, a new team may start without a new OS thread.
    import json
    import subprocess

    code = ("import json, sys; sys.path.insert(0, 'tests'); from test_threads import _limited_then_unlimited; "
            "print(json.dumps(_limited_then_unlimited()))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                          env={**os.environ, "OMP_NUM_THREADS": "2"})
    assert done.returncode == 0, done.stderr
    applied, threads, grown, other_threads, _ = json.loads(done.stdout.strip().splitlines()[-1])
    assert applied and threads == 1 and grown == 0
    # The limit is the calling thread's only: another thread still has two. (Whether its team shows as new OS
    # threads depends on libgomp reusing docked ones, which varied between runs on a loaded machine.)
    assert other_threads == 2


def test_the_limit_reaches_torch_when_another_package_brings_its_own_openmp():
    """scikit-learn bundles a libgomp of its own; limiting through it would leave torch's threads alone."""
    import subprocess

    pytest.importorskip("sklearn")
    code = ("import sklearn.linear_model, torch; torch.set_num_threads(2); "
            "from studio.threads import limit_this_thread; print(limit_this_thread(1), torch.get_num_threads())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "OMP_NUM_THREADS": "2"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "1"]
