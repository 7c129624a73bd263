"""The experiment's report: the table measured (mean ± sd over trials) beside published, as JSON and Markdown."""

from __future__ import annotations

import math
import statistics
from typing import Any

from .protocols import METRICS
from .recipe import Recipe


def mean_sd(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def table(recipe: Recipe, trials: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per figure the trials measured: mean, sd, n, the published value and the target."""
    done = [t for t in trials if t.get("metrics")]
    names = [m for m in METRICS if any(m in t["metrics"] for t in done)]
    published = {p.metric: p for p in recipe.published}
    targets = {t.metric: t for t in recipe.targets}
    rows = []
    for name in names:
        values = [t["metrics"][name] for t in done if name in t["metrics"]]
        mean, sd = mean_sd(values)
        row = {"metric": name, "label": METRICS[name][0], "unit": METRICS[name][1], "mean": mean, "sd": sd,
               "n": len(values), "values": values,
               "published": published[name].value if name in published else None,
               "target": str(targets[name]) if name in targets else None,
               "met": targets[name].met(mean, _mean(done, targets[name].relative_to)) if name in targets else None}
        rows.append(row)
    return rows


def _mean(trials: list[dict[str, Any]], name: str) -> float | None:
    values = [t["metrics"][name] for t in trials if name and name in t["metrics"]]
    return statistics.fmean(values) if values else None


def number_text(value: float, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    # Counts (modes, classes) read as 8.0; shares below 10 without a unit (precision, coverage) keep 3 decimals.
    whole = unit == "" and float(value).is_integer()
    return f"{value:.1f}" if unit == "%" or value >= 10 or whole else f"{value:.3f}"


def format_table(rows: list[dict[str, Any]]) -> list[str]:
    """The table as Markdown lines (the CLI prints the same lines)."""
    lines = ["| figure | measured (mean ± sd) | trials | published | target | met |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        unit = f" {r['unit']}" if r["unit"] else ""
        measured = f"{number_text(r['mean'], r['unit'])} ± {number_text(r['sd'], r['unit'])}{unit}"
        published = "—" if r["published"] is None else f"{number_text(r['published'], r['unit'])}{unit}"
        met = "" if r["met"] is None else ("yes" if r["met"] else "**no**")
        lines.append(f"| {r['label']} | {measured} | {r['n']} | {published} | {r['target'] or '—'} | {met} |")
    return lines


def markdown(report: dict[str, Any]) -> str:
    """report.md: what ran, how, on what machine, the table, every trial's figures and pictures."""
    r = report
    recipe = r["recipe"]
    lines = [f"# {r['experiment']} (v{recipe['version']}): {recipe['title']}", "", recipe["description"], ""]
    if recipe["figure"]:
        lines += [f"Reproduces: {recipe['figure']}", ""]
    lines += [f"- command: `{r['command']}`",
              f"- method `{recipe['method']}`, preset `{recipe['preset']}`, settings `{recipe['params']}`",
              f"- dataset `{r['dataset']}`; evaluation `{recipe['evaluation']}` on {recipe['samples']:,} samples",
              f"- steps per trial: {r['steps']:,}" + (
                  f" of the published {recipe['published_steps']:,} ({100 * r['budget_fraction']:.2f}% of the budget)"
                  if recipe["published_steps"] else ""),
              f"- machine: {r['machine']['summary']}",
              f"- time: {r['total_seconds'] / 60:.1f} min for {len(r['trials'])} trial(s); slowest trial "
              f"{r['slowest_trial_seconds'] / 60:.1f} min wall, {r['slowest_trial_cpu_seconds'] / 60:.1f} min CPU" + (
                  f" (budget {recipe['time_limit_minutes']:g} CPU min: {'within' if r['within_time'] else '**over**'})"
                  if recipe["time_limit_minutes"] else ""),
              ""]
    lines += format_table(r["table"]) + [""]
    if recipe["published"]:
        sources = sorted({p["source"] for p in recipe["published"]})
        trials = f" (mean of {recipe['published_trials']} trials)" if recipe["published_trials"] else ""
        lines += [f"Published{trials}: {'; '.join(sources)}", ""]
    lines += ["## Trials", "", "| trial | seed | state | steps | wall min | CPU min | figures |",
              "|---|---|---|---|---|---|---|"]
    for t in r["trials"]:
        figures = ", ".join(f"{k} {v:.3g}" for k, v in t.get("metrics", {}).items())
        lines.append(f"| {t['trial']} | {t['seed']} | {t['state']} | {t['steps']:,} | {t['seconds'] / 60:.1f} "
                     f"| {t['cpu_seconds'] / 60:.1f} | {figures} |")
    lines.append("")
    for t in r["trials"]:
        for picture in t.get("pictures", []):
            lines.append(f"![trial {t['trial']}]({picture})")
    return "\n".join(lines) + "\n"
