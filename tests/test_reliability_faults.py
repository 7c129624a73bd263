"""Resource faults and files that must not run code (issue 7, "Resource faults" and "No code from files").

- Out of GPU memory (injected torch.cuda.OutOfMemoryError): one line naming the batch size in use
  and suggesting a smaller one, a non-zero exit, the last checkpoint intact.
- A full disk (injected ENOSPC half-way through a write) while writing a checkpoint, the metrics
  log, a model export (TorchScript, ONNX, its sidecar), a morph GIF or a sample grid: a clear error
  naming the file and the full disk, the previous file byte-for-byte intact, no temp file left.
- Checkpoints, run configs, statistics and classifier caches, settings: a file crafted so that
  unpickling it runs a command is refused with a clear message and the command never runs; and no
  code path in studio/ loads data with plain pickle, torch.load without weights_only=True or
  np.load(allow_pickle=True).
"""

from __future__ import annotations

import errno
import json
import os
import pickle
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from studio import fileio
from studio.cli import main
from studio.engine import RunConfig, RunDirectory, Trainer, load_checkpoint, load_method
from studio.engine import trainer as trainer_mod
from studio.latent import video
from studio.engine.rundir import RunDirError

STUDIO = Path(__file__).resolve().parents[1] / "studio"


def tiny(steps: int, **overrides) -> RunConfig:
    values = dict(method="dcgan", preset="tiny", steps=steps, image_size=16, dataset_count=128, log_every=1,
                  sample_every=1000, checkpoint_every=2, device="cpu")
    values.update(overrides)
    return RunConfig(**values)


def tiny_cli(run: Path, steps: int, *extra: str) -> list[str]:
    return ["train", "--quiet", "--method", "dcgan", "--preset", "tiny", "--size", "16", "--steps", str(steps),
            "--checkpoint-every", "2", "--log-every", "1", "--sample-every", "1000", "--device", "cpu",
            "--run-dir", str(run), *extra]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("trained") / "run"
    assert Trainer(tiny(4), run_dir=run).run() == "finished"
    return run


def one_line(err: str) -> str:
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def listing(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


# --- a full disk, injected ------------------------------------------------------------------------


class FullDisk:
    """While `on`, every atomic write (and metrics line) writes half its bytes, then fails with ENOSPC."""

    def __init__(self, monkeypatch):
        self.on = False
        self.failed = 0
        real = fileio.write_in_halves

        def write(fh, data, delay):
            if not self.on:
                return real(fh, data, delay)
            self.failed += 1
            fh.write(data[: len(data) // 2])
            fh.flush()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        monkeypatch.setattr(fileio, "write_in_halves", write)  # every atomic write and metrics line
        disk = self

        class Filling:  # a streamed file (the GIF writer's frames): half of a write, then ENOSPC
            def __init__(self, fh):
                self.fh = fh

            def write(self, data):
                if not disk.on:
                    return self.fh.write(data)
                disk.failed += 1
                self.fh.write(bytes(data)[: len(data) // 2])
                self.fh.flush()
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

            def __getattr__(self, name):
                return getattr(self.fh, name)

        monkeypatch.setattr(video, "open", lambda *a, **k: Filling(open(*a, **k)), raising=False)

    def inside(self, monkeypatch, owner, name: str, when=lambda call: True) -> list:
        """Fill the disk during the calls of owner.name for which when(call number) holds."""
        real = getattr(owner, name)
        calls: list = []

        def wrapped(*args, **kwargs):
            calls.append(args)
            self.on = when(len(calls))
            try:
                return real(*args, **kwargs)
            finally:
                self.on = False

        monkeypatch.setattr(owner, name, wrapped)
        return calls


def test_full_disk_while_writing_a_checkpoint_keeps_the_previous_one(tmp_path, monkeypatch, capsys):
    run = tmp_path / "run"
    disk = FullDisk(monkeypatch)
    saved: dict[int, bytes] = {}
    real_save = trainer_mod.save_checkpoint

    def save(path, state):  # the third checkpoint (step 6) hits the full disk
        disk.on = state["step"] == 6
        try:
            real_save(path, state)
        finally:
            disk.on = False
        saved[state["step"]] = Path(path).read_bytes()

    monkeypatch.setattr(trainer_mod, "save_checkpoint", save)
    assert main(tiny_cli(run, 10)) == 1
    line = one_line(capsys.readouterr().err)
    last = run / "checkpoints" / "last.pt"
    assert "disk is full" in line and str(last) in line, line
    assert disk.failed == 1 and sorted(saved) == [2, 4]
    assert last.read_bytes() == saved[4], "the previous checkpoint was damaged"
    assert [p.name for p in last.parent.iterdir()] == ["last.pt"], "a temp file was left behind"
    assert load_checkpoint(last)["step"] == 4
    status = RunDirectory(run).read_status()
    assert status["state"] == "error" and "disk is full" in status["message"]
    # Space is back: the run resumes from the intact checkpoint.
    monkeypatch.setattr(trainer_mod, "save_checkpoint", real_save)
    assert main(["train", "--quiet", "--resume", str(run), "--steps", "8"]) == 0
    assert load_checkpoint(last)["step"] == 8


def test_full_disk_while_appending_to_the_metrics_log(tmp_path, monkeypatch):
    run = tmp_path / "run"
    disk = FullDisk(monkeypatch)
    disk.inside(monkeypatch, RunDirectory, "_append_metrics", when=lambda call: call == 4)
    trainer = Trainer(tiny(10), run_dir=run)
    assert trainer.run() == "error"
    assert "disk is full" in trainer.message and "metrics.jsonl" in trainer.message
    assert disk.failed == 1
    # The half-written line was cut before the error was recorded: every line parses, none is lost.
    lines = (run / "metrics.jsonl").read_bytes().splitlines(keepends=True)
    assert all(line.endswith(b"\n") for line in lines) and all(json.loads(line) for line in lines)
    records = RunDirectory(run).read_metrics()
    assert [r["step"] for r in records if "d_loss" in r] == [1, 2, 3]
    assert records[-1]["event"] == "error" and "disk is full" in records[-1]["message"]
    assert load_checkpoint(run / "checkpoints" / "last.pt")["step"] == 2
    # Space is back: the run resumes from its checkpoint.
    assert Trainer(tiny(6), run_dir=run, resume=True).run() == "finished"
    assert [r["step"] for r in RunDirectory(run).read_metrics() if "d_loss" in r][:3] == [1, 2, 3]


@pytest.mark.parametrize("fmt,suffix", [("torchscript", ".pt"), ("onnx", ".onnx")])
def test_full_disk_during_an_export_keeps_the_previous_export(trained_run, tmp_path, monkeypatch, capsys, fmt, suffix):
    if fmt == "onnx":
        pytest.importorskip("onnx")
    import studio.export as export_mod
    from studio.export import ExportError, export_run

    out = tmp_path / "exports" / f"G{suffix}"
    export_run(trained_run, out, fmt, check=False)
    before = listing(out.parent)
    assert set(before) == {out.name, "G.json"}
    disk = FullDisk(monkeypatch)

    # 1. The model file itself cannot be written (ONNX: torch writes it, so the exporter is replaced
    #    by one that writes part of the file and then fails as a full disk would).
    if fmt == "onnx":
        def no_space(module, inputs, in_names, out_name, path, opset):
            Path(path).write_bytes(b"\x08\x07partial onnx")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

        monkeypatch.setattr(export_mod, "export_onnx", no_space)
    else:
        disk.inside(monkeypatch, export_mod, "export_torchscript")
    with pytest.raises(ExportError) as err:
        export_run(trained_run, out, fmt, check=False)
    assert "disk is full" in str(err.value) and str(out) in str(err.value), err.value
    assert "previous file is unchanged" in str(err.value)
    assert listing(out.parent) == before, "the previous export was changed or a temp file was left"
    monkeypatch.undo()

    # 2. The model is written but its sidecar is not: the old pair must stay together.
    disk = FullDisk(monkeypatch)
    disk.inside(monkeypatch, export_mod, "write_sidecar")
    with pytest.raises(ExportError, match="disk is full"):
        export_run(trained_run, out, fmt, check=False)
    assert listing(out.parent) == before

    # 3. From the command line: one line, non-zero exit.
    disk.on = True
    code = main(["export", "--run", str(trained_run), "--out", str(out), "--no-check"])
    disk.on = False
    assert code != 0 and "disk is full" in one_line(capsys.readouterr().err)
    assert listing(out.parent) == before


def test_full_disk_while_writing_a_morph_gif_keeps_the_previous_gif(trained_run, tmp_path, monkeypatch):
    from studio.latent import ExportError, ExportOptions, Keyframe, Timeline, export_morph

    method = load_method(trained_run).method
    timeline = Timeline([Keyframe("seed", 0), Keyframe("seed", 1)], 4)
    out = tmp_path / "morph.gif"
    export_morph(out, method, timeline, ExportOptions(size=16))
    before = listing(tmp_path)
    disk = FullDisk(monkeypatch)
    disk.on = True
    with pytest.raises(ExportError) as err:
        export_morph(out, method, Timeline([Keyframe("seed", 2), Keyframe("seed", 3)], 4), ExportOptions(size=16))
    disk.on = False
    assert "disk is full" in str(err.value) and str(out) in str(err.value)
    assert disk.failed == 1 and listing(tmp_path) == before


def test_full_disk_while_writing_a_sample_grid_is_one_line(trained_run, tmp_path, monkeypatch, capsys):
    out = tmp_path / "grid.png"
    out.write_bytes(b"previous grid")
    disk = FullDisk(monkeypatch)
    disk.on = True
    code = main(["sample", str(trained_run), "--out", str(out), "--n", "4", "--device", "cpu"])
    disk.on = False
    line = one_line(capsys.readouterr().err)
    assert code == 1 and "disk is full" in line and str(out) in line
    assert listing(tmp_path) == {"grid.png": b"previous grid"}


# --- out of GPU memory, injected -----------------------------------------------------------------


@pytest.mark.parametrize("batch_size", [None, 12])
def test_out_of_gpu_memory_says_to_lower_the_batch_size(tmp_path, monkeypatch, capsys, batch_size):
    from studio.methods import get_method

    cls = get_method("dcgan")
    real_phase = cls.train_phase
    calls = []

    def phase(self, name, batch):  # steps 1-4 train; the fifth step's first phase runs out of memory
        calls.append(name)
        if len(calls) > 8:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 79.1 GiB "
                                              "total capacity; 77.9 GiB already allocated)")
        return real_phase(self, name, batch)

    monkeypatch.setattr(cls, "train_phase", phase)
    run = tmp_path / "run"
    extra = ["--set", f"batch_size={batch_size}"] if batch_size else []
    assert main(tiny_cli(run, 20, *extra)) == 1
    line = one_line(capsys.readouterr().err)
    current = batch_size or 16  # the tiny preset's batch size
    assert "out of GPU memory" in line and f"batch size {current}" in line, line
    assert f"batch_size={current // 2}" in line and "smaller batch size" in line
    assert load_checkpoint(run / "checkpoints" / "last.pt")["step"] == 4
    status = RunDirectory(run).read_status()
    assert status["state"] == "error" and f"batch size {current}" in status["message"]


# --- files that would run code -------------------------------------------------------------------


class Evil:
    """Unpickling this with plain pickle (or torch.load(weights_only=False)) runs `touch MARKER`."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def write_evil_checkpoint(path: Path, marker: Path, how: str, template: Path | None = None) -> Path:
    """A checkpoint file whose unpickling would run a command, in one of several disguises."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if how == "torch-file":  # torch.save's zip format, the payload as the whole state
        torch.save({"format": 1, "method": "dcgan", "step": 1, "state": Evil(marker)}, path)
    elif how == "plain-pickle":  # a legacy pickle file
        path.write_bytes(pickle.dumps({"method": "dcgan", "state": Evil(marker)}, protocol=2))
    elif how == "inside-real-checkpoint":  # a real checkpoint with the payload hidden in its optimizer state
        state = torch.load(template, weights_only=True)
        state["state"]["opts"]["generator"]["param_groups"][0]["note"] = Evil(marker)
        torch.save(state, path)
    else:
        raise ValueError(how)
    return path


DISGUISES = ["torch-file", "plain-pickle", "inside-real-checkpoint"]


def test_the_payload_is_live(tmp_path):
    """Guard for the tests below: loaded the unsafe way, these files do run the command."""
    marker = tmp_path / "MARKER"
    path = write_evil_checkpoint(tmp_path / "evil.pt", marker, "plain-pickle")
    pickle.loads(path.read_bytes())
    assert marker.exists()


@pytest.mark.parametrize("how", DISGUISES)
def test_checkpoint_loader_refuses_a_checkpoint_that_would_run_code(trained_run, tmp_path, how):
    marker = tmp_path / "MARKER"
    path = write_evil_checkpoint(tmp_path / "evil.pt", marker, how, trained_run / "checkpoints" / "last.pt")
    with pytest.raises(RunDirError) as err:
        load_checkpoint(path)
    message = str(err.value)
    assert str(path) in message and "refused to load" in message and "could run code" in message
    assert "weights_only` set to `False`" not in message, "the message must not advise disabling the protection"
    with pytest.raises(RunDirError, match="refused to load"):
        load_method(path)
    assert not marker.exists()


@pytest.mark.parametrize("how", DISGUISES)
def test_cli_refuses_checkpoints_that_would_run_code(trained_run, tmp_path, capsys, how):
    marker = tmp_path / "MARKER"
    run = tmp_path / "planted"
    shutil.copytree(trained_run, run)
    write_evil_checkpoint(run / "checkpoints" / "last.pt", marker, how, trained_run / "checkpoints" / "last.pt")
    commands = [
        ["sample", str(run / "checkpoints" / "last.pt"), "--out", str(tmp_path / "a.png"), "--device", "cpu"],
        ["sample", str(run), "--out", str(tmp_path / "b.png"), "--device", "cpu"],
        ["train", "--quiet", "--resume", str(run), "--steps", "8"],
        ["export", "--run", str(run), "--out", str(tmp_path / "G.pt"), "--no-check"],
    ]
    for argv in commands:
        code = main(argv)
        line = one_line(capsys.readouterr().err)
        assert code != 0 and "refused to load" in line, (argv, line)
    assert not marker.exists()
    assert not list(tmp_path.glob("*.png")) and not (tmp_path / "G.pt").exists()


def test_run_config_that_is_not_json_is_refused_clearly(trained_run, tmp_path, capsys):
    marker = tmp_path / "MARKER"
    run = tmp_path / "planted"
    shutil.copytree(trained_run, run)
    (run / "config.json").write_bytes(pickle.dumps(Evil(marker), protocol=2))
    assert main(["train", "--quiet", "--resume", str(run), "--steps", "8"]) != 0
    line = one_line(capsys.readouterr().err)
    assert str(run / "config.json") in line and "unreadable" in line
    assert not marker.exists()


@pytest.mark.parametrize("config", [{"run": [1, 2]}, {"run": {"steps": "many"}}, {"run": {"params": 5}},
                                    ["not", "an", "object"], {"run": {"log_every": True}}])
def test_run_config_of_the_wrong_shape_is_refused_clearly(trained_run, tmp_path, capsys, config):
    run = tmp_path / "planted"
    shutil.copytree(trained_run, run)
    (run / "config.json").write_text(json.dumps(config))
    assert main(["train", "--quiet", "--resume", str(run), "--steps", "8"]) != 0
    line = one_line(capsys.readouterr().err)
    assert "config" in line, line


@pytest.mark.parametrize("disguise", ["pickle-named-npz", "object-array-npz"])
def test_statistics_cache_never_unpickles(tmp_path, disguise):
    from studio.metrics import stats as stats_mod
    from studio.metrics.errors import MetricError

    marker = tmp_path / "MARKER"
    path = tmp_path / "cache" / "0123abcd.npz"
    path.parent.mkdir()
    if disguise == "pickle-named-npz":
        path.write_bytes(pickle.dumps({"mu": Evil(marker)}, protocol=2))
    else:
        np.savez(path, mu=np.array([Evil(marker)], dtype=object), sigma=np.eye(2))
    with pytest.raises(MetricError):
        stats_mod.load_statistics(path)
    assert stats_mod._read_cache(path, keep_features=False) is None  # treated as absent: recomputed
    assert not marker.exists()


def test_classifier_cache_never_unpickles(tmp_path, monkeypatch):
    from studio.data import open_dataset
    from studio.metrics import diversity

    trained = []

    def quick_train(dataset, device="cpu", **_):
        trained.append(1)
        return diversity.LabelClassifier(dataset.label_dim), 0.5

    monkeypatch.setattr(diversity, "train_classifier", quick_train)
    shapes = open_dataset("builtin:shapes", size=16, count=64)
    diversity.label_classifier(shapes, cache_dir=tmp_path)
    [cached] = list(tmp_path.glob("*.pt"))
    diversity.label_classifier(shapes, cache_dir=tmp_path)
    assert len(trained) == 1, "the cache was not used"
    marker = tmp_path / "MARKER"
    torch.save({"state": Evil(marker), "accuracy": torch.tensor(0.9)}, cached)
    diversity.label_classifier(shapes, cache_dir=tmp_path)
    assert len(trained) == 2 and not marker.exists()  # refused, so trained again
    assert torch.load(cached, weights_only=True)["accuracy"] == pytest.approx(0.5)


def test_settings_file_is_json_only(tmp_path, monkeypatch):
    from studio import settings

    marker = tmp_path / "MARKER"
    monkeypatch.setenv("STUDIO_CONFIG_DIR", str(tmp_path))
    settings.settings_path().write_bytes(pickle.dumps(Evil(marker), protocol=2))
    assert settings.load_settings() == {}
    assert not marker.exists()


# What loads data must never unpickle it freely. torch.jit.load is allowed only where the studio reads
# back the TorchScript file it has just written (to check it).
UNSAFE_CALLS = [
    (r"\bpickle\.loads?\(", "plain pickle.load"),
    (r"\b(?:cPickle|dill|cloudpickle|joblib|shelve|marshal)\b", "a pickle-based loader"),
    (r"\byaml\.(?:unsafe_)?load\(", "yaml.load"),
    (r"allow_pickle\s*=\s*True", "np.load(allow_pickle=True)"),
    (r"weights_only\s*=\s*False", "torch.load(weights_only=False)"),
    (r"\b(?:eval|exec)\((?!\))", "eval/exec of text"),
]
JIT_LOAD_ALLOWED = {"export/torchscript.py"}


def _calls(text: str, name: str) -> list[str]:
    """The argument text of every call `name(...)` in `text` (parentheses balanced)."""
    out = []
    for match in re.finditer(re.escape(name) + r"\(", text):
        depth, i = 1, match.end()
        while depth and i < len(text):
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        out.append(text[match.end(): i - 1])
    return out


def test_no_code_path_unpickles_untrusted_data():
    problems = []
    for path in sorted(STUDIO.rglob("*.py")):
        rel = path.relative_to(STUDIO).as_posix()
        code = "\n".join(line.split("#", 1)[0] for line in path.read_text(encoding="utf-8").splitlines())
        for pattern, what in UNSAFE_CALLS:
            for match in re.finditer(pattern, code):
                problems.append(f"{rel}: {what} ({match.group(0)})")
        for args in _calls(code, "torch.load"):
            if not re.search(r"weights_only\s*=\s*True", args):
                problems.append(f"{rel}: torch.load without weights_only=True ({args.strip()[:60]})")
        for args in _calls(code, "np.load") + _calls(code, "numpy.load"):
            if not re.search(r"allow_pickle\s*=\s*False", args):
                problems.append(f"{rel}: np.load without allow_pickle=False ({args.strip()[:60]})")
        if "torch.jit.load(" in code and rel not in JIT_LOAD_ALLOWED:
            problems.append(f"{rel}: torch.jit.load of a file the studio did not just write")
    assert not problems, "\n".join(problems)
