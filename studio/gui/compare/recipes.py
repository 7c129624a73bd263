"""File → Experiments → a comparison: its recipes trained in a process of their own, then compared.

The comparison runs as `studio experiment compare NAME` (its own process: its runs share the cores
with any other through the register of training runs, and the window keeps its thread), with its
progress, read from the runs' status.json, on the Compare view's line and a Cancel beside it. When it
finishes, the Compare view opens its runs side by side, with the grids the comparison is about.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QProcess, QTimer, Signal

from ...engine.runinfo import as_count

POLL_MS = 1000


class ComparisonRun(QObject):
    """One comparison being trained; `progress(text)` while it runs, `ended(ok, message)` once."""

    progress = Signal(str)
    ended = Signal(bool, str)

    def __init__(self, comparison: Any, run_dir: str | Path, steps: int | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        from ...experiments.comparisons import trial_dirs

        self.comparison = comparison
        self.run_dir = Path(run_dir)
        self.steps = steps
        self.runs = trial_dirs(comparison, self.run_dir)
        self.started = 0.0
        self.cancelled = False
        self.output: list[str] = []
        self.process = QProcess(self)
        self.process.setProcessChannelMode(QProcess.ProcessChannelMode.MergedChannels)
        self.process.readyReadStandardOutput.connect(self._on_output)
        self.process.finished.connect(self._on_finished)
        self.process.errorOccurred.connect(self._on_error)
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self._poll)

    @property
    def running(self) -> bool:
        return self.process.state() != QProcess.ProcessState.NotRunning

    def command(self) -> list[str]:
        args = ["-m", "studio", "experiment", "compare", self.comparison.name, "--run-dir", str(self.run_dir),
                "--quiet"]
        return [*args, "--steps", str(self.steps)] if self.steps else args

    def start(self) -> None:
        self.started = time.monotonic()
        self.process.start(sys.executable, self.command())
        self.timer.start()
        self._poll()

    def cancel(self) -> None:
        """Stop the comparison's process (its runs keep what they saved)."""
        if self.running:
            self.cancelled = True
            self.process.kill()

    def wait(self, msecs: int = 30_000) -> bool:
        return self.process.waitForFinished(msecs)

    def _poll(self) -> None:
        from ...engine.rundir import RunDirectory

        names = self.comparison.recipes
        for i, (name, trial) in enumerate(zip(names, self.runs, strict=True)):
            status = RunDirectory(trial).read_status()
            if status.get("state") == "finished" and i < len(names) - 1:
                continue
            step = as_count(status.get("step"))
            total = self.steps or next((r.steps for r in self.comparison.recipe_list() if r.name == name), 0)
            where = f"training {name} ({i + 1} of {len(names)})" + (f", step {step:,}/{total:,}" if step else "")
            if status.get("state") == "finished":
                where = f"judging {name} ({i + 1} of {len(names)})"
            minutes = (time.monotonic() - self.started) / 60
            self.progress.emit(f"{self.comparison.title}: {where} · {minutes:.1f} min")
            return

    def _on_output(self) -> None:
        text = bytes(self.process.readAllStandardOutput().data()).decode("utf-8", "replace")
        self.output = (self.output + text.splitlines())[-40:]

    def _on_finished(self, code: int, _status) -> None:
        self.timer.stop()
        if self.cancelled:
            self.ended.emit(False, f"{self.comparison.title}: cancelled; its runs keep what they saved in "
                                   f"{self.run_dir}")
        elif code == 0:
            table = self.run_dir / "comparison.md"
            self.ended.emit(True, f"{self.comparison.title}: finished; its table is {table}")
        else:
            tail = "; ".join(line for line in self.output[-3:] if line.strip())
            self.ended.emit(False, f"{self.comparison.title}: the comparison failed (exit code {code}): {tail}")

    def _on_error(self, error) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self.timer.stop()
            self.ended.emit(False, f"{self.comparison.title}: could not start {sys.executable} -m studio "
                                   f"({self.process.errorString()})")
