"""`studio experiments` lists the shipped experiments; `studio experiment run NAME` runs one and reports
measured beside published (trial K in DIR/trial-K/, DIR/report.json and DIR/report.md)."""

from __future__ import annotations

import argparse
import json
import shlex
import sys

from . import UserError


def add_command(sub) -> None:
    p = sub.add_parser("experiments", help="list the experiments that reproduce published figures")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=list_experiments)
    e = sub.add_parser("experiment", help="run an experiment and report measured beside published",
                       description="Run a shipped experiment (see `studio experiments`): train each trial as a normal "
                       "run in DIR/trial-K/, judge it with the paper's protocol, and write DIR/report.json and "
                       "DIR/report.md with the table (mean ± sd over trials) beside the published figures.")
    actions = e.add_subparsers(dest="action", required=True)
    r = actions.add_parser("run", help="run an experiment's trials and write its report")
    r.add_argument("name", help="experiment name, e.g. ring-fast (see `studio experiments`)")
    r.add_argument("--trials", type=int, default=1, help="independent trials, seeds 0..N-1 (default 1)")
    r.add_argument("--run-dir", default=None, help="where trials and the report go (default runs/experiment-NAME)")
    r.add_argument("--dataset", default=None, help="replace the recipe's dataset source (e.g. a labelled folder)")
    r.add_argument("--steps", type=int, default=None,
                   help="train each trial this many steps instead of the recipe's (the report says what share of "
                        "the published budget ran)")
    r.add_argument("--device", default="auto", help="auto, cpu, cuda, ... (default auto)")
    r.add_argument("--amp", choices=("auto", "bf16", "off"), default=None,
                   help="the trials' precision (default: the recipe's, auto: bf16 where the device and method "
                        "suit it); bf16 or off checks a recipe under the other precision")
    r.add_argument("--json", action="store_true", help="print the report as JSON")
    r.add_argument("--quiet", action="store_true", help="no progress bar")
    r.set_defaults(handler=run_experiment_command)
    t = actions.add_parser("table", help="run every experiment of a table (e.g. digits) and write one report",
                           description="Run every recipe of a table, one trial each, in DIR/<recipe>/ (a finished "
                           "trial with the recipe's settings is judged again, not retrained), and write DIR/report.json "
                           "and DIR/report.md: one row per method, measured beside its targets, the time each took, "
                           "and one sample grid per method in DIR/grids/.")
    t.add_argument("name", help="the table: digits (every image method on scikit-learn's digits)")
    t.add_argument("--run-dir", default=None, help="where the experiments and the report go (default runs/table-NAME)")
    t.add_argument("--only", default=None, help="comma-separated methods (or recipe names) to run, e.g. gan,dcgan")
    t.add_argument("--steps", type=int, default=None, help="train every recipe this many steps instead (a smoke test)")
    t.add_argument("--device", default="auto", help="auto, cpu, cuda, ... (default auto)")
    t.add_argument("--amp", choices=("auto", "bf16", "off"), default=None,
                   help="every trial's precision (default: the recipe's, auto: bf16 where the device and method "
                        "suit it); bf16 or off checks a recipe under the other precision")
    t.add_argument("--json", action="store_true", help="print the report as JSON")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.set_defaults(handler=run_table_command)
    c = actions.add_parser("compare", help="run one of the seeds' comparisons (e.g. vae-family) and write its table",
                           description="Run a comparison (see `studio experiments`): a few digits recipes on one "
                           "dataset, one trial each in DIR/<recipe>/trial-1 (finished trials are judged again, not "
                           "retrained); the judged figures are written into each run's metrics.jsonl, and "
                           "DIR/comparison.md holds the table as the write-up had it. Then compare the runs side by "
                           "side: `studio compare DIR/*/trial-1 --plot out.png` or the window's Compare view.")
    c.add_argument("name", help="the comparison: " + ", ".join(_comparison_names()))
    c.add_argument("--run-dir", default=None, help="where the runs and the table go (default runs/compare-NAME)")
    c.add_argument("--steps", type=int, default=None, help="train every recipe this many steps instead (a smoke test)")
    c.add_argument("--device", default="auto", help="auto, cpu, cuda, ... (default auto)")
    c.add_argument("--json", action="store_true", help="print the report as JSON")
    c.add_argument("--quiet", action="store_true", help="no progress bar")
    c.set_defaults(handler=run_comparison_command)


def _comparison_names() -> list[str]:
    from ..experiments.comparisons import COMPARISONS

    return list(COMPARISONS)


def list_experiments(args: argparse.Namespace) -> int:
    from ..experiments import RECIPES

    described = [r.describe() for r in RECIPES.values()]
    if args.json:
        print(json.dumps(described, indent=2))
        return 0
    from ..experiments.comparisons import COMPARISONS

    for d in described:
        published = ", ".join(f"{p['metric']} {p['value']:g}" for p in d["published"]) or "none"
        targets = ", ".join(f"{t['metric']} {t['text']}" for t in d["targets"])
        print(f"{d['name']:<14} v{d['version']}  {d['title']}")
        print(f"{'':<18}{d['method']} on {d['dataset']}, {d['steps']:,} steps; published: {published}"
              + (f"; target: {targets}" if targets else ""))
    print("\ncomparisons (studio experiment compare NAME; their runs side by side in the Compare view):")
    for c in COMPARISONS.values():
        print(f"{c.name:<18}{c.title}: {', '.join(c.recipes)}")
    return 0


def _command_line(default: str) -> str:
    return "studio " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:] else default


def _console(args: argparse.Namespace) -> str:
    """Each trial's terminal view: a progress bar, or with --quiet or --json only the warnings (a collapse
    still prints its one line, as `studio train --quiet` does)."""
    return "warnings" if args.quiet or args.json else "progress"


def run_experiment_command(args: argparse.Namespace) -> int:
    from ..experiments import REPORT_MD, get_recipe, run_experiment
    from ..experiments.report import format_table

    try:
        recipe = get_recipe(args.name)
    except KeyError as exc:
        raise UserError(exc.args[0]) from None
    if args.trials < 1:
        raise UserError(f"--trials {args.trials}: give at least 1")
    if args.steps is not None and args.steps < 1:
        raise UserError(f"--steps {args.steps}: give at least 1")
    run_dir = args.run_dir or f"runs/experiment-{recipe.name}"
    command = _command_line(f"studio experiment run {recipe.name}")
    log = (lambda _: None) if args.json else (lambda line: print(line, file=sys.stderr))
    report = run_experiment(recipe, run_dir, trials=args.trials, dataset=args.dataset, steps=args.steps,
                            device=args.device, amp=args.amp, command=command, console=_console(args), log=log)
    if args.json:
        print(json.dumps(report, indent=2, default=float))
    else:
        print(f"{recipe.name}: {len(report['trials'])} trial(s), {report['steps']:,} steps each, "
              f"{report['total_seconds'] / 60:.1f} min")
        print("\n".join(format_table(report["table"])))
        print(f"report: {run_dir}/{REPORT_MD}")
    from ..engine.state import RunState

    failed = [t for t in report["trials"] if t["state"] != RunState.FINISHED]
    return 1 if failed else 0


def run_table_command(args: argparse.Namespace) -> int:
    from ..experiments import REPORT_MD
    from ..experiments.table import format_rows, run_table, table_recipes

    only = [o.strip() for o in args.only.split(",") if o.strip()] if args.only else None
    try:
        table_recipes(args.name, only)
    except KeyError as exc:
        raise UserError(exc.args[0]) from None
    if args.steps is not None and args.steps < 1:
        raise UserError(f"--steps {args.steps}: give at least 1")
    run_dir = args.run_dir or f"runs/table-{args.name}"
    log = (lambda _: None) if args.json else (lambda line: print(line, file=sys.stderr))
    report = run_table(args.name, run_dir, only=only, steps=args.steps, device=args.device, amp=args.amp,
                       command=_command_line(f"studio experiment table {args.name}"), console=_console(args), log=log)
    if args.json:
        print(json.dumps(report, indent=2, default=float))
    else:
        print(f"{args.name}: {len(report['rows'])} method(s), {report['total_seconds'] / 60:.1f} min")
        print("\n".join(format_rows(report["rows"])))
        print(f"report: {run_dir}/{REPORT_MD}")
    from ..engine.state import RunState

    return 1 if any(r["state"] != RunState.FINISHED for r in report["rows"]) else 0


def run_comparison_command(args: argparse.Namespace) -> int:
    from ..engine.state import RunState
    from ..experiments.comparisons import COMPARISON_MD, get_comparison
    from ..experiments.table import run_comparison

    try:
        comparison = get_comparison(args.name)
    except KeyError as exc:
        raise UserError(exc.args[0]) from None
    if args.steps is not None and args.steps < 1:
        raise UserError(f"--steps {args.steps}: give at least 1")
    run_dir = args.run_dir or f"runs/compare-{comparison.name}"
    log = (lambda _: None) if args.json else (lambda line: print(line, file=sys.stderr))
    report = run_comparison(comparison.name, run_dir, steps=args.steps, device=args.device,
                            command=_command_line(f"studio experiment compare {comparison.name}"),
                            console=_console(args), log=log)
    if args.json:
        print(json.dumps(report, indent=2, default=float))
    else:
        from pathlib import Path

        text = (Path(run_dir) / COMPARISON_MD).read_text(encoding="utf-8")
        print("\n".join(line for line in text.splitlines() if line.startswith("|")))
        print(f"table: {run_dir}/{COMPARISON_MD}; the runs: {' '.join(report['runs'])}")
    return 1 if any(r["state"] != RunState.FINISHED for r in report["rows"]) else 0
