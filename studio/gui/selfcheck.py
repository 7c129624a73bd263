"""The window's self-check: train a tiny DCGAN through the real Start button, visit every tab, save grabs.

`studio selfcheck --out DIR` runs it offscreen; it proves the whole GUI path works on this machine
(dataset loading thread, training thread, event pulling, plots, grids, Sample tab) in under a minute.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..engine.rundir import RunDirectory
from ..engine.state import RunState

WINDOW_SIZE = (1280, 800)


def _wait(app, condition: Callable[[], bool], timeout: float) -> bool:
    """Run the event loop until `condition()` holds (True) or `timeout` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        app.processEvents()
        if condition():
            return True
        time.sleep(0.01)
    app.processEvents()
    return condition()


def _settle(app, seconds: float = 0.3) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def run_selfcheck(out_dir: str | Path, steps: int = 40, timeout: float = 300.0, dataset: str = "builtin:shapes",
                  count: int = 512) -> dict[str, Any]:
    """Run the check, write DIR/{train,monitor,sample}.png and DIR/selfcheck.json; the dict says `ok`."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    from ..settings import isolated_settings

    # The check must neither read nor change the user's saved window and form.
    with isolated_settings(out / "config"):
        return _run(out, steps, timeout, dataset, count)


def _run(out: Path, steps: int, timeout: float, dataset: str, count: int) -> dict[str, Any]:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from .app import dispose, make_app
    from .main_window import MainWindow

    t0 = time.perf_counter()
    app = make_app()
    result: dict[str, Any] = {"ok": False, "steps_requested": steps, "steps_done": 0, "scalar_updates": 0,
                              "sample_grids": 0, "errors": [], "screenshots": {}}
    window = MainWindow()
    window.interactive = False
    window.ask_before_close = False
    window.resize(*WINDOW_SIZE)
    window.show()
    run_dir = out / "run"
    shutil.rmtree(run_dir, ignore_errors=True)
    try:
        tab = window.train_tab
        tab.dataset_panel.set_options(count=count)
        tab.dataset_panel.load(dataset)
        if not _wait(app, lambda: not tab.dataset_panel.is_loading(), timeout) or tab.dataset_panel.dataset is None:
            result["errors"].append(f"the dataset {dataset} did not load: {tab.dataset_panel.message or 'timed out'}")
            return result
        result["dataset"] = tab.dataset_panel.dataset.describe()
        if not tab.method_picker.set_current("dcgan"):
            result["errors"].append("DCGAN is not in the method list")
            return result
        form = tab.params_form
        form.preset.setCurrentIndex(max(0, form.preset.findData("tiny")))
        tab.steps.setValue(steps)
        tab.log_every.setValue(2)
        tab.sample_every.setValue(10)
        tab.checkpoint_every.setValue(max(steps, 1))
        tab.device.setCurrentIndex(max(0, tab.device.findData("cpu")))
        tab.run_dir.setText(str(run_dir))
        window.tabs.setCurrentWidget(tab)
        _settle(app)
        result["screenshots"]["train"] = _grab(window, out / "train.png")

        QTest.mouseClick(tab.start_button, Qt.MouseButton.LeftButton)  # the same path as a user's click
        if window.runs.session is None:
            result["errors"].append(f"Start did not start a run: {window.last_error}")
            return result
        window.tabs.setCurrentWidget(window.monitor_tab)
        ended = _wait(app, lambda: not window.runs.session.is_running(), timeout)
        _settle(app)
        if not ended:
            result["errors"].append(f"training did not end within {timeout:.0f} s")
            window.runs.session.stop_and_wait()
        monitor = window.monitor_tab
        result.update(steps_done=window.runs.session.trainer.step, final_state=window.runs.state,
                      final_message=window.runs.message, scalar_updates=monitor.scalar_updates,
                      sample_grids=monitor.sample_grids, curves={t: {k: len(s) for k, s in p.series.items()}
                                                                 for t, p in monitor.panels.items()},
                      checkpoint=str(RunDirectory(run_dir).last_checkpoint),
                      device=window.runs.device_text(),
                      sample_tab="SampleTab" if window.has_sample_tab else "placeholder")
        result["screenshots"]["monitor"] = _grab(window, out / "monitor.png")
        window.tabs.setCurrentWidget(window.sample_page)
        _settle(app, 0.5)
        result["screenshots"]["sample"] = _grab(window, out / "sample.png")
        result["sample"] = _sample_hook(window, out)
        window.tabs.setCurrentWidget(window.train_tab)
        _settle(app, 0.1)
    except Exception as exc:  # noqa: BLE001 - the check reports, it does not crash
        result["errors"].append(f"{type(exc).__name__}: {exc}")
    finally:
        dispose(window)
        result["seconds"] = round(time.perf_counter() - t0, 2)
        result["ok"] = _passed(result, steps, run_dir)
        (out / "selfcheck.json").write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    return result


def _grab(window, path: Path) -> str:
    window.grab().save(str(path))
    return str(path)


def _sample_hook(window, out: Path) -> dict[str, Any]:
    from .sample import selfcheck_hook

    try:
        return dict(selfcheck_hook(window, out) or {})
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}


def _passed(result: dict[str, Any], steps: int, run_dir: Path) -> bool:
    checks = {
        "steps": result.get("steps_done") == steps,
        "finished": result.get("final_state") == RunState.FINISHED,
        "scalars": result.get("scalar_updates", 0) > 0,
        "grids": result.get("sample_grids", 0) > 0,
        "checkpoint": RunDirectory(run_dir).last_checkpoint.is_file(),
        "screenshots": all(Path(p).is_file() for p in result["screenshots"].values())
        and len(result["screenshots"]) == 3,
        "sample_tab": result.get("sample", {}).get("ok", True) is not False,
        "no_errors": not result["errors"],
    }
    result["checks"] = checks
    return all(checks.values())
