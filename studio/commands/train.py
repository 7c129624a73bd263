"""`studio train`: train a method on a dataset from the command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import UserError


def add_command(sub) -> None:
    p = sub.add_parser("train", help="train a method on a dataset", description="Train a method on a dataset, "
                       "recording config, metrics, checkpoints and sample grids in a run directory.")
    p.add_argument("--method", default=None, help="method name (see `studio methods`); default dcgan")
    p.add_argument("--dataset", default=None, help="dataset source: builtin:shapes, a folder, a zip, .npy, ... (see `studio datasets`)")
    p.add_argument("--steps", type=int, default=None, help="total training steps (when resuming: the new total)")
    p.add_argument("--preset", default=None, help="named hyperparameter preset, e.g. paper or tiny")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="set a hyperparameter (repeatable), e.g. --set lr_g=1e-4")
    p.add_argument("--run-dir", default=None, help="where to record the run (default runs/<method>-<time>)")
    p.add_argument("--resume", metavar="DIR", default=None, help="continue the run in DIR from its last checkpoint")
    p.add_argument("--device", default=None, help="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:1, mps")
    p.add_argument("--seed", type=int, default=None, help="random seed (default 0)")
    p.add_argument("--size", type=int, default=None, help="resize images to SIZE×SIZE")
    p.add_argument("--channels", type=int, choices=(1, 3), default=None, help="convert images to 1 or 3 channels")
    for name, text in (("log-every", "log scalars every N steps"), ("sample-every", "save a sample grid every N steps"),
                       ("checkpoint-every", "write checkpoints/last.pt every N steps"),
                       ("eval-every", "evaluate (KID/FID, mode coverage) every N steps; 0 = never"),
                       ("eval-samples", "samples per evaluation")):
        p.add_argument(f"--{name}", type=int, default=None, help=text)
    p.add_argument("--eval-metrics", default=None, metavar="LIST",
                   help="comma-separated metrics to evaluate: kid (default), fid, diversity")
    p.add_argument("--lr-scale", type=float, default=None, metavar="F",
                   help="multiply every learning rate by F (e.g. 0.5 when resuming a run that diverged)")
    p.add_argument("--lr-anneal", type=float, default=None, metavar="SHARE",
                   help="over this share of the last steps, lower every learning rate linearly to 2%% of its value "
                        "(e.g. 0.75; default 0: constant)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    # The fast path (docs/BENCHMARKS.md); "auto" is right for the device and the method.
    p.add_argument("--amp", choices=("auto", "bf16", "off"), default=None,
                   help="mixed precision: bf16 autocast (default auto: on CUDA for the methods that tolerate it)")
    p.add_argument("--channels-last", choices=("auto", "on", "off"), default=None,
                   help="channels_last memory format for images and conv weights (default auto: on for CUDA and CPU)")
    p.add_argument("--optimizer-impl", dest="optimizer", choices=("auto", "fused", "foreach", "plain"), default=None,
                   help="optimizer implementation (default auto: fused on CUDA where torch has it, else foreach)")
    p.add_argument("--compile", action="store_true", default=None,
                   help="torch.compile the networks (off by default; the first steps are slow while it compiles)")
    # Scaling out (docs/SCALING.md): several processes, TensorBoard event files.
    p.add_argument("--gpus", type=int, default=None, metavar="N",
                   help="train on N GPUs of this machine (re-launches itself with torchrun); "
                        "with --device cpu, N CPU processes")
    p.add_argument("--tensorboard", action="store_true",
                   help="also write TensorBoard event files to <run-dir>/tensorboard (pip install tensorboard)")
    p.set_defaults(handler=run, train_parser=p)


def parse_overrides(items: list[str]) -> dict[str, str]:
    """['lr_g=1e-4', ...] -> {'lr_g': '1e-4'}; values are typed later by the method's params."""
    out = {}
    for item in items:
        if "=" not in item:
            raise UserError(f"--set {item!r}: expected KEY=VALUE, e.g. --set batch_size=32")
        key, value = item.split("=", 1)
        out[key.strip()] = value.strip()
    return out


def run(args: argparse.Namespace) -> int:
    import time

    from ..engine import RunConfig, Trainer
    from ..engine.checkpoint import resolve_checkpoint
    from ..engine.rundir import RunDirectory
    from ._progress import ProgressBar

    if args.tensorboard:
        _check_tensorboard()
    if args.gpus is not None:
        _check_process_count(args.gpus, args.device)
        if args.gpus > 1:
            return _launch_processes(args)
    resume = args.resume is not None
    if resume:
        run_dir = Path(args.resume)
        resolve_checkpoint(run_dir)  # a clear error now if there is nothing to resume from
        config = RunConfig.from_dict(RunDirectory(run_dir).read_config().get("run", {}))
        if args.method and args.method != config.method:
            raise UserError(f"--resume {run_dir}: that run trains {config.method}, not {args.method}")
    else:
        config = RunConfig()
        if args.method:
            config.method = args.method
        if args.dataset:
            config.dataset = args.dataset
        config.preset = args.preset
        config.params = parse_overrides(args.overrides)
        run_dir = Path(args.run_dir or f"runs/{config.method}-{time.strftime('%Y%m%d-%H%M%S')}")
        if (run_dir / "checkpoints" / "last.pt").exists():
            raise UserError(f"--run-dir {run_dir} already holds a run: use --resume {run_dir} to continue it, "
                            "or choose another folder")
    if resume and args.overrides:
        raise UserError("--set cannot change a resumed run's hyperparameters (its weights and optimizers were built "
                        "with them); use --lr-scale F to change its learning rates, or start a new run")
    for attr, value in (("steps", args.steps), ("device", args.device), ("seed", args.seed), ("image_size", args.size),
                        ("channels", args.channels), ("log_every", args.log_every), ("sample_every", args.sample_every),
                        ("checkpoint_every", args.checkpoint_every), ("eval_every", args.eval_every),
                        ("eval_samples", args.eval_samples), ("amp", args.amp), ("channels_last", args.channels_last),
                        ("optimizer", args.optimizer), ("compile", args.compile), ("lr_anneal", args.lr_anneal)):
        if value is not None:
            setattr(config, attr, value)
    if args.eval_metrics is not None:
        config.eval_metrics = [m.strip() for m in args.eval_metrics.split(",") if m.strip()]
    config.validate()
    dist = _join_process_group(config.device)  # single-process unless started by torchrun
    board = None
    try:
        trainer = Trainer(config, run_dir=run_dir, resume=resume)
        if args.lr_scale is not None:
            _scale_learning_rates(trainer, args.lr_scale)
        if not args.quiet and dist.is_main:
            trainer.subscribe(ProgressBar(config.steps))
        if args.tensorboard and dist.is_main:
            board = _open_tensorboard(run_dir)
            trainer.subscribe(board)
        state = trainer.run()
    finally:
        if board is not None:
            board.close()
        _leave_process_group()
    if not args.quiet and sys.stderr.isatty() and dist.is_main:
        sys.stderr.write("\n")
    if state in ("finished", "stopped"):
        if dist.is_main:
            print(f"{state}: {trainer.message} (run directory: {run_dir})")
    else:
        rank = f" (rank {dist.rank})" if dist.active else ""
        print(f"studio train{rank}: {state}: {trainer.message}", file=sys.stderr)
    return 0 if state in ("finished", "stopped") else 1


def _scale_learning_rates(trainer, factor: float) -> None:
    """Set the run up now so its (restored) learning rates can be scaled before training starts."""
    if not factor > 0:
        raise UserError(f"--lr-scale {factor}: must be positive, e.g. 0.5")
    try:
        trainer.setup()
    except Exception:  # noqa: BLE001 - run() sets up again and reports the error as the run's status
        trainer.method = None
        return
    trainer.scale_learning_rates(factor)
    print(f"learning rates scaled by {factor:g}", file=sys.stderr)


# --- scaling out (studio/engine/distributed.py, studio/engine/tensorboard.py) ---------------------
def _check_tensorboard() -> None:
    from ..engine.tensorboard import INSTALL_HINT, tensorboard_available

    if not tensorboard_available():
        raise UserError(f"--tensorboard: the tensorboard package is not installed; {INSTALL_HINT}")


def _open_tensorboard(run_dir: Path):
    from ..engine.tensorboard import TensorBoardMissing, TensorBoardSubscriber

    try:
        return TensorBoardSubscriber(run_dir)
    except TensorBoardMissing as exc:
        raise UserError(f"--tensorboard: {exc}") from None


def _join_process_group(device: str):
    from ..engine import distributed

    try:
        return distributed.init_from_env(device)
    except distributed.DistributedError as exc:
        raise UserError(str(exc)) from None


def _leave_process_group() -> None:
    from ..engine import distributed

    distributed.shutdown()


def _check_process_count(nproc: int, device: str | None) -> None:
    from ..engine import distributed

    try:
        distributed.check_process_count(nproc, device)
    except distributed.DistributedError as exc:
        raise UserError(str(exc)) from None


def _launch_processes(args: argparse.Namespace) -> int:
    """`--gpus N`: run this same command in N processes under torchrun and return its exit code."""
    import time

    from ..engine import RunConfig, distributed

    if args.resume is None and args.run_dir is None:
        # Every rank must agree on the folder, so name it once here.
        args.run_dir = f"runs/{args.method or RunConfig().method}-{time.strftime('%Y%m%d-%H%M%S')}"
    if args.resume is None and (Path(args.run_dir) / "checkpoints" / "last.pt").exists():
        raise UserError(f"--run-dir {args.run_dir} already holds a run: use --resume {args.run_dir} to continue it, "
                        "or choose another folder")
    forwarded = distributed.argv_from_namespace(args.train_parser, args, drop=("gpus",))
    return distributed.launch(args.gpus, ["train", *forwarded])

