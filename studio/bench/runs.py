"""Long runs: opening a 500,000-record run in the window, and `studio compare` over it.

`write_long_run` makes the run directory a 5M-step DCGAN run logged every 10 steps leaves (about
100 MB of metrics.jsonl, a KID evaluation every 50,000 steps, a few NaN losses written as text),
quickly and without training. Opening it drives the window, so that measurement lives in
`studio.gui.benchmark.measure_run_open` and is passed in (`run_bench(measure_runs=...)`), like the
window's; `studio compare`'s reading of the same run is measured here.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..engine.rundir import RunDirectory
from ..engine.state import RunState
from .common import Log

SCALARS = ("d_fake", "d_loss", "d_real", "g_loss", "images_per_sec")  # what DCGAN logs
LINE = ('{{"step": {}, "time": {}, "d_fake": {!r}, "d_loss": {!r}, "d_real": {!r}, "g_loss": {!r}, '
        '"images_per_sec": {!r}}}\n')  # as json.dumps writes a record


class RunOpenMeasure(Protocol):
    """Opens the run directory `run_dir` with File → Open run in the window (offscreen) and returns
    `open_call_ms` (how long the call held the window's thread), `seconds_to_curves` (until a curve
    was drawn), `seconds_to_history` (until the whole history was shown), `ui_stall` (the 10 ms
    timer's lateness while it loaded: `p50_ms`, `p99_ms`, `max_ms`, `ticks`) and `memory_growth_mb`
    (the process's peak resident memory while it loaded, less before); it may add more figures."""

    def __call__(self, *, run_dir: str) -> dict[str, Any]: ...


class CompareOpenMeasure(Protocol):
    """Opens the run directories `run_dirs` side by side in the window's Compare view (offscreen) and returns
    `open_call_ms`, `longest_block_ms` (the GUI thread's longest block while they are read and drawn),
    `ui_stall`, `seconds_to_first_run`, `seconds_to_all_runs` and `memory_growth_mb`; it may add more."""

    def __call__(self, *, run_dirs: list[str]) -> dict[str, Any]: ...


COMPARED_RUNS = 8  # the most the Compare view shows


def write_long_run(folder: str | Path, records: int = 500_000, log_every: int = 10, eval_every: int = 5000,
                   seed: int = 0) -> Path:
    """A finished run directory with `records` scalar records (and a KID record every `eval_every`)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    steps = records * log_every
    run = {"method": "dcgan", "dataset": "builtin:shapes", "preset": "tiny", "params": {}, "steps": steps,
           "seed": seed, "device": "cpu", "image_size": 16, "log_every": log_every, "sample_every": steps,
           "checkpoint_every": steps, "eval_every": eval_every * log_every}
    spec = {"kind": "images", "channels": 3, "image_size": 16, "point_dim": 0, "label_dim": 0}
    (folder / "config.json").write_text(json.dumps({"run": run, "spec": spec}, indent=2), encoding="utf-8")
    rng = np.random.default_rng(seed)
    chunk = 50_000
    with open(folder / "metrics.jsonl", "w", encoding="utf-8") as fh:
        for start in range(0, records, chunk):
            n = min(chunk, records - start)
            values = (0.5 + 0.4 * rng.standard_normal((n, len(SCALARS)))).tolist()
            lines = []
            for i, row in enumerate(values):
                index = start + i + 1
                step = index * log_every
                lines.append(LINE.format(step, round(step * 0.021, 3), *row))
                if index % eval_every == 0:
                    lines.append(json.dumps({"step": step, "metric": "kid", "kid": float(abs(row[0])) / 10,
                                             "n": 1000, "kid_std": 0.001, "eval_seconds": 3.5}) + "\n")
            if start:  # a loss that went NaN once in a while: written as text, as the run directory does
                lines[0] = lines[0].replace(f"{values[0][3]!r}", '"nan"')
            fh.write("".join(lines))
    RunDirectory(folder).write_status(RunState.FINISHED, steps)
    return folder


def copies_of_run(run_dir: Path, count: int) -> list[Path]:
    """`count` run directories holding `run_dir`'s run (its log hard-linked where the file system can)."""
    import os
    import shutil

    copies = []
    for i in range(count):
        copy = run_dir.parent / f"{run_dir.name}-{i + 1}"
        copy.mkdir(exist_ok=True)
        for name in ("config.json", "status.json"):
            shutil.copyfile(run_dir / name, copy / name)
        try:
            os.link(run_dir / "metrics.jsonl", copy / "metrics.jsonl")
        except OSError:
            shutil.copyfile(run_dir / "metrics.jsonl", copy / "metrics.jsonl")
        copies.append(copy)
    return copies


def runs_section(measure: RunOpenMeasure | None, quick: bool, log: Log,
                 measure_compare: CompareOpenMeasure | None = None) -> dict[str, Any]:
    """The `runs` section: writing the run, `studio compare`'s reading of it, opening it in the window, and
    opening eight such runs side by side in the Compare view (`compare`)."""
    records = 20_000 if quick else 500_000
    with tempfile.TemporaryDirectory(prefix="studio-bench-runs-") as work:
        began = time.perf_counter()
        run_dir = write_long_run(Path(work) / "long-run", records=records)
        size = (run_dir / "metrics.jsonl").stat().st_size
        out: dict[str, Any] = {"records": records, "metrics_bytes": size,
                               "seconds_to_write": round(time.perf_counter() - began, 2)}
        from ..runs.compare import summarize_run

        began = time.perf_counter()
        summary = summarize_run(run_dir)
        out["compare_seconds"] = round(time.perf_counter() - began, 3)
        out["compare_steps"] = summary.steps
        log(f"  a {records:,}-record run ({size / 1e6:.0f} MB of metrics.jsonl): studio compare reads it in "
            f"{out['compare_seconds']:.2f} s")
        if measure is None:
            log("  window: not measured (no run-open measurement was given; `studio bench` gives the window's)")
            return out
        out.update(measure(run_dir=str(run_dir)))
        log("  " + describe_run_open(out))
        if measure_compare is not None:
            runs = copies_of_run(run_dir, COMPARED_RUNS)
            out["compare"] = measure_compare(run_dirs=[str(r) for r in runs])
            log("  " + describe_compare_open(out["compare"], records))
    return out


def describe_compare_open(figures: dict[str, Any], records: int) -> str:
    """One line for the Compare view's figures of opening long runs side by side."""
    def seconds(key: str) -> str:
        value = figures.get(key)
        return "never" if value is None else f"after {value:.1f} s"

    stall = figures["ui_stall"]
    return (f"{figures['runs']} runs of {records:,} records side by side in Compare: the GUI thread's longest block "
            f"{figures['longest_block_ms']:.0f} ms (the call {figures['open_call_ms']:.0f} ms), the first run's curves "
            f"{seconds('seconds_to_first_run')}, all {seconds('seconds_to_all_runs')}; stall p99 "
            f"{stall['p99_ms']:.1f} ms; memory +{figures['memory_growth_mb']:.0f} MB")


def describe_run_open(figures: dict[str, Any]) -> str:
    """One line for the window's figures of opening the run (a figure never reached reads "never")."""
    def seconds(key: str) -> str:
        value = figures.get(key)
        return "never" if value is None else f"after {value:.2f} s"

    stall = figures["ui_stall"]
    return (f"opened in the window: the GUI thread's longest block {figures['longest_block_ms']:.0f} ms (the "
            f"open call {figures['open_call_ms']:.0f} ms), curves {seconds('seconds_to_curves')}, the whole "
            f"history {seconds('seconds_to_history')}; stall p99 {stall['p99_ms']:.1f} ms, max "
            f"{stall['max_ms']:.0f} ms; memory +{figures['memory_growth_mb']:.0f} MB")
