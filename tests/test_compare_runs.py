"""The comparison without Qt (issue 26): TensorBoard's smoothing, axes fitted to the data, the compared runs'
charts, colours, axes and grids, a live run read from where it stopped, and the table's metrics read by name."""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pytest
from fake_runs import append_records, write_run

from studio.runs.compare import csv_table, markdown_table, summarize_run
from studio.runs.compared import RUN_COLOURS, Comparison
from studio.runs.smoothing import all_positive, smooth, y_range


def tensorboard_smoothing(values: list[float], weight: float) -> list[float]:
    """TensorBoard's resmoothDataset (vz_line_chart2), transcribed line by line."""
    last = 0.0 if values else math.nan
    accumulated = 0
    constant = all(v == values[0] for v in values)
    out = []
    for value in values:
        if constant or not math.isfinite(value):
            out.append(value)
            continue
        last = last * weight + (1 - weight) * value
        accumulated += 1
        debias = 1 - weight ** accumulated if weight != 1 else 1
        out.append(last / debias)
    return out


@pytest.mark.parametrize("weight", [0.0, 0.3, 0.6, 0.95, 0.999])
def test_smoothing_is_tensorboards(weight):
    rng = np.random.default_rng(0)
    values = (1 + 0.3 * rng.standard_normal(500)).tolist()
    values[17] = math.nan  # a NaN is drawn as it is and leaves the average alone
    values[40] = math.inf
    smoothed = smooth(np.array(values), weight)
    np.testing.assert_allclose(smoothed, tensorboard_smoothing(values, weight), rtol=1e-10, equal_nan=True)
    if weight >= 0.6:  # it does smooth: the wiggle shrinks
        assert np.nanstd(np.diff(smoothed[50:])) < 0.5 * np.nanstd(np.diff(np.array(values[50:])))


def test_smoothing_returns_a_new_array_and_leaves_constants_alone():
    values = np.array([2.0, 2.0, 2.0])
    out = smooth(values, 0.9)
    assert out.tolist() == [2.0, 2.0, 2.0] and out is not values
    ramp = np.arange(10, dtype=np.float64)
    before = ramp.copy()
    smooth(ramp, 0.9)
    assert np.array_equal(ramp, before)  # the stored values are never changed
    assert smooth(np.array([5.0, 1.0]), 0.9)[0] == 5.0  # debiased: the first point is the first value


def test_y_range_fits_the_values_not_far_reference_lines():
    k_t = np.linspace(0.0, 0.03, 50)
    lo, hi = y_range([k_t], references=[0.0, 1.0])  # BEGAN's k_t chart has lines at 0 and 1
    assert -0.01 < lo <= 0.0 and 0.03 <= hi < 0.04
    lo, hi = y_range([np.array([1.2, 1.5])], references=[1.386])  # a reference among the values is kept in view
    assert lo < 1.2 and hi > 1.5
    lo, hi = y_range([np.array([1.0, 1.3])], references=[1.386])  # within one span: still shown
    assert hi > 1.386
    lo, hi = y_range([np.array([1e-3, 1.0, 1e3])], log=True)
    assert lo < -3 < 3 < hi < 4
    assert y_range([np.array([math.nan])]) is None
    assert all_positive([np.array([0.1, 2.0])]) and not all_positive([np.array([0.1, -2.0])])


def three_runs(tmp_path):
    a = write_run(tmp_path / "a", grids=[50, 100], grid_colour=(255, 0, 0),
                  metrics=[{"step": 100, "metric": "fid", "fid": 80.0, "n": 500},
                           {"step": 100, "metric": "precision", "precision": 0.61, "n": 500, "k": 3}])
    b = write_run(tmp_path / "b", method="began", grids=[40, 80], grid_colour=(0, 255, 0), steps=80,
                  scalars={"k_t": lambda s: 0.0003 * s, "d_loss": lambda s: 0.2, "convergence": lambda s: 1 / s},
                  metrics=[{"step": 80, "metric": "fid", "fid": 60.0, "n": 500}])
    c = write_run(tmp_path / "c", method="vae", grids=[100], grid_colour=(0, 0, 255),
                  scalars={"reconstruction": lambda s: 100 / s, "kl": lambda s: 3.0, "mystery": lambda s: s})
    return a, b, c


def test_runs_share_charts_in_one_colour_each(tmp_path):
    comparison = Comparison(three_runs(tmp_path))
    assert comparison.read()
    assert [r.colour for r in comparison.runs] == list(RUN_COLOURS[:3])
    charts = {c.title: c for c in comparison.charts()}
    d_loss = charts["Adversarial losses: d_loss"]  # DCGAN's chart; BEGAN logs a d_loss too
    assert [r.name for r in comparison.runs if comparison.curve(r, d_loss) is not None] == ["a", "b"]
    assert charts["k_t"].reference_lines == {"0": 0.0, "1": 1.0}
    assert "FID" in charts and charts["FID"].sparse and "precision" in charts
    assert "mystery" in charts and charts["mystery"].group == "Other"
    titles = [c.title for c in comparison.charts()]
    assert titles.index("Adversarial losses: d_loss") < titles.index("FID") < titles.index("mystery")
    fid = charts["FID"]
    assert comparison.curve_label(comparison.runs[0], fid) == "a (N=500)"
    assert comparison.runs[0].label == "a · dcgan on builtin:shapes"


def test_x_axis_as_step_epoch_or_time(tmp_path):
    comparison = Comparison([write_run(tmp_path / "a", batch_size=32, count=640, seconds_per_step=0.5)])
    comparison.read()
    chart = next(c for c in comparison.charts() if c.name == "d_loss")
    run = comparison.runs[0]
    steps, _ = comparison.xy(run, chart, "step")
    epochs, _ = comparison.xy(run, chart, "epoch")
    np.testing.assert_allclose(epochs, steps * 32 / 640)
    assert comparison.time_unit() == ("s", 1.0)
    times, _ = comparison.xy(run, chart, "time")
    np.testing.assert_allclose(times, steps * 0.5)
    with pytest.raises(ValueError, match="x axis"):
        run.x_of(steps, "hours")


def test_a_live_run_is_read_from_where_it_stopped(tmp_path):
    path = write_run(tmp_path / "live", steps=50)
    comparison = Comparison([path])
    run = comparison.runs[0]
    assert run.read() and run.curves["d_loss"].size == 5
    end = run.end
    assert not run.read()  # nothing new
    append_records(path, [{"step": 60, "time": 3.0, "d_loss": 0.9, "g_loss": 1.0},
                          {"step": 60, "metric": "kid", "kid": 0.02, "n": 100}])
    assert run.read() and run.end > end
    assert run.curves["d_loss"].size == 6 and run.curves["d_loss"].x[-1] == 60
    assert run.metric_curves["kid"].y.tolist() == [0.02] and run.step == 60


def test_grid_at_a_step_is_each_runs_newest_grid_so_far(tmp_path):
    comparison = Comparison(three_runs(tmp_path))
    for run in comparison.runs:
        run.scan_grids()
    assert comparison.grid_steps() == [40, 50, 80, 100]
    a, b, c = comparison.runs
    assert a.grid_at(45) is None and b.grid_at(45)[0] == 40 and c.grid_at(45) is None
    assert [r.grid_at(100)[0] for r in comparison.runs] == [100, 80, 100]


def test_comparison_refuses_a_ninth_run_a_duplicate_and_a_non_run(tmp_path):
    paths = [write_run(tmp_path / f"r{i}", steps=20) for i in range(9)]
    comparison = Comparison(paths[:8])
    assert len({r.colour for r in comparison.runs}) == 8
    with pytest.raises(ValueError, match="at most 8"):
        comparison.add(paths[8])
    comparison.remove(paths[0])
    with pytest.raises(ValueError, match="already"):
        comparison.add(paths[1])
    assert comparison.add(paths[8]).colour == RUN_COLOURS[0]  # the colour freed by the run removed
    (tmp_path / "empty").mkdir()
    from studio.engine.rundir import RunDirError

    comparison.remove(paths[1])
    with pytest.raises(RunDirError, match="empty"):
        comparison.add(tmp_path / "empty")


def test_table_reads_every_metric_by_name_with_n_and_k(tmp_path):
    a, b, c = three_runs(tmp_path)
    append_records(a, [{"step": 100, "metric": "recall", "recall": 0.4, "n": 500, "k": 3},
                       {"step": 100, "metric": "coverage", "coverage": 0.7, "n": 500, "k": 3},
                       {"step": 100, "metric": "density", "density": 0.9, "n": 500, "k": 3}])
    summaries = [summarize_run(p) for p in (a, b, c)]
    table = markdown_table(summaries)
    header = table.splitlines()[0]
    assert header.index("precision") < header.index("recall") < header.index("density") < header.index("| coverage")
    assert "0.610 (N=500, k=3, step 100)" in table
    rows = list(csv.DictReader(io.StringIO(csv_table(summaries))))
    assert rows[0]["precision"] == "0.61" and rows[0]["precision_n"] == "500" and rows[0]["precision_k"] == "3"
    assert rows[1]["precision"] == "" and rows[1]["fid_last"] == "60.0"
    comparison = Comparison([a, b, c])
    comparison.read()
    assert markdown_table(comparison.summaries()) == table  # the window's reading gives the same table


def _colour_pixels(image: np.ndarray, colour: str) -> int:
    rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(image.astype(int) - rgb).sum(axis=2) < 6).sum())


def test_compare_plot_draws_the_runs_overlaid_without_a_window(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("STUDIO_CONFIG_DIR", str(tmp_path / "config"))  # the remembered settings: the defaults

    from PIL import Image

    from studio.cli import main

    runs = [str(p) for p in three_runs(tmp_path)]
    out = tmp_path / "figure" / "compare.png"
    assert main(["compare", *runs, "--plot", str(out), "--smoothing", "0.9", "--x", "epoch"]) == 0
    assert "wrote" in capsys.readouterr().out
    image = np.asarray(Image.open(out).convert("RGB"))
    assert image.shape[1] > 1000 and image.shape[0] > 600
    for colour in RUN_COLOURS[:3]:  # every run drawn, in its colour (curves and legend)
        assert _colour_pixels(image, colour) > 200, colour
    assert main(["compare", *runs, "--plot", str(out), "--smoothing", "2"]) == 2
    assert "--smoothing 2" in capsys.readouterr().err


def test_plot_log_scale_and_smoothing_change_the_picture_not_the_runs(tmp_path):
    from PIL import Image

    from studio.runs.plot import render_png

    comparison = Comparison(three_runs(tmp_path))
    comparison.read()
    before = {r.name: r.curves["d_loss"].y.copy() for r in comparison.runs if "d_loss" in r.curves}
    plain = np.asarray(Image.open(render_png(comparison, tmp_path / "plain.png", smoothing=0)))
    smoothed = np.asarray(Image.open(render_png(comparison, tmp_path / "smooth.png", smoothing=0.9)))
    logged = np.asarray(Image.open(render_png(comparison, tmp_path / "log.png", smoothing=0,
                                              log_charts=["Convergence (M_global)"])))
    assert plain.shape == smoothed.shape == logged.shape
    assert (plain != smoothed).any() and (plain != logged).any()
    for run in comparison.runs:
        if run.name in before:
            assert np.array_equal(run.curves["d_loss"].y, before[run.name])
    with pytest.raises(ValueError, match="no runs"):
        render_png(Comparison(), tmp_path / "none.png")


def test_a_comparisons_judged_figures_go_into_its_runs_once(tmp_path):
    from studio.experiments.comparisons import COMPARISONS, record_figures, trial_dirs

    trial = write_run(tmp_path / "digits-vae" / "trial-1", method="vae", steps=50)
    figures = {"fid": 250.0, "kid": 12.5, "reconstruction_accuracy": 80.0, "judge_accuracy": 97.0}
    assert record_figures(trial, figures, 50, 1000, "digits") == 3  # the judge's own accuracy is not the run's
    assert record_figures(trial, figures, 50, 1000, "digits") == 0  # judged again: not recorded twice
    summary = summarize_run(trial)
    assert summary.run == "digits-vae/trial-1"  # a trial is named with its experiment
    assert (summary.last["fid"].value, summary.last["fid"].n) == (250.0, 1000)
    assert summary.last["kid"].value == pytest.approx(0.0125)  # the studio's unit: the protocol reports ×1000
    assert summary.last["reconstruction_accuracy"].n == 180  # the held-out digits
    assert [p.parent.name for p in trial_dirs(COMPARISONS["vae-family"], tmp_path)] == [
        "digits-vae", "digits-vae-gan", "digits-unet-vae-gan"]
