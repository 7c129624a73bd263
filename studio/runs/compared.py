"""The runs of a comparison, without Qt: their curves overlaid chart by chart, one colour per run.

`ComparedRun` reads one run directory: its settings (method, data, batch size and data count, for
epochs), its metrics.jsonl into bounded curves (`Series`, read in blocks of typed columns from the
byte it stopped at, so a live run's next read takes only what was appended), its evaluation records
(the table's figures, read by name, whatever metrics the run logged) and its saved sample grids.
`Comparison` holds 2–8 of them and says which charts they share: one chart per scalar, grouped and
ordered as the methods' own charts (`Method.plots`, with their reference lines), one per evaluation
metric, then the scalars no chart names and the speed. The Compare view and `studio compare --plot`
both draw from it, so the window and the PNG show the same charts in the same colours.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..engine.metrics_columns import read_columns
from ..engine.rundir import RunDirectory, RunDirError
from ..engine.runinfo import as_count, run_settings
from .compare import RunSummary, run_name, summary_from_records
from .curve_settings import X_AXES  # what the x axis counts: training steps, passes over the data, training time
from .series import Series

MAX_RUNS = 8
# One colour per run, the same on every chart, the legend, the grids and the PNG: eight that stay apart
# on the dark and the light background alike.
RUN_COLOURS = ("#4f8df5", "#f26b4f", "#3fbf7f", "#e8b730", "#b57cf2", "#f2559a", "#33b8c9", "#9a9fb3")
SPEED_KEYS = ("images_per_sec",)
OTHER, SPEED, EVALUATION = "Other", "Speed (images/s)", "Evaluation"


@dataclass(frozen=True)
class Chart:
    """One chart of the comparison: a scalar (`kind` "scalar") or an evaluation metric ("metric") named `name`."""

    kind: str
    name: str
    title: str
    group: str
    reference_lines: dict[str, float] = field(default_factory=dict, hash=False, compare=False)

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.name}"

    @property
    def sparse(self) -> bool:
        """Evaluation figures come every few thousand steps: each is marked."""
        return self.kind == "metric"


def metric_title(name: str) -> str:
    """'FID', 'KID', 'precision', 'modes covered': as the Monitor names a metric."""
    return name.upper() if len(name) <= 4 and "_" not in name else name.replace("_", " ")


class ComparedRun:
    """One run directory as the comparison shows it; `read()` takes in what its log gained since the last read."""

    def __init__(self, path: str | Path, colour: str = RUN_COLOURS[0]):
        self.path = Path(path)
        self.rundir = RunDirectory(self.path)
        config = self.rundir.read_config()  # RunDirError names the folder when it is not a run
        settings = run_settings(config)
        self.config = config
        self.name = run_name(self.path)
        self.method = str(settings.get("method", "?"))
        self.dataset = str(settings.get("dataset", "?"))
        params = config.get("params") if isinstance(config.get("params"), dict) else {}
        data = config.get("dataset") if isinstance(config.get("dataset"), dict) else {}
        self.batch_size = as_count(params.get("batch_size"))
        self.items = as_count(data.get("count")) or as_count(settings.get("dataset_count"))
        self.total_steps = as_count(settings.get("steps"))
        self.colour = colour
        self.curves: dict[str, Series] = {}  # scalar -> bounded curve over steps
        self.metric_curves: dict[str, Series] = {}  # metric name -> its figures over steps
        self.metric_n: dict[str, int] = {}  # metric name -> the newest figure's N
        self.records: list[dict] = []  # evaluation and event records, in file order (the table's figures)
        self.clock = Series()  # (step, training seconds): the time axis
        self.end = 0  # bytes of metrics.jsonl read
        self.step = 0
        self.seconds = 0.0
        self.scalar_records = 0
        self.grid_kind = "samples"  # which saved grids: "samples", or "reconstructions" (methods with an encoder)
        self._grids: list[tuple[int, Path]] = []
        self._grid_steps: list[int] = []

    @property
    def label(self) -> str:
        """How the legend names the run: its folder, method and data."""
        return f"{self.name} · {self.method} on {self.dataset}"

    def status(self) -> dict:
        return self.rundir.read_status()

    # --- reading ---------------------------------------------------------------------------------
    def read(self, report: Callable[[int, int], None] | None = None) -> bool:
        """Take in metrics.jsonl from where the last read ended to its last complete line; True when
        something was new. `report(done, total)` in bytes after each block (it may raise to cancel)."""
        path = self.rundir.metrics_path
        try:
            total = path.stat().st_size
        except OSError:
            return False
        if total < self.end:  # the log was replaced (a run started again in the folder): read it anew
            self._forget()
        if total == self.end:
            return False
        waiting: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
        clock: list[tuple[np.ndarray, np.ndarray]] = []
        for block in read_columns(path, self.end):
            for name, pair in block.scalars.items():
                waiting.setdefault(name, []).append(pair)
            if block.rows:
                clock.append((block.steps, block.times))
                self.scalar_records += block.rows
                self.step = max(self.step, int(block.steps.max()))
                self.seconds = max(self.seconds, float(block.times.max()))
            for record in block.records:
                self._take_record(record)
            self.end = block.end
            if sum(len(p[0]) for pairs in waiting.values() for p in pairs) >= 1 << 16:
                self._into_curves(waiting, clock)  # bounded while a long log is read
            if report is not None:
                report(min(block.end, total), total)
        self._into_curves(waiting, clock)
        return True

    def _take_record(self, record: dict) -> None:
        self.records.append(record)
        step = as_count(record.get("step"))
        self.step = max(self.step, step)
        name = record.get("metric")
        if not isinstance(name, str):
            return
        value = record.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return  # "nan" written as text: no point to draw
        curve = self.metric_curves.get(name)
        if curve is None:
            curve = self.metric_curves[name] = Series()
        curve.append(float(step), float(value))
        self.metric_n[name] = as_count(record.get("n"))

    def _into_curves(self, waiting: dict, clock: list) -> None:
        for name, pairs in waiting.items():
            curve = self.curves.get(name)
            if curve is None:
                curve = self.curves[name] = Series()
            curve.extend(np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs]))
        if clock:
            self.clock.extend(np.concatenate([c[0] for c in clock]), np.concatenate([c[1] for c in clock]))
        waiting.clear()
        clock.clear()

    def _forget(self) -> None:
        self.curves, self.metric_curves, self.metric_n, self.records = {}, {}, {}, []
        self.clock, self.end, self.step, self.seconds, self.scalar_records = Series(), 0, 0, 0.0, 0

    def summary(self) -> RunSummary:
        """The table's row: method, data, steps, time and the newest and best figure of every metric."""
        return summary_from_records(self.name, self.config, self.status(), self.step, self.seconds, self.records)

    # --- axes ------------------------------------------------------------------------------------
    def x_of(self, steps: np.ndarray, axis: str) -> np.ndarray | None:
        """`steps` in the units of `axis` (X_AXES); None when this run cannot say (epochs without its data's size)."""
        steps = np.asarray(steps, dtype=np.float64)
        if axis == "step":
            return steps
        if axis == "epoch":
            if not (self.batch_size and self.items):
                return None
            return steps * self.batch_size / self.items
        if axis == "time":
            if self.clock.size == 0:
                return None
            # Training time at each step, from the logged (step, time) pairs: evaluation figures between them too.
            return np.interp(steps, self.clock.x, self.clock.y)
        raise ValueError(f"x axis {axis!r}: choose one of {', '.join(X_AXES)}")

    # --- sample grids ----------------------------------------------------------------------------
    def scan_grids(self, kind: str | None = None) -> bool:
        """Look for newly saved grids (of `kind`, from now on, when given); True when the list changed."""
        if kind is not None:
            self.grid_kind = kind
        grids = self.rundir.sample_images(self.grid_kind)
        if grids == self._grids:
            return False
        self._grids = grids
        self._grid_steps = [s for s, _ in grids]
        return True

    @property
    def grids(self) -> list[tuple[int, Path]]:
        return list(self._grids)

    def grid_at(self, step: int) -> tuple[int, Path] | None:
        """The newest grid saved at or before `step` (None before the first)."""
        i = bisect.bisect_right(self._grid_steps, step)
        return self._grids[i - 1] if i else None


class Comparison:
    """2–8 runs and the charts they share (`charts()`), each run in its colour."""

    def __init__(self, paths: list[str | Path] = ()):
        self.runs: list[ComparedRun] = []
        for path in paths:
            self.add(path)

    def add(self, path: str | Path) -> ComparedRun:
        """Add the run directory `path` (not yet read); RunDirError for a folder that is no run, ValueError
        for a ninth run or one already shown."""
        path = Path(path).resolve()
        if any(r.path == path for r in self.runs):
            raise ValueError(f"{path}: already in the comparison")
        if len(self.runs) >= MAX_RUNS:
            raise ValueError(f"{path}: a comparison shows at most {MAX_RUNS} runs; remove one first")
        if not path.is_dir():
            raise RunDirError(f"{path}: no such run directory")
        used = {r.colour for r in self.runs}
        colour = next(c for c in RUN_COLOURS if c not in used)
        run = ComparedRun(path, colour)
        self.runs.append(run)
        return run

    def remove(self, path: str | Path) -> None:
        path = Path(path).resolve()
        self.runs = [r for r in self.runs if r.path.resolve() != path]

    def clear(self) -> None:
        self.runs = []

    def read(self) -> bool:
        """Read every run's log to its end (the command line; the window reads on a thread)."""
        return any([run.read() for run in self.runs])

    def charts(self) -> list[Chart]:
        """The charts the runs share, in order: the methods' own (first run first), evaluation metrics,
        other scalars, then speed. A chart some runs lack simply holds fewer curves."""
        from ..methods import get_method

        grouped: dict[str, Chart] = {}
        metrics: dict[str, Chart] = {}
        rest: dict[str, Chart] = {}
        for run in self.runs:
            try:
                plots = get_method(run.method).plots
            except Exception:  # noqa: BLE001 - a method this studio does not know: its scalars go to "Other"
                plots = ()
            for plot in plots:
                for key in plot.scalars:
                    if key in run.curves and f"scalar:{key}" not in grouped:
                        title = plot.title if len(plot.scalars) == 1 else f"{plot.title}: {key}"
                        grouped[f"scalar:{key}"] = Chart("scalar", key, title, plot.title, dict(plot.reference_lines))
            for name in run.metric_curves:
                metrics.setdefault(name, Chart("metric", name, metric_title(name), EVALUATION))
        for run in self.runs:
            for key in run.curves:
                if f"scalar:{key}" in grouped:
                    continue
                group = SPEED if key in SPEED_KEYS else OTHER
                rest.setdefault(key, Chart("scalar", key, SPEED if group == SPEED else key, group))
        others = sorted((c for c in rest.values() if c.group == OTHER), key=lambda c: c.name)
        speed = [c for c in rest.values() if c.group == SPEED]
        return [*grouped.values(), *metrics.values(), *others, *speed]

    def curve(self, run: ComparedRun, chart: Chart) -> Series | None:
        """`run`'s curve on `chart` (None when it has none)."""
        return (run.curves if chart.kind == "scalar" else run.metric_curves).get(chart.name)

    def curve_label(self, run: ComparedRun, chart: Chart) -> str:
        """The run's name on a chart, with the N of a metric's newest figure."""
        n = run.metric_n.get(chart.name) if chart.kind == "metric" else None
        return f"{run.name} (N={n:,})" if n else run.name

    def grid_steps(self) -> list[int]:
        """Every step at which some run saved a sample grid, in order (the shared slider's stops)."""
        return sorted({s for run in self.runs for s, _ in run.grids})

    def time_unit(self) -> tuple[str, float]:
        """The unit the time axis counts in, from the longest run: ("s", 1), ("min", 60) or ("h", 3600)."""
        longest = max((run.seconds for run in self.runs), default=0.0)
        if longest >= 3 * 3600:
            return "h", 3600.0
        return ("min", 60.0) if longest >= 180 else ("s", 1.0)

    def axis_label(self, axis: str) -> str:
        if axis == "time":
            return f"training time ({self.time_unit()[0]})"
        return axis

    def xy(self, run: ComparedRun, chart: Chart, axis: str) -> tuple[np.ndarray, np.ndarray] | None:
        """The run's curve on `chart` as (x in `axis` units, y): None when it has none or cannot say."""
        series = self.curve(run, chart)
        if series is None or series.size == 0:
            return None
        x = run.x_of(series.x, axis)
        if x is None:
            return None
        if axis == "time":
            x = x / self.time_unit()[1]
        return x, series.y

    def summaries(self) -> list[RunSummary]:
        return [run.summary() for run in self.runs]



def is_run_dir(path: str | Path) -> bool:
    """A folder a run wrote: it holds a config.json."""
    return (Path(path) / "config.json").is_file()


def find_runs(folder: str | Path, depth: int = 3) -> list[Path]:
    """`folder` itself when it is a run, else the runs inside it, `depth` folders deep at most, in name order:
    an experiment's trials (DIR/trial-K), a table's (DIR/<recipe>/trial-1), a folder of runs."""
    folder = Path(folder)
    if is_run_dir(folder):
        return [folder]
    if depth <= 0 or not folder.is_dir():
        return []
    found: list[Path] = []
    try:
        children = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return []
    for child in children:
        found += find_runs(child, depth - 1)
    return found
