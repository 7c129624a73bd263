"""Runs side by side: the summed images/s of three training runs at once against one run alone.

Each run is a process of its own (`python -m studio.bench.concurrent worker OPTIONS`), as runs a user
starts side by side are: the trainer's own step loop (`Trainer.train_steps`) on a small DCGAN, its
threads chosen by the core share (`engine/coreshare.py`) through a register private to the
measurement (other studio runs on the machine do not count). The runs set up, then start together;
each trains `warm` seconds (every run's share settles within a second), then counts its images over
`seconds`. Three phases: one run alone (all the cores it may use), three sharing the cores, and three
with sharing off (STUDIO_SHARE_CORES=0, each with torch's own thread count: what three runs did
before). The figure is the three shared runs' summed images/s over the run alone's; the machine's
load average is recorded around it, as other work on the machine takes cores from all phases.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .common import BATCH, SIZE, Log

RESULT_PREFIX = "STUDIO_BENCH_CONCURRENT "
READY = "STUDIO_BENCH_READY"
TIMEOUT_S = 600
# How long a run that has trained waits for the others to finish theirs (they started together): bounded, so a
# sibling that crashed costs a minute, not the whole TIMEOUT_S, before run_together reports it.
DONE_WAIT_S = 60


def _load() -> list[float] | None:
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (OSError, AttributeError):
        return None


def worker(go: str, runs: int, seconds: float, warm: float, width: int, count: int) -> dict[str, Any]:
    """One run in this process: set up, say READY, wait for `go` to exist, train, wait for the other `runs` - 1
    to finish training too, return its figures."""
    import torch

    from ..data import open_dataset
    from ..engine import RunConfig, Trainer

    data = open_dataset("builtin:shapes", size=SIZE, count=count)
    config = RunConfig(method="dcgan", dataset="builtin:shapes", steps=10**9, device="cpu", log_every=10,
                       sample_every=10**9, checkpoint_every=10**9, image_size=SIZE, dataset_count=count,
                       params={"batch_size": BATCH, "width": width})
    trainer = Trainer(config, dataset=data)
    trainer.setup()
    trainer.train_steps(2)  # the first steps' one-off costs; the run joins the register here
    print(READY, flush=True)
    while not Path(go).exists():
        time.sleep(0.005)
    end = time.perf_counter() + warm
    while time.perf_counter() < end:
        trainer.train_steps(2)
    first, began, cpu = trainer.step, time.perf_counter(), time.process_time()
    while time.perf_counter() - began < seconds:
        trainer.train_steps(2)
    elapsed = time.perf_counter() - began
    # Leave the register only once every run has trained: a run that left first was missing from the last count
    # of one still training (the tests saw [3, 3, 1] runs under load).
    done = Path(go).with_name(f"done-{os.getpid()}")
    done.touch()
    deadline = time.perf_counter() + DONE_WAIT_S
    while len(list(done.parent.glob("done-*"))) < runs and time.perf_counter() < deadline:
        time.sleep(0.005)
    trainer.cores.leave()
    return {"images_per_sec": (trainer.step - first) * BATCH / elapsed, "steps": trainer.step - first,
            "seconds": elapsed, "cpu_seconds": time.process_time() - cpu, "threads": torch.get_num_threads(),
            "runs_seen": trainer.cores.runs}


def run_together(runs: int, share: bool, seconds: float, warm: float, width: int, count: int) -> list[dict[str, Any]]:
    """`runs` worker processes started together; each one's figures. RuntimeError naming a worker that failed."""
    with tempfile.TemporaryDirectory(prefix="studio-bench-concurrent-") as work:
        env = dict(os.environ)
        env.pop("OMP_NUM_THREADS", None)  # each run takes the threads torch (and the share) gives it
        env["STUDIO_TRAINING_REGISTER"] = str(Path(work) / "register")
        env["STUDIO_SHARE_CORES"] = "1" if share else "0"
        go = Path(work) / "go"
        options = json.dumps({"go": str(go), "runs": runs, "seconds": seconds, "warm": warm, "width": width,
                              "count": count})
        procs = [subprocess.Popen([sys.executable, "-m", "studio.bench.concurrent", "worker", options],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
                 for _ in range(runs)]
        try:
            for proc in procs:  # every run set up before any starts
                line = proc.stdout.readline()
                if line.strip() != READY:
                    why = line.strip() or proc.stderr.read()[-400:]
                    raise RuntimeError(f"a concurrent-run worker failed to start: {why}")
            go.touch()
            results = []
            for proc in procs:
                out, err = proc.communicate(timeout=TIMEOUT_S)
                found = [ln for ln in out.splitlines() if ln.startswith(RESULT_PREFIX)]
                if not found:
                    raise RuntimeError(f"a concurrent-run worker failed (exit {proc.returncode}): {err.strip()[-400:]}")
                results.append(json.loads(found[-1][len(RESULT_PREFIX):]))
            return results
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()


def concurrent_section(quick: bool, log: Log, runs: int = 3) -> dict[str, Any]:
    """The `concurrent` section: one run alone, `runs` sharing the cores, `runs` not sharing them."""
    seconds, warm, width, count = (3.0, 1.5, 8, 256) if quick else (20.0, 4.0, 16, 1024)
    out: dict[str, Any] = {"runs": runs, "method": "dcgan", "width": width, "image_size": SIZE, "batch": BATCH,
                           "seconds": seconds, "load_average_start": _load()}
    alone = run_together(1, True, seconds, warm, width, count)[0]
    out["alone"] = alone
    log(f"  one run alone: {alone['images_per_sec']:.0f} images/s on {alone['threads']} threads")
    for key, share in (("shared", True), ("unshared", False)):
        together = run_together(runs, share, seconds, warm, width, count)
        total = sum(r["images_per_sec"] for r in together)
        out[key] = {"runs": together, "images_per_sec": total, "ratio": total / alone["images_per_sec"]}
        each = " + ".join(f"{r['images_per_sec']:.0f}" for r in together)
        log(f"  {runs} runs {'sharing the cores' if share else 'not sharing (before)'}: {each} = {total:.0f} images/s "
            f"({total / alone['images_per_sec']:.2f}× one alone; threads {[r['threads'] for r in together]})")
    out["ratio"] = out["shared"]["ratio"]
    out["load_average_end"] = _load()
    return out


if __name__ == "__main__":  # python -m studio.bench.concurrent worker '{"go": ..., "seconds": ...}'
    if len(sys.argv) < 3 or sys.argv[1] != "worker":
        sys.exit("usage: python -m studio.bench.concurrent worker OPTIONS_JSON (started by `studio bench`)")
    print(RESULT_PREFIX + json.dumps(worker(**json.loads(sys.argv[2]))), flush=True)
