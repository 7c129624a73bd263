"""`studio train`: train a method on a dataset from the command line."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import UserError


def add_command(sub) -> None:
    p = sub.add_parser("train", help="train a method on a dataset", description="Train a method on a dataset, "
                       "recording config, metrics, checkpoints and sample grids in a run directory.")
    p.add_argument("--config", metavar="FILE", default=None,
                   help="start from the settings in FILE (a run's config.json, or a RunConfig as JSON); the other "
                        "options change them (how the window starts a multi-GPU run: every setting travels)")
    p.add_argument("--method", default=None, help="method name (see `studio methods`); default dcgan")
    p.add_argument("--dataset", default=None, help="dataset source: builtin:shapes, a folder, a zip, .npy, ... (see `studio datasets`)")
    length = p.add_mutually_exclusive_group()
    length.add_argument("--steps", type=int, default=None, help="total training steps (when resuming: the new total)")
    length.add_argument("--epochs", type=float, default=None, metavar="N",
                        help="train N passes over the data instead: steps = ceil(N × items ÷ batch size), "
                             "both recorded in config.json")
    p.add_argument("--time-limit", default=None, metavar="DURATION",
                   help="stop cleanly, with a checkpoint, at the end of the step that crosses DURATION of training "
                        "in this session (e.g. 90m, 2h, 45s, 1h30m); the run ends 'finished (time limit)'; "
                        "'none' removes a resumed run's limit")
    p.add_argument("--preset", default=None, help="named hyperparameter preset, e.g. paper or tiny")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="set a hyperparameter (repeatable), e.g. --set lr_g=1e-4")
    p.add_argument("--run-dir", default=None, help="where to record the run (default runs/<method>-<time>)")
    p.add_argument("--resume", metavar="DIR", default=None, help="continue the run in DIR from its last checkpoint")
    p.add_argument("--device", default=None, help="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:1, mps")
    p.add_argument("--seed", type=int, default=None, help="random seed (default 0)")
    p.add_argument("--size", type=int, default=None, help="resize images to SIZE×SIZE")
    p.add_argument("--channels", type=int, choices=(1, 3), default=None, help="convert images to 1 or 3 channels")
    condition = p.add_mutually_exclusive_group()
    condition.add_argument("--classes", default=None, metavar="NAME[,NAME…]",
                           help="train on these classes of a labelled source only (class sub-folders, CIFAR-10, "
                                "MNIST IDX, sklearn:digits, quickdraw:cat,dog), relabelled in this order")
    condition.add_argument("--attributes", default=None, metavar="NAME[,NAME…]",
                           help="condition on these attributes of a multi-label source (CelebA), e.g. Blond_Hair,Male")
    p.add_argument("--split", default=None, choices=("train", "val", "test", "all"),
                   help="which part of a source with splits to train on (default train)")
    p.add_argument("--direction", choices=("AtoB", "BtoA"), default=None,
                   help="paired data: translate A into B (default) or B into A")
    for name, text in (("log-every", "log scalars every N steps"), ("sample-every", "save a sample grid every N steps"),
                       ("checkpoint-every", "write checkpoints/last.pt every N steps"),
                       ("eval-every", "evaluate (KID/FID, mode coverage) every N steps; 0 = never"),
                       ("eval-samples", "samples per evaluation")):
        p.add_argument(f"--{name}", type=int, default=None, help=text)
    p.add_argument("--eval-metrics", default=None, metavar="LIST",
                   help="comma-separated metrics to evaluate: kid (default), fid, diversity")
    p.add_argument("--lr-scale", type=float, default=None, metavar="F",
                   help="multiply every learning rate by F (e.g. 0.5 when resuming a run that diverged)")
    p.add_argument("--no-collapse-check", dest="collapse_check", action="store_false", default=None,
                   help="switch off the live collapse monitor (on by default for image runs)")
    p.add_argument("--collapse-threshold", type=float, default=None, metavar="F",
                   help="flag a collapse when the samples are less varied than F × real images (default 0.25)")
    p.add_argument("--collapse-warmup", type=int, default=None, metavar="N",
                   help="steps before a collapse can be called (default 500: an untrained generator draws one blob)")
    p.add_argument("--prdc-every", type=int, default=None, metavar="N",
                   help="precision, recall, density and coverage of --eval-samples samples every N steps, against "
                        "the data's real-vs-real baseline (default 500; 0 = never): the partial-collapse alarm")
    p.add_argument("--partial-threshold", type=float, default=None, metavar="F",
                   help="flag a partial collapse when recall stays below F × its real-vs-real baseline "
                        "(default 0.6, measured: docs/EVALUATION.md)")
    p.add_argument("--lr-anneal", type=float, default=None, metavar="SHARE",
                   help="over this share of the last steps, lower every learning rate linearly to 2%% of its value "
                        "(e.g. 0.75; default 0: constant)")
    p.add_argument("--experiment", default=None, metavar="NAME",
                   help="mark the run as a trial of a shipped experiment (`studio experiments`): the window's Monitor "
                        "draws the figure the paper published on the matching chart")
    p.add_argument("--quiet", action="store_true", help="no progress bar (warnings are still printed)")
    # The fast path (docs/BENCHMARKS.md); "auto" is right for the device and the method.
    p.add_argument("--amp", choices=("auto", "bf16", "off"), default=None,
                   help="mixed precision: bf16 autocast (default auto: on for the methods that tolerate it, on CUDA "
                        "and, for images, on CPUs with bf16 units; the choice is recorded in config.json)")
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
    from ..engine.rundir import RunDirectory
    from ..engine.runlock import new_run_dir

    if args.tensorboard:
        _check_tensorboard()
    if args.config is not None and args.resume is not None:
        raise UserError(f"--config {args.config} --resume {args.resume}: a resumed run keeps its own settings; "
                        "give one of them")
    if args.gpus is not None:
        _check_process_count(args.gpus, args.device or _base_config(args).device)
        if args.gpus > 1:
            return _launch_processes(args)
    # One writer per run directory: a resumed run is locked before anything else (so a run being
    # written is named as such), a new one once its settings are checked, before anything is written.
    # Under torchrun only rank 0 writes (its rank is known before the process group is joined).
    writes = _writes_run_dir()
    resume = args.resume is not None
    lock = None
    created = None  # the run directory this command made, removed again if the run is refused before writing
    if resume and writes and RunDirectory(args.resume).exists():
        lock = _lock_run_dir(Path(args.resume), _writer_command(resume=True))
    try:
        config = _config(args)
        if resume:
            run_dir = Path(args.resume)
        elif args.run_dir is not None:
            run_dir = Path(args.run_dir)
            if writes and not run_dir.exists():
                run_dir.mkdir(parents=True)
                created = run_dir
        else:  # a new folder, claimed atomically: two runs started in the same second get two
            run_dir = created = new_run_dir(config.method) if writes else None
        if writes and not resume:
            lock = _lock_run_dir(run_dir, _writer_command(resume=False))
            if RunDirectory(run_dir).last_checkpoint.exists():
                raise UserError(f"--run-dir {run_dir} already holds a run: use --resume {run_dir} to continue it, "
                                "or choose another folder")
        return _train(args, config, run_dir)
    finally:
        if lock is not None:
            lock.release()
        if created is not None:
            _remove_if_unused(created)


def _remove_if_unused(run_dir: Path) -> None:
    """Remove a run directory this command made that holds nothing but its released (empty) writer lock:
    a run refused before it wrote anything (data of the wrong kind, an unknown class) leaves no folder."""
    from ..engine.runlock import LOCK_FILE

    try:
        entries = list(run_dir.iterdir())
        if any(e.name != LOCK_FILE or e.stat().st_size for e in entries):
            return
        for entry in entries:
            entry.unlink()
        run_dir.rmdir()
    except OSError:
        pass  # another process's lock or files appeared meanwhile: leave it


def _config(args: argparse.Namespace):
    """The RunConfig to train, checked: the resumed run's, or a new one, with the command line's changes."""
    from ..engine import RunConfig
    from ..engine.checkpoint import resolve_checkpoint
    from ..engine.config import parse_duration
    from ..engine.rundir import RunDirectory

    resume = args.resume is not None
    if resume:
        run_dir = Path(args.resume)
        resolve_checkpoint(run_dir)  # a clear error now if there is nothing to resume from
        config = RunConfig.from_dict(RunDirectory(run_dir).read_config().get("run", {}))
        if args.method and args.method != config.method:
            raise UserError(f"--resume {run_dir}: that run trains {config.method}, not {args.method}")
        if args.overrides:
            raise UserError("--set cannot change a resumed run's hyperparameters (its weights and optimizers were "
                            "built with them); use --lr-scale F to change its learning rates, or start a new run")
    else:
        config = _base_config(args)
        if args.method:
            config.method = args.method
        if args.dataset:
            config.dataset = args.dataset
        if args.preset is not None or args.config is None:
            config.preset = args.preset
        config.params = {**config.params, **parse_overrides(args.overrides)}
    _choose_data(args, config, resume)
    if args.epochs is not None:
        config.epochs = args.epochs  # the steps follow once the data is open (Trainer.setup)
    elif args.steps is not None:
        config.epochs = None  # counted in steps from now on
    if args.time_limit is not None and args.time_limit.strip().lower() in ("none", "off"):
        config.time_limit = None
    elif args.time_limit is not None:
        try:
            config.time_limit = parse_duration(args.time_limit)
        except ValueError as exc:
            raise UserError(f"--time-limit {exc}") from None
    for attr, value in (("steps", args.steps), ("device", args.device), ("seed", args.seed), ("image_size", args.size),
                        ("channels", args.channels), ("log_every", args.log_every), ("sample_every", args.sample_every),
                        ("checkpoint_every", args.checkpoint_every), ("eval_every", args.eval_every),
                        ("eval_samples", args.eval_samples), ("amp", args.amp), ("channels_last", args.channels_last),
                        ("optimizer", args.optimizer), ("compile", args.compile), ("lr_anneal", args.lr_anneal),
                        ("collapse_check", args.collapse_check), ("collapse_threshold", args.collapse_threshold),
                        ("collapse_warmup", args.collapse_warmup), ("prdc_every", args.prdc_every),
                        ("partial_threshold", args.partial_threshold)):
        if value is not None:
            setattr(config, attr, value)
    if args.experiment is not None:
        from ..experiments import RECIPES

        if args.experiment not in RECIPES:
            raise UserError(f"--experiment {args.experiment!r} is not a shipped experiment; give one of "
                            f"{', '.join(RECIPES)} (see `studio experiments`)")
        config.experiment = args.experiment
    if args.eval_metrics is not None:
        config.eval_metrics = [m.strip() for m in args.eval_metrics.split(",") if m.strip()]
    config.validate()
    return config


def _base_config(args: argparse.Namespace):
    """The settings a new run starts from: --config FILE's, else the defaults."""
    from ..engine import RunConfig

    return RunConfig.load(Path(args.config)) if args.config is not None else RunConfig()


def _choose_data(args: argparse.Namespace, config, resume: bool) -> None:
    """--classes, --attributes, --split and --direction into `config`; a resumed run keeps its own."""
    chosen = {"classes": None if args.classes is None else _names(args.classes, "classes"),
              "attributes": None if args.attributes is None else _names(args.attributes, "attributes"),
              "split": args.split, "direction": args.direction}
    chosen = {name: value for name, value in chosen.items() if value is not None}
    if resume:
        changed = [f"--{name} {_shown(getattr(config, name))}" for name, value in chosen.items()
                   if _folded(value) != _folded(getattr(config, name))]
        if changed:
            raise UserError(f"--resume {args.resume}: the run trains with {', '.join(changed)}; its networks were "
                            "built for that data, so it cannot change (start a new run for other data)")
        return
    for name, value in chosen.items():
        setattr(config, name, value)


def _folded(value):
    """Class and attribute names compared as they are matched, ignoring case."""
    return [name.casefold() for name in value] if isinstance(value, list) else value


def _shown(value) -> str:
    return ",".join(value) if isinstance(value, list) else str(value or "all")


def _names(text: str, option: str) -> list[str]:
    """'circle, square' -> ['circle', 'square'] for --classes and --attributes."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise UserError(f"--{option} {text!r}: give one or more names separated by commas, e.g. --{option} A,B")
    return names


def _writes_run_dir() -> bool:
    """False on the ranks of a torchrun job other than 0: they train, rank 0 records."""
    from ..engine import distributed

    return not distributed.launched_by_torchrun() or os.environ.get("RANK") == "0"


def _writer_command(resume: bool) -> str:
    """How the lock's record names this process: 'studio train --resume (rank 0 of 2)'."""
    from ..engine import distributed

    command = "studio train --resume" if resume else "studio train"
    if distributed.launched_by_torchrun():
        command += f" (rank 0 of {os.environ.get('WORLD_SIZE')})"
    return command


def _lock_run_dir(run_dir: Path, command: str):
    """The run directory's writer lock, held; UserError (exit code 2) naming the holder if another process writes it."""
    from ..engine.runlock import RunLock, RunLocked

    try:
        return RunLock(run_dir, command).acquire()
    except RunLocked as exc:
        raise UserError(str(exc)) from None


def _train(args: argparse.Namespace, config, run_dir: Path | None) -> int:
    from ..engine import Trainer
    from ..engine.outputs import run_outputs

    resume = args.resume is not None
    dist = _join_process_group(config.device)  # single-process unless started by torchrun
    outputs = None
    try:
        outputs = run_outputs(run_dir, tensorboard=args.tensorboard, steps=config.steps,
                              console="warnings" if args.quiet else "progress")
        if outputs.problems:
            raise UserError(f"--tensorboard: {outputs.problems[0]}")
        trainer = Trainer(config, run_dir=run_dir, resume=resume, subscribers=outputs.subscribers,
                          lr_scale=1.0 if args.lr_scale is None else args.lr_scale)
        state = trainer.run()
    finally:
        if outputs is not None:
            for problem in outputs.close():
                print(f"studio train: {problem}", file=sys.stderr)
        _leave_process_group()
    if not args.quiet and sys.stderr.isatty() and dist.is_main:
        sys.stderr.write("\n")
    succeeded = state.succeeded
    if succeeded:
        if dist.is_main:
            said = trainer.message if trainer.message.startswith(str(state)) else f"{state}: {trainer.message}"
            print(f"{said} (run directory: {run_dir})")
    else:
        rank = f" (rank {dist.rank})" if dist.active else ""
        print(f"studio train{rank}: {state}: {trainer.message}", file=sys.stderr)
    return 0 if succeeded else 1


# --- scaling out (studio/engine/distributed.py, studio/engine/tensorboard.py) ---------------------
def _check_tensorboard() -> None:
    from ..engine.tensorboard import INSTALL_HINT, tensorboard_available

    if not tensorboard_available():
        raise UserError(f"--tensorboard: the tensorboard package is not installed; {INSTALL_HINT}")


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
    from ..engine import distributed
    from ..engine.checkpoint import resolve_checkpoint
    from ..engine.rundir import RunDirectory
    from ..engine.runlock import new_run_dir

    if args.resume is not None:
        run_dir = Path(args.resume)
        resolve_checkpoint(run_dir)  # a clear error now if there is nothing to resume from
    else:
        if args.run_dir is None:
            # Every rank must agree on the folder, so name (and claim) it once here.
            args.run_dir = str(new_run_dir(args.method or _base_config(args).method))
        run_dir = Path(args.run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
    # Rank 0 takes the writer lock for the job; refuse here already, before starting N processes.
    _lock_run_dir(run_dir, "studio train").release()
    if args.resume is None and RunDirectory(run_dir).last_checkpoint.exists():
        raise UserError(f"--run-dir {args.run_dir} already holds a run: use --resume {args.run_dir} to continue it, "
                        "or choose another folder")
    forwarded = distributed.argv_from_namespace(args.train_parser, args, drop=("gpus",))
    return distributed.launch(args.gpus, ["train", *forwarded])
