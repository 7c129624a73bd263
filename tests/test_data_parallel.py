"""The parallel runner (studio/data/decode/parallel.py): workers and this process share the chunks and the output."""

from __future__ import annotations

import os
import re
import time

import numpy as np
import pytest

from studio.data.decode import parallel

N = 300


def _openers(n: int = N) -> list:
    return [lambda i=i: i for i in range(n)]  # an "opener" here just gives its index


def _fill(openers, rows):
    """Row i is filled with i % 251; the result says which process did it."""
    time.sleep(0.02)  # long enough for a worker to start and take chunks too
    for row, opener in enumerate(openers):
        rows[row] = opener() % 251
    return [os.getpid()] * len(openers)


needs_fork = pytest.mark.skipif(not parallel.can_fork(), reason="worker processes need fork and one thread")


@needs_fork
def test_workers_write_their_rows_into_the_shared_output():
    out = parallel.output_array((N, 1, 4, 4))
    seen = []
    results = parallel.run(_fill, _openers(), seen.append, workers=2, out=out)
    assert (out[:, 0, 0, 0] == np.arange(N) % 251).all() and (out == out[:, :1, :1, :1]).all()
    assert len(set(results)) == 2 and os.getpid() in results  # both processes decoded
    assert seen == sorted(set(seen)) and seen[-1] == N  # one report per chunk, rising to the end


@needs_fork
def test_a_worker_that_dies_is_reported_not_waited_for():
    parent = os.getpid()

    def crash(openers, rows):
        if os.getpid() != parent:
            os._exit(3)  # what a decoder's segmentation fault looks like from here
        return _fill(openers, rows)

    with pytest.raises(parallel.WorkerCrashed, match="exit code 3") as crashed:
        parallel.run(crash, _openers(), lambda done: None, workers=2, out=parallel.output_array((N, 1, 4, 4)))
    assert crashed.value.exitcode == 3 and len(crashed.value.chunk) == parallel.CHUNK  # the chunk it died on


@needs_fork
def test_a_worker_error_is_raised_here():
    parent = os.getpid()

    def fail(openers, rows):
        if os.getpid() != parent:
            raise ValueError("bad chunk")
        return _fill(openers, rows)

    with pytest.raises(ValueError, match="bad chunk"):
        parallel.run(fail, _openers(), lambda done: None, workers=2, out=parallel.output_array((N, 1, 4, 4)))


def test_threads_and_inline_give_the_same_rows(monkeypatch):
    monkeypatch.setattr(parallel, "can_fork", lambda: False)
    for workers in (1, 2):
        out = parallel.output_array((N, 1, 4, 4))
        parallel.run(_fill, _openers(), lambda done: None, workers=workers, out=out)
        assert (out[:, 0, 0, 0] == np.arange(N) % 251).all()


@needs_fork
def test_a_cancelled_loads_workers_take_nothing_from_the_next_load():
    """The workers of a cancelled load finish the chunk they are on; they must not take the next load's chunks."""

    class Cancelled(Exception):
        pass

    def cancel(done):
        raise Cancelled

    for _ in range(3):
        with pytest.raises(Cancelled):
            parallel.run(_fill, _openers(), cancel, workers=2, out=parallel.output_array((N, 1, 4, 4)))
        out = parallel.output_array((N, 1, 4, 4))
        results = parallel.run(_fill, _openers(), lambda done: None, workers=2, out=out)
        assert None not in results and (out[:, 0, 0, 0] == np.arange(N) % 251).all()


@needs_fork
def test_ctrl_c_is_the_callers_to_handle_not_the_workers():
    """Ctrl-C goes to the whole process group; a worker ignores it and finishes its chunks (the caller,
    interrupted, stops the load), instead of dying with a traceback of its own."""
    import signal

    parent = os.getpid()

    def interrupted(openers, rows):
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGINT)
        return _fill(openers, rows)

    out = parallel.output_array((N, 1, 4, 4))
    results = parallel.run(interrupted, _openers(), lambda done: None, workers=2, out=out)
    assert len(set(results)) == 2 and (out[:, 0, 0, 0] == np.arange(N) % 251).all()


@needs_fork
def test_private_output_gets_the_workers_rows_through_the_pipe():
    """An output that is not shared (allocated while another thread ran) still gets every row."""
    out = np.zeros((N, 1, 4, 4), np.uint8)
    results = parallel.run(_fill, _openers(), lambda done: None, workers=2, out=out)
    assert len(set(results)) == 2 and (out[:, 0, 0, 0] == np.arange(N) % 251).all()


@needs_fork
def test_a_decoder_crash_names_the_files_it_was_decoding(tmp_path, monkeypatch):
    from PIL import Image

    from studio.data import DatasetError, open_dataset
    from studio.data.decode import images as images_mod

    for i in range(N):
        Image.new("RGB", (8, 8), (i % 256, 0, 0)).save(tmp_path / f"{i:04d}.png")
    parent, real = os.getpid(), images_mod.decode_squares

    def crashing(data, **kw):
        if os.getpid() != parent:
            time.sleep(0.01)
            os._exit(11)  # as a segmentation fault in a decoder would end the worker
        time.sleep(0.002)  # slow enough for the worker to take a chunk
        return real(data, **kw)

    monkeypatch.setattr("studio.data.decode.collection.decode_squares", crashing)
    expected = (re.escape(f"{tmp_path}: the image decoder crashed (worker exit code 11) on one of ")
                + r"\d+ files from \d{4}\.png to \d{4}\.png; move those files out")
    with pytest.raises(DatasetError, match=expected):
        open_dataset(tmp_path, size=8, decoded_cache=False)


def _read_members(openers, rows):
    """Each member's bytes and the process that read them."""
    time.sleep(0.02)  # long enough for a worker to start and take chunks too
    out = []
    for opener in openers:
        with opener() as fh:
            out.append((fh.read(), os.getpid()))
    return out


@needs_fork
def test_zip_members_reopen_their_archive_in_each_worker_process(tmp_path):
    """The runner knows files only as openers: a zip member reads through its own process's handle."""
    import pickle
    import zipfile

    from studio.data.decode.openers import ZipMember

    archive = tmp_path / "members.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for i in range(N):
            zf.writestr(f"m{i:04d}.bin", bytes([i % 251]) * (100 + i))
    source = open(parallel.__file__, encoding="utf-8").read()
    assert "import zipfile" not in source and "archive" not in source.lower()  # no archive format known there
    with zipfile.ZipFile(archive) as zf:
        openers = [ZipMember(archive, info, zf) for info in zf.infolist()]
        results = parallel.run(_read_members, openers, lambda done: None, workers=2)
    assert [data for data, _ in results] == [bytes([i % 251]) * (100 + i) for i in range(N)]
    assert len({pid for _, pid in results}) == 2  # both processes read, each through its own handle
    again = pickle.loads(pickle.dumps(openers[7]))  # the handle stays behind; the copy reopens the archive
    assert again.handle is None
    with again() as fh:
        assert fh.read() == bytes([7]) * 107
