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


@pytest.fixture
def two_threads():
    """torch's default of two CPU threads per thread (the tests run with one)."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def _parallel_op() -> None:
    x = torch.randn(4_000_000)
    (x * 2).sum()


def test_a_limited_thread_uses_one_cpu_thread_and_starts_no_team(two_threads):
    def limited():
        before = _os_threads()
        applied = limit_this_thread(1)
        _parallel_op()
        return applied, torch.get_num_threads(), _os_threads() - before

    def unlimited():
        before = _os_threads()
        _parallel_op()
        return torch.get_num_threads(), _os_threads() - before

    applied, threads, grown = _in_thread(limited)
    assert applied and threads == 1 and grown == 0
    # The limit is the calling thread's only: another thread still has two, and its team starts.
    threads, grown = _in_thread(unlimited)
    assert threads == 2 and grown >= 1
