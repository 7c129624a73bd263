"""One table across runs (the table seed 004 made by hand): method, data, steps, training time, the
last and best FID/KID with their N, mode coverage, and the newest figure of every other metric a run
logged (precision, recall, density, coverage, ... read by name, with N, k, and the real-vs-real
baseline and features where the figure has them); read from each run's config.json and metrics.jsonl.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..engine.metrics_columns import scan_metrics
from ..engine.rundir import RunDirectory


@dataclass
class Figure:
    """One logged metric value with the step and sample count it came from."""

    value: float
    n: int
    step: int
    std: float | None = None  # KID's spread over subsets
    baseline: float | None = None  # precision/recall/density/coverage: what real images score
    features: str | None = None  # ... and the features they were measured in
    k: int | None = None  # the neighbourhood size of a k-NN figure (precision, recall, coverage, density)


@dataclass
class RunSummary:
    """What the comparison table shows of one run."""

    run: str
    method: str
    dataset: str
    steps: int
    seconds: float
    last: dict[str, Figure] = field(default_factory=dict)
    best: dict[str, Figure] = field(default_factory=dict)
    modes: tuple[int, int, float, int] | None = None  # covered, of, high-quality share, N (last evaluation)


LOWER_IS_BETTER = ("fid", "kid")
# Figures with columns of their own (FID/KID last and best, the 2-D mode coverage); every other metric a run
# logged gets a column of its newest figure, these first in this order, then the rest by name.
OWN_COLUMNS = ("fid", "kid", "modes_covered", "high_quality")
ORDER = ("precision", "recall", "density", "coverage")


def run_name(path: str | Path) -> str:
    """How tables and legends name a run: its folder, with the experiment's folder for a trial
    ("digits-vae/trial-1", where every trial is called trial-1)."""
    path = Path(path).resolve()
    return f"{path.parent.name}/{path.name}" if re.fullmatch(r"trial-\d+", path.name) else path.name


def summarize_run(path: str | Path) -> RunSummary:
    """Read a run directory; RunDirError names it when it is not one."""
    rundir = RunDirectory(path)
    config = rundir.read_config()
    # A long run's 500,000 scalar records are never parsed: only their largest step and training time
    # matter here, found by a pre-filter (metrics_columns.scan_metrics); the few metric records are read.
    scan = scan_metrics(rundir.metrics_path)
    return summary_from_records(run_name(path), config, rundir.read_status(), scan.step, scan.seconds, scan.records)


def summary_from_records(name: str, config: dict, status: dict, step: int, seconds: float,
                         records: list[dict]) -> RunSummary:
    """The table's row of a run from its config.json and status.json, its largest logged step and training
    time, and its metric records in file order (whichever reader found them)."""
    run = config.get("run", {}) if isinstance(config.get("run"), dict) else {}
    summary = RunSummary(name, str(run.get("method", "?")), str(run.get("dataset", "?")),
                         max(int(status.get("step", 0) or 0), step), seconds)
    covered = None
    for record in records:
        step = int(record.get("step", 0) or 0)
        summary.steps = max(summary.steps, step)
        name = record.get("metric")
        if name is None:
            continue
        value = record.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue  # "nan" or "inf" stored as text: not a figure to rank
        k = record.get("k")
        figure = Figure(float(value), int(record.get("n", 0) or 0), step, record.get("kid_std"),
                        record.get("baseline"), record.get("features"),
                        int(k) if isinstance(k, int) and not isinstance(k, bool) else None)
        summary.last[name] = figure
        if name in LOWER_IS_BETTER and (name not in summary.best or figure.value < summary.best[name].value):
            summary.best[name] = figure
        if name == "modes_covered":
            covered = (int(value), int(record.get("of", 0) or 0), figure.n)
        if name == "high_quality" and covered is not None:
            summary.modes = (covered[0], covered[1], float(value), covered[2])
    return summary


def other_metrics(summaries: list[RunSummary]) -> list[str]:
    """The metrics beyond FID/KID and mode coverage that any of the runs logged, in column order."""
    names = {name for s in summaries for name in s.last if name not in OWN_COLUMNS}
    return [n for n in ORDER if n in names] + sorted(names - set(ORDER))


def _duration(seconds: float) -> str:
    s = int(round(seconds))
    if s >= 3600:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // 60}m {s % 60:02d}s" if s >= 60 else f"{s}s"


def _figure(fig: Figure | None, digits: int) -> str:
    if fig is None:
        return "–"
    spread = f" ± {fig.std:.{digits}f}" if fig.std is not None else ""
    real = f"real {fig.baseline:.{digits}f}, " if isinstance(fig.baseline, (int, float)) else ""
    k = f", k={fig.k}" if fig.k is not None else ""
    features = f", {fig.features} features" if fig.features else ""
    return f"{fig.value:.{digits}f}{spread} ({real}N={fig.n:,}{k}, step {fig.step:,}{features})"


def _coverage(modes: tuple[int, int, float, int] | None) -> str:
    if modes is None:
        return "–"
    covered, of, quality, n = modes
    return f"{covered}/{of} modes, {100 * quality:.1f}% high quality (N={n:,})"


COLUMNS = ("run", "method", "dataset", "steps", "training time", "FID (last)", "FID (best)", "KID (last)",
           "KID (best)", "mode coverage")


def table_rows(summaries: list[RunSummary]) -> tuple[list[str], list[list[str]]]:
    """The table as text cells: the headings, then one row per run (the markdown table and the window's)."""
    extra = other_metrics(summaries)
    headings = [*COLUMNS, *extra]
    rows = [[s.run, s.method, s.dataset, f"{s.steps:,}", _duration(s.seconds),
             _figure(s.last.get("fid"), 2), _figure(s.best.get("fid"), 2),
             _figure(s.last.get("kid"), 4), _figure(s.best.get("kid"), 4), _coverage(s.modes),
             *(_figure(s.last.get(name), 3) for name in extra)] for s in summaries]
    return headings, rows


def markdown_table(summaries: list[RunSummary]) -> str:
    """A markdown table, one row per run (a column for every other metric the runs logged)."""
    headings, rows = table_rows(summaries)
    lines = ["| " + " | ".join(headings) + " |", "|" + "|".join("---" for _ in headings) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


CSV_COLUMNS = ("run", "method", "dataset", "steps", "training_seconds",
               "fid_last", "fid_last_n", "fid_best", "fid_best_n", "fid_best_step",
               "kid_last", "kid_last_std", "kid_last_n", "kid_best", "kid_best_n", "kid_best_step",
               "modes_covered", "modes", "high_quality", "modes_n")


def csv_table(summaries: list[RunSummary]) -> str:
    """CSV with one column per number (empty where a run has no such figure); every other metric the runs
    logged adds its value, N, k, step, real-vs-real baseline and features."""
    extra = other_metrics(summaries)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([*CSV_COLUMNS, *(f"{name}{part}" for name in extra for part in ("", "_n", "_k", "_step", "_baseline", "_features"))])
    for s in summaries:
        row: list = [s.run, s.method, s.dataset, s.steps, round(s.seconds, 1)]
        for name in ("fid", "kid"):
            last, best = s.last.get(name), s.best.get(name)
            row += [last.value if last else "", *([last.std if last else ""] if name == "kid" else []),
                    last.n if last else "", best.value if best else "", best.n if best else "", best.step if best else ""]
        row += list(s.modes) if s.modes else ["", "", "", ""]
        for name in extra:
            fig = s.last.get(name)
            row += ([fig.value, fig.n, "" if fig.k is None else fig.k, fig.step,
                     "" if fig.baseline is None else fig.baseline, fig.features or ""] if fig else [""] * 6)
        writer.writerow(row)
    return buf.getvalue()
