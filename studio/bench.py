"""`studio bench`: every performance figure of docs/BENCHMARKS.md, measured side by side in one run.

- Training images/s of DCGAN and WGAN-GP (32×32, batch 64, the methods' default networks) on the
  studio's fast path (its trainer's step loop: data held on the device, scalars read once per log
  interval, the device's fast-path defaults) against a plain loop written as typical reference
  scripts are (a DataLoader over a TensorDataset of float images with shuffle, `.item()` on every
  loss every step, torch's default optimizers, no channels_last or mixed precision). Both train the
  studio's own networks with the same losses and schedule, so the ratio measures the loop, not the
  model. They run interleaved in chunks (fast, plain, plain, fast, ...) after a warm-up, and the
  ratio is the median of the chunk pairs' ratios, which cancels slow drifts in the machine's load.
- Training images/s headless and with the studio window attached (offscreen), their ratio, and the
  UI stall while training: the 99th percentile of a 10 ms timer's lateness (studio/gui/benchmark.py).
- FID: feature-extraction images/s of the studio's batched in-memory path (channels_last) against
  pytorch-fid's `get_activations` on the same images (written as PNGs, which is how pytorch-fid reads
  them), both through InceptionV3 with the same weights (untrained unless pytorch-fid's are installed:
  the speed does not depend on them); and the Fréchet distance at 2048 dimensions against pytorch-fid's
  `calculate_frechet_distance` on the same statistics: both times, both values, their relative difference.
- Launch: seconds from spawning `python -m studio` to the window's first painted frame.

`run_bench()` returns one dict with every figure (`studio bench --json` prints it).
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

TRAIN_METHODS = ("dcgan", "wgan-gp")
BATCH = 64
SIZE = 32
Log = Callable[[str], None]

# Targets (issue 8); the report says whether each holds in the run it comes from.
TARGET_TRAIN_GPU = 2.0  # fast path / plain loop, on a GPU
TARGET_TRAIN_CPU = 1.0  # ... on a CPU: not slower
TARGET_WINDOW = 0.95  # with the window / headless
TARGET_STALL_MS = 50.0  # UI stall p99 while training
TARGET_FRECHET = 5.0  # pytorch-fid's time / the studio's, at 2048 dimensions
TARGET_FRECHET_REL = 1e-6  # the same value, relatively
TARGET_LAUNCH_S = 2.0  # launch to a visible window

RESULT_KEYS = ("studio_bench", "quick", "device", "device_type", "torch", "python", "cpu", "cpu_count", "threads",
               "load_average_start", "load_average_end", "seconds", "train", "window", "ui_stall", "fid", "launch",
               "data", "targets")


@contextlib.contextmanager
def _silenced():
    """Keep third-party progress bars and warnings (pytorch-fid's tqdm) out of the report."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield


def _sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _load() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (OSError, AttributeError):
        return None


# --- training: the fast path against a plain reference loop -------------------------------------------
class FastLoop:
    """The studio trainer's own step loop on `data`: `run_step` (the fast path's autocast, device-held
    batches), scalars accumulated on the device and read once per log interval of 10 steps."""

    def __init__(self, method: str, data, device: str, overrides: dict[str, Any], seed: int = 0):
        from .engine import RunConfig, Trainer

        config = RunConfig(method=method, dataset=data.source, steps=10**9, seed=seed, device=device, log_every=10,
                           sample_every=10**9, checkpoint_every=10**9, params={"batch_size": BATCH, **overrides})
        self.trainer = Trainer(config, dataset=data)
        self.trainer.setup()
        self.trainer.method.train(True)
        self.trainer._start_time = self.trainer._last_log_time = time.perf_counter()
        self.device = self.trainer.device
        self.perf = self.trainer.method.perf.to_dict()

    def run(self, steps: int) -> None:
        from .engine.trainer import run_step

        t = self.trainer
        for _ in range(steps):  # Trainer.run's loop body, without its sampling, evaluation and checkpoints
            with t._snapshot_lock:
                scalars = run_step(t.method, t.sampler.draw)
            t.step += 1
            t._pending.append((t.step, scalars))
            if t.step % t.config.log_every == 0:
                t._flush_scalars()
        _sync(self.device)


class PlainLoop:
    """DCGAN or WGAN-GP trained the way reference scripts do it, on the studio's own networks and losses."""

    def __init__(self, method: str, data, device: str, overrides: dict[str, Any], seed: int = 0):
        import torch
        from torch.utils.data import DataLoader, TensorDataset

        from .engine.device import pick_device
        from .fastpath import Performance
        from .methods import DataSpec, get_method

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
        _sync(self.device)

    def _dcgan_step(self) -> None:
        import torch

        from .nn.losses import bce_discriminator_loss, bce_generator_loss

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

        from .nn.losses import gradient_penalty, wasserstein_estimate, wasserstein_generator_loss

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


def measure_training(method: str, data, device: str, *, overrides: dict[str, Any] | None = None,
                     budget_s: float = 40.0, chunk_s: float = 1.0, warmup: int = 2, min_rounds: int = 2,
                     max_rounds: int = 10, log: Log = print) -> dict[str, Any]:
    """Images/s of the fast path and the plain loop, interleaved in chunks of about `chunk_s` seconds."""
    import time as _t

    overrides = dict(overrides or {})
    fast = FastLoop(method, data, device, overrides)
    plain = PlainLoop(method, data, device, overrides)
    # Warm-up: the first steps pay for allocations, cuDNN's algorithm search and lazy initialisation.
    per_step = []
    for loop in (fast, plain):
        start = _t.perf_counter()
        loop.run(warmup)
        per_step.append((_t.perf_counter() - start) / warmup)
    step_s = max(per_step)
    chunk = max(1, int(chunk_s / step_s))
    rounds = max(min_rounds, min(max_rounds, int(budget_s / (2 * chunk * step_s))))
    log(f"  {method}: warm-up {per_step[0]:.3f} s/step fast, {per_step[1]:.3f} s/step plain; "
        f"{rounds} rounds of {chunk} step(s) each")
    fast_rates: list[float] = []
    plain_rates: list[float] = []
    for r in range(rounds):
        order = ((fast, fast_rates), (plain, plain_rates))
        for loop, rates in (order if r % 2 == 0 else order[::-1]):  # alternate who goes first
            start = _t.perf_counter()
            loop.run(chunk)
            rates.append(chunk * BATCH / (_t.perf_counter() - start))
    ratios = [f / p for f, p in zip(fast_rates, plain_rates, strict=True) if p > 0]
    return {
        "fast_images_per_sec": statistics.median(fast_rates),
        "plain_images_per_sec": statistics.median(plain_rates),
        "ratio": statistics.median(ratios) if ratios else 0.0,
        "batch_size": BATCH, "image_size": SIZE, "params": {**overrides},
        "width": fast.trainer.method.params.width,
        "rounds": rounds, "steps_per_chunk": chunk, "warmup_steps": warmup,
        "fast_runs": fast_rates, "plain_runs": plain_rates,
        "fast_path": fast.perf, "plain_loop": plain.perf,
        "images_per_step": "batch size per generator step (its critic/discriminator steps included)",
    }


# --- FID ---------------------------------------------------------------------------------------------
def measure_fid_extraction(device: str, n: int, batch_size: int = 50, log: Log = print) -> dict[str, Any]:
    """Images/s of the studio's feature extraction and of pytorch-fid's `get_activations`, same images and network."""
    import numpy as np
    import torch
    from PIL import Image
    from pytorch_fid import fid_score

    from .engine.device import pick_device
    from .metrics.features import InceptionFeatures, extract, tensor_batches
    from .metrics.inception import find_weights

    dev = pick_device(device)
    weights = find_weights()
    extractor = InceptionFeatures(weights, dev)
    images = torch.randint(0, 256, (n, 3, SIZE, SIZE), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    extract(extractor, [images[:2]])  # warm-up
    _sync(dev)
    start = time.perf_counter()
    ours = extract(extractor, tensor_batches(images, batch_size))
    _sync(dev)
    studio_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory(prefix="studio-bench-fid-") as tmp:
        files = []
        for i, image in enumerate(images):
            path = Path(tmp) / f"{i:05d}.png"
            Image.fromarray(image.permute(1, 2, 0).numpy()).save(path)
            files.append(str(path))
        # pytorch-fid's side: the same weights in the layout pytorch-fid builds them (NCHW).
        model = copy.deepcopy(extractor.model).to(memory_format=torch.contiguous_format)
        with _silenced():
            fid_score.get_activations(files[:2], model, batch_size=2, dims=2048, device=dev)  # warm-up
            _sync(dev)
            start = time.perf_counter()
            theirs = fid_score.get_activations(files, model, batch_size=min(batch_size, n), dims=2048, device=dev)
            _sync(dev)
            pf_s = time.perf_counter() - start
    diff = float(np.abs(ours.double().numpy() - theirs).max())
    log(f"  features: studio {n / studio_s:.1f} images/s, pytorch-fid {n / pf_s:.1f} images/s")
    return {
        "studio_images_per_sec": n / studio_s, "pytorch_fid_images_per_sec": n / pf_s, "ratio": pf_s / studio_s,
        "images": n, "batch_size": batch_size, "image_size": SIZE,
        "weights": "pytorch-fid" if weights is not None else "untrained (speed only)",
        "max_abs_feature_difference": diff,
    }


def measure_frechet(dims: int, device: str, repeats: int = 3, log: Log = print) -> dict[str, Any]:
    """The studio's Fréchet distance against pytorch-fid's on the same full-rank statistics of `dims` dimensions."""
    import numpy as np
    import torch
    from pytorch_fid.fid_score import calculate_frechet_distance

    from .metrics.frechet import frechet_distance, metric_device

    gen = torch.Generator().manual_seed(0)
    n = dims + 1000  # more samples than dimensions: full-rank covariances, as with real FID statistics

    def statistics_of(shift: float) -> tuple[np.ndarray, np.ndarray]:
        mixing = torch.randn(dims, dims, generator=gen, dtype=torch.float64) / dims**0.5
        x = torch.randn(n, dims, generator=gen, dtype=torch.float64) @ mixing + shift
        mu = x.mean(0)
        centred = x - mu
        return mu.numpy(), (centred.T @ centred / (n - 1)).numpy()

    mu1, s1 = statistics_of(0.0)
    mu2, s2 = statistics_of(0.05)
    times, value = [], 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        value = frechet_distance(mu1, s1, mu2, s2, device=device if device != "auto" else None)
        times.append(time.perf_counter() - start)
    with _silenced():
        start = time.perf_counter()
        reference = float(np.real(calculate_frechet_distance(mu1, s1, mu2, s2)))
        pf_s = time.perf_counter() - start
    studio_s = statistics.median(times)
    rel = abs(value - reference) / max(abs(reference), 1e-300)
    log(f"  Fréchet at {dims} dims: studio {studio_s:.3f} s, pytorch-fid {pf_s:.3f} s, relative difference {rel:.2e}")
    return {"dims": dims, "samples": n, "studio_seconds": studio_s, "pytorch_fid_seconds": pf_s,
            "speedup": pf_s / studio_s, "studio_value": value, "pytorch_fid_value": reference,
            "relative_difference": rel, "studio_runs": times,
            "device": str(metric_device(device if device != "auto" else None))}


# --- launch ------------------------------------------------------------------------------------------
def measure_launch(repeats: int = 3, timeout: float = 120.0, log: Log = print) -> dict[str, Any]:
    """Seconds from spawning `python -m studio` (offscreen) to its window's first painted frame."""
    root = str(Path(__file__).resolve().parent.parent)
    runs: list[float] = []
    torch_loaded: list[bool] = []
    with tempfile.TemporaryDirectory(prefix="studio-bench-launch-") as config:
        env = dict(os.environ, STUDIO_LAUNCH_PROBE="1", STUDIO_CONFIG_DIR=config,
                   QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"),
                   PYTHONPATH=os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p))
        for _ in range(repeats):
            start = time.time()
            proc = subprocess.run([sys.executable, "-m", "studio"], env=env, capture_output=True, text=True,
                                  timeout=timeout, cwd=root)
            line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("STUDIO_LAUNCH_PROBE ")), None)
            if line is None:
                raise RuntimeError(f"the window never reported its first paint (exit {proc.returncode}): "
                                   f"{(proc.stderr or proc.stdout).strip()[-500:]}")
            record = json.loads(line.split(" ", 1)[1])
            runs.append(record["painted"] - start)
            torch_loaded.append(bool(record["torch_loaded"]))
    log(f"  launch to window: {', '.join(f'{s:.2f}' for s in runs)} s")
    return {"seconds_to_window": statistics.median(runs), "runs": runs, "first_run": runs[0],
            "torch_imported_before_window": any(torch_loaded),
            "platform": os.environ.get("QT_QPA_PLATFORM", "offscreen")}


# --- the whole run -----------------------------------------------------------------------------------
def run_bench(device: str = "auto", quick: bool = False, threads: int | None = None, width: int | None = None,
              skip: tuple[str, ...] = (), log: Log = print) -> dict[str, Any]:
    """Every figure in one run (see the module docstring); `quick` for a test-sized run of seconds.

    `width` sets the training networks' width (default: the methods' own, 64, on a GPU; 32 on a CPU,
    where a WGAN-GP step at width 64 takes tens of seconds; 8 with `quick`).
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # the window is measured offscreen
    began = time.perf_counter()
    load_start = _load()
    import torch

    from .data import open_dataset
    from .engine.device import describe_device, pick_device

    if threads:
        torch.set_num_threads(threads)
    dev = pick_device(device)
    gpu = dev.type == "cuda"
    result: dict[str, Any] = {
        "studio_bench": 1, "quick": quick, "device": describe_device(dev), "device_type": dev.type,
        "torch": torch.__version__, "python": platform.python_version(),
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(), "threads": torch.get_num_threads(), "load_average_start": load_start,
    }
    device_name = str(dev)

    # Training: fast path against the plain loop.
    result["train"] = {}
    if "train" not in skip:
        log(f"training images/s, fast path against a plain loop ({describe_device(dev)})")
        count = 512 if quick else (8192 if gpu else 2048)
        data = open_dataset("builtin:shapes", size=SIZE, count=count)
        size = width or (8 if quick else (64 if gpu else 32))
        for method in TRAIN_METHODS:
            if quick:
                options = dict(budget_s=0.0, chunk_s=0.0, warmup=1, min_rounds=1)
            elif gpu:
                options = dict(budget_s=20.0, chunk_s=1.0, warmup=20, min_rounds=5)
            else:
                options = dict(budget_s=45.0, chunk_s=0.0, warmup=1, min_rounds=2, max_rounds=8)
            options["overrides"] = {"width": size}
            result["train"][method] = measure_training(method, data, device_name, log=log, **options)

    # The window: headless against attached, then the UI stall on a run of its own. Runs of 300 steps
    # (about 12 s here), 5 pairs: shorter runs were dominated by each run's start-up and by the
    # machine's noise (single pairs ranged 0.89-1.06 around a median of 0.97).
    result["window"], result["ui_stall"] = {}, {}
    if "window" not in skip:
        log("training images/s headless and with the window attached (offscreen), UI stall")
        from .gui.benchmark import measure_window_overhead

        with tempfile.TemporaryDirectory(prefix="studio-bench-window-") as work:
            options = dict(steps=20, repeats=1, count=256) if quick else dict(steps=300, repeats=5, count=1024)
            window = measure_window_overhead(device=device_name, work_dir=work, threads=threads, **options)
        result["ui_stall"] = window.pop("ui_stall")
        result["window"] = window
        log(f"  headless {window['headless_images_per_sec']:.0f} images/s, window {window['window_images_per_sec']:.0f}"
            f" images/s, ratio {window['ratio']:.3f}; UI stall p99 {result['ui_stall']['p99_ms']:.1f} ms")

    # FID: feature extraction and the Fréchet distance against pytorch-fid.
    result["fid"] = {}
    if "fid" not in skip:
        log("FID against pytorch-fid")
        n = 8 if quick else (2000 if gpu else 50)
        result["fid"]["extraction"] = measure_fid_extraction(device_name, n, batch_size=8 if quick else 50, log=log)
        result["fid"]["frechet"] = measure_frechet(128 if quick else 2048, device_name, repeats=1 if quick else 3,
                                                   log=log)

    # Launch to a visible window.
    result["launch"] = {}
    if "launch" not in skip:
        log("launch to a visible window")
        result["launch"] = measure_launch(repeats=1 if quick else 3, log=log)

    # Data loading: a JPEG folder first and cached, against one-thread torchvision loops (studio/data_bench.py).
    result["data"] = {}
    if "data" not in skip:
        from .data_bench import measure_data_loading

        result["data"] = measure_data_loading(256 if quick else 20_000, log=log, rounds=1 if quick else 2)

    result["load_average_end"] = _load()
    result["seconds"] = time.perf_counter() - began
    result["targets"] = targets(result)
    return result


def targets(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each target of issue 8 with the figure measured and whether it holds (None: not measured)."""
    gpu = result.get("device_type") == "cuda"
    out: dict[str, dict[str, Any]] = {}
    need = TARGET_TRAIN_GPU if gpu else TARGET_TRAIN_CPU
    for method in TRAIN_METHODS:
        ratio = result.get("train", {}).get(method, {}).get("ratio")
        out[f"train_{method}"] = {"target": f"fast path / plain loop >= {need:g} ({'GPU' if gpu else 'CPU'})",
                                  "value": ratio, "holds": None if ratio is None else ratio >= need}
    ratio = result.get("window", {}).get("ratio")
    out["window"] = {"target": f"with the window / headless >= {TARGET_WINDOW}", "value": ratio,
                     "holds": None if ratio is None else ratio >= TARGET_WINDOW}
    stall = result.get("ui_stall", {}).get("p99_ms")
    out["ui_stall"] = {"target": f"UI stall p99 < {TARGET_STALL_MS:g} ms", "value": stall,
                       "holds": None if stall is None else stall < TARGET_STALL_MS}
    frechet = result.get("fid", {}).get("frechet", {})
    speedup, rel, dims = frechet.get("speedup"), frechet.get("relative_difference"), frechet.get("dims")
    full = dims == 2048
    out["frechet_speed"] = {"target": f"Fréchet distance at 2048 dims >= {TARGET_FRECHET:g}x pytorch-fid's speed",
                            "value": speedup,
                            "holds": None if speedup is None or not full else speedup >= TARGET_FRECHET}
    out["frechet_value"] = {"target": f"same value as pytorch-fid's to {TARGET_FRECHET_REL:g} relative", "value": rel,
                            "holds": None if rel is None or not full else rel <= TARGET_FRECHET_REL}
    launch = result.get("launch", {}).get("seconds_to_window")
    out["launch"] = {"target": f"window visible within {TARGET_LAUNCH_S:g} s of launch", "value": launch,
                     "holds": None if launch is None else launch <= TARGET_LAUNCH_S}
    from .data_bench import data_targets

    out.update(data_targets(result.get("data") or {}))
    return out


def format_report(result: dict[str, Any]) -> str:
    """The figures as a readable table."""
    lines = [f"studio bench on {result['device']} (torch {result['torch']}, {result['threads']} threads, "
             f"{result['cpu_count']} CPUs){' — quick' if result['quick'] else ''}; load average "
             f"{result['load_average_start']} -> {result['load_average_end']}; {result['seconds']:.0f} s", ""]
    if result["train"]:
        lines.append("Training images/s (32x32, batch 64)      fast path    plain loop    ratio")
        for method, row in result["train"].items():
            name = f"{method}, width {row['width']}"
            lines.append(f"  {name:<38} {row['fast_images_per_sec']:>10.1f}    {row['plain_images_per_sec']:>10.1f}"
                         f"    {row['ratio']:>5.2f}")
    if result["window"]:
        w = result["window"]
        lines.append(f"Window ({w['method']} {w['preset']}): headless {w['headless_images_per_sec']:.0f} images/s, "
                     f"with the window {w['window_images_per_sec']:.0f} images/s, ratio {w['ratio']:.3f}")
        s = result["ui_stall"]
        lines.append(f"UI stall while training (10 ms timer lateness): p50 {s['p50_ms']:.1f} ms, "
                     f"p99 {s['p99_ms']:.1f} ms, max {s['max_ms']:.1f} ms over {s['ticks']} ticks")
    if result["fid"]:
        e, f = result["fid"]["extraction"], result["fid"]["frechet"]
        lines.append(f"FID features ({e['images']} images, {e['weights']} weights): studio "
                     f"{e['studio_images_per_sec']:.1f} images/s, pytorch-fid {e['pytorch_fid_images_per_sec']:.1f}"
                     f" images/s (x{e['ratio']:.2f}); largest feature difference {e['max_abs_feature_difference']:.1e}")
        lines.append(f"Fréchet distance at {f['dims']} dims: studio {f['studio_seconds']:.3f} s, pytorch-fid "
                     f"{f['pytorch_fid_seconds']:.3f} s (x{f['speedup']:.1f}); values {f['studio_value']:.9g} and "
                     f"{f['pytorch_fid_value']:.9g}, relative difference {f['relative_difference']:.1e}")
    if result["launch"]:
        lch = result["launch"]
        when = "before" if lch["torch_imported_before_window"] else "after"
        lines.append(f"Launch to a visible window: {lch['seconds_to_window']:.2f} s (median of "
                     f"{len(lch['runs'])}; torch imported {when} the window shows)")
    if result.get("data"):
        d = result["data"]
        lines.append(f"Data, {d['images']:,} 64x64 JPEGs: one-thread decode_jpeg {d['reference_s']:.2f} s, first load "
                     f"{d['first_load_s']:.2f} s (x{d['first_vs_reference']:.2f}), cached {d['cached_load_s']:.3f} s "
                     f"(x{d['cached_vs_first']:.0f} faster); {d['celeba_images']:,} 178x218 to 64 px: full-size "
                     f"decode+resize {d['celeba_reference_s']:.2f} s, studio {d['celeba_load_s']:.2f} s "
                     f"(x{d['celeba_vs_reference']:.2f})")
    lines += ["", "Targets:"]
    for t in result["targets"].values():
        mark = {True: "holds", False: "FAILS", None: "not measured"}[t["holds"]]
        value = "-" if t["value"] is None else f"{t['value']:.3g}"
        lines.append(f"  {mark:<13} {t['target']} (measured {value})")
    return "\n".join(lines)
