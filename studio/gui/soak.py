"""The window's soak check: a long session as a user has it, measured.

`studio selfcheck --soak MINUTES` opens the real window and, for the first half of the time, trains a
DCGAN in it through the Start button with the Monitor tab showing; for the second half it follows a
`studio train` process (File → Open run). Every few seconds it records the memory (resident set) of
the window's process and of the trainer's, and a 10 ms timer measures how late the event loop runs
(the UI stall). It also counts references to None lost on the way (a broken PySide6 build loses one
per void Qt call: see qtcheck.py), with `paint_hz` repainting the whole window that often to make
such a leak show in a short soak.

The verdict: the window survived both halves with training advancing, each process grew by less
than GROWTH_LIMIT_MB after its warm-up, and no reference to None was lost. soak.json is rewritten as
the soak goes, so a soak that dies leaves its last figures behind.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..engine.state import RunState

GROWTH_LIMIT_MB = 100.0
NONE_REFERENCES_TOLERANCE = 1000  # a sound build's count wanders by less; a leaking one loses thousands a second
SAMPLE_SECONDS = 5.0
WARM_UP_SHARE = 0.2  # memory growth counts from this share of each half (caches, first grids, JIT-ed kernels)
METHOD, PRESET, DATASET = "dcgan", "tiny", "builtin:shapes"


def rss_mb(pid: int) -> float | None:
    """Resident memory of process `pid` in MB (Linux /proc); None where it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


class Track:
    """Samples of one figure (a process's memory, None's reference count) over time; the change counts from
    the end of the warm-up, `warm_up` seconds after the first sample (caches, first grids, lazy imports)."""

    def __init__(self, read: Callable[[], float | None], warm_up: float) -> None:
        self.read, self.warm_up = read, warm_up
        self.start = time.monotonic()
        self.samples: list[tuple[float, float]] = []

    def sample(self) -> None:
        value = self.read()
        if value is not None:
            self.samples.append((time.monotonic() - self.start, value))

    def summary(self) -> dict[str, Any]:
        if not self.samples:
            return {"measured": False}
        warm = [v for t, v in self.samples if t >= self.warm_up] or [self.samples[-1][1]]
        return {"measured": True, "first": round(self.samples[0][1], 1), "after_warm_up": round(warm[0], 1),
                "last": round(self.samples[-1][1], 1), "peak": round(max(v for _, v in self.samples), 1),
                "growth": round(self.samples[-1][1] - warm[0], 1), "samples": len(self.samples)}


def run_soak(out_dir: str | Path, minutes: float, paint_hz: float = 0.0, log=print) -> dict[str, Any]:
    """Soak the window for `minutes`; writes DIR/soak.json (and soak-end.png) and returns the report."""
    from ..settings import isolated_settings

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with isolated_settings(out / "config"):
        return _Soak(out, minutes * 60.0, paint_hz, log).run()


class _Soak:
    def __init__(self, out: Path, seconds: float, paint_hz: float, log) -> None:
        self.out, self.seconds, self.paint_hz, self.log = out, seconds, paint_hz, log
        self.report: dict[str, Any] = {"ok": False, "survived": False, "minutes": round(seconds / 60, 2),
                                       "paint_hz": paint_hz, "method": f"{METHOD} ({PRESET})", "dataset": DATASET,
                                       "errors": [], "phases": {}}

    def run(self) -> dict[str, Any]:
        from PySide6.QtCore import Qt, QTimer

        from .app import dispose, make_app
        from .benchmark import StallMeter
        from .main_window import MainWindow
        from .qtcheck import none_is_immortal

        t0 = time.monotonic()
        self.app = make_app()
        window = self.window = MainWindow()
        window.interactive = False
        window.ask_before_close = False
        window.resize(1280, 800)
        window.show()
        self.stall = StallMeter()
        ticker = QTimer()
        ticker.setTimerType(Qt.TimerType.PreciseTimer)
        ticker.setInterval(round(StallMeter.INTERVAL * 1000))
        ticker.timeout.connect(self.stall.tick)
        painter = QTimer()
        painter.setInterval(max(1, round(1000 / self.paint_hz)) if self.paint_hz > 0 else 1000)
        painter.timeout.connect(window.repaint)
        self.window_memory = Track(lambda: rss_mb(os.getpid()), WARM_UP_SHARE * self.seconds / 2)
        # None's reference count: a sound build's goes up and down a little, a leaking one's falls steadily.
        self.none_references = Track(lambda: None if none_is_immortal() else sys.getrefcount(None),
                                     WARM_UP_SHARE * self.seconds / 2)
        try:
            ticker.start()
            if self.paint_hz > 0:
                painter.start()
            half = self.seconds / 2
            self._train_in_window(half)
            self._follow_command_line_run(half)
            self.report["survived"] = window.isVisible()
            window.grab().save(str(self.out / "soak-end.png"))
        except Exception as exc:  # noqa: BLE001 - the soak reports, it does not crash
            self.report["errors"].append(f"{type(exc).__name__}: {exc}")
        finally:
            ticker.stop()
            painter.stop()
            self.report["window_memory_mb"] = self.window_memory.summary()
            if not none_is_immortal():
                self.report["none_references"] = self.none_references.summary()
            self.report["ui_stall"] = {k: round(v, 2) for k, v in self.stall.summary().items()}
            dispose(window)
            self.report["seconds"] = round(time.monotonic() - t0, 1)
            self.report["ok"] = self._passed()
            self._write()
        return self.report

    # --- the two halves ------------------------------------------------------------------------------
    def _train_in_window(self, seconds: float) -> None:
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        window, tab = self.window, self.window.train_tab
        tab.dataset_panel.load(DATASET)
        if not self._wait(lambda: not tab.dataset_panel.is_loading(), 300) or tab.dataset_panel.dataset is None:
            raise RuntimeError(f"the dataset {DATASET} did not load: {tab.dataset_panel.message or 'timed out'}")
        tab.method_picker.set_current(METHOD)
        tab.params_form.preset.setCurrentIndex(max(0, tab.params_form.preset.findData(PRESET)))
        tab.steps.setValue(tab.steps.maximum())  # the soak, not the step count, ends the run
        tab.device.setCurrentIndex(max(0, tab.device.findData("cpu")))
        run_dir = self.out / "window-run"
        shutil.rmtree(run_dir, ignore_errors=True)
        tab.run_dir.setText(str(run_dir))
        QTest.mouseClick(tab.start_button, Qt.MouseButton.LeftButton)
        if window.runs.session is None:
            raise RuntimeError(f"Start did not start a run: {window.last_error}")
        window.tabs.setCurrentWidget(window.monitor_tab)
        self.log(f"soak: training {METHOD} in the window for {seconds / 60:.1f} min")
        self.window_memory.start = self.none_references.start = time.monotonic()  # from the first step on
        self._run_for(seconds, [self.window_memory, self.none_references], lambda: window.runs.session.is_running())
        window.stop_training()
        self._wait(lambda: window.runs.state.is_final, 120)
        self.report["phases"]["window_training"] = {
            "steps": window.monitor_tab.step, "final_state": window.runs.state,
            "sample_grids": window.monitor_tab.sample_grids}

    def _follow_command_line_run(self, seconds: float) -> None:
        window = self.window
        run_dir = self.out / "cli-run"
        shutil.rmtree(run_dir, ignore_errors=True)
        command = [sys.executable, "-m", "studio", "train", "--method", METHOD, "--preset", PRESET, "--dataset",
                   DATASET, "--steps", "100000000", "--device", "cpu", "--run-dir", str(run_dir), "--quiet"]
        with open(self.out / "cli-run.log", "wb") as output:
            trainer = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        try:
            if not self._wait(lambda: (run_dir / "metrics.jsonl").exists() or trainer.poll() is not None, 300):
                raise RuntimeError("the command-line run wrote no metrics within 5 minutes")
            if trainer.poll() is not None:
                raise RuntimeError(f"the command-line run ended early (exit {trainer.returncode}); see cli-run.log")
            if not window.open_run(run_dir):
                raise RuntimeError(f"the window could not follow {run_dir}: {window.banner.text}")
            self.log(f"soak: following a command-line run for {seconds / 60:.1f} min")
            trainer_memory = Track(lambda: rss_mb(trainer.pid), WARM_UP_SHARE * seconds)
            self._run_for(seconds, [self.window_memory, self.none_references, trainer_memory],
                          lambda: trainer.poll() is None)
            self.report["trainer_memory_mb"] = trainer_memory.summary()
            self.report["phases"]["following"] = {"steps": window.monitor_tab.step,
                                                  "trainer_alive": trainer.poll() is None}
        finally:
            if trainer.poll() is None:
                trainer.send_signal(signal.SIGINT)
                try:
                    trainer.wait(60)
                except subprocess.TimeoutExpired:
                    trainer.kill()
                    trainer.wait()
            window.stop_following()

    # --- the event loop ------------------------------------------------------------------------------
    def _run_for(self, seconds: float, tracks: list[Track], alive) -> None:
        """Run the real event loop for `seconds` (or until `alive()` fails), sampling memory as it goes."""
        from PySide6.QtCore import QEventLoop, QTimer

        for track in tracks:
            track.sample()
        loop = QEventLoop()
        sampler = QTimer()
        sampler.setInterval(round(SAMPLE_SECONDS * 1000))

        def sample() -> None:
            for track in tracks:
                track.sample()
            self._write()
            if not alive():
                loop.quit()

        sampler.timeout.connect(sample)
        sampler.start()
        QTimer.singleShot(round(seconds * 1000), loop.quit)
        loop.exec()
        sampler.stop()
        for track in tracks:
            track.sample()

    def _wait(self, condition, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.app.processEvents()
            if condition():
                return True
            time.sleep(0.01)
        return condition()

    # --- the verdict ---------------------------------------------------------------------------------
    def _passed(self) -> bool:
        phases = self.report["phases"]
        training, following = phases.get("window_training", {}), phases.get("following", {})
        memories = [self.report.get("window_memory_mb"), self.report.get("trainer_memory_mb")]
        none = self.report.get("none_references", {"measured": False})
        checks = {
            "survived": self.report["survived"],
            "window_trained": training.get("steps", 0) > 0 and training.get("final_state") == RunState.STOPPED,
            "followed": following.get("steps", 0) > 0 and following.get("trainer_alive", False),
            "memory": all(m and (not m["measured"] or m["growth"] < GROWTH_LIMIT_MB) for m in memories),
            "none_references": not none["measured"] or -none["growth"] <= NONE_REFERENCES_TOLERANCE,
            "no_errors": not self.report["errors"],
        }
        self.report["checks"] = checks
        return all(checks.values())

    def _write(self) -> None:
        path = self.out / "soak.json"
        tmp = path.with_name(".soak.json.tmp")
        tmp.write_text(json.dumps(self.report, indent=2, default=str), encoding="utf-8")
        tmp.replace(path)


def format_soak(report: dict[str, Any]) -> str:
    """One paragraph for the terminal."""
    phases = report.get("phases", {})
    training, following = phases.get("window_training", {}), phases.get("following", {})

    def growth(m: dict | None) -> str:
        return f"{m['growth']:+.0f} MB (peak {m['peak']:.0f} MB)" if m and m.get("measured") else "unmeasured"

    stall = report.get("ui_stall", {})
    none = report.get("none_references", {})
    return (f"soak {'passed' if report['ok'] else 'FAILED'} after {report.get('seconds', 0) / 60:.1f} min: "
            f"survived {report['survived']}; trained {training.get('steps', 0)} steps in the window, then followed "
            f"a command-line run for {following.get('steps', 0)} steps; memory after warm-up: window "
            f"{growth(report.get('window_memory_mb'))}, trainer {growth(report.get('trainer_memory_mb'))}; "
            f"UI stall p99 {stall.get('p99_ms', 0):.1f} ms, max {stall.get('max_ms', 0):.0f} ms"
            + (f"; references to None after warm-up {none['growth']:+.0f}" if none.get("measured") else ""))
