"""The trainer: runs a method's schedule on a dataset and emits events to its subscribers.

It knows nothing of Qt, files or terminals: the run directory, the GUI and the CLI are subscribers.
Control (pause, resume, stop) comes from other threads through thread-safe flags.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import threading
import time
from pathlib import Path
from typing import Any, Callable

import torch

from ..data import Dataset, DatasetKind, open_dataset
from ..data.labels import choose_condition
from ..data.sources.paired import orient
from ..fastpath import Performance
from ..grids import image_grid, to_uint8, to_unit_range
from ..methods.autoencoding import RECONSTRUCTIONS_SHOWN, reconstruction_pairs
from ..methods.base import DataSpec, Method, condition_vectors
from ..methods.params import ConfigError
from ..methods.registry import get_method
from ..methods.requirements import data_problem
from . import distributed
from .checkpoint import load_checkpoint, resolve_checkpoint, save_checkpoint
from .config import RunConfig, format_duration
from .coreshare import CoreShare
from .device import pick_device
from .events import Event, Images, Metric, Points, Scalars, Status, Subscriber
from .rundir import RunDirectory
from .sampler import make_sampler
from .state import RunState, StatusNote

# Evaluator: called every eval_every steps with the method and step; returns metric events.
Evaluator = Callable[[Method, int], list[Metric]]

POINTS_SHOWN = 1000  # generated points sent to the live scatter of 2-D sets
DOMAIN_ROW = 8  # images of each domain in the real grid of unpaired data (as the Train tab's preview shows them)


class Diverged(Exception):
    """A logged scalar became NaN or infinite."""


def run_step(method: Method, draw: Callable[[], Any]) -> dict[str, torch.Tensor]:
    """One training step: each phase of the method's schedule, as often as it says, each on a fresh batch,
    then the method's end of step (its averaged generator and adaptive augmentation, methods/aids.py).

    The one place mixed precision applies: the whole step runs under the method's autocast (bf16
    when its `perf.amp` says so; parameters, gradients and optimizer state stay float32).
    """
    out: dict[str, torch.Tensor] = {}
    with method.perf.autocast(method.device):
        for phase, repeats in method.schedule():
            for _ in range(repeats):
                out.update(method.train_phase(phase, draw()))
    out.update(method.end_step())
    return out


class Trainer:
    """Train `config.method` on `config.dataset`, recording into `run_dir` when given.

    The one way a run starts, from the command line, the window and experiments alike. The caller's
    `config` is never changed: `self.config` is the run's own copy, resolved by `setup` (steps from
    epochs, classes as the data spells them). `lr_scale` multiplies every learning rate once the run is
    set up (after a resumed run's checkpoint restored its own), as resuming a diverged run does.
    """

    def __init__(self, config: RunConfig, *, run_dir: str | Path | None = None, dataset: Dataset | None = None,
                 subscribers: tuple[Subscriber, ...] = (), resume: bool = False, evaluator: Evaluator | None = None,
                 lr_scale: float = 1.0):
        config.validate()
        if not lr_scale > 0:
            raise ConfigError(f"lr_scale={lr_scale} must be positive, e.g. 0.5 to halve every learning rate")
        self.config = copy.deepcopy(config)
        self.lr_scale = lr_scale
        self.run_dir = RunDirectory(run_dir) if run_dir is not None else None
        self.dataset = dataset
        self.subscribers: list[Subscriber] = list(subscribers)
        self.resume_requested = resume
        self.evaluator = evaluator
        self.collapse_monitor: Callable[[int, torch.Tensor, str], Any] | None = None  # set up from the config
        self.dist = distributed.current()  # single-process unless torchrun started this one
        self.step = 0
        self.state = RunState.IDLE
        self.message = ""
        self.reason = ""  # why the run ended early, where it says ("time limit")
        self.method: Method | None = None
        self.device: torch.device | None = None
        self._snapshot_lock = threading.Lock()
        self._pause = threading.Event()
        self._stop = threading.Event()
        self._pending: list[tuple[int, dict[str, torch.Tensor]]] = []
        self._last_log_time = 0.0
        self._last_log_step = 0
        self._elapsed_before = 0.0
        self._start_time = 0.0
        self._best: float | None = None
        self._last_good_checkpoint_step: int | None = None
        self.cores = CoreShare(run_dir)  # this run's share of the cores among the machine's training runs

    # --- control from any thread ---------------------------------------------------------------
    def subscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.append(subscriber)

    def pause(self) -> None:
        self._pause.set()

    def resume(self) -> None:
        self._pause.clear()

    def stop(self) -> None:
        self._stop.set()
        self._pause.clear()

    @property
    def paused(self) -> bool:
        return self._pause.is_set()

    def snapshot(self) -> dict[str, Any] | None:
        """A CPU copy of the method's weights and fixed batch, safe to take from another thread
        while training goes on (it waits for the current step to end); None before setup."""
        if self.method is None:
            return None
        with self._snapshot_lock:
            state = {
                "step": self.step, "method": self.method.name, "params": self.method.params_dict(),
                "spec": self.method.spec.to_dict(), "config": self.config.to_dict(),
                "state": {"nets": {k: {n: t.detach().to("cpu", copy=True) for n, t in v.state_dict().items()}
                                   for k, v in self.method.nets.items()}, "extra": self.method.extra_state(),
                          **({"average": self.method.average.cpu_state()} if self.method.average else {})},
                "fixed": {"z": None if self.fixed_z is None else self.fixed_z.cpu(),
                          "labels": None if self.fixed_labels is None else self.fixed_labels.cpu()},
            }
        return state

    # --- the run -------------------------------------------------------------------------------
    def emit(self, event: Event) -> None:
        for subscriber in self.subscribers:
            subscriber(event)

    def _status(self, state: RunState | StatusNote, message: str = "", path: str = "",
                detail: dict | None = None) -> None:
        new_state = RunState.after(state)
        if new_state is not None:
            self.state, self.message = new_state, message
            self.reason = (detail or {}).get("reason", "")
        self.emit(Status(self.step, state, message, path, detail or {}))

    def setup(self) -> None:
        """Open the data, build the method and restore a checkpoint when resuming."""
        cfg = self.config
        self.device = pick_device(cfg.device)
        cls = get_method(cfg.method)
        if self.dataset is None:
            self.dataset = open_dataset(cfg.dataset, **cfg.load_options())
        # Loaded whole, here or by the caller (the window's dataset panel): the run takes its own choice of it.
        self.dataset = chosen_data(self.dataset, cfg)
        for choice in ("classes", "attributes"):  # recorded as the data spells them ("blond_hair" chose Blond_Hair)
            if getattr(cfg, choice) is not None:
                setattr(cfg, choice, list(self.dataset.label_names))
        checkpoint = None
        if self.resume_requested and self.run_dir is not None:
            checkpoint = load_checkpoint(resolve_checkpoint(self.run_dir.path), map_location="cpu")
            params = cls.restore_params(checkpoint["params"])
        else:
            params = cls.make_params(cfg.preset, cfg.params)
        problem = data_problem(cls, self.dataset.kind, self.dataset.label_dim, params, cfg.dataset)
        if problem is not None:
            raise ConfigError(problem)
        if cfg.direction != "AtoB" and self.dataset.kind != DatasetKind.PAIRED:  # recorded, it would do nothing
            held = ("unpaired data (CycleGAN learns A → B and B → A both)" if self.dataset.kind == DatasetKind.UNPAIRED
                    else self.dataset.kind.value)
            raise ConfigError(f"direction {cfg.direction} turns input → target pairs round, but {cfg.dataset} holds "
                              f"{held}: leave the direction out")
        if cfg.epochs is not None:
            cfg.steps = cfg.steps_for_epochs(len(self.dataset), params.batch_size * self.dist.world_size)
        spec = DataSpec.from_dataset(self.dataset)
        try:
            perf = Performance.resolve(self.device, cls, channels_last=cfg.channels_last, amp=cfg.amp,
                                       optimizer=cfg.optimizer, compile=cfg.compile, images=self.dataset.is_images)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # fixed shapes: let cuDNN time its algorithms once
        torch.manual_seed(cfg.seed)
        self.method = cls(params, spec, self.device, perf=perf)
        self.sampler = make_sampler(self.dataset, spec, params.batch_size, self.device, seed=cfg.seed,
                                    memory_format=perf.memory_format())
        self._make_fixed_batch()
        if checkpoint is not None:
            self._restore(checkpoint)
        if self.lr_scale != 1.0:
            self._scale_learning_rates(self.lr_scale)
        self.dist.prepare(self.method, self.sampler, cfg.seed, self.step)
        if not self.dist.is_main:
            self.run_dir = None  # only rank 0 records the run; the others train and reduce
        if self.evaluator is None and (cfg.eval_every or cfg.prdc_every) and self.dist.is_main:
            self.evaluator = _default_evaluator(cfg, self.dataset, self.device)
        if self.dist.is_main:
            self.collapse_monitor = _collapse_monitor(cfg, self.dataset)
        if self.run_dir is not None:
            self.run_dir.create({"run": cfg.to_dict(), "params": self.method.params_dict(), "spec": spec.to_dict(),
                                 "dataset": self.dataset.describe(), "performance": perf.to_dict()})
            self.subscribers.insert(0, self.run_dir)
        if self.lr_scale != 1.0:
            self._status(StatusNote.ALERT, f"learning rates scaled by {self.lr_scale:g}")

    def _scale_learning_rates(self, factor: float) -> None:
        """Multiply every learning rate by `factor`, on the params (so later checkpoints record it) and on
        the optimizers (a checkpoint restores their own rates): how a diverged run is resumed more gently,
        from the window and from `studio train --resume D --lr-scale 0.5`."""
        params = self.method.params
        for name in vars(params):
            if name.startswith("lr") and isinstance(getattr(params, name), float):
                setattr(params, name, getattr(params, name) * factor)
                self.config.params[name] = getattr(params, name)
        for opt in self.method.opts.values():
            for group in opt.param_groups:
                group["lr"] = group["lr"] * factor
                group["initial_lr"] = group.get("initial_lr", group["lr"] / factor) * factor

    def _make_fixed_batch(self) -> None:
        # The fixed latent batch is drawn on the CPU from its own seed: the same on every device.
        cfg, ds, method = self.config, self.dataset, self.method
        n = POINTS_SHOWN if ds.kind == DatasetKind.POINTS else cfg.fixed_samples
        gen = torch.Generator().manual_seed(cfg.seed + 1)
        self.fixed_z = method.latent(n, generator=gen).to(self.device) if hasattr(method.params, "latent_dim") else None
        self.fixed_labels = None
        if ds.labels is not None:
            labels = torch.arange(n) % ds.label_dim if not ds.multi_label else ds.labels[torch.arange(n) % len(ds.labels)]
            self.fixed_labels = condition_vectors(labels, method.spec, self.device)
        self.fixed_reference = None
        self.fixed_reference_labels = None  # the reference items' own labels, for conditional reconstructions
        if ds.is_images:
            take = torch.arange(min(n, len(ds.data)))
            self.fixed_reference = to_unit_range(ds.data[take].to(self.device))
            self.real_grid = real_images_grid(ds, take)
            if ds.labels is not None:
                self.fixed_reference_labels = condition_vectors(ds.labels[take], method.spec, self.device)

    def _restore(self, ckpt: dict) -> None:
        self.method.load_state_dict(_to_device(ckpt["state"], self.device))
        self.sampler.load_state_dict(ckpt["sampler"])
        torch.set_rng_state(ckpt["rng"]["cpu"])
        if self.device.type == "cuda" and ckpt["rng"].get("cuda") is not None:
            torch.cuda.set_rng_state(ckpt["rng"]["cuda"], self.device)
        fixed = ckpt.get("fixed", {})
        if fixed.get("z") is not None:
            self.fixed_z = fixed["z"].to(self.device)
        if fixed.get("labels") is not None:
            self.fixed_labels = fixed["labels"].to(self.device)
        self.step = int(ckpt["step"])
        self._elapsed_before = float(ckpt.get("elapsed", 0.0))
        self._best = ckpt.get("best")
        self._last_good_checkpoint_step = self.step

    def checkpoint_state(self) -> dict[str, Any]:
        """Everything needed to continue exactly: weights, optimizers, RNG, sampler, fixed batch."""
        rng = {"cpu": torch.get_rng_state(),
               "cuda": torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else None}
        return {
            "step": self.step,
            "method": self.method.name,
            "params": self.method.params_dict(),
            "spec": self.method.spec.to_dict(),
            "config": self.config.to_dict(),
            "state": self.method.state_dict(),
            "sampler": self.sampler.state_dict(),
            "rng": rng,
            "fixed": {"z": self.fixed_z, "labels": self.fixed_labels},
            "elapsed": self._elapsed(),
            "best": self._best,
        }

    def _elapsed(self) -> float:
        return self._elapsed_before + (time.perf_counter() - self._start_time if self._start_time else 0.0)

    def session_seconds(self) -> float:
        """Seconds trained in this session (a resumed run's earlier sessions and pauses not counted):
        what `time_limit` is measured against."""
        return self._elapsed() - self._elapsed_before

    def save(self, name: str = "last") -> Path | None:
        """Write checkpoints/<name>.pt (after checking the pending scalars are finite)."""
        self._flush_scalars()
        if self.run_dir is None:
            return None
        path = self.run_dir.checkpoint(name)
        save_checkpoint(path, self.checkpoint_state())
        if name == "last":
            self._last_good_checkpoint_step = self.step
        self._status(StatusNote.CHECKPOINT, f"saved {name}.pt at step {self.step}", str(path))
        return path

    def _flush_scalars(self) -> None:
        """Average the pending per-step scalars, check them, and emit one Scalars event."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        keys = sorted({k for _, values in pending for k in values})
        means = torch.stack([torch.stack([v[k].float() for _, v in pending if k in v]).mean() for k in keys])
        means = self.dist.reduce_means(self.step, keys, means)  # the cross-rank mean when distributed
        values = dict(zip(keys, means.tolist()))  # the one host-device sync of the interval
        bad = [k for k, v in values.items() if not math.isfinite(v)]
        if bad:
            step = next((s for s, v in pending if any(k in v and not torch.isfinite(v[k]) for k in bad)), pending[-1][0])
            key = next((k for s, v in pending if s == step for k in bad if k in v and not torch.isfinite(v[k])), bad[0])
            raise Diverged(f"training diverged at step {step}: {key} became {values[key] if step == pending[-1][0] else 'non-finite'}")
        now = time.perf_counter()
        steps_done = self.step - self._last_log_step
        rate = steps_done * self.method.params.batch_size * self.dist.world_size / max(now - self._last_log_time, 1e-9)
        self._last_log_time, self._last_log_step = now, self.step
        values["images_per_sec"] = rate
        self.emit(Scalars(self.step, values, self._elapsed()))

    def emit_samples(self) -> None:
        """Generate from the fixed batch and emit a grid (or, for 2-D sets, the points); a method with an
        encoder also emits its reconstructions of the fixed real images, each beside its original."""
        # From the averaged generator where there is one; under the lock, so a snapshot never sees it swapped in.
        with torch.no_grad(), self._snapshot_lock, self.method.averaged_generators():
            out = self.method.preview(self.fixed_z, self.fixed_labels, self.fixed_reference)
        if self.dataset.kind == DatasetKind.POINTS:
            self.emit(Points(self.step, out.float().cpu().numpy()))
            return
        self.emit(Images(self.step, "samples", image_grid(to_uint8(out))))
        if self.collapse_monitor is not None:
            self._watch_collapse(out)
        if self.method.has_encoder and self.fixed_reference is not None:
            shown = slice(0, RECONSTRUCTIONS_SHOWN)
            labels = None if self.fixed_reference_labels is None else self.fixed_reference_labels[shown]
            with self._snapshot_lock, self.method.averaged_generators():
                pairs = reconstruction_pairs(self.method, self.fixed_reference[shown], labels)
            self.emit(Images(self.step, "reconstructions", image_grid(to_uint8(pairs))))

    def _watch_collapse(self, preview: torch.Tensor) -> None:
        """Give the live collapse monitor this interval's samples; a collapse becomes a Status("collapse")."""
        self._report_collapse(self.collapse_monitor(self.step, preview, self.method.preview_layout))

    def _report_collapse(self, collapse: Any) -> None:
        """A collapse the monitor called (total or partial) as a Status("collapse"), its facts in the detail."""
        if collapse is not None:
            detail = {**collapse.detail(), "method": self.method.name, "checkpoint": self._last_good_checkpoint_step}
            self._status(StatusNote.COLLAPSE, collapse.message, detail=detail)

    def _final_verdict(self) -> None:
        """When a run ends past its warm-up, however short: one last evaluation (where none was made at this
        step) and the collapse monitor's verdict on the last samples and figures, without its patience."""
        if self.collapse_monitor is None or self.step < self.config.collapse_warmup:
            return
        final = getattr(self.evaluator, "final", None)  # the studio's evaluator; a caller's own may have none
        if final is not None:
            self._evaluate(final)
        self._report_collapse(self.collapse_monitor.verdict())

    def _evaluate(self, evaluate: Evaluator | None = None) -> None:
        if self.dist.active:
            self._flush_scalars()  # on every rank, so rank 0's save("best") below needs no collective
        if self.evaluator is None:
            return
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)  # time the evaluation, not the training queued before it
        started = time.perf_counter()
        # The evaluation draws (and its classifier trains) from random streams of its own: the training's
        # stay as they were, so a run trains the same with evaluation on or off, resumed or not. It judges the
        # averaged generator where the run keeps one.
        with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []), \
                self._snapshot_lock, self.method.averaged_generators():
            metrics = (evaluate or self.evaluator)(self.method, self.step)
        seconds = round(time.perf_counter() - started, 4)  # its cost, in metrics.jsonl beside each figure
        for metric in metrics:
            metric.extra.setdefault("eval_seconds", seconds)
            if metric.name == "alert":  # the evaluator's collapse monitor speaks as a run status
                self._status(StatusNote.ALERT, str(metric.extra.get("message", "")))
            else:
                self.emit(metric)
        if self.collapse_monitor is not None:  # coverage and recall against their real-vs-real baseline
            self._report_collapse(self.collapse_monitor.judge_evaluation(self.step, metrics))
        primary = next((m for m in metrics if m.name in ("fid", "kid", "mode_coverage_quality")), None)
        if primary is not None and primary.name in ("fid", "kid") and math.isfinite(primary.value):
            if self._best is None or primary.value < self._best:
                self._best = primary.value
                self.save("best")

    def train_steps(self, n: int) -> None:
        """Train `n` steps exactly as `run` does, checking and emitting the scalars every `log_every` steps,
        with no sampling, evaluation, checkpoints or status events: for a caller driving its own loop
        (`studio bench` times the studio's step loop with it). Sets the trainer up on first use; a
        non-finite scalar raises `Diverged`."""
        if self.method is None:
            self.setup()
        if not self._start_time:  # called before (or without) run: start the clocks images/s is counted by
            self._start_time = self._last_log_time = time.perf_counter()
            self._last_log_step = self.step
            self.method.train(True)
        self.cores.adjust()  # on the training thread: its torch threads, as the runs training now share the cores
        for _ in range(n):
            # The method's own schedule (CycleGAN's linear decay) times the run's --lr-anneal, if any.
            anneal = self.config.lr_factor(self.step) if self.config.lr_anneal else None
            with self._snapshot_lock:  # snapshot() waits for the step to end
                self.method.schedule_learning_rates(self.step, self.config.steps, anneal)
                scalars = run_step(self.method, self.sampler.draw)
            self.step += 1
            self._pending.append((self.step, scalars))  # read once per log interval: no sync per step
            if self.step % self.config.log_every == 0:
                self._flush_scalars()

    def run(self) -> RunState:
        """Train until `config.steps` (total, counting earlier runs when resuming) or a stop; return the final state."""
        try:
            if self.method is None:
                self.setup()
        except Exception as exc:  # nothing trained yet: report and end
            self._status(RunState.ERROR, _describe_error(exc))
            return self.state
        cfg = self.config
        self._start_time = self._last_log_time = time.perf_counter()
        self._last_log_step = self.step
        self._status(StatusNote.STARTED, f"{cfg.method} on {cfg.dataset} from step {self.step} to {cfg.steps}",
                     detail={"steps": cfg.steps, "amp": self.method.perf.amp})
        if self.dataset.is_images and self.step == 0:
            self.emit(Images(self.step, "real", self.real_grid))
        if self.step == 0:
            self.emit_samples()
        timed_out = False
        try:
            self.method.train(True)
            while self.step < cfg.steps:
                if self._stop.is_set():
                    break
                if self._pause.is_set():
                    self._flush_scalars()
                    self._status(RunState.PAUSED, f"paused at step {self.step}")
                    while self._pause.is_set() and not self._stop.is_set():
                        time.sleep(0.05)
                    self._start_time = self._last_log_time = time.perf_counter() - (self._elapsed() - self._elapsed_before)
                    if not self._stop.is_set():
                        self._status(StatusNote.RESUMED, f"resumed at step {self.step}")
                    continue
                self.train_steps(1)
                if self.step % cfg.sample_every == 0:
                    self.emit_samples()
                if cfg.evaluates_at(self.step):
                    self._evaluate()
                if self.step % cfg.checkpoint_every == 0:
                    self.save("last")
                if cfg.time_limit is not None and self.session_seconds() >= cfg.time_limit:
                    timed_out = self.step < cfg.steps
                    break
            self._flush_scalars()
            if self.step % cfg.sample_every != 0:
                self.emit_samples()
            self._final_verdict()
            self.save("last")
            if timed_out:
                spent = self.session_seconds()
                spent_text = format_duration(round(spent, 1) if spent < 60 else round(spent))
                self._status(RunState.FINISHED, f"finished (time limit) at step {self.step}: {spent_text} of training "
                             f"in this session reached the limit of {format_duration(cfg.time_limit)}",
                             detail={"reason": "time limit", "time_limit": cfg.time_limit})
            else:
                final = RunState.STOPPED if self.step < cfg.steps else RunState.FINISHED
                self._status(final, f"{final} at step {self.step}")
        except Diverged as exc:
            kept = (f"the last good checkpoint (step {self._last_good_checkpoint_step}) is kept; resume from it with a lower learning rate (studio train --resume DIR --lr-scale 0.5)"
                    if self._last_good_checkpoint_step is not None else "no checkpoint had been written yet")
            self._status(RunState.DIVERGED, f"{exc}; {kept}")
        except Exception as exc:
            batch_size = getattr(getattr(self.method, "params", None), "batch_size", None)
            self._status(RunState.ERROR, _describe_error(exc, batch_size))
        finally:
            self.cores.leave()
            close = getattr(getattr(self, "sampler", None), "close", None)
            if close is not None:
                close()  # a streaming sampler's worker processes
            if self.run_dir is not None:
                self.run_dir.close()
        return self.state


def chosen_data(dataset: Dataset, cfg: RunConfig) -> Dataset:
    """`dataset` (as `open_dataset(source, **cfg.load_options())` gives it) narrowed to the run's classes or
    attributes and, for paired data, turned to its direction; a copy where anything changes."""
    dataset = choose_condition(dataset, classes=cfg.classes, attributes=cfg.attributes)
    if dataset.kind == DatasetKind.PAIRED and cfg.direction != "AtoB":
        dataset = orient(dataclasses.replace(dataset, notes=list(dataset.notes)), cfg.direction)
    return dataset


def real_images_grid(dataset: Dataset, take: torch.Tensor) -> Any:
    """The real images shown beside the samples, laid out as the samples are: for paired data each input
    beside its real target (the samples are each input beside its translation), for two domains a row
    of A over a row of B, else the images themselves."""
    if dataset.targets is not None and dataset.kind == DatasetKind.PAIRED:
        return image_grid(torch.cat([dataset.data[take], dataset.targets[take]], dim=3))
    if dataset.targets is not None and dataset.kind == DatasetKind.UNPAIRED:
        row = min(DOMAIN_ROW, len(dataset.data), len(dataset.targets))
        return image_grid(torch.cat([dataset.data[:row], dataset.targets[:row]]), columns=row)
    return image_grid(dataset.data[take])


def _default_evaluator(cfg: RunConfig, dataset: Dataset, device: torch.device) -> Evaluator | None:
    """The metrics layer's in-training evaluator for this config (loaded when a run evaluates)."""
    from .evaluation import make_evaluator

    return make_evaluator(cfg, dataset, device)


def _collapse_monitor(cfg: RunConfig, dataset: Dataset) -> Callable[[int, torch.Tensor, str], Any] | None:
    """The metrics layer's live collapse monitor for this run (None when off or not images)."""
    from ..metrics.collapse import collapse_monitor_for

    return collapse_monitor_for(cfg, dataset)


def _to_device(obj: Any, device: torch.device) -> Any:
    if isinstance(obj, torch.Tensor):
        return obj.to(device)
    if isinstance(obj, dict):
        return {k: _to_device(v, device) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_to_device(v, device) for v in obj]
    return obj


def _describe_error(exc: BaseException, batch_size: int | None = None) -> str:
    """One readable line for any failure, with advice for the common ones."""
    if isinstance(exc, torch.cuda.OutOfMemoryError) or "out of memory" in str(exc).lower():
        if batch_size:
            smaller = max(1, batch_size // 2)
            return (f"out of GPU memory at batch size {batch_size}: use a smaller batch size "
                    f"(e.g. --set batch_size={smaller}), a narrower network or a smaller image size; "
                    "the last checkpoint is intact")
        return ("out of GPU memory: use a smaller batch size (e.g. --set batch_size=32), a narrower network "
                "or a smaller image size")
    if isinstance(exc, OSError) and exc.errno == 28:
        return f"the disk is full ({exc.filename or 'while writing'}): free some space; earlier checkpoints are intact"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    known = (ConfigError, ValueError, FileNotFoundError)
    return text if isinstance(exc, known) or type(exc).__name__ in ("DatasetError", "RunDirError") else f"{type(exc).__name__}: {text}"
