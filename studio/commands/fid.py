"""`studio fid A B`: the Fréchet Inception Distance (and optionally KID) between two image sources.

A and B may each be a folder of images or any dataset source (builtin:shapes, a zip, .npy, ...),
a pytorch-fid statistics file (.npz with mu and sigma), or a run directory / checkpoint, whose
generator is sampled in memory. `--download-weights` fetches pytorch-fid's Inception weights.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from . import UserError


def add_command(sub) -> None:
    p = sub.add_parser("fid", help="FID (and KID) between image folders, datasets, runs or .npz statistics",
                       description="Fréchet Inception Distance between two sources: image folders or dataset sources, "
                       "pytorch-fid .npz statistics, or run directories (their generator is sampled in memory). "
                       "Uses pytorch-fid's InceptionV3 weights; see docs/EVALUATION.md.")
    p.add_argument("a", nargs="?", help="first source (its statistics are what --save-stats writes)")
    p.add_argument("b", nargs="?", help="second source")
    p.add_argument("--n", type=int, default=None,
                   help="images per source: a subset of a dataset (default all), samples from a run "
                   "(default: the other side's count, else 10,000)")
    p.add_argument("--kid", action="store_true", help="also compute KID (unbiased at small N)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--save-stats", metavar="OUT.npz", help="write A's statistics as pytorch-fid .npz (mu, sigma)")
    p.add_argument("--batch-size", type=int, default=50, help="images per Inception batch (default 50)")
    p.add_argument("--device", default="auto", help="auto (CUDA, then MPS, then CPU), cpu, cuda, ...")
    p.add_argument("--seed", type=int, default=0, help="seed for the images picked and the latents sampled")
    p.add_argument("--checkpoint", default="last", choices=("last", "best"), help="which checkpoint of a run directory")
    p.add_argument("--download-weights", action="store_true",
                   help="download pytorch-fid's Inception weights into torch's hub cache, then compare A and B if given")
    p.set_defaults(handler=run)


class CountProgress:
    """'features of A: 300/1000' on stderr: in place on a terminal, every tenth otherwise."""

    def __init__(self, label: str):
        self.label, self.tty, self.shown = label, sys.stderr.isatty(), -1

    def __call__(self, done: int, total: int) -> None:
        tenth = int(10 * done / total) if total else 0
        if not self.tty and tenth == self.shown:
            return
        self.shown = tenth
        of = f"/{total:,}" if total else ""
        end = "\r" if self.tty and done != total else "\n"
        print(f"{self.label}: {done:,}{of}", end=end, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from ..metrics.inception import download_weights, print_progress

    if args.download_weights:
        path = download_weights(progress=print_progress)
        print(f"Inception weights: {path}", file=sys.stderr if args.json else sys.stdout)
        if args.a is None and args.b is None:
            return 0
    if args.a is None or args.b is None:
        raise UserError("give two sources to compare, e.g. `studio fid real_images/ runs/dcgan-1` "
                        "(folders, dataset sources, .npz statistics or run directories)")
    if args.n is not None and args.n < 2:
        raise UserError(f"--n {args.n}: give at least 2 images per source")
    if args.batch_size < 1:
        raise UserError(f"--batch-size {args.batch_size}: give a positive number")
    result = compare_sources(args)
    note = small_n_note(result)
    if args.json:
        print(json.dumps(result))
    else:
        text = f"FID {result['fid']:.4f}  (A: N={_n(result['n_a'])}, B: N={_n(result['n_b'])})"
        if "kid_mean" in result:
            text += f"\nKID {result['kid_mean']:.6f} ± {result['kid_std']:.6f}"
        print(text)
    if note:
        print(note, file=sys.stderr)
    return 0


def compare_sources(args: argparse.Namespace) -> dict:
    """The figures between args.a and args.b, with each side's sample count."""
    from ..engine import pick_device
    from ..metrics import frechet_distance, kernel_inception_distance, save_statistics
    from ..metrics.features import InceptionFeatures
    from ..metrics.inception import weights_path
    from ..metrics.stats import Statistics
    from ..runs.sources import REPORTED_N, source_kind, source_statistics

    device = pick_device(args.device)
    extractor = None

    def inception() -> InceptionFeatures:
        nonlocal extractor
        if extractor is None:
            extractor = InceptionFeatures(weights_path(), device)
        return extractor

    common = dict(n=args.n, batch_size=args.batch_size, seed=args.seed, keep_features=args.kid, checkpoint=args.checkpoint)
    started = time.perf_counter()
    stats: dict[str, Statistics] = {}
    # Runs last: without --n a run is sampled as often as the other side has images.
    for side in sorted(("a", "b"), key=lambda s: source_kind(getattr(args, s)) == "run"):
        other = stats.get("b" if side == "a" else "a")
        stats[side] = source_statistics(getattr(args, side), inception, default_run_n=(other.n if other else 0) or REPORTED_N,
                                        progress=CountProgress(f"features of {side.upper()}"), **common)
    stats_a, stats_b = stats["a"], stats["b"]
    if args.save_stats:
        save_statistics(args.save_stats, stats_a)
    result = {"fid": frechet_distance(stats_a.mu, stats_a.sigma, stats_b.mu, stats_b.sigma, device),
              "n_a": stats_a.n or None, "n_b": stats_b.n or None}
    if args.kid:
        mean, std = kernel_inception_distance(stats_a.features, stats_b.features, device=device)
        result.update(kid_mean=mean, kid_std=std)
    result["seconds"] = round(time.perf_counter() - started, 2)
    return result


def small_n_note(result: dict) -> str:
    """A warning when either side has fewer images than a reported figure needs."""
    from ..runs.sources import REPORTED_N

    counts = [n for n in (result["n_a"], result["n_b"]) if n]
    if not counts or min(counts) >= REPORTED_N:
        return ""
    return (f"note: N={min(counts):,} is below {REPORTED_N:,}: FID is biased upward at small N, so compare it only with "
            f"figures of the same N and report N beside it (--kid is unbiased at small N)")


def _n(n: int | None) -> str:
    return f"{n:,}" if n else "?"
