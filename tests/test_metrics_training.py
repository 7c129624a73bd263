"""The in-training evaluator inside real (tiny) Trainer runs, and `studio compare` across runs."""

from __future__ import annotations

import csv
import io

import pytest
import torch

from studio.cli import main
from studio.engine import Metric, RunConfig, RunDirectory, Status, Trainer
from studio.runs.compare import summarize_run


@pytest.fixture(autouse=True)
def no_weights_and_a_private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("STUDIO_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv("STUDIO_FID_WEIGHTS", raising=False)


def train_rings(run_dir, steps=10, seed=0) -> Trainer:
    cfg = RunConfig(method="gan", dataset="builtin:rings", preset="tiny", steps=steps, seed=seed, device="cpu",
                    log_every=5, sample_every=5, checkpoint_every=10, eval_every=5)
    trainer = Trainer(cfg, run_dir=run_dir)
    assert trainer.run() == "finished", trainer.message
    return trainer


def test_evaluator_records_mode_coverage_with_n_in_a_rings_run(tmp_path):
    train_rings(tmp_path / "run")
    records = [r for r in RunDirectory(tmp_path / "run").read_metrics() if r.get("metric") == "modes_covered"]
    assert [r["step"] for r in records] == [5, 10]
    for r in records:
        assert r["n"] == 2500 and r["of"] == 8 and 0 <= r["modes_covered"] <= 8 and len(r["counts"]) == 8
    quality = [r for r in RunDirectory(tmp_path / "run").read_metrics() if r.get("metric") == "high_quality"]
    assert len(quality) == 2 and all(0.0 <= r["high_quality"] <= 1.0 and r["n"] == 2500 for r in quality)


def test_without_weights_an_image_run_gets_the_diversity_monitor_and_one_message(tmp_path):
    events = []
    cfg = RunConfig(method="dcgan", dataset="builtin:shapes", preset="tiny", steps=4, device="cpu", dataset_count=800,
                    log_every=2, sample_every=4, checkpoint_every=4, eval_every=2, eval_samples=48, eval_metrics=["kid"])
    trainer = Trainer(cfg, run_dir=tmp_path / "run", subscribers=(events.append,))
    assert trainer.run() == "finished", trainer.message
    metrics = [e for e in events if isinstance(e, Metric)]
    assert not [m for m in metrics if m.name in ("kid", "fid")]
    diversity = [m for m in metrics if m.name == "diversity"]
    assert [m.step for m in diversity] == [2, 4] and all(m.n == 48 and m.value > 0 for m in diversity)
    assert diversity[0].extra["features"] == "classifier"
    messages = [m.extra["message"] for m in metrics if "message" in m.extra]
    assert len(messages) == 1 and "pt_inception-2015-12-05-6726825d.pth" in messages[0]
    covered = [m for m in metrics if m.name == "classes_covered"]
    assert len(covered) == 2 and covered[0].extra["of"] == 4 and sum(covered[0].extra["histogram"]) == 48


def test_an_alert_from_the_evaluator_becomes_an_alert_status(tmp_path):
    events = []

    def evaluator(method, step):
        return [Metric(step, "diversity", 0.1, 100),
                Metric(step, "alert", 1.0, 0, {"message": f"possible mode collapse at step {step}: test"})]

    cfg = RunConfig(method="gan", dataset="builtin:rings", preset="tiny", steps=5, device="cpu", eval_every=5)
    trainer = Trainer(cfg, run_dir=tmp_path / "run", evaluator=evaluator, subscribers=(events.append,))
    assert trainer.run() == "finished"
    alerts = [e for e in events if isinstance(e, Status) and e.state == "alert"]
    assert [a.message for a in alerts] == ["possible mode collapse at step 5: test"]
    assert not [e for e in events if isinstance(e, Metric) and e.name == "alert"]
    logged = [r for r in RunDirectory(tmp_path / "run").read_metrics() if r.get("event") == "alert"]
    assert logged and logged[0]["message"].startswith("possible mode collapse")


def test_compare_prints_one_table_across_runs(tmp_path, capsys):
    train_rings(tmp_path / "ring-a", seed=0)
    train_rings(tmp_path / "ring-b", steps=5, seed=1)
    assert main(["compare", str(tmp_path / "ring-a"), str(tmp_path / "ring-b")]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("| run | method | dataset | steps")
    rows = {line.split("|")[1].strip(): line for line in lines[2:]}
    assert set(rows) == {"ring-a", "ring-b"}
    assert "| gan | builtin:rings | 10 |" in rows["ring-a"] and "| 5 |" in rows["ring-b"]
    assert "/8 modes" in rows["ring-a"] and "(N=2,500)" in rows["ring-a"]

    out = tmp_path / "table.csv"
    assert main(["compare", str(tmp_path / "ring-a"), str(tmp_path / "ring-b"), "--csv", "--out", str(out)]) == 0
    table = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [r["run"] for r in table] == ["ring-a", "ring-b"]
    assert table[0]["modes"] == "8" and table[0]["modes_n"] == "2500" and table[0]["fid_last"] == ""


def test_compare_keeps_last_and_best_fid_with_their_n(tmp_path, capsys):
    run = RunDirectory(tmp_path / "vae")
    run.create({"run": {"method": "vae", "dataset": "cifar10"}})
    for step, fid, n in ((100, 260.0, 100), (200, 249.76, 10_000), (300, 251.5, 10_000)):
        run(Metric(step, "fid", fid, n, {"n_real": n}))
    run(Metric(300, "kid", 0.125, 1000, {"kid_std": 0.01}))
    run.close()
    summary = summarize_run(tmp_path / "vae")
    assert (summary.last["fid"].value, summary.best["fid"].value, summary.best["fid"].n) == (251.5, 249.76, 10_000)
    assert main(["compare", str(tmp_path / "vae")]) == 0
    out = capsys.readouterr().out
    assert "251.50 (N=10,000, step 300)" in out and "249.76 (N=10,000, step 200)" in out
    assert "0.1250 ± 0.0100 (N=1,000" in out
    assert main(["compare", str(tmp_path / "nope")]) == 2
    assert "nope: no such run directory" in capsys.readouterr().err


def test_compare_adds_the_last_precision_recall_density_and_coverage_against_real(tmp_path, capsys):
    run = RunDirectory(tmp_path / "began")
    run.create({"run": {"method": "began", "dataset": "sklearn:digits"}})
    for step, coverage in ((500, 0.61), (1000, 0.42)):
        for name, value, baseline, k in (("precision", 0.9, 0.907, 3), ("recall", 0.33, 0.92, 3),
                                         ("density", 1.1, 0.98, 5), ("coverage", coverage, 0.952, 5)):
            run(Metric(step, name, value, 808, {"k": k, "baseline": baseline, "n_real": 808, "features": "classifier"}))
    run.close()
    assert main(["compare", str(tmp_path / "began")]) == 0
    out = capsys.readouterr().out
    assert "| precision | recall | density | coverage |" in out
    assert "| 0.420 (real 0.952, N=808, k=5, step 1,000, classifier features) |" in out
    out_csv = tmp_path / "t.csv"
    assert main(["compare", str(tmp_path / "began"), "--csv", "--out", str(out_csv)]) == 0
    [row] = list(csv.DictReader(io.StringIO(out_csv.read_text())))
    assert (row["coverage"], row["coverage_baseline"], row["coverage_n"], row["coverage_features"]) == (
        "0.42", "0.952", "808", "classifier")
    assert row["recall"] == "0.33" and row["recall_k"] == "3" and row["fid_last"] == ""


def test_an_evaluation_leaves_the_trainings_random_streams_alone(tmp_path):
    def noisy_evaluator(method, step):  # as the classifier's training does: reseeds, then draws
        torch.manual_seed(12345)
        torch.rand(100)
        return [Metric(step, "diversity", 0.5, 10)]

    weights = []
    for evaluator, every in ((None, 0), (noisy_evaluator, 5)):
        cfg = RunConfig(method="dcgan", dataset="builtin:shapes", preset="tiny", image_size=16, dataset_count=128,
                        steps=20, device="cpu", log_every=5, sample_every=10, checkpoint_every=20, eval_every=every,
                        prdc_every=0)
        trainer = Trainer(cfg, run_dir=tmp_path / f"run{every}", evaluator=evaluator)
        assert trainer.run() == "finished", trainer.message
        weights.append(torch.cat([p.detach().flatten() for p in trainer.method.nets["generator"].parameters()]))
    assert torch.equal(weights[0], weights[1])
