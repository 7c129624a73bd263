"""Shared test set-up: headless Qt, a throw-away settings folder, and no QThread left running."""

import gc
import os
import tempfile

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Tests never read or write the user's real settings file.
os.environ.setdefault("STUDIO_CONFIG_DIR", tempfile.mkdtemp(prefix="studio-test-config-"))
# ... nor its caches (downloads, FID statistics, classifiers).
os.environ.setdefault("STUDIO_CACHE_DIR", tempfile.mkdtemp(prefix="studio-test-cache-"))
# One compute thread per process (STUDIO_TEST_THREADS to change): on a 2-core CI machine torch's
# default spin-waiting threads, with subprocesses beside them, make training ten times slower.
THREADS = os.environ.get("STUDIO_TEST_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", THREADS)  # inherited by the CLI subprocesses tests start
import torch  # noqa: E402

torch.set_num_threads(int(THREADS))


@pytest.fixture(autouse=True)
def torch_threads():
    """Every test starts on the suite's torch threads (STUDIO_TEST_THREADS, default 1): tiny networks run
    fastest on one, and on a shared 2-core machine more are up to ten times slower. A test that changes
    the count has it put back."""
    before = torch.get_num_threads()
    torch.set_num_threads(int(THREADS))
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def no_qthread_left_running(monkeypatch):
    """Fail a test that leaves a QThread running (every started QThread is recorded)."""
    try:
        from PySide6.QtCore import QThread
    except ImportError:
        yield
        return
    started = []
    original = QThread.start

    def start(self, *args, **kwargs):
        started.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(QThread, "start", start)
    yield
    running = [t for t in started if _is_running(t)]
    for thread in running:  # end them so the next test starts clean, then fail this one
        thread.quit()
        thread.wait(30_000)
    assert not running, f"QThreads left running: {[t.objectName() or repr(t) for t in running]}"


@pytest.fixture(autouse=True)
def collect_garbage_on_the_main_thread():
    """The window turns automatic collection off (studio/gui/collector.py); between tests the main thread collects."""
    yield
    if not gc.isenabled():
        from studio.gui.collector import collect_if_due

        collect_if_due()


def _is_running(thread) -> bool:
    try:
        return thread.isRunning()
    except RuntimeError:  # the C++ object is gone: it cannot be running
        return False


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    """The real studio window (1280×800, offscreen) with its own settings folder and no modal dialogs;
    afterwards any run it started, in a thread or in training processes, is stopped."""
    from studio.gui.main_window import MainWindow

    monkeypatch.setenv("STUDIO_CONFIG_DIR", str(tmp_path / "config"))
    w = MainWindow()
    w.interactive = False
    w.ask_before_close = False
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    yield w
    w.runs.stop_and_wait(60_000)
