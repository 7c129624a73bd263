"""Training on several processes (GPUs, or CPU processes) with torch.distributed.

Start it with `torchrun --nproc_per_node=N -m studio train ...` (one or several machines) or with
`studio train --gpus N`, which re-launches itself through torchrun. Each process (rank) trains the
same method on its own random batches; the gradients are averaged across ranks before every
optimizer step, so the weights stay identical everywhere, as with DistributedDataParallel.

Why not wrap the networks in DistributedDataParallel? DDP averages gradients from hooks that fire
during one backward pass after one forward call of the wrapped module. The methods here break that
contract in ordinary ways: BEGAN runs two backward passes over one forward (`backward(inputs=...,
retain_graph=True)`), VAE-GAN calls `D.features(...)` (a method DDP cannot see), a generator update
sends gradients into a discriminator it does not step, and WGAN-GP differentiates twice. DDP then
either raises or, worse, silently skips the reduction. Averaging the gradients of an optimizer's
parameters in a step pre-hook (as NVlabs/stylegan3 does) gives the same arithmetic as DDP (the mean
over ranks of each gradient, before the step) for every method, and leaves the networks unwrapped,
so checkpoints never carry DDP's `module.` prefix and resume on any number of processes.

What else keeps the ranks in step (see `Distributed.prepare`):
- on CUDA, BatchNorm layers become SyncBatchNorm (batch statistics over all ranks); on the CPU
  SyncBatchNorm is not supported, so each rank normalises with its own batch (DDP's default);
- rank 0's weights are broadcast once at the start;
- after every phase, 0-dim floating-point extra state (BEGAN's k_t and its decay window) is
  averaged across ranks, which equals updating it from the cross-rank mean of its terms while it
  stays inside its clamp, and learning rates are taken from rank 0 (a rank's own data could
  otherwise decide a learning-rate decay alone);
- each rank draws its own batches and latents: ranks above 0 reseed the sampler and torch's RNG
  from (seed, rank, step), so rank 0 matches a single-process run.

Only rank 0 records the run directory; the logged scalars are the cross-rank means, reduced once
per log interval. With STUDIO_DEBUG_RANK_SCALARS=<folder> each rank also appends its own local
means, its extra state and a checksum of its weights to <folder>/rank-<r>.jsonl (tests use it).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

DEBUG_ENV = "STUDIO_DEBUG_RANK_SCALARS"
TIMEOUT_ENV = "STUDIO_DIST_TIMEOUT"  # seconds a collective may wait for the other ranks


class DistributedError(Exception):
    """Distributed training cannot start as asked; the message says what to change."""


@dataclass
class Distributed:
    """This process's place in the job; the single-process default makes every call a no-op."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str = ""
    host_group: Any = None  # a gloo group for host-side values (learning rates)
    _method: Any = field(default=None, repr=False)

    @property
    def active(self) -> bool:
        """True when there are other ranks to agree with."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """True on rank 0, the one that writes the run directory."""
        return self.rank == 0

    # --- set-up --------------------------------------------------------------------------------
    def prepare(self, method: Any, sampler: Any, seed: int, step: int) -> None:
        """Make `method` train in step with the other ranks, and give this rank its own batches."""
        if not self.active:
            return
        self._method = method
        if method.device.type == "cuda":
            for name, net in method.nets.items():
                # Parameters are kept (same objects), so the optimizers built on them stay valid.
                method.nets[name] = torch.nn.SyncBatchNorm.convert_sync_batchnorm(net)
        for net in method.nets.values():
            for tensor in net.state_dict().values():
                dist.broadcast(tensor, src=0)
        for opt in method.opts.values():
            opt.register_step_pre_hook(self._average_gradients)
        method.train_phase = self._synced_phase(method, method.train_phase)
        if self.rank > 0:
            sampler.generator.manual_seed(rank_seed(seed, self.rank, step, "batches"))
            torch.manual_seed(rank_seed(seed, self.rank, step, "latents"))

    def _average_gradients(self, optimizer: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
        # Every rank runs the same code, so the same parameters hold gradients on every rank.
        grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        by_kind: dict[tuple, list[torch.Tensor]] = {}
        for g in grads:
            by_kind.setdefault((g.dtype, g.device), []).append(g)
        for bucket in by_kind.values():
            flat = torch.cat([g.reshape(-1) for g in bucket])
            dist.all_reduce(flat)
            flat.div_(self.world_size)
            offset = 0
            for g in bucket:
                g.copy_(flat[offset:offset + g.numel()].view_as(g))
                offset += g.numel()

    def _synced_phase(self, method: Any, train_phase: Callable) -> Callable:
        def phase(name: str, batch: Any) -> dict[str, torch.Tensor]:
            out = train_phase(name, batch)
            self._sync_learning_rates(method)
            self._sync_extra_state(method)
            return out

        return phase

    def _sync_learning_rates(self, method: Any) -> None:
        groups = [g for opt in method.opts.values() for g in opt.param_groups]
        if not groups:
            return
        own = [float(g["lr"]) for g in groups]
        # Summing rank 0's values with zeros from the others hands everyone rank 0's, on the host.
        lrs = torch.tensor(own if self.is_main else [0.0] * len(own), dtype=torch.float64)
        dist.all_reduce(lrs, group=self.host_group)
        for g, mine, lr in zip(groups, own, lrs.tolist()):
            if mine != lr:
                if isinstance(g["lr"], torch.Tensor):
                    g["lr"].fill_(lr)
                else:
                    g["lr"] = lr

    def _sync_extra_state(self, method: Any) -> None:
        extra = method.extra_state()
        keys = [k for k, v in extra.items() if _is_float_scalar(v)]
        if not keys:
            return
        stacked = torch.stack([extra[k].detach().float() for k in keys])
        dist.all_reduce(stacked)  # on the device: no host sync
        stacked.div_(self.world_size)
        method.load_extra_state({**extra, **{k: stacked[i].to(extra[k].dtype) for i, k in enumerate(keys)}})

    # --- logging ---------------------------------------------------------------------------------
    def reduce_means(self, step: int, keys: list[str], means: torch.Tensor) -> torch.Tensor:
        """The cross-rank mean of this rank's per-interval means (one collective per log interval)."""
        if not self.active:
            return means
        folder = os.environ.get(DEBUG_ENV)
        if folder:
            self._record_rank(Path(folder), step, keys, means)
        total = means.detach().float().clone()
        dist.all_reduce(total)
        return total.div_(self.world_size)

    def _record_rank(self, folder: Path, step: int, keys: list[str], means: torch.Tensor) -> None:
        record: dict[str, Any] = {"step": step, "rank": self.rank, "world_size": self.world_size,
                                  "local": dict(zip(keys, means.tolist()))}
        method = self._method
        if method is not None:
            record["extra"] = {k: float(v) for k, v in method.extra_state().items() if _is_float_scalar(v)}
            record["weights"] = {name: float(sum(p.detach().double().sum() for p in net.parameters()))
                                 for name, net in method.nets.items()}
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / f"rank-{self.rank}.jsonl", "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")


def _is_float_scalar(value: Any) -> bool:
    return isinstance(value, torch.Tensor) and value.dim() == 0 and value.is_floating_point()


def rank_seed(seed: int, rank: int, step: int, stream: str) -> int:
    """A seed for one rank's random stream, different for every (seed, rank, step, stream)."""
    digest = hashlib.sha256(f"{seed}/{rank}/{step}/{stream}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1)


_current = Distributed()


def current() -> Distributed:
    """This process's distributed context (single-process unless `init_from_env` started one)."""
    return _current


def launched_by_torchrun() -> bool:
    """True inside a process that torchrun (or another torch.distributed launcher) started."""
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def init_from_env(device: str | None = "auto") -> Distributed:
    """Join the process group torchrun described in RANK/WORLD_SIZE/LOCAL_RANK (NCCL on CUDA, gloo on CPU)."""
    global _current
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1 or not launched_by_torchrun() or _current.active:
        return _current
    if not dist.is_available():
        raise DistributedError("this PyTorch build has no torch.distributed; install a standard PyTorch build")
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    use_cuda = _wants_cuda(device or "auto")
    if use_cuda:
        count = torch.cuda.device_count()
        if local_rank >= count:
            raise DistributedError(f"LOCAL_RANK={local_rank} but this machine shows {count} CUDA GPU(s): start at most "
                                   f"{count} processes per node (--nproc_per_node / --gpus)")
        torch.cuda.set_device(local_rank)  # "cuda" now means this rank's GPU
    backend = "nccl" if use_cuda else "gloo"
    timeout = datetime.timedelta(seconds=float(os.environ.get(TIMEOUT_ENV, "1800")))
    kwargs: dict[str, Any] = {"device_id": torch.device("cuda", local_rank)} if use_cuda else {}
    dist.init_process_group(backend=backend, timeout=timeout, **kwargs)
    host_group = dist.new_group(backend="gloo") if backend != "gloo" else None
    _current = Distributed(rank, world, local_rank, backend, host_group)
    return _current


def _wants_cuda(device: str) -> bool:
    if device in ("auto", ""):
        if torch.cuda.is_available():
            return True
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            raise DistributedError("several processes cannot share Apple's MPS device: use --device cpu")
        return False
    if device.startswith("cuda"):
        if ":" in device:
            raise DistributedError(f"--device {device} with several processes: each process uses the GPU of its "
                                   "LOCAL_RANK; use --device cuda (or auto), and CUDA_VISIBLE_DEVICES to pick GPUs")
        if not torch.cuda.is_available():
            raise DistributedError(f"--device {device}: no CUDA GPU is available; use --device cpu")
        return True
    if device == "cpu":
        return False
    raise DistributedError(f"--device {device}: distributed training runs on CUDA GPUs (NCCL) or CPUs (gloo)")


def shutdown() -> None:
    """Leave and destroy the process group (safe to call when there is none)."""
    global _current
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
    _current = Distributed()


# --- launching ---------------------------------------------------------------------------------
def check_process_count(nproc: int, device: str | None) -> None:
    """Raise DistributedError unless `nproc` processes can run on `device` on this machine."""
    if nproc < 1:
        raise DistributedError(f"--gpus {nproc}: give at least 1")
    if launched_by_torchrun():
        raise DistributedError("--gpus: this process was already started by torchrun "
                               f"(WORLD_SIZE={os.environ.get('WORLD_SIZE')}); drop --gpus")
    if _wants_cuda(device or "auto"):
        count = torch.cuda.device_count()
        if nproc > count:
            raise DistributedError(f"--gpus {nproc}: only {count} CUDA GPU(s) are visible; use --gpus {count} "
                                   "or fewer (torchrun --nnodes for several machines)")
    elif (device or "auto") != "cpu":
        raise DistributedError(f"--gpus {nproc}: no CUDA GPU is available; add --device cpu to train with {nproc} "
                               "CPU processes (gloo) instead")


def torchrun_command(nproc: int, module_args: list[str]) -> list[str]:
    """The command that runs `python -m studio <module_args>` in `nproc` processes on this machine."""
    return [sys.executable, "-m", "torch.distributed.run", *torchrun_args(nproc, module_args)]


def torchrun_args(nproc: int, module_args: list[str]) -> list[str]:
    """torchrun's arguments for `studio <module_args>` in `nproc` processes. The packaged app has no
    `python -m`: each rank runs its own executable (`--no-python`), which takes the subcommand."""
    program = ["--no-python", sys.executable] if is_frozen() else ["-m", "studio"]
    return ["--standalone", f"--nproc_per_node={nproc}", *program, *module_args]


def is_frozen() -> bool:
    """True in the packaged app (PyInstaller), where sys.executable is the studio itself, not Python."""
    return bool(getattr(sys, "frozen", False))


def launch(nproc: int, module_args: list[str]) -> int:
    """Run `studio <module_args>` under torchrun with `nproc` processes; return its exit code."""
    # torchrun sets OMP_NUM_THREADS=1 when unset (and says so); keep it, quietly, for CPU ranks.
    if is_frozen():
        # No Python to start torchrun with: its launcher runs in this process and starts the ranks.
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        return _torchrun_here(torchrun_args(nproc, module_args))
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")
    try:
        return subprocess.call(torchrun_command(nproc, module_args), env=env)
    except KeyboardInterrupt:
        return 130


def _torchrun_here(args: list[str]) -> int:
    from torch.distributed import run as torchrun
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError

    try:
        torchrun.main(args)
    except ChildFailedError:
        return 1  # torchrun has printed which rank failed and how
    except KeyboardInterrupt:
        return 130
    return 0


def argv_from_namespace(parser: argparse.ArgumentParser, args: argparse.Namespace,
                        drop: tuple[str, ...] = ()) -> list[str]:
    """Command-line arguments that make `parser` parse back to `args` (options only; `drop` by dest)."""
    out: list[str] = []
    for action in parser._actions:
        if not action.option_strings or action.dest in drop or isinstance(action, argparse._HelpAction):
            continue
        value = getattr(args, action.dest, action.default)
        if value == action.default or value is None:
            continue
        flag = action.option_strings[-1] if action.option_strings[-1].startswith("--") else action.option_strings[0]
        if isinstance(action, argparse._StoreTrueAction):
            out.append(flag)
        elif isinstance(action, argparse._StoreFalseAction):
            out.append(flag)
        elif isinstance(action, argparse._AppendAction):
            for item in value:
                out += [flag, str(item)]
        else:
            out += [flag, str(value)]
    return out
