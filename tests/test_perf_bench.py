"""`studio bench --quick --json` prints one object with every figure of issue 8 (speeds are not asserted:
targets are measured by `studio bench`, not by timed tests)."""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from studio.bench import RESULT_KEYS, TRAIN_METHODS, format_report
from studio.gui.benchmark import StallMeter


def test_bench_quick_json_has_every_figure(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", STUDIO_CONFIG_DIR=str(tmp_path / "config"))
    threads = os.environ.get("STUDIO_TEST_THREADS", "1")
    started = time.perf_counter()
    # The concurrent section starts seven training processes: measured on its own below.
    proc = subprocess.run([sys.executable, "-m", "studio", "bench", "--quick", "--json", "--threads", threads,
                           "--skip", "concurrent"], env=env, capture_output=True, text=True, timeout=480)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    assert set(RESULT_KEYS) <= result.keys()
    assert result["quick"] is True and result["seconds"] < time.perf_counter() - started + 1
    for method in TRAIN_METHODS:
        row = result["train"][method]
        assert row["batch_size"] == 64 and row["image_size"] == 32
        assert row["fast_images_per_sec"] > 0 and row["plain_images_per_sec"] > 0 and row["ratio"] > 0
        assert row["fast_path"]["optimizer"] == "fused" and row["plain_loop"]["host_sync"]
    for method in TRAIN_METHODS:  # float32 against bf16 on the trainer's loop, and auto's choice
        row = result["amp"][method]
        assert row["float32_images_per_sec"] > 0 and row["bf16_images_per_sec"] > 0 and row["auto"] in ("bf16", "off")
    assert result["amp"]["wgan-gp"]["bf16_forced"] and result["amp"]["wgan-gp"]["auto"] == "off"
    augment = result["augment"]
    assert set(augment["overhead"]) == {"augment", "small-data"} and augment["seconds_per_step"]["plain"] > 0
    assert augment["image_size"] == 32 and augment["batch_size"] == 64
    assert result["targets"]["augment"]["holds"] is None  # --quick: 8-wide networks, one step a chunk
    window = result["window"]
    assert window["headless_images_per_sec"] > 0 and window["window_images_per_sec"] > 0 and window["ratio"] > 0
    assert result["ui_stall"]["interval_ms"] == 10 and result["ui_stall"]["ticks"] > 0
    assert result["ui_stall"]["p99_ms"] >= 0
    extraction, frechet = result["fid"]["extraction"], result["fid"]["frechet"]
    assert extraction["studio_images_per_sec"] > 0 and extraction["pytorch_fid_images_per_sec"] > 0
    assert extraction["max_abs_feature_difference"] < 1e-3  # the same network on the same images
    assert frechet["relative_difference"] < 1e-6 and frechet["speedup"] > 0
    assert result["launch"]["seconds_to_window"] > 0 and result["launch"]["torch_imported_before_window"] is False
    data = result["data"]
    assert data["first_load_s"] > 0 and data["cached_load_s"] > 0 and data["celeba_vs_reference"] > 0
    runs = result["runs"]
    assert runs["records"] == 20_000 and runs["compare_steps"] == 200_000 and runs["compare_seconds"] > 0
    assert runs["records_shown"] == 20_000 and runs["seconds_to_curves"] > 0 and runs["ui_stall"]["ticks"] > 0
    assert runs["longest_block_ms"] >= runs["open_call_ms"] > 0 and runs["memory_growth_mb"] is not None
    cost, load = result["eval"]["cost"], result["eval"]["features_load"]
    assert cost["step_s"] > 0 and cost["eval_s"] > 0 and 0 < cost["share"] < 1 and cost["interval_steps"] == 500
    assert cost["features"] == "classifier" and cost["samples"] == 100  # builtin:shapes is labelled
    assert load["in_memory_ms"] > 0 and load["decoded_entry_ms"] > 0 and load["images"] == 1000
    assert result["concurrent"] == {} and result["targets"]["concurrent"]["holds"] is None  # skipped
    assert set(result["targets"]) == {"train_dcgan", "train_wgan-gp", "bf16_dcgan_cpu", "window", "ui_stall",
                                      "frechet_speed", "frechet_value", "launch", "run_block", "run_stall", "run_curves",
                                      "run_memory", "augment", "data_first_load", "data_celeba", "data_cached_load",
                                      "eval_share", "eval_features_load", "concurrent", "compare_block"}
    assert result["targets"]["eval_share"]["holds"] is None  # --quick: 100 samples, not 1,000
    compare = runs["compare"]  # eight runs side by side in the Compare view
    assert compare["runs"] == 8 and compare["records_read"] == 8 * 20_000 and compare["charts"] >= 5
    assert compare["longest_block_ms"] >= compare["open_call_ms"] > 0 and compare["seconds_to_all_runs"] > 0
    assert result["targets"]["compare_block"]["holds"] is None  # 20,000 records each, not 500,000
    assert result["targets"]["data_cached_load"]["holds"] is None  # --quick loads 256 images, not 20,000
    assert result["targets"]["run_curves"]["holds"] is None  # --quick opens 20,000 records, not 500,000
    assert result["targets"]["frechet_speed"]["holds"] is None  # --quick measures 128 dimensions, not 2048
    report = format_report(result)
    assert "fast path" in report and "Targets:" in report


def test_stall_meter_reports_the_lateness_of_a_10ms_timer(monkeypatch):
    clock = iter([0.0, 0.010, 0.020, 0.095, 0.105])
    monkeypatch.setattr("studio.gui.benchmark.time.perf_counter", lambda: next(clock))
    meter = StallMeter()
    for _ in range(5):
        meter.tick()
    summary = meter.summary()
    assert summary["ticks"] == 4 and abs(summary["max_ms"] - 65.0) < 1e-6 and summary["p50_ms"] < 1e-6
    assert abs(summary["p99_ms"] - 65.0) < 1e-6


def test_the_bench_package_never_imports_the_gui():
    """studio/bench/ sits below the Qt line: `studio bench` passes the window's measurement in."""
    import studio.bench

    upward = ("studio.gui", "PySide6", "shiboken6", "pyqtgraph")
    offenders = []
    for path in sorted(Path(studio.bench.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):  # relative imports resolved from the package
                base = importlib.util.resolve_name("." * node.level + (node.module or ""), "studio.bench")
                names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
            else:
                continue
            if any(n == u or n.startswith(f"{u}.") for n in names for u in upward):
                offenders.append(f"{path.name}:{node.lineno}")
    assert not offenders, f"studio/bench imports the window: {offenders}"

    # And at run time: a run without a window measurement loads neither studio.gui nor Qt, and says so.
    script = ("import json, sys; from studio.bench import run_bench; "
              "r = run_bench(quick=True, skip=('train', 'augment', 'fid', 'launch', 'concurrent'), log=lambda m: None); "
              "print(json.dumps({'loaded': sorted(m for m in sys.modules if m.startswith(%r)), "
              "'window': r['window'], 'holds': r['targets']['window']['holds']}))" % (upward,))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout) == {"loaded": [], "window": {}, "holds": None}


@pytest.mark.slow
def test_concurrent_runs_see_each_other_and_share_the_cores():
    """Three of the bench's concurrent runs, each a process started together: each counted three runs and
    trained on its share of this machine's cores (on 2 cores, one thread each)."""
    from studio.bench.concurrent import run_together
    from studio.engine.coreshare import machine_cores, share_of

    runs = run_together(3, True, seconds=1.0, warm=0.5, width=8, count=128)
    cores = machine_cores()
    assert [r["runs_seen"] for r in runs] == [3, 3, 3]
    assert sorted(r["threads"] for r in runs) == sorted(share_of(cores, 3, k) for k in range(3))
    assert all(r["images_per_sec"] > 0 and r["steps"] > 0 for r in runs)
