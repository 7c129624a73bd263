"""One table across runs (the table seed 004 made by hand): method, data, steps, training time, the
last and best FID/KID with their N, mode coverage, and the last precision, recall, density and coverage
with their real-vs-real baseline, N and features; read from each run's config.json and metrics.jsonl.
"""

from __future__ import annotations

import csv
import io
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


def summarize_run(path: str | Path) -> RunSummary:
    """Read a run directory; RunDirError names it when it is not one."""
    rundir = RunDirectory(path)
    config = rundir.read_config()
    run = config.get("run", {})
    summary = RunSummary(Path(path).name, str(run.get("method", "?")), str(run.get("dataset", "?")),
                         int(rundir.read_status().get("step", 0) or 0), 0.0)
    covered = None
    # A long run's 500,000 scalar records are never parsed: only their largest step and training time
    # matter here, found by a pre-filter (metrics_columns.scan_metrics); the few metric records are read.
    scan = scan_metrics(rundir.metrics_path)
    summary.steps, summary.seconds = max(summary.steps, scan.step), scan.seconds
    for record in scan.records:
        step = int(record.get("step", 0) or 0)
        summary.steps = max(summary.steps, step)
        name = record.get("metric")
        if name is None:
            continue
        value = record.get(name)
        if not isinstance(value, (int, float)):
            continue  # "nan" or "inf" stored as text: not a figure to rank
        figure = Figure(float(value), int(record.get("n", 0) or 0), step, record.get("kid_std"),
                        record.get("baseline"), record.get("features"))
        summary.last[name] = figure
        if name in LOWER_IS_BETTER and (name not in summary.best or figure.value < summary.best[name].value):
            summary.best[name] = figure
        if name == "modes_covered":
            covered = (int(value), int(record.get("of", 0) or 0), figure.n)
        if name == "high_quality" and covered is not None:
            summary.modes = (covered[0], covered[1], float(value), covered[2])
    return summary


def _duration(seconds: float) -> str:
    s = int(round(seconds))
    if s >= 3600:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // 60}m {s % 60:02d}s" if s >= 60 else f"{s}s"


def _figure(fig: Figure | None, digits: int) -> str:
    if fig is None:
        return "–"
    spread = f" ± {fig.std:.{digits}f}" if fig.std is not None else ""
    return f"{fig.value:.{digits}f}{spread} (N={fig.n:,}, step {fig.step:,})"


def _coverage(modes: tuple[int, int, float, int] | None) -> str:
    if modes is None:
        return "–"
    covered, of, quality, n = modes
    return f"{covered}/{of} modes, {100 * quality:.1f}% high quality (N={n:,})"


PRDC = ("precision", "recall", "density", "coverage")


def _against_real(fig: Figure | None) -> str:
    if fig is None:
        return "–"
    real = f"real {fig.baseline:.3f}, " if isinstance(fig.baseline, (int, float)) else ""
    return f"{fig.value:.3f} ({real}N={fig.n:,}, step {fig.step:,})"


def _features(s: RunSummary) -> str:
    return next((s.last[name].features for name in PRDC if name in s.last and s.last[name].features), None) or "–"


COLUMNS = ("run", "method", "dataset", "steps", "training time", "FID (last)", "FID (best)", "KID (last)",
           "KID (best)", "mode coverage", "precision (last)", "recall (last)", "density (last)", "coverage (last)",
           "features of P/R/D/C")


def markdown_table(summaries: list[RunSummary]) -> str:
    """A markdown table, one row per run."""
    rows = [[s.run, s.method, s.dataset, f"{s.steps:,}", _duration(s.seconds),
             _figure(s.last.get("fid"), 2), _figure(s.best.get("fid"), 2),
             _figure(s.last.get("kid"), 4), _figure(s.best.get("kid"), 4), _coverage(s.modes),
             *(_against_real(s.last.get(name)) for name in PRDC), _features(s)] for s in summaries]
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join("---" for _ in COLUMNS) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


CSV_COLUMNS = ("run", "method", "dataset", "steps", "training_seconds",
               "fid_last", "fid_last_n", "fid_best", "fid_best_n", "fid_best_step",
               "kid_last", "kid_last_std", "kid_last_n", "kid_best", "kid_best_n", "kid_best_step",
               "modes_covered", "modes", "high_quality", "coverage_n",
               *(f"{name}{part}" for name in PRDC for part in ("_last", "_baseline")), "prdc_n", "prdc_step",
               "prdc_features")


def csv_table(summaries: list[RunSummary]) -> str:
    """CSV with one column per number (empty where a run has no such figure)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for s in summaries:
        row: list = [s.run, s.method, s.dataset, s.steps, round(s.seconds, 1)]
        for name in ("fid", "kid"):
            last, best = s.last.get(name), s.best.get(name)
            row += [last.value if last else "", *([last.std if last else ""] if name == "kid" else []),
                    last.n if last else "", best.value if best else "", best.n if best else "", best.step if best else ""]
        row += list(s.modes) if s.modes else ["", "", "", ""]
        for name in PRDC:
            fig = s.last.get(name)
            row += [fig.value, fig.baseline if fig.baseline is not None else ""] if fig else ["", ""]
        coverage = s.last.get("coverage")
        row += [coverage.n, coverage.step, coverage.features or ""] if coverage else ["", "", ""]
        writer.writerow(row)
    return buf.getvalue()
