"""The window's cost: training images/s headless and with the window attached, and the UI stall.

The measurement itself drives the Qt window, so it lives above the Qt line, in
`studio.gui.benchmark.measure_window_overhead`. `measure_window_in_process` runs that module as a
process of its own and reads its result line, so neither this package nor the `bench` command
imports `studio.gui`; the command passes it in (`run_bench(measure_window=...)`). Here: the contract
a measurement meets, that process, and the run's sizes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from typing import Any, Protocol

from .common import Log


class WindowMeasure(Protocol):
    """Trains the same run headless and in the window (offscreen) `repeats` times each, `steps` steps on
    `count` images; returns `headless_images_per_sec`, `window_images_per_sec`, their `ratio`, `method`,
    `preset` and `ui_stall` (the 99th percentile `p99_ms` of a 10 ms timer's lateness, with `p50_ms`,
    `max_ms`, `ticks`, `interval_ms`), and may add more figures."""

    def __call__(self, *, device: str, work_dir: str, threads: int | None, steps: int, repeats: int,
                 count: int) -> dict[str, Any]: ...


RESULT_PREFIX = "STUDIO_BENCH_WINDOW "  # the result line of `python -m studio.gui.benchmark`
TIMEOUT_S = 1800


def measure_in_window_process(measure: str, **options: Any) -> dict[str, Any]:
    """`python -m studio.gui.benchmark MEASURE OPTIONS` in a process of its own (offscreen where there is no
    display); its result line parsed. RuntimeError with the process's last output if it fails."""
    env = dict(os.environ)
    if sys.platform.startswith("linux") and not env.get("DISPLAY"):
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
    done = subprocess.run([sys.executable, "-m", "studio.gui.benchmark", measure, json.dumps(options, default=str)],
                          capture_output=True, text=True, env=env, timeout=TIMEOUT_S)
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX):])
    tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-6:])
    raise RuntimeError(f"the window measurement {measure!r} failed (exit code {done.returncode}): {tail}")


def measure_window_in_process(**options: Any) -> dict[str, Any]:
    """A `WindowMeasure`: training headless and with the window, in a process of its own."""
    return measure_in_window_process("window", **options)


def measure_run_open_in_process(run_dir, timeout: float = 300.0) -> dict[str, Any]:
    """A `RunOpenMeasure` (bench/runs.py): opening a long run in the window, in a process of its own."""
    return measure_in_window_process("run-open", run_dir=str(run_dir), timeout=timeout)


def measure_compare_open_in_process(run_dirs, timeout: float = 600.0) -> dict[str, Any]:
    """A `CompareOpenMeasure` (bench/runs.py): long runs opened side by side, in a process of its own."""
    return measure_in_window_process("compare-open", run_dirs=[str(r) for r in run_dirs], timeout=timeout)


def window_sections(measure: WindowMeasure, device, threads: int | None, quick: bool,
                    log: Log) -> tuple[dict[str, Any], dict[str, Any]]:
    """The `window` and `ui_stall` sections, from one call of `measure`.

    Runs of 300 steps (about 12 s on a 2-core CPU), 5 pairs: shorter runs were dominated by each run's
    start-up and by the machine's noise (single pairs ranged 0.89-1.06 around a median of 0.97).
    """
    with tempfile.TemporaryDirectory(prefix="studio-bench-window-") as work:
        options = dict(steps=20, repeats=1, count=256) if quick else dict(steps=300, repeats=5, count=1024)
        window = measure(device=str(device), work_dir=work, threads=threads, **options)
    ui_stall = window.pop("ui_stall")
    log(f"  headless {window['headless_images_per_sec']:.0f} images/s, window {window['window_images_per_sec']:.0f}"
        f" images/s, ratio {window['ratio']:.3f}; UI stall p99 {ui_stall['p99_ms']:.1f} ms")
    return window, ui_stall
