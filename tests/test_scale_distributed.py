"""Multi-process training: two CPU ranks (gloo) under torchrun train as one, and resume either way."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributed as dist

from studio.cli import build_parser, main
from studio.engine import RunDirectory, distributed, load_checkpoint
from studio.methods import all_methods

pytestmark = pytest.mark.skipif(not dist.is_available(), reason="this PyTorch build has no torch.distributed")

COMMON = ["--quiet", "--preset", "tiny", "--log-every", "2", "--sample-every", "100", "--checkpoint-every", "100"]


@pytest.fixture
def data(tmp_path) -> Path:
    """64 random 16×16 colour images: cheap to open in every rank."""
    path = tmp_path / "data.npy"
    np.save(path, (np.random.default_rng(0).random((64, 16, 16, 3)) * 255).astype(np.uint8))
    return path


def needs(method: str) -> None:
    if method not in all_methods():
        pytest.skip(f"method '{method}' is not registered yet (being written concurrently)")


def run_ranks(command: list[str], cwd: Path, ranks_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, distributed.DEBUG_ENV: str(ranks_dir), "OMP_NUM_THREADS": "1"}
    env.pop("RANK", None), env.pop("WORLD_SIZE", None)
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def torchrun(*args: str) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "studio",
            "train", *args]


def rank_records(ranks_dir: Path) -> dict[int, list[dict]]:
    out = {}
    for rank in (0, 1):
        path = ranks_dir / f"rank-{rank}.jsonl"
        assert path.is_file(), f"rank {rank} logged nothing: did it train?"
        out[rank] = [json.loads(line) for line in path.read_text().splitlines()]
    return out


def check_two_ranks(run: Path, ranks_dir: Path, steps: list[int]) -> dict[int, list[dict]]:
    """Both ranks trained the same steps in lock-step; the log holds each step once, as the cross-rank mean."""
    ranks = rank_records(ranks_dir)
    assert [r["step"] for r in ranks[0]] == [r["step"] for r in ranks[1]] == steps
    logged = {r["step"]: r for r in RunDirectory(run).read_metrics() if "images_per_sec" in r}
    assert all(r["world_size"] == 2 for rank in ranks.values() for r in rank)
    differs = False
    for a, b in zip(ranks[0], ranks[1]):
        line = logged[a["step"]]
        for key, va in a["local"].items():
            vb = b["local"][key]
            assert line[key] == pytest.approx((va + vb) / 2, abs=1e-5, rel=1e-5), f"{key} at step {a['step']}"
            differs |= va != vb
        # Averaged gradients keep the weights identical on both ranks.
        assert a["weights"] == b["weights"], f"weights differ between ranks at step {a['step']}"
    assert differs, "both ranks saw the same batches: each rank should draw its own"
    return ranks


def check_run_written_once(run: Path) -> list[int]:
    steps = [r["step"] for r in RunDirectory(run).read_metrics() if "images_per_sec" in r]
    assert steps == sorted(set(steps)), f"a step was logged twice: {steps}"
    state = load_checkpoint(run / "checkpoints" / "last.pt")
    keys = [k for net in state["state"]["nets"].values() for k in net]
    assert keys and not any(k.startswith("module.") for k in keys), "checkpoint holds wrapped (module.) names"
    return steps


def test_gpus_flag_relaunches_with_torchrun_and_resumes_in_one_process(tmp_path, data):
    """`studio train --gpus 2 --device cpu`: two gloo ranks; then the checkpoint continues in one process."""
    run, ranks_dir = tmp_path / "D", tmp_path / "ranks"
    done = run_ranks([sys.executable, "-m", "studio", "train", "--gpus", "2", "--device", "cpu", "--method", "dcgan",
                      "--dataset", str(data), "--steps", "6", "--run-dir", str(run), *COMMON], tmp_path, ranks_dir)
    assert done.stdout.count("finished at step 6") == 1, "only rank 0 reports the run"
    check_two_ranks(run, ranks_dir, [2, 4, 6])
    assert check_run_written_once(run) == [2, 4, 6]
    assert load_checkpoint(run / "checkpoints" / "last.pt")["step"] == 6

    assert main(["train", "--quiet", "--resume", str(run), "--steps", "11"]) == 0
    assert check_run_written_once(run) == [2, 4, 6, 8, 10, 11]
    assert load_checkpoint(run / "checkpoints" / "last.pt")["step"] == 11


def test_torchrun_resumes_a_single_process_began_run_with_one_k_t(tmp_path, data):
    """One process, then torchrun on its checkpoint (k_t identical on both ranks), then one process again."""
    needs("began")
    run, ranks_dir = tmp_path / "D", tmp_path / "ranks"
    assert main(["train", "--method", "began", "--dataset", str(data), "--steps", "2", "--device", "cpu",
                 "--run-dir", str(run), *COMMON]) == 0
    run_ranks(torchrun("--resume", str(run), "--steps", "6", "--quiet"), tmp_path, ranks_dir)
    ranks = check_two_ranks(run, ranks_dir, [4, 6])
    for a, b in zip(ranks[0], ranks[1]):
        assert a["extra"]["k_t"] == b["extra"]["k_t"] > 0, f"k_t differs between ranks at step {a['step']}"
    assert check_run_written_once(run) == [2, 4, 6]
    k_t = load_checkpoint(run / "checkpoints" / "last.pt")["state"]["extra"]["k_t"]
    assert float(k_t) == ranks[0][-1]["extra"]["k_t"]

    assert main(["train", "--quiet", "--resume", str(run), "--steps", "8"]) == 0
    assert check_run_written_once(run) == [2, 4, 6, 8]


@pytest.mark.skipif(os.name != "posix", reason="the stand-in for the packaged app is a shell script")
def test_gpus_flag_works_in_the_packaged_app(tmp_path, data, monkeypatch):
    """In the PyInstaller app sys.executable is the studio itself (no `python -m`): torchrun's launcher
    runs in that process and each rank runs the executable with the subcommand."""
    app = tmp_path / "gan-studio"  # stands in for the packaged executable: takes a subcommand, runs it
    app.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m studio "$@"\n')
    app.chmod(0o755)
    run, ranks_dir = tmp_path / "D", tmp_path / "ranks"
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(app))
    monkeypatch.setenv(distributed.DEBUG_ENV, str(ranks_dir))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.delenv("RANK", raising=False)
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert distributed.torchrun_args(2, ["train"])[-3:] == ["--no-python", str(app), "train"]
    assert main(["train", "--gpus", "2", "--device", "cpu", "--method", "dcgan", "--dataset", str(data),
                 "--steps", "4", "--run-dir", str(run), *COMMON]) == 0
    check_two_ranks(run, ranks_dir, [2, 4])
    assert check_run_written_once(run) == [2, 4]


# --- fast checks, no subprocess ------------------------------------------------------------------
def test_one_process_is_not_distributed():
    ctx = distributed.current()
    assert not ctx.active and ctx.is_main and ctx.world_size == 1
    means = torch.tensor([1.0, 2.0])
    assert ctx.reduce_means(10, ["a", "b"], means) is means


def test_forwarded_arguments_parse_back_to_the_same_command():
    parser = build_parser()
    argv = ["train", "--method", "began", "--set", "lr=1e-4", "--set", "gamma=0.7", "--quiet", "--gpus", "2",
            "--steps", "50", "--device", "cpu", "--tensorboard", "--run-dir", "runs/x"]
    args = parser.parse_args(argv)
    forwarded = distributed.argv_from_namespace(args.train_parser, args, drop=("gpus",))
    again = parser.parse_args(["train", *forwarded])
    assert "--gpus" not in forwarded and again.gpus is None
    for key in ("method", "overrides", "quiet", "steps", "device", "tensorboard", "run_dir", "preset", "resume"):
        assert getattr(again, key) == getattr(args, key), key


def test_rank_seeds_differ_by_rank_and_step():
    seeds = {distributed.rank_seed(0, r, s, "batches") for r in range(4) for s in (0, 100)}
    assert len(seeds) == 8


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message shown on machines without CUDA")
def test_gpus_without_cuda_says_to_use_cpu_processes(capsys):
    assert main(["train", "--gpus", "2", "--steps", "1"]) == 2
    err = capsys.readouterr().err
    assert "no CUDA GPU" in err and "--device cpu" in err


def test_gpus_inside_torchrun_and_bad_counts_are_refused(monkeypatch):
    with pytest.raises(distributed.DistributedError, match="at least 1"):
        distributed.check_process_count(0, "cpu")
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(distributed.DistributedError, match="already started by torchrun"):
        distributed.check_process_count(2, "cpu")


def test_a_specific_cuda_device_is_refused_for_several_processes():
    with pytest.raises(distributed.DistributedError, match="LOCAL_RANK"):
        distributed._wants_cuda("cuda:1")
