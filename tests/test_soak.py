"""The short form of `studio selfcheck --soak` (issue 20): half a minute of the real window training and then
following a command-line run, repainted 30 times a second so that a Qt binding losing a reference per call
(PySide6 6.12.0 on Python < 3.12) would show in the count of references to None. The 30-minute form's
figures are in docs/RELIABILITY.md."""

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.gui


def test_a_short_session_survives_without_growing(tmp_path):
    out = tmp_path / "soak"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-m", "studio", "selfcheck", "--soak", "0.5", "--paint-hz", "30",
                           "--out", str(out)], capture_output=True, text=True, timeout=280, cwd=tmp_path, env=env)
    report = json.loads((out / "soak.json").read_text())
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}\n{json.dumps(report, indent=1)}"
    assert report["ok"] and report["survived"]
    assert report["phases"]["window_training"]["final_state"] == "stopped"
    assert report["phases"]["window_training"]["steps"] > 0
    assert report["phases"]["following"]["steps"] > 0 and report["phases"]["following"]["trainer_alive"]
    for figure in ("window_memory_mb", "trainer_memory_mb"):
        assert report[figure]["measured"] and report[figure]["growth"] < 100, report[figure]
    if sys.version_info < (3, 12):
        assert report["none_references"]["growth"] > -1000, report["none_references"]
    assert report["ui_stall"]["ticks"] > 0
    assert (out / "soak-end.png").stat().st_size > 0
    assert "soak passed" in done.stdout
