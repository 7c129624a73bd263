"""Run directories written the way a run writes them (config.json, metrics.jsonl, status.json, sample grids),
without training: for the comparison's tests, where what matters is what the files hold."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image


def write_run(folder: Path, method: str = "dcgan", dataset: str = "builtin:shapes", steps: int = 100,
              log_every: int = 10, scalars: dict | None = None, metrics: list[dict] | None = None,
              grids: list[int] = (), grid_colour: tuple[int, int, int] = (200, 40, 40), batch_size: int = 32,
              count: int = 640, state: str = "finished", seconds_per_step: float = 0.05) -> Path:
    """A finished run of `steps` logged every `log_every`; `scalars` maps a name to a function of the step
    (default DCGAN's losses); `metrics` are evaluation records as written; `grids` the steps with a saved grid,
    each filled with `grid_colour` and the step written into its first pixel row."""
    folder = Path(folder)
    (folder / "samples").mkdir(parents=True, exist_ok=True)
    run = {"method": method, "dataset": dataset, "preset": "tiny", "params": {}, "steps": steps, "seed": 0,
           "device": "cpu", "log_every": log_every, "sample_every": 50, "checkpoint_every": steps}
    config = {"run": run, "params": {"batch_size": batch_size}, "spec": {"kind": "images", "channels": 3,
              "image_size": 16}, "dataset": {"source": dataset, "count": count}}
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    scalars = scalars or {"d_loss": lambda s: 1.4 - s / (10 * steps), "g_loss": lambda s: 0.7 + s / (10 * steps)}
    lines = []
    for step in range(log_every, steps + 1, log_every):
        record = {"step": step, "time": round(step * seconds_per_step, 3)}
        record.update({name: float(fn(step)) for name, fn in scalars.items()})
        lines.append(json.dumps(record))
    for record in metrics or []:
        lines.append(json.dumps(record))
    (folder / "metrics.jsonl").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    (folder / "status.json").write_text(json.dumps({"state": state, "step": steps, "message": ""}), encoding="utf-8")
    for step in grids:
        write_grid(folder, step, grid_colour)
    return folder


def write_grid(folder: Path, step: int, colour: tuple[int, int, int], size: int = 36) -> Path:
    """A saved sample grid of one colour, its step in the first pixel's red and green (step = r·256 + g)."""
    pixels = np.zeros((size, size, 3), np.uint8)
    pixels[...] = colour
    pixels[0, 0] = (step // 256, step % 256, 0)
    path = Path(folder) / "samples" / f"step-{step:07d}.png"
    Image.fromarray(pixels).save(path)
    return path


def grid_step(image: np.ndarray) -> int:
    """The step `write_grid` wrote into a grid."""
    return int(image[0, 0, 0]) * 256 + int(image[0, 0, 1])


def append_records(folder: Path, records: list[dict]) -> None:
    """Append records to a run's metrics.jsonl, as a live run does."""
    with open(Path(folder) / "metrics.jsonl", "a", encoding="utf-8") as fh:
        fh.write("".join(json.dumps(r) + "\n" for r in records))
