"""Running an experiment: each trial is a normal run directory trained by the normal Trainer, then
judged by the recipe's protocol; the report gathers the trials beside the published figures."""

from __future__ import annotations

import json
import os
import platform
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..data import DatasetError, open_dataset
from ..engine import Trainer, pick_device
from ..engine.checkpoint import load_method
from ..engine.config import ConfigError, RunConfig
from ..engine.metrics_columns import scan_metrics
from ..engine.outputs import Console, run_outputs
from ..engine.rundir import RunDirectory, atomic_write_bytes
from ..engine.runlock import RunLock
from ..engine.state import RunState
from ..engine.trainer import chosen_data
from ..methods.base import Method
from .protocols import METRICS, PROTOCOLS, RAW, Evaluation
from .recipe import Recipe
from .report import markdown, table

REPORT_JSON, REPORT_MD = "report.json", "report.md"
TRIAL_JSON = "trial.json"  # in each trial's folder: how long its training took


def machine() -> dict[str, Any]:
    """The machine the trials ran on, with its load when they started (timings on a busy machine inflate)."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    info = {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
            "load_average_at_start": [round(v, 2) for v in load]}
    device = info["cuda"] or f"{info['cpus']} CPU cores ({info['torch_threads']} torch threads)"
    info["summary"] = f"{device}, {info['platform']}, torch {info['torch']}, load average {info['load_average_at_start'][0]:.1f} at start"
    return info


# What may differ between a finished trial and the recipe's config for the trial to be reused.
REUSE_IGNORES = ("device", "run_dir")


def _finished(trial_dir: Path, config: RunConfig) -> bool:
    """True when the trial's run directory already holds a finished run of `config` (it is then reused):
    the same steps and the same settings, so a changed recipe is trained again, never judged stale."""
    rd = RunDirectory(trial_dir)
    if not (rd.checkpoints / "last.pt").exists():
        return False
    status = rd.read_status()
    if status.get("state") is not RunState.FINISHED or int(status.get("step", -1)) != config.steps:
        return False
    try:
        saved = RunConfig.load(rd.config_path).to_dict()
    except ConfigError:
        return False
    wanted = config.to_dict()
    return all(saved.get(k) == v for k, v in wanted.items() if k not in REUSE_IGNORES)


def _clear_stale(trial_dir: Path) -> bool:
    """Empty a trial folder that holds a run not to be reused (stopped part-way, or of other settings), so the
    trial trains from scratch: a fresh run would otherwise append its records to the old metrics.jsonl.
    Raises RunLocked while another process trains it. True when there was something to clear."""
    if not RunDirectory(trial_dir).exists():
        return False
    with RunLock(trial_dir, "studio experiment"):
        pass  # nobody writes it now
    shutil.rmtree(trial_dir)
    return True


def _trained_amp(trial_dir: Path) -> str | None:
    """The precision the trial trained in, as its config.json records what `--amp auto` chose ("bf16" or
    "off"); None for a run written before the choice was recorded."""
    try:
        recorded = json.loads((trial_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    performance = recorded.get("performance") if isinstance(recorded, dict) else None
    return performance.get("amp") if isinstance(performance, dict) else None


def collapses_called(trial_dir: Path) -> list[dict[str, Any]]:
    """The collapses the live monitors called while the trial trained: step, kind (total or partial), message."""
    return [{"step": int(r.get("step", 0)), "kind": str(r.get("kind", "total")), "message": str(r.get("message", ""))}
            for r in scan_metrics(RunDirectory(trial_dir).metrics_path).records if r.get("event") == "collapse"]


def judge(protocol: Callable[[Method, Any, int, int], Evaluation], method: Method, data: Any, n: int,
          seed: int) -> Evaluation:
    """The protocol's evaluation of the trained `method` (raw weights in its nets): from its averaged
    generator where it has one (as the studio samples by default), with the raw generator's figures
    beside them as `<figure>_raw` and its sample grid as `<picture>-raw.png`."""
    with method.averaged_generators() as averaged:
        evaluation = protocol(method, data, n, seed)
    if not averaged:
        return evaluation
    raw = protocol(method, data, n, seed)
    evaluation.metrics.update({f"{name}{RAW}": value for name, value in raw.metrics.items()
                               if f"{name}{RAW}" in METRICS})
    evaluation.pictures.update({name.replace(".png", "-raw.png"): png for name, png in raw.pictures.items()})
    evaluation.details["generator"] = "averaged (figures without _raw); raw (figures with _raw)"
    return evaluation


def run_experiment(recipe: Recipe, run_dir: str | Path, *, trials: int = 1, dataset: str | None = None,
                   steps: int | None = None, device: str = "auto", amp: str | None = None, command: str = "",
                   console: Console = None, log: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Train and judge `trials` trials of `recipe` in run_dir/trial-K/ and write report.json and report.md.

    `dataset` replaces the recipe's data source, `steps` its number of steps and `amp` its precision
    ("auto" unless given); a trial already finished in its folder with the same steps is judged again,
    not retrained. `console` is each trial's terminal view, as `studio train` has it (engine/outputs.py).
    Returns the report.
    """
    if trials < 1:
        raise ValueError(f"trials={trials} must be at least 1")
    run_dir = Path(run_dir)
    protocol = PROTOCOLS[recipe.evaluation]
    first = recipe.run_config(dataset=dataset, steps=steps, device=device, amp=amp)
    try:
        # The data each trial trains on (its classes chosen as the trainer chooses them), judged on the same.
        data = chosen_data(open_dataset(first.dataset, **first.load_options()), first)
    except DatasetError as exc:
        if not recipe.requires or dataset:
            raise
        raise DatasetError(f"{exc}; {recipe.name} needs it: {recipe.requires}") from None
    started, info, results = time.time(), machine(), []
    for k in range(1, trials + 1):
        config = recipe.run_config(seed=k - 1, dataset=dataset, steps=steps, device=device, amp=amp)
        trial_dir = run_dir / f"trial-{k}"
        t0, cpu0 = time.perf_counter(), time.process_time()
        reused = _finished(trial_dir, config)
        if reused:
            log(f"trial {k}: {trial_dir} already holds the finished run; judging it again")
            method, state = load_method(trial_dir, pick_device(config.device), raw=True).method, RunState.FINISHED
            timing = json.loads((trial_dir / TRIAL_JSON).read_text()) if (trial_dir / TRIAL_JSON).exists() else {}
            seconds, cpu_seconds = float(timing.get("seconds", 0.0)), float(timing.get("cpu_seconds", 0.0))
        else:
            if _clear_stale(trial_dir):
                log(f"trial {k}: {trial_dir} held a run of other steps or settings, or one stopped part-way; "
                    "training it again from scratch")
            outputs = run_outputs(trial_dir, console=console, steps=config.steps)
            trainer = Trainer(config, run_dir=trial_dir, dataset=data, subscribers=outputs.subscribers)
            try:
                state = trainer.run()
            finally:
                outputs.close()
            method, seconds, cpu_seconds = trainer.method, time.perf_counter() - t0, time.process_time() - cpu0
            atomic_write_bytes(trial_dir / TRIAL_JSON,
                               json.dumps({"seconds": seconds, "cpu_seconds": cpu_seconds, "state": state.value}).encode())
            if state is not RunState.FINISHED:
                log(f"trial {k}: {state}: {trainer.message}")
                results.append({"trial": k, "seed": config.seed, "run_dir": str(trial_dir), "state": state,
                                "message": trainer.message, "steps": trainer.step, "seconds": seconds,
                                "cpu_seconds": cpu_seconds})
                continue
        evaluation = judge(protocol, method, data, recipe.samples, 10_000 + k)
        pictures = []
        for name, png in evaluation.pictures.items():
            atomic_write_bytes(trial_dir / name, png)
            pictures.append(f"trial-{k}/{name}")
        if evaluation.samples is not None:
            np.save(trial_dir / "samples.npy", evaluation.samples)
        results.append({"trial": k, "seed": config.seed, "run_dir": str(trial_dir), "state": state,
                        "steps": config.steps, "seconds": seconds, "cpu_seconds": cpu_seconds, "reused": reused,
                        "amp": _trained_amp(trial_dir),
                        "collapse": collapses_called(trial_dir),
                        "eval_seconds": time.perf_counter() - t0 - (0.0 if reused else seconds),
                        "metrics": evaluation.metrics, "details": evaluation.details, "pictures": pictures})
        log(f"trial {k}: " + ", ".join(f"{n} {v:.4g}" for n, v in evaluation.metrics.items())
            + f" ({seconds / 60:.1f} min, {cpu_seconds / 60:.1f} CPU min)")
    run_steps = steps or recipe.steps
    slowest = max((t["seconds"] for t in results), default=0.0)
    slowest_cpu = max((t["cpu_seconds"] for t in results), default=0.0)
    report = {
        "experiment": recipe.name, "recipe": recipe.describe(), "command": command,
        "dataset": first.dataset, "steps": run_steps,
        "budget_fraction": run_steps / recipe.published_steps if recipe.published_steps else None,
        "machine": info, "started": time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(started)),
        "total_seconds": time.time() - started, "slowest_trial_seconds": slowest,
        "slowest_trial_cpu_seconds": slowest_cpu,
        # The budget is CPU time (the process's, all its threads): wall time on a shared machine measures the others.
        "within_time": (slowest_cpu <= 60 * recipe.time_limit_minutes) if recipe.time_limit_minutes else None,
        "trials": results, "table": table(recipe, results),
    }
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(run_dir / REPORT_JSON, json.dumps(report, indent=2, default=float).encode())
    atomic_write_bytes(run_dir / REPORT_MD, markdown(report).encode())
    return report
