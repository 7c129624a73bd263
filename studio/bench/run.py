"""`run_bench`: every part of `studio bench` in one run, on one machine, into one dict."""

from __future__ import annotations

import os
import platform
import time
from typing import Any

from .augment import augment_section
from .common import Log
from .concurrent import concurrent_section
from .data import measure_data_loading
from .eval import eval_section
from .fid import fid_section
from .launch import measure_launch
from .report import targets
from .runs import CompareOpenMeasure, RunOpenMeasure, runs_section
from .training import precision_section, training_section
from .window import WindowMeasure, window_sections


def _load() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (OSError, AttributeError):
        return None


def run_bench(device: str = "auto", quick: bool = False, threads: int | None = None, width: int | None = None,
              skip: tuple[str, ...] = (), log: Log = print,
              measure_window: WindowMeasure | None = None,
              measure_runs: RunOpenMeasure | None = None,
              measure_compare: CompareOpenMeasure | None = None) -> dict[str, Any]:
    """Every figure in one run (see `studio.bench`); `quick` for a test-sized run of seconds.

    `width` sets the training networks' width (default 64 on a GPU, 32 on a CPU, 8 with `quick`).
    `measure_window` measures the window (`studio.gui.benchmark.measure_window_overhead`, which
    `studio bench` passes); without it the window and UI-stall figures are not measured.
    `measure_runs` opens a long run in the window (`studio.gui.benchmark.measure_run_open`); without it
    the `runs` section holds only the run's reading by `studio compare`. `measure_compare` opens eight such
    runs side by side in the Compare view (`studio.gui.benchmark.measure_compare_open`).
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # the window is measured offscreen
    began = time.perf_counter()
    load_start = _load()
    import torch

    from ..engine.device import describe_device, pick_device

    if threads:
        torch.set_num_threads(threads)
    dev = pick_device(device)
    result: dict[str, Any] = {
        "studio_bench": 1, "quick": quick, "device": describe_device(dev), "device_type": dev.type,
        "torch": torch.__version__, "python": platform.python_version(),
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(), "threads": torch.get_num_threads(), "load_average_start": load_start,
    }

    result["train"] = {}
    if "train" not in skip:
        log(f"training images/s, fast path against a plain loop ({describe_device(dev)})")
        result["train"] = training_section(dev, quick, width, log)

    result["amp"] = {}
    if "amp" not in skip:
        log(f"training images/s in float32 and under bf16 autocast, and what --amp auto chose ({describe_device(dev)})")
        result["amp"] = precision_section(dev, quick, width, log)

    result["augment"] = {}
    if "augment" not in skip:
        log("the small-data aids' cost on a DCGAN step (augmentation, adaptive p, averaged generator)")
        result["augment"] = augment_section(dev, quick, width, log)

    result["window"], result["ui_stall"] = {}, {}
    if "window" not in skip:
        if measure_window is None:
            log("window: not measured (no window measurement was given; `studio bench` gives the window's)")
        else:
            log("training images/s headless and with the window attached (offscreen), UI stall")
            result["window"], result["ui_stall"] = window_sections(measure_window, dev, threads, quick, log)

    result["runs"] = {}
    if "runs" not in skip:
        log("long runs: a 500,000-record run read by studio compare and opened in the window; eight side by side")
        result["runs"] = runs_section(measure_runs, quick, log, measure_compare)

    result["fid"] = {}
    if "fid" not in skip:
        log("FID against pytorch-fid")
        result["fid"] = fid_section(dev, quick, log)

    result["launch"] = {}
    if "launch" not in skip:
        log("launch to a visible window")
        result["launch"] = measure_launch(repeats=1 if quick else 3, log=log)

    result["data"] = {}
    if "data" not in skip:  # a JPEG folder first and cached, against one-thread torchvision loops
        result["data"] = measure_data_loading(256 if quick else 20_000, log=log, rounds=1 if quick else 2)

    result["eval"] = {}
    if "eval" not in skip:
        log("live evaluation (precision, recall, density, coverage) of a 32x32 DCGAN run; cached real features")
        result["eval"] = eval_section(dev, quick, width, log)

    result["concurrent"] = {}
    if "concurrent" not in skip:  # runs side by side, each a process of its own
        log("runs side by side: three training runs at once against one alone")
        result["concurrent"] = concurrent_section(quick, log)

    result["load_average_end"] = _load()
    result["seconds"] = time.perf_counter() - began
    result["targets"] = targets(result)
    return result
