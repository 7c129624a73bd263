"""Exact resume (issue 7): on the CPU with a fixed seed, 40 steps straight and 20 steps, a stop, a
resume and 20 more give identical weights, optimizer state, method state (BEGAN's k_t), RNG
streams, sample grids and logged scalars; with the small-data aids on (issue 25) also the averaged
generator and the adaptive augmentation's probability and running sums.

What must survive the restart for this to hold: the weights and optimizer moments, the torch RNG
(dropout, latent draws), the sampler's own generator (which images form each batch), the fixed
latent batch of the sample grid, method state beyond weights (BEGAN's k_t and its lr-decay
window), the averaged generator and the augmentation's p and sums, and the step counter. Removing any
of them from the checkpoint makes this test fail.
"""

from __future__ import annotations

import pytest
import torch

from studio.engine import RunConfig, RunDirectory, Trainer, load_checkpoint

NOT_COMPARED = {"time", "images_per_sec"}  # wall-clock figures differ from run to run by nature


# The small-data aids, with ADA's p moving fast enough to change at each of its adjustments (every 4 steps).
AIDS = {"augment": "colour,translation,cutout", "augment_p": "auto", "augment_target": 0.0, "augment_kimg": 1.0,
        "ema": 0.9, "spectral_norm": True}
CASES = {"dcgan": ("dcgan", {}), "wgan-gp": ("wgan-gp", {}), "began": ("began", {}), "dcgan-aids": ("dcgan", AIDS)}


def config(method: str, steps: int, amp: str = "auto") -> RunConfig:
    name, params = CASES[method]
    return RunConfig(method=name, preset="tiny", params=dict(params), steps=steps, seed=7, image_size=16,
                     dataset_count=256, log_every=1, sample_every=10, checkpoint_every=10, device="cpu", amp=amp)


def scalars(run) -> dict[int, dict]:
    out: dict[int, dict] = {}
    for record in RunDirectory(run).read_metrics():
        if "event" in record or "metric" in record:
            continue
        assert record["step"] not in out, f"step {record['step']} logged twice"
        out[record["step"]] = {k: v for k, v in record.items() if k not in NOT_COMPARED}
    return out


def assert_same(a, b, where: str) -> None:
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b), f"{where} differs"
    elif isinstance(a, dict):
        assert set(a) == set(b), f"{where}: keys {sorted(set(a) ^ set(b))} differ"
        for key in a:
            assert_same(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), f"{where}: lengths differ"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{i}]")
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


# bf16 forced where the method allows it (issue 29): its rounding must not make a resumed run drift either;
# the small-data aids (issue 25): the averaged generator and ADA's p resume exactly too.
@pytest.mark.parametrize("method, amp", [("dcgan", "off"), ("dcgan", "bf16"), ("wgan-gp", "off"), ("began", "bf16"),
                                         ("dcgan-aids", "off")])
def test_twenty_plus_twenty_equals_forty(method, amp, tmp_path):
    straight, split = tmp_path / "straight", tmp_path / "split"
    assert Trainer(config(method, 40, amp), run_dir=straight).run() == "finished"
    assert Trainer(config(method, 20, amp), run_dir=split).run() == "finished"
    resumed = Trainer(config(method, 40, amp), run_dir=split, resume=True)
    assert resumed.run() == "finished"
    assert resumed.method.perf.amp == amp

    a = load_checkpoint(straight / "checkpoints" / "last.pt")
    b = load_checkpoint(split / "checkpoints" / "last.pt")
    assert a["step"] == b["step"] == 40
    for part in ("state", "sampler", "rng", "fixed"):  # weights, optimizers, extra state; RNGs; fixed batch
        assert_same(a[part], b[part], part)

    logged_a, logged_b = scalars(straight), scalars(split)
    assert sorted(logged_a) == list(range(1, 41)) and sorted(logged_b) == list(range(1, 41))
    for step in range(1, 41):
        assert logged_a[step] == logged_b[step], f"step {step}: {logged_a[step]} != {logged_b[step]}"

    for step in (30, 40):  # the grids drawn after the restart come from the same fixed batch and weights
        name = f"step-{step:07d}.png"
        assert (straight / "samples" / name).read_bytes() == (split / "samples" / name).read_bytes(), name

    if method == "began":
        k_t = [logged_b[s]["k_t"] for s in range(1, 41)]
        assert 0 < k_t[19] and len(set(k_t)) > 1, "k_t never moved: the test would not see it lost"
        assert torch.equal(a["state"]["extra"]["k_t"], b["state"]["extra"]["k_t"])
        assert logged_b[40]["k_t"] == pytest.approx(float(resumed.method.k), abs=0)
    if method == "dcgan-aids":
        p = [logged_b[s]["augment_p"] for s in range(1, 41)]
        assert p[19] > 0 and len(set(p)) > 2, "p never moved: the test would not see it lost"
        assert a["state"]["average"]["updates"] == 40 and "augment" in a["state"]
