"""TensorBoard logging: `studio train --tensorboard` leaves event files TensorBoard reads back."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from studio.cli import main
from studio.engine import RunDirectory
from studio.engine.events import Images, Metric, Scalars, Status
from studio.engine.state import RunState


def accumulate(folder):
    event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    acc = event_accumulator.EventAccumulator(str(folder), size_guidance={event_accumulator.SCALARS: 0,
                                                                         event_accumulator.IMAGES: 0})
    acc.Reload()
    return acc


def test_train_with_tensorboard_writes_the_logged_scalars_and_samples(tmp_path):
    pytest.importorskip("tensorboard")
    data = tmp_path / "data.npy"
    np.save(data, (np.random.default_rng(0).random((32, 16, 16, 3)) * 255).astype(np.uint8))
    run = tmp_path / "D"
    assert main(["train", "--quiet", "--tensorboard", "--method", "dcgan", "--preset", "tiny", "--dataset", str(data),
                 "--steps", "4", "--log-every", "2", "--sample-every", "2", "--device", "cpu",
                 "--run-dir", str(run)]) == 0
    assert list((run / "tensorboard").glob("events.out.tfevents.*"))
    acc = accumulate(run / "tensorboard")
    logged = [r for r in RunDirectory(run).read_metrics() if "images_per_sec" in r]
    names = set(logged[0]) - {"step", "time"}
    assert names >= {"d_loss", "g_loss", "d_real", "d_fake", "images_per_sec"}
    assert names <= set(acc.Tags()["scalars"])
    for name in ("d_loss", "g_loss"):
        events = acc.Scalars(name)
        assert [e.step for e in events] == [r["step"] for r in logged] == [2, 4]
        assert [e.value for e in events] == pytest.approx([r[name] for r in logged], rel=1e-6)
    assert {"samples", "real"} <= set(acc.Tags()["images"])
    assert sorted(e.step for e in acc.Images("samples")) == [0, 2, 4]


def test_subscriber_writes_metrics_images_and_status(tmp_path):
    pytest.importorskip("tensorboard")
    from studio.engine.tensorboard import TensorBoardSubscriber

    board = TensorBoardSubscriber(tmp_path)
    board(Scalars(10, {"k_t": 0.25}))
    board(Metric(10, "fid", 123.5, n=500))
    board(Images(10, "samples", np.zeros((8, 8), dtype=np.uint8)))  # grey grids come without a channel axis
    board(Status(10, RunState.FINISHED, "finished at step 10"))
    board.close()
    board.close()
    board(Scalars(11, {"k_t": 0.5}))  # after close: ignored, not an error
    acc = accumulate(tmp_path / "tensorboard")
    assert [(e.step, e.value) for e in acc.Scalars("k_t")] == [(10, 0.25)]
    assert [(e.step, e.value) for e in acc.Scalars("metrics/fid")] == [(10, 123.5)]
    image = acc.Images("samples")[0]
    assert (image.width, image.height) == (8, 8)


def test_tensorboard_flag_without_the_package_says_how_to_install(tmp_path, monkeypatch, capsys):
    from studio.engine.tensorboard import TensorBoardMissing, TensorBoardSubscriber, tensorboard_available

    monkeypatch.setitem(sys.modules, "tensorboard", None)
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    assert not tensorboard_available()
    with pytest.raises(TensorBoardMissing, match="pip install tensorboard"):
        TensorBoardSubscriber(tmp_path)
    assert main(["train", "--quiet", "--tensorboard", "--steps", "1", "--run-dir", str(tmp_path / "D")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install tensorboard" in err[0]
    assert not (tmp_path / "D").exists(), "nothing should start without the package"
