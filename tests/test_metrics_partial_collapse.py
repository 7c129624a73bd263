"""The partial-collapse alarm (issue 24): the real images' features cached beside the decoded dataset and
gone with it, the real-vs-real baseline, the judge, the end-of-run verdict, and real runs flagged (or not)
in metrics.jsonl, for a follower and on the command line."""

from __future__ import annotations

import os
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

from studio.data import Dataset, DatasetKind, open_dataset
from studio.data.cache import decoded_cache
from studio.engine import Metric, RunConfig, RunDirectory, Status, Trainer
from studio.engine.evaluation import make_evaluator
from studio.engine.follow import RunFollower
from studio.methods.registry import get_method
from studio.metrics.collapse import CollapseMonitor, nearest_pairs
from studio.metrics.errors import MetricError
from studio.metrics.features import PixelFeatures
from studio.metrics.partial_collapse import PartialCollapseJudge
from studio.metrics.real_features import cache_path, features_cache_dir, real_features, real_reference, split_size

SIDE = 16


class CountingPixels(PixelFeatures):
    """Pixel features that count the images they see."""

    def __init__(self):
        super().__init__(4)
        self.seen = 0

    def __call__(self, images):
        self.seen += images.shape[0]
        return super().__call__(images)


@pytest.fixture(scope="module")
def digits():
    return open_dataset("sklearn:digits", size=SIDE, channels=1)


@pytest.fixture
def digit_folder(tmp_path):
    """40 random 8×8 PNGs: a folder the decoded-dataset cache keeps."""
    rng = np.random.default_rng(0)
    for i in range(40):
        Image.fromarray(rng.integers(0, 255, (8, 8), dtype=np.uint8), "L").save(tmp_path / f"{i:02d}.png")
    return tmp_path


# --- the real images' features, on disk ------------------------------------------------------------
def test_features_of_an_in_memory_set_are_computed_once_by_content(digits):
    extractor = CountingPixels()
    first = real_features(digits, extractor, 300)
    assert first.shape == (300, 48) and extractor.seen == 300
    again = real_features(digits, extractor, 200)  # a prefix of what is kept: nothing computed
    assert extractor.seen == 300 and torch.equal(again, first[:200])
    path = cache_path(digits, extractor)
    assert path.parent == features_cache_dir() and path.is_file()
    other = Dataset("narrowed", DatasetKind.IMAGES, digits.data[:500].clone())
    assert cache_path(other, extractor) != path  # other images, another file


def test_features_of_a_folder_live_beside_its_decoded_entry_and_go_with_it(digit_folder, tmp_path):
    cache = tmp_path / "cache"
    dataset = open_dataset(str(digit_folder), size=8, cache_dir=cache)
    decoded_cache.wait_for_writes()
    key, where = decoded_cache.entry_of(dataset.data)
    extractor = CountingPixels()
    real_features(dataset, extractor, 40)
    sidecar = cache_path(dataset, extractor)
    assert sidecar.parent == decoded_cache.cache_folder(cache) and sidecar.name.startswith(f"{key}.features-")
    assert sidecar.is_file() and where == cache
    reopened = open_dataset(str(digit_folder), size=8, cache_dir=cache)  # memory-mapped from the entry
    assert cache_path(reopened, extractor) == sidecar
    real_features(reopened, extractor, 40)
    assert extractor.seen == 40  # read from beside the entry, not computed again
    copy = Dataset("copy", DatasetKind.IMAGES, reopened.data.clone())
    assert decoded_cache.entry_of(copy.data) is None and cache_path(copy, extractor).parent == features_cache_dir()
    decoded_cache.remove(key, cache)  # the entry goes (files changed, evicted, cleared): its features too
    assert not sidecar.exists()
    assert decoded_cache.entry_of(reopened.data) is None  # no committed entry any more


def test_a_sidecar_whose_entry_is_gone_is_a_stray(digit_folder, tmp_path):
    cache = tmp_path / "cache"
    dataset = open_dataset(str(digit_folder), size=8, cache_dir=cache)
    decoded_cache.wait_for_writes()
    real_features(dataset, CountingPixels(), 40)
    key, _ = decoded_cache.entry_of(dataset.data)
    folder = decoded_cache.cache_folder(cache)
    (folder / f"{key}.json").unlink()  # a damaged entry: its record lost
    decoded_cache.evict(10**12, cache)  # keeps everything young
    assert list(folder.glob(f"{key}.features-*"))
    old = 7200
    for path in folder.glob(f"{key}.*"):
        os.utime(path, (path.stat().st_atime - old, path.stat().st_mtime - old))
    decoded_cache.evict(10**12, cache)
    assert not list(folder.glob(f"{key}.*"))


def test_the_real_vs_real_baseline_splits_the_data_in_two(digits):
    reference = real_reference(digits, PixelFeatures(8), 1000)
    assert reference.n == len(digits) // 2 == 898  # at most half the set each
    figures = reference.baseline
    assert (figures.n_real, figures.n_generated) == (898, 898)
    assert 0.8 < figures.precision <= 1 and 0.8 < figures.coverage <= 1  # the data against itself
    same = reference.measure(reference.reference.clone())
    assert same.coverage == 1.0 and same.precision == 1.0  # the reference against itself, for scale


def test_a_set_too_small_for_the_baseline_says_how_many_it_needs(digits):
    assert split_size(5000, 1000) == 1000 and split_size(1797, 1000) == 898
    tiny = Dataset("tiny-set", DatasetKind.IMAGES, digits.data[:11])
    with pytest.raises(MetricError, match=r"tiny-set has 11 images: .* at least 12 \(two disjoint halves of 6"):
        real_reference(tiny, PixelFeatures(4), 1000)


# --- the judge -------------------------------------------------------------------------------------
def evaluation(step, recall, coverage=0.9, baseline=0.9):
    return [SimpleNamespace(name=name, value=value, n=800, extra={"baseline": baseline, "k": k, "features": "pixels"})
            for name, value, k in (("coverage", coverage, 5), ("recall", recall, 3), ("precision", 0.9, 3))]


def test_the_judge_waits_out_the_warm_up_and_two_low_evaluations_and_re_arms():
    judge = PartialCollapseJudge(threshold=0.5, warmup=200, patience=2)
    calls = [judge(step, evaluation(step, 0.3)) for step in (100, 200, 300, 400)]
    assert [c is not None for c in calls] == [False, False, True, False]  # 100 is in the warm-up
    called = calls[2]
    assert (called.step, called.since, called.final) == (300, 200, False)
    assert called.message.startswith("partial mode collapse at step 300 (low since step 200): the samples reach 30% "
                                     "of the real images against 90% for real images themselves (recall, 0.33× the "
                                     "real-vs-real baseline); they cover 90% of the real images' neighbourhoods "
                                     "against 90% (coverage, 1.00×)")
    assert called.message.endswith("flagged below 0.5× the baseline recall (pixels features, N=800)")
    detail = called.detail()
    assert detail["kind"] == "partial" and detail["recall_baseline"] == 0.9 and detail["k_recall"] == 3
    assert detail["coverage"] == 0.9 and detail["k_coverage"] == 5
    assert judge(500, evaluation(500, 0.8)) is None  # recovered: re-armed
    assert judge(600, evaluation(600, 0.2)) is None  # a new run of lows
    assert judge(700, evaluation(700, 0.2)).share("recall") < 0.5
    assert judge(800, [SimpleNamespace(name="kid", value=0.1, n=10, extra={})]) is None  # no recall measured


def test_a_generator_still_climbing_towards_the_data_is_learning_not_collapsed():
    """The MLP GAN's recall under bf16, as shares of its baseline: low for three evaluations, but rising."""
    judge = PartialCollapseJudge(threshold=0.6, warmup=500, patience=3)
    climbing = [(500, 0.03), (1000, 0.22), (1500, 0.55), (2000, 0.74)]
    assert all(judge(step, evaluation(step, share * 0.9)) is None for step, share in climbing)
    stalled = PartialCollapseJudge(threshold=0.6, warmup=500, patience=3)  # BEGAN's, rising and then falling back
    calls = [stalled(step, evaluation(step, share * 0.9)) for step, share in
             [(500, 0.003), (1000, 0.28), (1500, 0.33), (2000, 0.22), (2500, 0.15)]]
    assert [c is not None for c in calls] == [False, False, False, True, False]
    assert (calls[3].step, calls[3].since) == (2000, 500)


def test_coverage_is_reported_but_not_judged():
    """Coverage falls with blurred samples too: healthy digit GANs sat as low as generators of three digits."""
    judge = PartialCollapseJudge(threshold=0.6, warmup=0)
    assert all(judge(step, evaluation(step, 0.85, coverage=0.2)) is None for step in (100, 200, 300))


def test_the_verdict_judges_a_short_runs_last_evaluation_without_the_patience():
    judge = PartialCollapseJudge(threshold=0.5, warmup=500)
    judge(400, evaluation(400, 0.2))
    assert judge.verdict() is None  # the last evaluation was in the warm-up
    judge(600, evaluation(600, 0.2))
    final = judge.verdict()
    assert final is not None and final.final and final.since == 600
    assert final.message.startswith("the run ended partly collapsed at step 600 (low since step 600)")
    assert judge.verdict() is None  # said once
    healthy = PartialCollapseJudge(threshold=0.5, warmup=0)
    healthy(600, evaluation(600, 0.85))
    assert healthy.verdict() is None


def test_a_total_collapse_speaks_for_both_and_the_monitor_gives_the_verdict(digits):
    real = digits.data[:64].float() / 127.5 - 1
    monitor = CollapseMonitor(real, threshold=0.25, warmup=0, patience=3, partial_threshold=0.5)
    one = real[:1].expand(64, -1, -1, -1)
    monitor(5, one)
    monitor(10, one)
    assert monitor.judge_evaluation(10, evaluation(10, 0.1)) is None  # low, but patience not reached
    total = monitor.verdict()  # the run ends: two low intervals of three are enough
    assert total is not None and total.final and total.detail()["kind"] == "total"
    assert total.message.startswith("the run ended collapsed at step 10: since step 5")
    assert monitor.judge_evaluation(20, evaluation(20, 0.1)) is None  # the total collapse already says it
    assert monitor.verdict() is None


def test_nearest_pairs_are_the_closest_rows_under_the_bar():
    features = torch.tensor([[0.0], [0.1], [5.0], [5.05], [9.0], [20.0]])
    assert nearest_pairs(features, closer_than=0.2) == [(2, 3), (0, 1)]
    assert nearest_pairs(features, closer_than=0.2, most=1) == [(2, 3)]
    assert nearest_pairs(features, closer_than=0.01) == []


# --- real runs -------------------------------------------------------------------------------------
def draws_classes(monkeypatch, dataset, classes):
    """DCGAN's generator replaced by real images of `classes`, picked by z: sharp, varied, partial."""
    pick = torch.nonzero(torch.isin(dataset.labels, torch.tensor(classes)))[:, 0]
    real = dataset.data[pick].float() / 127.5 - 1
    monkeypatch.setattr(get_method("dcgan"), "sample", lambda self, z, labels=None, reference=None:
                        real[(z.flatten(1)[:, 0].abs() * 1e4).long() % len(real)].to(z.device))


def config(**overrides) -> RunConfig:
    values = dict(method="dcgan", dataset="sklearn:digits", preset="tiny", image_size=SIDE, channels=1, steps=30,
                  device="cpu", log_every=10, sample_every=10, checkpoint_every=1000, fixed_samples=32,
                  collapse_warmup=10, prdc_every=10, eval_samples=400)
    values.update(overrides)
    return RunConfig(**values)


def train(run_dir, dataset, **overrides) -> list:
    events = []
    trainer = Trainer(config(**overrides), run_dir=run_dir, dataset=dataset, subscribers=(events.append,))
    assert trainer.run() == "finished", trainer.message
    return events


def collapses(events):
    return [e for e in events if isinstance(e, Status) and e.state == "collapse"]


def test_a_generator_of_three_digits_is_flagged_partial_and_recorded(tmp_path, digits, monkeypatch):
    draws_classes(monkeypatch, digits, [0, 1, 2])
    events = train(tmp_path / "run", digits)
    figures = {(e.step, e.name): e for e in events if isinstance(e, Metric)}
    coverage = figures[(10, "coverage")]
    assert coverage.n == 400 and coverage.extra["k"] == 5 and coverage.extra["features"] == "classifier"
    assert 0.8 < coverage.extra["baseline"] <= 1 and coverage.value < 0.4
    assert figures[(10, "precision")].extra["k"] == 3 and figures[(10, "precision")].value > 0.8  # real digits
    [called] = collapses(events)
    assert called.step == 30 and called.detail["kind"] == "partial" and called.detail["since"] == 10
    assert called.message.startswith("partial mode collapse at step 30 (low since step 10): the samples reach ")
    assert called.detail["duplicates"] and all(len(pair) == 2 for pair in called.detail["duplicates"])
    run = RunDirectory(tmp_path / "run")
    [record] = [r for r in run.read_metrics() if r.get("event") == "collapse"]
    assert record["kind"] == "partial" and record["recall"] < 0.4 and record["coverage"] < 0.4
    assert record["method"] == "dcgan"
    assert {r["metric"] for r in run.read_metrics() if r.get("step") == 30 and "metric" in r} == {
        "precision", "recall", "density", "coverage"}
    followed = [e for e in RunFollower(tmp_path / "run").poll() if isinstance(e, Status) and e.state == "collapse"]
    assert [(e.step, e.detail["kind"]) for e in followed] == [(30, "partial")]


def test_a_generator_of_every_digit_is_never_flagged(tmp_path, digits, monkeypatch):
    draws_classes(monkeypatch, digits, list(range(10)))
    events = train(tmp_path / "run", digits)
    assert not collapses(events)
    coverage = [e for e in events if isinstance(e, Metric) and e.name == "coverage"]
    assert [e.step for e in coverage] == [10, 20, 30] and min(e.value / e.extra["baseline"] for e in coverage) > 0.8


def test_a_run_shorter_than_warm_up_and_patience_gets_a_verdict(tmp_path, digits, monkeypatch):
    draws_classes(monkeypatch, digits, [3])
    events = train(tmp_path / "run", digits, steps=25, collapse_warmup=20, prdc_every=1000, collapse_threshold=0.01)
    [called] = collapses(events)  # one digit, but its samples vary: a partial collapse, called at the end
    assert called.step == 25 and called.detail["final"] and called.message.startswith("the run ended partly collapsed")
    assert [e.step for e in events if isinstance(e, Metric) and e.name == "coverage"] == [25]
    assert RunDirectory(tmp_path / "run").read_status()["state"] == "finished"
    inside = train(tmp_path / "short", digits, steps=15, collapse_warmup=20, prdc_every=1000, collapse_threshold=0.01)
    assert not collapses(inside) and not [e for e in inside if isinstance(e, Metric)]  # ended in its warm-up


def test_the_command_line_prints_one_warning_line(tmp_path, monkeypatch, capsys):
    from studio.cli import main

    digits = open_dataset("sklearn:digits", size=SIDE, channels=1)
    draws_classes(monkeypatch, digits, [0, 1])
    assert main(["train", "--method", "dcgan", "--preset", "tiny", "--dataset", "sklearn:digits", "--size", str(SIDE),
                 "--channels", "1", "--steps", "30", "--sample-every", "10", "--prdc-every", "10", "--eval-samples",
                 "300", "--collapse-warmup", "0", "--partial-threshold", "0.6", "--device", "cpu", "--quiet",
                 "--run-dir", str(tmp_path / "run")]) == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if "collapse" in line]
    assert len(lines) == 1 and lines[0].startswith("warning: partial mode collapse at step 30")
    assert "flagged below 0.6×" in lines[0] and "pack=2" in lines[0]


def test_a_set_too_small_for_the_baseline_says_so_once_and_trains_on(tmp_path, digits):
    small = Dataset("sklearn:digits", DatasetKind.IMAGES, digits.data[:11].clone())
    events = train(tmp_path / "run", small, collapse_warmup=1000)
    alerts = [e.message for e in events if isinstance(e, Status) and e.state == "alert"]
    assert len(alerts) == 1 and "has 11 images" in alerts[0] and "at least 12" in alerts[0]
    assert not [e for e in events if isinstance(e, Metric) and e.name in ("precision", "coverage")]


@pytest.mark.slow
def test_a_dcgan_trained_on_three_digits_reads_precise_but_partial(tmp_path, digits):
    """Acceptance: a real DCGAN trained on 3 of the 10 digit classes, judged live against all 10."""
    full = open_dataset("sklearn:digits", size=SIDE, channels=1, count=1617)
    three = open_dataset("sklearn:digits", size=SIDE, channels=1, count=1617, classes=["0", "1", "2"])
    cfg = RunConfig(method="dcgan", dataset="sklearn:digits", params={"width": 16, "latent_dim": 64, "batch_size": 64},
                    image_size=SIDE, channels=1, steps=800, device="cpu", log_every=50, sample_every=100,
                    checkpoint_every=10_000, prdc_every=200, collapse_warmup=200)
    events = []
    trainer = Trainer(cfg, run_dir=tmp_path / "run", dataset=three,
                      evaluator=make_evaluator(cfg, full, torch.device("cpu")), subscribers=(events.append,))
    assert trainer.run() == "finished", trainer.message
    last = {e.name: e for e in events if isinstance(e, Metric) and e.step == 800}
    share = {name: m.value / m.extra["baseline"] for name, m in last.items()}
    assert share["precision"] > 0.7  # sharp digits, inside the real manifold
    assert share["recall"] < 0.5 and share["coverage"] < 0.5  # three tenths of it
    [called] = collapses(events)
    assert called.detail["kind"] == "partial" and called.step == 600  # evaluations at 200, 400 and 600 low


# --- in the window ---------------------------------------------------------------------------------
WAIT = 60_000
Qt = pytest.importorskip("PySide6.QtCore").Qt
PRDC_TITLE = "Precision · recall · coverage"


def check_prdc_chart(monitor):
    panel = monitor.charts.panels[PRDC_TITLE]
    assert set(panel.curves) == {"precision (N=400)", "recall (N=400)", "coverage (N=400)"}  # density: a figure
    assert set(panel.baselines) == {"precision, real vs real", "recall, real vs real", "coverage, real vs real"}
    coverage = panel.baselines["coverage, real vs real"]
    assert 0.8 < coverage.value() <= 1 and coverage.pen.style() == Qt.PenStyle.DashLine
    assert coverage.pen.color() == panel.curves["coverage (N=400)"].opts["pen"].color()
    assert "density (N=400)" in monitor.metric_label.text()
    left = panel.item.getAxis("left")
    assert left.labelText == "classifier features"
    assert left.autoSIPrefixScale == 1.0 and left.labelUnitPrefix == ""  # 0.8 reads 0.8, not "800 (x0.001)"
    assert list(panel.legend_notes) == ["real vs real (dashed)"]


def test_the_window_charts_the_figures_against_their_baselines_and_flags_the_partial_collapse(
        window, qtbot, tmp_path, digits, monkeypatch):
    draws_classes(monkeypatch, digits, [0, 1, 2])
    window.train_in_window(config(checkpoint_every=10), tmp_path / "run", digits)
    qtbot.waitUntil(lambda: window.run_state.is_final, timeout=WAIT)
    window.runs.poll()
    qtbot.waitUntil(lambda: "Partial mode collapse" in window.banner.text, timeout=WAIT)
    text = window.banner.text
    assert "partial mode collapse at step 30 (low since step 10): the samples reach " in text
    assert "nearest-duplicate pairs are outlined on the samples" in text and "pack=2" in text
    monitor = window.monitor_tab
    assert "nearest-duplicate pairs outlined" in monitor.sample_title.text()
    check_prdc_chart(monitor)
    monitor.charts.show_all_now()
    window.tabs.setCurrentWidget(monitor)
    window.grab().save(str(tmp_path / "partial-collapse.png"))


def test_an_opened_run_shows_its_baselines_and_its_partial_collapse(window, qtbot, tmp_path, digits, monkeypatch):
    draws_classes(monkeypatch, digits, [4, 5])
    train(tmp_path / "run", digits)
    assert window.open_run(tmp_path / "run")
    qtbot.waitUntil(lambda: PRDC_TITLE in window.monitor_tab.charts.panels
                    and "Partial mode collapse" in window.banner.text, timeout=WAIT)
    qtbot.waitUntil(lambda: len(window.monitor_tab.charts.panels[PRDC_TITLE].baselines) == 3, timeout=WAIT)
    check_prdc_chart(window.monitor_tab)


def test_a_translator_is_measured_against_its_targets_in_their_own_classifiers_features(tmp_path, monkeypatch):
    from studio.metrics import diversity

    paired = open_dataset("sklearn:digits-paired", size=SIDE)
    trained_on = []
    real_classifier = diversity.label_classifier

    def spy(dataset, *args, **kwargs):
        trained_on.append(dataset.data)
        return real_classifier(dataset, *args, **kwargs)

    monkeypatch.setattr(diversity, "label_classifier", spy)
    events = []
    cfg = config(method="pix2pix", dataset="sklearn:digits-paired", channels=None, steps=10, prdc_every=10,
                 collapse_warmup=1000, eval_samples=200)
    trainer = Trainer(cfg, run_dir=tmp_path / "run", dataset=paired, subscribers=(events.append,))
    assert trainer.run() == "finished", trainer.message
    assert len(trained_on) == 1 and trained_on[0] is paired.targets  # not the ink-form inputs
    [coverage] = [e for e in events if isinstance(e, Metric) and e.name == "coverage"]
    assert coverage.extra["features"] == "classifier" and coverage.n == 200


def test_the_remedies_fit_the_method_and_the_kind_of_collapse():
    from studio.metrics.collapse import collapse_remedies

    cgan = collapse_remedies("cgan", "the button", "partial")
    assert "small-data aids" in cgan and "packing" not in cgan
    assert "packing" in collapse_remedies("dcgan", "the button", "partial")
    assert "small-data" not in collapse_remedies("cgan", "the button", "total")
    began = collapse_remedies("began", "none is written yet", "partial")
    assert "gamma" in began and began.startswith("resume from the last checkpoint with a lower learning rate (none")
