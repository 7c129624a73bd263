"""What the window costs training: images/s of the same run headless and with the studio window attached.

`measure_window_overhead()` trains the same tiny run alternately without and with the window (the
real MainWindow, Monitor tab visible, events pulled at 4 Hz) and returns both speeds and their
ratio, so `studio bench` can report it. Speeds are training images per second over the run's own
training time (data and model set-up excluded), the median of `repeats` runs each. Headless runs
train on a plain thread that ends with the run. On one more window run, a 10 ms timer on the GUI
thread measures how late the event loop serves it (the UI stall: its 99th percentile and maximum,
see `StallMeter`).

`measure_run_open(run_dir)` opens a long run with File → Open run and measures how long the call
holds the GUI thread, how late the 10 ms timer comes while the history loads, when curves show and
how much memory it takes (`studio bench`'s `runs` section).

`measure_compare_open(run_dirs)` opens eight such runs side by side in the Compare view and measures the
GUI thread's longest block while they are read (the same section).

`probe_first_paint(window)` is the launch-time probe: with $STUDIO_LAUNCH_PROBE set, the app prints
the wall-clock time of the window's first painted frame and exits (`studio bench` spawns it).
"""

from __future__ import annotations

import dataclasses
import gc
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


@dataclasses.dataclass
class _Clock:
    """Subscriber keeping the training time and step of the last logged scalars."""

    seconds: float = 0.0
    step: int = 0

    def __call__(self, event: Any) -> None:
        from ..engine.events import Scalars

        if isinstance(event, Scalars):
            self.seconds, self.step = event.time, event.step


def _speed(clock: _Clock, batch_size: int) -> float:
    return clock.step * batch_size / clock.seconds if clock.seconds > 0 else 0.0


def measure_window_overhead(steps: int = 300, method: str = "dcgan", preset: str | None = "tiny",
                            dataset: str = "builtin:shapes", image_size: int | None = 32, count: int | None = 1024,
                            device: str = "cpu", repeats: int = 3, log_every: int = 10, sample_every: int = 50,
                            threads: int | None = None, work_dir: str | Path | None = None) -> dict[str, Any]:
    """Train the same run headless and in the window `repeats` times each (alternating); return both speeds.

    The result holds `headless_images_per_sec`, `window_images_per_sec` (medians), `ratio` (the median
    of window / headless over back-to-back pairs, which cancels slow drifts in the machine's load; 1.0
    means the window costs nothing), the GUI thread's CPU seconds per window run, and every run's figure.
    """
    import torch

    from ..data import open_dataset
    from ..engine import RunConfig, Trainer
    from ..engine.device import describe_device, pick_device
    from ..methods import get_method

    if threads:
        torch.set_num_threads(threads)
    training_threads = torch.get_num_threads()  # read now: the window limits the GUI thread to one
    config = RunConfig(method=method, dataset=dataset, preset=preset, steps=steps, image_size=image_size,
                       dataset_count=count, device=device, log_every=log_every, sample_every=sample_every,
                       checkpoint_every=max(steps, 1))
    config.validate()
    data = open_dataset(dataset, size=image_size, count=count)
    batch = get_method(method).make_params(preset, {}).batch_size
    root = Path(work_dir) if work_dir else Path(tempfile.mkdtemp(prefix="studio-bench-"))
    headless: list[float] = []
    windowed: list[float] = []
    gui_cpu: list[float] = []
    stall = StallMeter()
    from ..settings import isolated_settings
    from .app import dispose

    with isolated_settings(root / "config"):
        window = _open_window()
        try:
            # A warm-up run first: the first run of a process pays for kernel selection and allocations.
            _headless_run(Trainer, config, data, root / "warmup", batch)
            for i in range(repeats):
                headless.append(_headless_run(Trainer, config, data, root / f"headless-{i}", batch))
                speed, cpu = _window_run(window, config, data, root / f"window-{i}", batch)
                windowed.append(speed)
                gui_cpu.append(cpu)
            # The stall meter wakes the GUI thread 100 times a second, which itself takes time from
            # training; so it runs on a run of its own, not on those the speeds come from.
            _window_run(window, config, data, root / "window-stall", batch, stall)
        finally:
            dispose(window)
    h, w = statistics.median(headless), statistics.median(windowed)
    pairs = [b / a for a, b in zip(headless, windowed, strict=True) if a > 0]
    ratio = statistics.median(pairs) if pairs else 0.0
    return {"headless_images_per_sec": h, "window_images_per_sec": w, "ratio": ratio,
            "ui_stall": stall.summary(),
            "gui_thread_cpu_seconds": gui_cpu, "headless_runs": headless, "window_runs": windowed, "steps": steps,
            "batch_size": batch,
            "method": method, "preset": preset, "dataset": dataset, "image_size": image_size,
            "device": describe_device(pick_device(device)), "threads": training_threads, "repeats": repeats}


def _headless_run(trainer_cls, config, data, run_dir: Path, batch: int) -> float:
    # On a plain thread that ends with the run, not on the GUI thread: a thread that trained keeps its CPU
    # thread team for life, which would slow the window runs after it (studio.threads explains why).
    clock = _Clock()
    errors: list[BaseException] = []

    def train() -> None:
        try:
            trainer_cls(dataclasses.replace(config), run_dir=run_dir, dataset=data, subscribers=(clock,)).run()
        except BaseException as exc:  # noqa: BLE001 - re-raised on the calling thread
            errors.append(exc)

    thread = threading.Thread(target=train, name="headless-training")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return _speed(clock, batch)


def _open_window():
    from PySide6.QtWidgets import QApplication

    from .app import make_app
    from .main_window import MainWindow

    make_app()
    window = MainWindow()
    window.interactive = False
    window.ask_before_close = False
    window.resize(1280, 800)
    window.show()
    window.tabs.setCurrentWidget(window.monitor_tab)  # the busiest tab: curves and grids redraw
    QApplication.processEvents()
    return window


def _window_run(window, config, data, run_dir: Path, batch: int,
                stall: StallMeter | None = None) -> tuple[float, float]:
    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    clock = _Clock()
    window.train_in_window(dataclasses.replace(config), run_dir, data, extra_subscribers=(clock,))
    loop = QEventLoop()
    window.runs.ended.connect(loop.quit)
    ticker = QTimer()
    ticker.setTimerType(Qt.TimerType.PreciseTimer)
    ticker.setInterval(round(StallMeter.INTERVAL * 1000))
    if stall is not None:
        stall.restart()
        ticker.timeout.connect(stall.tick)
        ticker.start()
    cpu = time.thread_time()
    if window.is_training():
        loop.exec()  # the real event loop, as in the app: timers fire, the GUI thread sleeps between them
    cpu = time.thread_time() - cpu
    window.runs.ended.disconnect(loop.quit)
    ticker.stop()
    QApplication.processEvents()
    return _speed(clock, batch), cpu


def measure_run_open(run_dir: str | Path, timeout: float = 300.0) -> dict[str, Any]:
    """Open `run_dir` in the window (offscreen) and measure it while its history loads (see `RunOpenMeasure`)."""
    from PySide6.QtWidgets import QApplication

    from ..settings import isolated_settings
    from .app import dispose

    with isolated_settings(Path(tempfile.mkdtemp(prefix="studio-bench-runs-config-"))):
        window = _open_window()
        try:
            monitor = window.monitor_tab
            seen: dict[str, float] = {}

            def open_now() -> None:
                if not window.open_run(run_dir):
                    raise RuntimeError(f"{run_dir}: the window did not open it ({window.last_error})")

            def history_shown(now: float) -> float | None:
                if "curves" not in seen and any(curve.xData is not None and len(curve.xData)
                                                for panel in monitor.panels.values()
                                                for curve in panel.curves.values()):
                    seen["curves"] = now
                loading = window.runs.backend is not None and getattr(window.runs.backend, "loading", False)
                if "history" not in seen and "curves" in seen and not loading:
                    seen["history"] = now
                return seen.get("history")

            call_ms, stall, memory_mb = _watch_opening(open_now, history_shown, timeout)
            points = sum(len(s) for panel in monitor.panels.values() for s in panel.series.values())
            result = {"open_call_ms": call_ms, "longest_block_ms": max(call_ms, stall["max_ms"]),
                      "seconds_to_curves": seen.get("curves"),
                      "seconds_to_history": seen.get("history"), "ui_stall": stall,
                      "memory_growth_mb": memory_mb, "records_shown": monitor.scalar_updates,
                      "points_drawn": points}
            window.stop_following()
            QApplication.processEvents()
        finally:
            dispose(window)
    return result


def measure_compare_open(run_dirs: list[str], timeout: float = 600.0) -> dict[str, Any]:
    """Open `run_dirs` (up to 8 long runs) in the Compare view (offscreen) and measure it while they are read:
    how long the call held the GUI thread, a 10 ms timer's lateness until a second after the last run was
    drawn, when the first and the last run's curves showed, and the peak memory growth."""
    from PySide6.QtWidgets import QApplication

    from .app import dispose, isolated_settings
    from .compare import open_compare

    with isolated_settings(Path(tempfile.mkdtemp(prefix="studio-bench-compare-config-"))):
        window = _open_window()
        try:
            view = window.compare_view
            window.tabs.setCurrentWidget(view)
            QApplication.processEvents()
            # The start-up's garbage first: the window collects on its own thread, and its first collections
            # after torch and the methods were imported (514,000 and 320,000 objects) took 430-470 ms under
            # load; they belong to the start-up, not to opening runs.
            gc.collect()
            seen: dict[str, float] = {}

            def all_runs_drawn(now: float) -> float | None:
                drawn = len({key for panel in view.charts.panels.values() for key, curve in panel.curves.items()
                             if curve.xData is not None and len(curve.xData)})
                if "first" not in seen and drawn:
                    seen["first"] = now
                if "all" not in seen and drawn >= len(run_dirs) and not view.loading:
                    seen["all"] = now
                return seen.get("all")

            call_ms, stall, memory_mb = _watch_opening(lambda: open_compare(window, list(run_dirs)),
                                                       all_runs_drawn, timeout)
            result = {"runs": len(run_dirs), "open_call_ms": call_ms,
                      "longest_block_ms": max(call_ms, stall["max_ms"]),
                      "seconds_to_first_run": seen.get("first"), "seconds_to_all_runs": seen.get("all"),
                      "ui_stall": stall, "memory_growth_mb": memory_mb,
                      "records_read": sum(r.scalar_records for r in view.comparison.runs),
                      "charts": len(view.charts.panels)}
            view.clear()
            QApplication.processEvents()
        finally:
            dispose(window)
    return result


def _watch_opening(open_now: Callable[[], None], done_at: Callable[[float], float | None],
                   timeout: float) -> tuple[float, dict[str, Any], float]:
    """Call `open_now()`, then serve a precise 10 ms timer until a second after `done_at(now)` names when the
    last thing to show was shown (now: seconds since the call), or `timeout` seconds. Returns the call's own
    milliseconds, the timer's lateness (`StallMeter.summary`) and the peak memory growth in MB over it all."""
    from PySide6.QtCore import QEventLoop, Qt, QTimer

    stall, memory, loop = StallMeter(), PeakMemory(), QEventLoop()
    try:
        began = time.perf_counter()

        def tick() -> None:
            stall.tick()
            now = time.perf_counter() - began
            done = done_at(now)
            if done is not None and now > done + 1.0 or now > timeout:
                loop.quit()  # a second more: the last redraws are measured too

        ticker = QTimer()
        ticker.setTimerType(Qt.TimerType.PreciseTimer)
        ticker.setInterval(round(StallMeter.INTERVAL * 1000))
        ticker.timeout.connect(tick)
        call = time.perf_counter()
        open_now()
        call_ms = (time.perf_counter() - call) * 1000
        stall.restart()
        ticker.start()
        loop.exec()
        ticker.stop()
    finally:
        memory_mb = memory.growth_mb()
    return call_ms, stall.summary(), memory_mb


class PeakMemory:
    """The process's peak resident memory, sampled every 10 ms on a thread of its own. Read on the GUI
    thread, /proc/self/statm waited 50-90 ms at times while a reader thread parsed a 98 MB log (behind the
    GIL the reader held in long calls, or the kernel's memory-map lock): the meter's own cost was being
    measured as the window's stall."""

    def __init__(self, interval: float = 0.01):
        from .perf import process_rss_bytes

        self._read = process_rss_bytes
        self.before = self.peak = process_rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), name="peak-memory", daemon=True)
        self._thread.start()

    def _run(self, interval: float) -> None:
        while not self._stop.wait(interval):
            self.peak = max(self.peak, self._read())

    def growth_mb(self) -> float:
        """Stop sampling; the peak's growth over the start, in MiB."""
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._read())
        return (self.peak - self.before) / 2**20


class StallMeter:
    """How late the GUI thread's event loop serves a 10 ms timer while training runs (no Qt here).

    Each tick records its lateness: the time since the previous tick minus the interval (0 when on
    time). The 99th percentile is the UI stall figure `studio bench` reports; target under 50 ms.
    """

    INTERVAL = 0.010

    def __init__(self) -> None:
        self.lateness: list[float] = []
        self._last: float | None = None

    def restart(self) -> None:
        """Forget the previous tick (a new run starts; the gap between runs is not a stall)."""
        self._last = None

    def tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self.lateness.append(max(0.0, now - self._last - self.INTERVAL))
        self._last = now

    def summary(self) -> dict[str, float]:
        """p50, p99 and max lateness in milliseconds, and the tick count."""
        if not self.lateness:
            return {"p50_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0, "ticks": 0, "interval_ms": self.INTERVAL * 1000}
        values = sorted(self.lateness)

        def pct(q: float) -> float:
            return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] * 1000

        return {"p50_ms": pct(0.50), "p99_ms": pct(0.99), "max_ms": values[-1] * 1000, "ticks": len(values),
                "interval_ms": self.INTERVAL * 1000}


def format_overhead(result: dict[str, Any]) -> str:
    """One line for the terminal."""
    return (f"{result['method']} ({result['preset']}) on {result['dataset']} at {result['image_size']} px, "
            f"{result['steps']} steps × {result['repeats']} on {result['device']} ({result['threads']} threads): "
            f"headless {result['headless_images_per_sec']:.0f} images/s, with the window "
            f"{result['window_images_per_sec']:.0f} images/s, ratio {result['ratio']:.3f} (median of pairs); "
            f"GUI thread CPU {statistics.median(result['gui_thread_cpu_seconds']):.1f} s per run; "
            f"UI stall p99 {result['ui_stall']['p99_ms']:.1f} ms")


RESULT_PREFIX = "STUDIO_BENCH_WINDOW "  # the line `studio bench` reads from this module run as a process
MEASURES = {"window": measure_window_overhead, "run-open": measure_run_open, "compare-open": measure_compare_open}


if __name__ == "__main__":  # python -m studio.gui.benchmark window|run-open ['{"steps": 300, ...}']
    import json
    import os
    import sys

    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    name = sys.argv[1] if len(sys.argv) > 1 else "window"
    options = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    res = MEASURES[name](**options)
    if name == "window":
        print(format_overhead(res), file=sys.stderr)
    print(RESULT_PREFIX + json.dumps(res), flush=True)
