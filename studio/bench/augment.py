"""What the small-data aids cost: a 32×32 DCGAN step (batch 64) of the trainer's own loop, without the aids,
with DiffAugment's three operations on every image the discriminator sees (p = 1, the most augmentation
can cost), and with the `small-data` preset (adaptive p and the averaged generator).

The arms run interleaved in chunks after a warm-up, each chunk's cost taken against the plain chunk
beside it, and the median of those ratios is the figure: slow drifts in a shared machine's load cancel.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from .common import BATCH, SIZE, Log
from .training import FastLoop

METHOD = "dcgan"
ARMS = {
    "plain": {},
    "augment": {"augment": "colour,translation,cutout", "augment_p": "1"},
    "small-data": {"augment": "colour,translation,cutout", "augment_p": "auto", "ema": 0.999},
}


def measure_augment(data, device: str, width: int, *, budget_s: float = 60.0, chunk_steps: int = 0, warmup: int = 2,
                    min_rounds: int = 3, max_rounds: int = 12, log: Log = print) -> dict[str, Any]:
    """Seconds per step of each arm and each arm's extra cost over the plain step (median of chunk ratios)."""
    loops = {arm: FastLoop(METHOD, data, device, {"width": width, **params}) for arm, params in ARMS.items()}
    per_step = {}
    for arm, loop in loops.items():
        start = time.perf_counter()
        loop.run(warmup)
        per_step[arm] = (time.perf_counter() - start) / warmup
    slowest = max(per_step.values())
    chunk = chunk_steps or max(1, int(1.0 / slowest))
    rounds = max(min_rounds, min(max_rounds, int(budget_s / (len(loops) * chunk * slowest))))
    log(f"  {METHOD} width {width}: warm-up " + ", ".join(f"{a} {s:.3f} s/step" for a, s in per_step.items())
        + f"; {rounds} rounds of {chunk} step(s) each")
    times: dict[str, list[float]] = {arm: [] for arm in loops}
    order = list(loops)
    for r in range(rounds):
        for arm in (order if r % 2 == 0 else order[::-1]):  # alternate who goes first
            start = time.perf_counter()
            loops[arm].run(chunk)
            times[arm].append((time.perf_counter() - start) / chunk)
    overhead = {arm: statistics.median(t / p - 1.0 for t, p in zip(times[arm], times["plain"], strict=True))
                for arm in loops if arm != "plain"}
    return {"method": METHOD, "width": width, "batch_size": BATCH, "image_size": SIZE, "rounds": rounds,
            "steps_per_chunk": chunk, "seconds_per_step": {arm: statistics.median(t) for arm, t in times.items()},
            "overhead": overhead, "arms": {arm: dict(params) for arm, params in ARMS.items()}, "runs": times}


def augment_section(device, quick: bool, width: int | None, log: Log) -> dict[str, Any]:
    """The `augment` section: the aids' cost on a DCGAN step, at the training section's width for the device."""
    from ..data import open_dataset

    gpu = device.type == "cuda"
    data = open_dataset("builtin:shapes", size=SIZE, count=512 if quick else 2048)
    size = width or (8 if quick else (64 if gpu else 32))
    options = dict(budget_s=0.0, warmup=1, min_rounds=1, chunk_steps=1) if quick else {}
    return measure_augment(data, str(device), size, log=log, **options)
