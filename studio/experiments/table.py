"""Tables of experiments: one command runs every recipe of a table (each in DIR/<recipe>/, a normal
experiment folder) and writes DIR/report.json and DIR/report.md with one row per method, measured
beside its targets, the time each took (training CPU and wall, evaluation wall), and one sample grid
per method in DIR/grids/. A finished trial with the recipe's settings is judged again, not retrained,
so the table can be built one row at a time (`only`) and then gathered by one command."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..engine.outputs import Console
from ..engine.rundir import atomic_write_bytes
from ..engine.state import RunState
from .catalogue import DIGITS_RECIPES
from .comparisons import COMPARISON_MD, COMPARISONS, get_comparison, record_figures, trial_dirs
from .comparisons import markdown as comparison_markdown
from .protocols import METRICS
from .recipe import Recipe
from .report import number_text
from .runner import REPORT_JSON, REPORT_MD, machine, run_experiment

# The digits table, and the seeds' comparisons (a few of its recipes each, see comparisons.py).
TABLES: dict[str, list[Recipe]] = {"digits": DIGITS_RECIPES, **{c.name: c.recipe_list() for c in COMPARISONS.values()}}
# The table's columns: (heading, the figures shown in it, "figure (baseline)" pairs in parentheses).
COLUMNS = [
    ("classes ≥ 2%", ["classes_covered"]), ("TV to uniform", ["class_tv"]), ("diversity", ["diversity"]),
    ("nearest real", ["nearest_real"]), ("asked class", ["accuracy"]),
    ("held-out recon. read (L1)", ["reconstruction_accuracy", "reconstruction_error"]),
    ("translation read (inputs, true targets)", ["translation_accuracy", "input_accuracy", "target_accuracy"]),
    ("precision (real)", ["precision", "precision_baseline"]), ("recall (real)", ["recall", "recall_baseline"]),
    ("density (real)", ["density", "density_baseline"]), ("coverage (real)", ["coverage", "coverage_baseline"]),
]


def table_recipes(name: str, only: list[str] | None = None) -> list[Recipe]:
    """The recipes of table `name` (all, or the methods or recipe names in `only`); KeyError naming the known ones."""
    if name not in TABLES:
        raise KeyError(f"unknown table '{name}'; known tables: {', '.join(TABLES)}")
    recipes = TABLES[name]
    if not only:
        return list(recipes)
    by_key = {key: r for r in recipes for key in (r.name, r.method)}
    unknown = [o for o in only if o not in by_key]
    if unknown:
        raise KeyError(f"not in the {name} table: {', '.join(unknown)}; it has {', '.join(r.method for r in recipes)}")
    return [r for r in recipes if r.name in {by_key[o].name for o in only}]


def _row(recipe: Recipe, report: dict[str, Any], grid: str | None) -> dict[str, Any]:
    trial = report["trials"][0]
    metrics = trial.get("metrics", {})
    targets = [{"metric": t.metric, "target": str(t), "measured": metrics.get(t.metric),
                "met": t.met(metrics[t.metric], metrics.get(t.relative_to)) if t.metric in metrics else False}
               for t in recipe.targets]
    return {"experiment": recipe.name, "method": recipe.method, "version": recipe.version, "dataset": report["dataset"],
            "steps": report["steps"], "state": trial["state"], "message": trial.get("message", ""),
            "metrics": metrics, "details": trial.get("details", {}), "targets": targets,
            "met": all(t["met"] for t in targets), "cpu_seconds": trial["cpu_seconds"], "seconds": trial["seconds"],
            "eval_seconds": trial.get("eval_seconds"), "reused": trial.get("reused", False),
            "collapse": trial.get("collapse", []),
            "within_time": report["within_time"], "grid": grid, "amp": trial.get("amp")}


def run_table(name: str, run_dir: str | Path, *, only: list[str] | None = None, steps: int | None = None,
              device: str = "auto", amp: str | None = None, command: str = "",
              console: Console = None,
              log: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Run (or judge again) every recipe of table `name` in run_dir/<recipe>/, one trial each, and write the
    table's report.json and report.md in run_dir. Returns the report."""
    recipes = table_recipes(name, only)
    run_dir = Path(run_dir)
    started, info, rows = time.time(), machine(), []
    for recipe in recipes:
        log(f"{recipe.name} (v{recipe.version}): {recipe.method} on {recipe.dataset}, {steps or recipe.steps:,} steps")
        report = run_experiment(recipe, run_dir / recipe.name, steps=steps, device=device, amp=amp, command=command,
                                console=console, log=log)
        grid = None
        picture = run_dir / recipe.name / "trial-1" / "samples.png"
        if picture.exists():
            grid = f"grids/{recipe.method}.png"
            (run_dir / "grids").mkdir(parents=True, exist_ok=True)
            shutil.copyfile(picture, run_dir / grid)
        rows.append(_row(recipe, report, grid))
    report = {"table": name, "command": command, "machine": info,
              "started": time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(started)),
              "total_seconds": time.time() - started, "steps_override": steps, "rows": rows}
    atomic_write_bytes(run_dir / REPORT_JSON, json.dumps(report, indent=2, default=float).encode())
    atomic_write_bytes(run_dir / REPORT_MD, markdown(report).encode())
    return report


def _cell(row: dict[str, Any], figures: list[str]) -> str:
    values = [(f, row["metrics"][f]) for f in figures if f in row["metrics"]]
    if not values:
        return "—"
    text = [number_text(v, METRICS[f][1]) + ("%" if METRICS[f][1] == "%" else "") for f, v in values]
    cell = text[0] + (f" ({', '.join(text[1:])})" if len(text) > 1 else "")
    target = next((t for t in row["targets"] if t["metric"] == figures[0]), None)
    return cell if target is None else f"{cell} {'✓' if target['met'] else '✗'}"


def format_rows(rows: list[dict[str, Any]]) -> list[str]:
    """The table as Markdown lines: one row per method, each target's cell marked ✓ (met) or ✗."""
    lines = ["| method | steps | " + " | ".join(c[0] for c in COLUMNS)
             + " | collapse flagged in training | targets met | train CPU min | train wall min | eval wall s |",
             "|---|---|" + "---|" * len(COLUMNS) + "---|---|---|---|---|"]
    for r in rows:
        if r["state"] != RunState.FINISHED:
            lines.append(f"| {r['method']} | {r['steps']:,} | {r['state']}: {r['message']} |"
                         + " |" * (len(COLUMNS) + 4))
            continue
        met = sum(t["met"] for t in r["targets"])
        flagged = ", ".join(f"{c['kind']} at {c['step']:,}" for c in r.get("collapse", [])) or "no"
        lines.append(f"| {r['method']} | {r['steps']:,} | " + " | ".join(_cell(r, c[1]) for c in COLUMNS)
                     + f" | {flagged} | {met}/{len(r['targets'])}{' ✓' if r['met'] else ''} "
                     f"| {r['cpu_seconds'] / 60:.1f} "
                     f"| {r['seconds'] / 60:.1f} | {r['eval_seconds'] or 0:.0f} |")
    return lines


def markdown(report: dict[str, Any]) -> str:
    """report.md: the command, the machine, the table, what each figure means, the grids."""
    rows = report["rows"]
    fid = next((r["details"].get("fid") for r in rows if r["details"].get("fid")), None)
    judge = [r["metrics"]["judge_accuracy"] for r in rows if "judge_accuracy" in r["metrics"]]
    lines = [f"# The {report['table']} table", "",
             f"- command: `{report['command']}`", f"- machine: {report['machine']['summary']}",
             f"- started {report['started']}, {report['total_seconds'] / 60:.1f} min in all"
             + (f"; every recipe shortened to {report['steps_override']:,} steps" if report["steps_override"] else ""),
             "- judged by a small CNN trained on the real digits" + (
                 f" ({min(judge):.1f}% on its held-out real digits)" if judge else ""),
             f"- {fid}" if fid else "- FID/KID: not measured",
             "- trained earlier, judged again here (times are the training's): "
             + (", ".join(r["method"] for r in rows if r["reused"]) or "none"), "",
             *format_rows(rows), "",
             "Columns: classes drawn by ≥ 2% of 1,000 samples; the class histogram's total variation from uniform; "
             "diversity = mean pairwise distance in the classifier's features over the same for real digits; "
             "nearest real = mean pixel distance to the nearest training digit over real digits' (0: copies); "
             "asked class = conditional accuracy; held-out reconstructions of the last 180 digits read as their "
             "digit (mean |Δ| of [0, 1] pixels); held-out ink-form digits translated and read as their digit "
             "(the untranslated inputs' score); precision and recall (k=3), density and coverage (k=5) of the samples "
             "against half the training digits, in parentheses the other half's (real against real); the collapse "
             "monitors' calls during training (total or partial, at which step). ✓/✗: the recipe's target met or not.",
             ""]
    for r in rows:
        targets = ", ".join(f"{t['metric']} {t['target']}" for t in r["targets"])
        precision = {"bf16": "bf16 autocast", "off": "float32"}.get(r.get("amp") or "", "not recorded")
        lines += [f"## {r['method']} ({r['experiment']} v{r['version']})", "",
                  f"Targets: {targets}; budget 10 CPU min: {'within' if r['within_time'] else '**over**'}; "
                  f"trained in {precision}.", ""]
        if r["grid"]:
            lines += [f"![{r['method']}]({r['grid']})", ""]
    return "\n".join(lines) + "\n"


def run_comparison(name: str, run_dir: str | Path, *, steps: int | None = None, device: str = "auto",
                   command: str = "", console: Console = None,
                   log: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Train and judge the comparison's recipes in run_dir/<recipe>/trial-1 (a finished trial with the
    recipe's settings is judged again, not retrained), record the figures in each run, and write
    run_dir/comparison.md. Returns the table's report with `runs` (the trial directories) added."""
    comparison = get_comparison(name)
    report = run_table(name, run_dir, steps=steps, device=device, command=command, console=console, log=log)
    runs = trial_dirs(comparison, run_dir)
    for recipe, row, trial in zip(comparison.recipe_list(), report["rows"], runs, strict=True):
        if row["state"] == RunState.FINISHED:
            record_figures(trial, row["metrics"], row["steps"], recipe.samples, recipe.evaluation)
    report["runs"] = [str(r) for r in runs]
    atomic_write_bytes(Path(run_dir) / COMPARISON_MD, comparison_markdown(comparison, report).encode())
    return report
