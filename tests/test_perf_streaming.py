"""Large folders train through a DataLoader with workers (not the in-memory preview), resume at the
same batch, and every evaluation records its cost (issue 8)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from studio.data import open_dataset
from studio.engine import RunConfig, RunDirectory, Trainer
from studio.engine.sampler import DeviceSampler, StreamSampler, make_sampler
from studio.methods import DataSpec


@pytest.fixture
def folder(tmp_path):
    """80 distinct 16×16 PNGs: more than the 64-image preview a streamed set keeps in memory."""
    root = tmp_path / "images"
    root.mkdir()
    for i in range(80):
        array = np.full((16, 16, 3), i * 3, dtype=np.uint8)
        array[0, 0] = (i, 255 - i, 7)
        Image.fromarray(array).save(root / f"{i:03d}.png")
    return root


def test_a_streamed_folder_trains_through_dataloader_workers(folder, tmp_path):
    dataset = open_dataset(folder, size=16, stream=True)
    assert dataset.stream_paths is not None and len(dataset) == 80 and len(dataset.data) == 64  # a preview
    config = RunConfig(method="dcgan", dataset=str(folder), preset="tiny", steps=12, log_every=3, sample_every=100,
                       checkpoint_every=100, seed=1)
    trainer = Trainer(config, run_dir=tmp_path / "run", dataset=dataset)
    trainer.setup()
    assert isinstance(trainer.sampler, StreamSampler) and trainer.sampler.workers >= 1
    assert trainer.run() == "finished"
    records = [r for r in RunDirectory(tmp_path / "run").read_metrics() if "d_loss" in r]
    assert [r["step"] for r in records] == [3, 6, 9, 12] and all(np.isfinite(r["d_loss"]) for r in records)
    assert trainer.sampler._iter is None  # its workers were shut down when the run ended

    # Batches come from every file, not only from the preview held in memory.
    sampler = make_sampler(dataset, DataSpec.from_dataset(dataset), 16, torch.device("cpu"), seed=0, workers=1)
    seen = set()
    for _ in range(10):  # two epochs of five batches
        x = sampler.draw().x
        assert x.shape == (16, 3, 16, 16) and x.min() >= -1 and x.max() <= 1
        seen.update(((x[:, 0, 0, 0] + 1) * 127.5).round().int().tolist())
    sampler.close()
    assert seen == set(range(80))


def test_a_streamed_sampler_resumes_at_the_same_batch(folder):
    dataset = open_dataset(folder, size=16, stream=True)
    spec = DataSpec.from_dataset(dataset)

    def sampler():
        return StreamSampler(dataset, spec, 16, torch.device("cpu"), seed=3, workers=0)

    first = sampler()
    for _ in range(7):  # into the second epoch
        first.draw()
    state = first.state_dict()
    expected = [first.draw().x for _ in range(4)]
    second = sampler()
    second.load_state_dict(state)
    for want in expected:
        assert torch.equal(second.draw().x, want)
    # In memory, the device sampler is the one used.
    small = open_dataset("builtin:shapes", size=16, count=32)
    assert isinstance(make_sampler(small, DataSpec.from_dataset(small), 8, torch.device("cpu")), DeviceSampler)


def test_each_evaluation_records_its_cost(tmp_path):
    config = RunConfig(method="gan", dataset="builtin:rings", preset="tiny", steps=4, eval_every=2, log_every=2,
                       sample_every=100, checkpoint_every=100, dataset_count=256)
    assert Trainer(config, run_dir=tmp_path / "run").run() == "finished"
    evaluations = [r for r in RunDirectory(tmp_path / "run").read_metrics() if "metric" in r]
    assert {r["step"] for r in evaluations} == {2, 4}
    assert all(isinstance(r["eval_seconds"], float) and r["eval_seconds"] > 0 for r in evaluations)
