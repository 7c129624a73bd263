"""The seeds' comparisons as recipes: a few of the digits table's recipes run on one dataset, judged by
one protocol, reported as one table, and their runs opened side by side (the window's Compare view,
or `studio compare`).

Seed 004 compared VAE, VAE-GAN and U-Net VAE-GAN by FID in one table; seed 001 set α-GAN's
reconstructions against a plain auto-encoder's. Each comparison here runs its recipes as a table
(`table.run_table`: DIR/<recipe>/trial-1), then writes the protocol's figures into each trial's
metrics.jsonl as evaluation records (each with its N), so the Compare view's table and `studio compare`
show them beside the runs' own, and writes DIR/comparison.md: the table as the write-up had it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..data.sources.sklearn_digits import HELD_OUT_DIGITS
from ..engine.state import RunState
from .catalogue import RECIPES
from .protocols import METRICS
from .recipe import Recipe
from .report import number_text

COMPARISON_MD = "comparison.md"
PROTOCOL_KEY = "protocol"  # the field that marks an evaluation record written from a trial's judged figures
SEED_004 = ("seed 004: CIFAR-10 cars and airplanes, under an hour on a T4, FID on 100 real and 100 generated "
            "images (pytorch-fid)")


@dataclass(frozen=True)
class Comparison:
    """Recipes compared on one dataset: `columns` are the protocol's figures the table shows (in order),
    `published` the write-up's figure per method, `grids` which saved grids the Compare view shows."""

    name: str
    title: str
    description: str
    recipes: tuple[str, ...]
    columns: tuple[str, ...]
    grids: str = "samples"  # or "reconstructions"
    published: dict[str, float] = field(default_factory=dict)
    published_metric: str = ""
    published_source: str = ""

    def recipe_list(self) -> list[Recipe]:
        return [RECIPES[name] for name in self.recipes]

    def describe(self) -> dict[str, Any]:
        """Plain facts for the window's list and `studio experiments --json`."""
        recipes = self.recipe_list()
        return {"name": self.name, "title": self.title, "description": self.description,
                "recipes": list(self.recipes), "methods": [r.method for r in recipes],
                "dataset": recipes[0].dataset, "steps": [r.steps for r in recipes],
                "time_limit_minutes": sum(r.time_limit_minutes or 0 for r in recipes),
                "columns": list(self.columns), "published": dict(self.published),
                "published_metric": self.published_metric, "published_source": self.published_source}


COMPARISONS: dict[str, Comparison] = {c.name: c for c in (
    Comparison(
        "vae-family", "VAE vs VAE-GAN vs U-Net VAE-GAN",
        "Seed 004's table on the real digits: the VAE, the VAE-GAN (Larsen et al.'s updates) and the U-Net "
        "VAE-GAN (generation conditioned on a reference image), each its digits recipe on scikit-learn's digits, "
        "judged by one protocol: FID and KID of 1,000 samples where the Inception weights are present, the classes "
        "drawn, the samples' diversity, and the held-out digits' reconstructions.",
        ("digits-vae", "digits-vae-gan", "digits-unet-vae-gan"),
        ("fid", "kid", "classes_covered", "diversity", "reconstruction_accuracy", "reconstruction_error"),
        published={"vae": 249.76, "vae-gan": 254.7, "unet-vae-gan": 162.29}, published_metric="fid",
        published_source=SEED_004),
    Comparison(
        "ae-vs-alpha-gan", "Auto-encoder vs α-GAN reconstructions",
        "Seed 001's α-GAN against a plain auto-encoder baseline on the real digits: the held-out digits' "
        "reconstructions side by side (read by a classifier trained on the real digits, and their pixel error), "
        "and what each draws from its prior (classes, diversity, FID where the Inception weights are present).",
        ("digits-ae", "digits-alpha-gan"),
        ("reconstruction_accuracy", "reconstruction_error", "classes_covered", "diversity", "fid"),
        grids="reconstructions"),
)}


def get_comparison(name: str) -> Comparison:
    """The comparison called `name`; KeyError listing the known ones otherwise."""
    if name not in COMPARISONS:
        raise KeyError(f"unknown comparison '{name}'; known comparisons: {', '.join(COMPARISONS)}")
    return COMPARISONS[name]


def trial_dirs(comparison: Comparison, run_dir: str | Path) -> list[Path]:
    """The run directories a comparison's table trains (DIR/<recipe>/trial-1), in its order."""
    return [Path(run_dir) / name / "trial-1" for name in comparison.recipes]


def record_figures(trial: Path, metrics: dict[str, float], step: int, samples: int, protocol: str) -> int:
    """Append a trial's judged figures to its metrics.jsonl as evaluation records (once: figures already
    recorded for that step are left alone); returns how many were written. N: the samples drawn, or the
    held-out digits for reconstruction figures; KID in the studio's own unit (the protocol reports ×1000)."""
    from ..engine.rundir import RunDirectory

    run = RunDirectory(trial)
    done = {(r.get("metric"), r.get("step")) for r, _ in run.iter_metrics() if r.get(PROTOCOL_KEY)}
    lines = []
    for name, value in metrics.items():
        if name == "judge_accuracy" or (name, step) in done or not isinstance(value, (int, float)):
            continue
        n = HELD_OUT_DIGITS if name.startswith("reconstruction") else samples
        shown = value / 1000.0 if name == "kid" else value
        lines.append(json.dumps({"step": step, "metric": name, name: shown, "n": n, PROTOCOL_KEY: protocol}))
    if lines:
        with open(run.metrics_path, "a", encoding="utf-8") as fh:
            fh.write("".join(line + "\n" for line in lines))
    return len(lines)


def markdown(comparison: Comparison, report: dict[str, Any]) -> str:
    """comparison.md: one row per method with the comparison's figures (N beside each), and the write-up's."""
    heads = [METRICS[c][0].split(",")[0].split(" (")[0] for c in comparison.columns]
    units = [METRICS[c][1] for c in comparison.columns]
    published = f" | {comparison.published_metric.upper()} in the write-up" if comparison.published else ""
    lines = [f"# {comparison.title}", "", comparison.description, "",
             f"- command: `{report['command']}`", f"- machine: {report['machine']['summary']}",
             f"- started {report['started']}, {report['total_seconds'] / 60:.1f} min in all"
             + (f"; every recipe shortened to {report['steps_override']:,} steps" if report["steps_override"] else ""),
             "", "| method | steps | " + " | ".join(heads) + published + " |",
             "|---|---|" + "---|" * len(heads) + ("---|" if published else "")]
    fid_note = ""
    for row in report["rows"]:
        if row["state"] != RunState.FINISHED:
            lines.append(f"| {row['method']} | {row['steps']:,} | {row['state']}: {row['message']} |"
                         + " |" * (len(heads) - 1 + bool(published)))
            continue
        cells = []
        for metric, unit in zip(comparison.columns, units, strict=True):
            value = row["metrics"].get(metric)
            if value is None:
                cells.append("—")
                continue
            n = HELD_OUT_DIGITS if metric.startswith("reconstruction") else report_samples(row)
            cells.append(f"{number_text(value, unit)}{'%' if unit == '%' else ''} (N={n:,})")
        fid_note = fid_note or row["details"].get("fid", "")
        extra = f" | {comparison.published.get(row['method'], '—')}" if published else ""
        lines.append(f"| {row['method']} | {row['steps']:,} | " + " | ".join(cells) + extra + " |")
    lines += ["", f"- {fid_note}" if fid_note else "- FID/KID: not measured"]
    if comparison.published:
        lines.append(f"- the write-up's figures come from {comparison.published_source}: another dataset and N, so "
                     "compare their order, not their values")
    lines += ["- the runs side by side: `studio compare " + " ".join(report["runs"]) + " --plot comparison.png`, "
              "or the window's Compare view (File → Experiments opens it when the comparison ends)", ""]
    return "\n".join(lines)


def report_samples(row: dict[str, Any]) -> int:
    """The samples a trial's sample figures came from (the recipe's)."""
    recipe = RECIPES.get(row["experiment"])
    return recipe.samples if recipe is not None else 0
