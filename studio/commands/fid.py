"""`studio fid A B`: the Fréchet Inception Distance (and optionally KID) between two image sources.

A and B may each be a folder of images or any dataset source (builtin:shapes, a zip, .npy, ...),
a pytorch-fid statistics file (.npz with mu and sigma), or a run directory / checkpoint, whose
generator is sampled in memory. `--download-weights` fetches pytorch-fid's Inception weights.
`--prdc` adds precision and recall (k=3), density and coverage (k=5) of B against A (A is the real side)
in the same features; without the weights those are measured in the features the diversity score uses
(A's label classifier for a labelled dataset, else 16×16 pixels), FID is not, and the output says so.
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
    p.add_argument("--prdc", action="store_true",
                   help="also precision and recall (k=3), density and coverage (k=5) of B against A (A: the real "
                        "images); without Inception weights in the diversity score's features, and no FID")
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
    from ..metrics.inception import download_weights, find_weights, missing_weights_message, print_progress

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
    if args.save_stats and args.prdc and find_weights() is None:
        raise UserError(f"--save-stats writes Inception statistics, and {missing_weights_message()}")
    result = compare_sources(args)
    note = small_n_note(result) if "fid" in result else ""
    if args.json:
        print(json.dumps(result))
    else:
        lines = []
        if "fid" in result:
            lines.append(f"FID {result['fid']:.4f}  (A: N={_n(result['n_a'])}, B: N={_n(result['n_b'])})")
        if "kid_mean" in result:
            lines.append(f"KID {result['kid_mean']:.6f} ± {result['kid_std']:.6f}")
        if "prdc" in result:
            p = result["prdc"]
            lines.append(f"precision {p['precision']:.4f}  recall {p['recall']:.4f}  (k={p['k_precision_recall']})\n"
                         f"density {p['density']:.4f}  coverage {p['coverage']:.4f}  (k={p['k_density_coverage']})\n"
                         f"  B against A: N={p['n_real']:,} real (A), M={p['n_generated']:,} generated (B), "
                         f"{p['features']} features")
        print("\n".join(lines))
    for line in (result.get("note", ""), note):
        if line:
            print(line, file=sys.stderr)
    return 0


def compare_sources(args: argparse.Namespace) -> dict:
    """The figures between args.a and args.b, with each side's sample count."""
    from ..engine import pick_device
    from ..metrics import frechet_distance, kernel_inception_distance, save_statistics
    from ..metrics.features import FeatureExtractor, InceptionFeatures
    from ..metrics.inception import find_weights, missing_weights_message, weights_path
    from ..metrics.prdc import prdc
    from ..metrics.stats import Statistics
    from ..runs.sources import REPORTED_N, fallback_features, source_kind, source_statistics

    device = pick_device(args.device)
    extractor = None
    inception_features = not args.prdc or find_weights() is not None  # --prdc alone works without the weights

    def features() -> FeatureExtractor:
        nonlocal extractor
        if extractor is None:
            extractor = (InceptionFeatures(weights_path(), device) if inception_features
                         else fallback_features(args.a, args.n, device))
        return extractor

    keep = args.kid or args.prdc
    common = dict(n=args.n, batch_size=args.batch_size, seed=args.seed, keep_features=keep, checkpoint=args.checkpoint)
    started = time.perf_counter()
    stats: dict[str, Statistics] = {}
    # Runs last: without --n a run is sampled as often as the other side has images.
    for side in sorted(("a", "b"), key=lambda s: source_kind(getattr(args, s)) == "run"):
        other = stats.get("b" if side == "a" else "a")
        stats[side] = source_statistics(getattr(args, side), features,
                                        default_run_n=(other.n if other else 0) or REPORTED_N,
                                        progress=CountProgress(f"features of {side.upper()}"), **common)
    stats_a, stats_b = stats["a"], stats["b"]
    if args.save_stats and inception_features:
        save_statistics(args.save_stats, stats_a)
    result: dict = {"n_a": stats_a.n or None, "n_b": stats_b.n or None}
    if inception_features:
        result["fid"] = frechet_distance(stats_a.mu, stats_a.sigma, stats_b.mu, stats_b.sigma, device)
        if args.kid:
            mean, std = kernel_inception_distance(stats_a.features, stats_b.features, device=device)
            result.update(kid_mean=mean, kid_std=std)
    else:
        result["note"] = (f"FID{'/KID' if args.kid else ''} not measured and precision/recall/density/coverage in "
                          f"{extractor.name} features: {missing_weights_message()}")
    if args.prdc:
        figures = prdc(stats_a.features, stats_b.features)
        result["prdc"] = {**figures.as_dict(), "k_precision_recall": figures.k_precision_recall,
                          "k_density_coverage": figures.k_density_coverage, "n_real": figures.n_real,
                          "n_generated": figures.n_generated, "features": extractor.name}
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
