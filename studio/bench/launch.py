"""Launch: seconds from spawning `python -m studio` (offscreen) to the window's first painted frame.

The window is a separate process here: the app prints the moment of its first paint when
$STUDIO_LAUNCH_PROBE is set (`studio/gui/app.py: _probe_first_paint`), so this module needs
nothing of the window but its output line.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .common import Log


def measure_launch(repeats: int = 3, timeout: float = 120.0, log: Log = print) -> dict[str, Any]:
    """Seconds from spawning `python -m studio` (offscreen, a fresh settings folder) to its first painted frame."""
    root = str(Path(__file__).resolve().parents[2])  # the folder holding the `studio` package
    runs: list[float] = []
    torch_loaded: list[bool] = []
    with tempfile.TemporaryDirectory(prefix="studio-bench-launch-") as config:
        env = dict(os.environ, STUDIO_LAUNCH_PROBE="1", STUDIO_CONFIG_DIR=config,
                   QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"),
                   PYTHONPATH=os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p))
        for _ in range(repeats):
            start = time.time()
            proc = subprocess.run([sys.executable, "-m", "studio"], env=env, capture_output=True, text=True,
                                  timeout=timeout, cwd=root)
            line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("STUDIO_LAUNCH_PROBE ")), None)
            if line is None:
                raise RuntimeError(f"the window never reported its first paint (exit {proc.returncode}): "
                                   f"{(proc.stderr or proc.stdout).strip()[-500:]}")
            record = json.loads(line.split(" ", 1)[1])
            runs.append(record["painted"] - start)
            torch_loaded.append(bool(record["torch_loaded"]))
    log(f"  launch to window: {', '.join(f'{s:.2f}' for s in runs)} s")
    return {"seconds_to_window": statistics.median(runs), "runs": runs, "first_run": runs[0],
            "torch_imported_before_window": any(torch_loaded),
            "platform": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
