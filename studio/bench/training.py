"""Training images/s: the studio's fast path against a plain loop written as reference scripts are.

Both train the studio's own networks (DCGAN and WGAN-GP, 32×32, batch 64) with the same losses and
schedule, so the ratio measures the loop, not the model. The fast path is the trainer's own step
loop (`Trainer.train_steps`: data held on the device, scalars read once per log interval, the
device's fast-path defaults); the plain loop is a DataLoader over a TensorDataset of float images
with shuffle, `.item()` on every loss every step, torch's default optimizers, no channels_last or
mixed precision. They run interleaved in chunks (fast, plain, plain, fast, ...) after a warm-up, and
the ratio is the median of the chunk pairs' ratios, which cancels slow drifts in the machine's load.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from typing import Any

from .common import BATCH, SIZE, Log, sync

TRAIN_METHODS = ("dcgan", "wgan-gp")


class FastLoop:
    """The studio trainer's own step loop on `data` (`Trainer.train_steps`: `run_step` under the fast
    path's autocast on device-held batches, scalars accumulated on the device and read once per log
    interval of 10 steps)."""

    def __init__(self, method: str, data, device: str, overrides: dict[str, Any], seed: int = 0, amp: str = "auto"):
        from ..engine import RunConfig, Trainer

        config = RunConfig(method=method, dataset=data.source, steps=10**9, seed=seed, device=device, log_every=10,
                           sample_every=10**9, checkpoint_every=10**9, params={"batch_size": BATCH, **overrides},
                           amp=amp)
        self.trainer = Trainer(config, dataset=data)
        self.trainer.setup()
        self.device = self.trainer.device
        self.perf = self.trainer.method.perf.to_dict()

    def force_bf16(self) -> None:
        """Run the step under bf16 autocast although the method's `amp_ok` refuses it: only to measure what
        bf16 would gain (the bench's `amp` section says the figure was forced)."""
        method = self.trainer.method
        method.perf = dataclasses.replace(method.perf, amp="bf16")
        self.perf = method.perf.to_dict()

    def run(self, steps: int) -> None:
        self.trainer.train_steps(steps)  # Trainer.run's steps, without its sampling, evaluation and checkpoints
        sync(self.device)


class PlainLoop:
    """DCGAN or WGAN-GP trained the way reference scripts do it, on the studio's own networks and losses."""

    def __init__(self, method: str, data, device: str, overrides: dict[str, Any], seed: int = 0):
        import torch
        from torch.utils.data import DataLoader, TensorDataset

        from ..engine.device import pick_device
        from ..fastpath import Performance
        from ..methods import DataSpec, get_method

        if method not in TRAIN_METHODS:
            raise ValueError(f"the plain reference loop exists for {', '.join(TRAIN_METHODS)}, not {method}")
        cls = get_method(method)
        self.params = p = cls.make_params(None, {"batch_size": BATCH, **overrides})
        self.device = pick_device(device)
        torch.manual_seed(seed)
        # Only the networks (built and initialised as the studio does) are taken from the method.
        nets = cls(p, DataSpec.from_dataset(data), self.device, perf=Performance.plain()).nets
        self.method = method
        self.G = nets["generator"]
        self.D = nets["discriminator"] if method == "dcgan" else nets["critic"]
        lr_d = p.lr_d if method == "dcgan" else p.lr_critic
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=lr_d, betas=(p.beta1, p.beta2))
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=p.lr_g, betas=(p.beta1, p.beta2))
        images = data.data.float().div(127.5).sub(1.0)
        self.loader = DataLoader(TensorDataset(images), batch_size=p.batch_size, shuffle=True, drop_last=True)
        self._batches = iter(self.loader)
        self.last: dict[str, float] = {}  # what a reference script prints
        self.perf = {"channels_last": False, "amp": "off", "optimizer": "torch default", "compile": False,
                     "data": "DataLoader(TensorDataset, shuffle=True)", "host_sync": ".item() per loss per step"}

    def _real(self):
        try:
            (x,) = next(self._batches)
        except StopIteration:  # a new epoch
            self._batches = iter(self.loader)
            (x,) = next(self._batches)
        return x.to(self.device)

    def _noise(self, n: int):
        import torch

        return torch.randn(n, self.params.latent_dim, device=self.device)

    def run(self, steps: int) -> None:
        step = self._dcgan_step if self.method == "dcgan" else self._wgan_gp_step
        for _ in range(steps):
            step()
        sync(self.device)

    def _dcgan_step(self) -> None:
        import torch

        from ..nn.losses import bce_discriminator_loss, bce_generator_loss

        real = self._real()
        with torch.no_grad():
            fake = self.G(self._noise(real.shape[0]))
        out_real, out_fake = self.D(real), self.D(fake)
        d_loss = bce_discriminator_loss(out_real, out_fake)
        self.opt_d.zero_grad()
        d_loss.backward()
        self.opt_d.step()
        self.last["d_loss"] = d_loss.item()
        self.last["d_real"] = torch.sigmoid(out_real).mean().item()
        self.last["d_fake"] = torch.sigmoid(out_fake).mean().item()
        g_loss = bce_generator_loss(self.D(self.G(self._noise(real.shape[0]))))
        self.opt_g.zero_grad()
        g_loss.backward()
        self.opt_g.step()
        self.last["g_loss"] = g_loss.item()

    def _wgan_gp_step(self) -> None:
        import torch

        from ..nn.losses import gradient_penalty, wasserstein_estimate, wasserstein_generator_loss

        for _ in range(self.params.critic_steps):
            real = self._real()
            with torch.no_grad():
                fake = self.G(self._noise(real.shape[0]))
            wasserstein = wasserstein_estimate(self.D(real), self.D(fake))
            penalty = gradient_penalty(self.D, real, fake, self.params.gp_weight)
            loss = -wasserstein + penalty
            self.opt_d.zero_grad()
            loss.backward()
            self.opt_d.step()
            self.last["critic_loss"] = loss.item()
            self.last["wasserstein"] = wasserstein.item()
            self.last["gradient_penalty"] = penalty.item()
        for p in self.D.parameters():
            p.requires_grad_(False)
        g_loss = wasserstein_generator_loss(self.D(self.G(self._noise(BATCH))))
        self.opt_g.zero_grad()
        g_loss.backward()
        self.opt_g.step()
        for p in self.D.parameters():
            p.requires_grad_(True)
        self.last["g_loss"] = g_loss.item()


def race(first, second, *, budget_s: float, chunk_s: float, warmup: int, min_rounds: int, max_rounds: int,
         log: Log, label: str, names: tuple[str, str]) -> dict[str, Any]:
    """Images/s of two loops (anything with `run(steps)`), interleaved in chunks of about `chunk_s` seconds
    after a warm-up; the ratio is the median of the chunk pairs' ratios (first / second)."""
    # Warm-up: the first steps pay for allocations, cuDNN's algorithm search and lazy initialisation.
    per_step = []
    for loop in (first, second):
        start = time.perf_counter()
        loop.run(warmup)
        per_step.append((time.perf_counter() - start) / warmup)
    step_s = max(per_step)
    chunk = max(1, int(chunk_s / step_s))
    rounds = max(min_rounds, min(max_rounds, int(budget_s / (2 * chunk * step_s))))
    log(f"  {label}: warm-up {per_step[0]:.3f} s/step {names[0]}, {per_step[1]:.3f} s/step {names[1]}; "
        f"{rounds} rounds of {chunk} step(s) each")
    first_rates: list[float] = []
    second_rates: list[float] = []
    for r in range(rounds):
        order = ((first, first_rates), (second, second_rates))
        for loop, rates in (order if r % 2 == 0 else order[::-1]):  # alternate who goes first
            start = time.perf_counter()
            loop.run(chunk)
            rates.append(chunk * BATCH / (time.perf_counter() - start))
    ratios = [a / b for a, b in zip(first_rates, second_rates, strict=True) if b > 0]
    return {"first": first_rates, "second": second_rates, "ratio": statistics.median(ratios) if ratios else 0.0,
            "rounds": rounds, "steps_per_chunk": chunk, "warmup_steps": warmup}


def measure_training(method: str, data, device: str, *, overrides: dict[str, Any] | None = None,
                     budget_s: float = 40.0, chunk_s: float = 1.0, warmup: int = 2, min_rounds: int = 2,
                     max_rounds: int = 10, log: Log = print) -> dict[str, Any]:
    """Images/s of the fast path and the plain loop, interleaved in chunks of about `chunk_s` seconds."""
    overrides = dict(overrides or {})
    fast = FastLoop(method, data, device, overrides)
    plain = PlainLoop(method, data, device, overrides)
    raced = race(fast, plain, budget_s=budget_s, chunk_s=chunk_s, warmup=warmup, min_rounds=min_rounds,
                 max_rounds=max_rounds, log=log, label=method, names=("fast", "plain"))
    return {
        "fast_images_per_sec": statistics.median(raced["first"]),
        "plain_images_per_sec": statistics.median(raced["second"]),
        "ratio": raced["ratio"],
        "batch_size": BATCH, "image_size": SIZE, "params": {**overrides},
        "width": fast.trainer.method.params.width,
        "rounds": raced["rounds"], "steps_per_chunk": raced["steps_per_chunk"], "warmup_steps": warmup,
        "fast_runs": raced["first"], "plain_runs": raced["second"],
        "fast_path": fast.perf, "plain_loop": plain.perf,
        "images_per_step": "batch size per generator step (its critic/discriminator steps included)",
    }


def measure_precision(method: str, data, device: str, *, overrides: dict[str, Any] | None = None,
                      budget_s: float = 40.0, chunk_s: float = 1.0, warmup: int = 2, min_rounds: int = 2,
                      max_rounds: int = 10, log: Log = print) -> dict[str, Any]:
    """The trainer's own step loop in float32 and under bf16 autocast, interleaved, and what `--amp auto`
    chooses for this method on this device. A method whose `amp_ok` is False is measured under bf16 all
    the same (`bf16_forced`), to show what the refusal costs."""
    from ..fastpath import native_bf16
    from ..methods import get_method

    overrides = dict(overrides or {})
    cls = get_method(method)
    auto = FastLoop(method, data, device, overrides)  # the choice `auto` makes, as a run would get it
    choice = auto.perf["amp"]
    del auto
    full = FastLoop(method, data, device, overrides, amp="off")
    half = FastLoop(method, data, device, overrides, amp="off")
    half.force_bf16()
    raced = race(half, full, budget_s=budget_s, chunk_s=chunk_s, warmup=warmup, min_rounds=min_rounds,
                 max_rounds=max_rounds, log=log, label=f"{method} bf16 / float32", names=("bf16", "float32"))
    return {
        "float32_images_per_sec": statistics.median(raced["second"]),
        "bf16_images_per_sec": statistics.median(raced["first"]),
        "ratio": raced["ratio"],
        "auto": choice, "native_bf16": native_bf16(full.device),
        "bf16_forced": not cls.amp_ok, "amp_reason": cls.amp_reason,
        "batch_size": BATCH, "image_size": SIZE, "width": full.trainer.method.params.width,
        "rounds": raced["rounds"], "steps_per_chunk": raced["steps_per_chunk"], "warmup_steps": warmup,
        "float32_runs": raced["second"], "bf16_runs": raced["first"],
    }


def _section_setup(device, quick: bool, width: int | None):
    from ..data import open_dataset

    gpu = device.type == "cuda"
    count = 512 if quick else (8192 if gpu else 2048)
    data = open_dataset("builtin:shapes", size=SIZE, count=count)
    size = width or (8 if quick else (64 if gpu else 32))
    if quick:
        options = dict(budget_s=0.0, chunk_s=0.0, warmup=1, min_rounds=1)
    elif gpu:
        options = dict(budget_s=20.0, chunk_s=1.0, warmup=20, min_rounds=5)
    else:
        options = dict(budget_s=45.0, chunk_s=0.0, warmup=1, min_rounds=2, max_rounds=8)
    return data, size, options


def training_section(device, quick: bool, width: int | None, log: Log) -> dict[str, Any]:
    """The `train` section: each of TRAIN_METHODS measured on `builtin:shapes`, sized for the device.

    `width` sets the networks' width (default: the methods' own, 64, on a GPU; 32 on a CPU, where a
    WGAN-GP step at width 64 takes tens of seconds; 8 with `quick`).
    """
    data, size, options = _section_setup(device, quick, width)
    return {method: measure_training(method, data, str(device), overrides={"width": size}, log=log, **options)
            for method in TRAIN_METHODS}


def precision_section(device, quick: bool, width: int | None, log: Log) -> dict[str, Any]:
    """The `amp` section: each of TRAIN_METHODS in float32 and bf16 on the trainer's own loop, and what
    `--amp auto` chose (issue 29: bf16 on CPUs with bf16 units)."""
    data, size, options = _section_setup(device, quick, width)
    return {method: measure_precision(method, data, str(device), overrides={"width": size}, log=log, **options)
            for method in TRAIN_METHODS}
