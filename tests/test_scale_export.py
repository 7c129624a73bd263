"""Model export: ONNX and TorchScript files give the PyTorch model's output; the sidecar describes the inputs."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
import torch

from studio.cli import main
from studio.engine import RunConfig, Trainer, load_method
from studio.methods import all_methods

SHAPES = ["circle", "square", "triangle", "cross"]  # builtin:shapes' classes


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Trained-for-two-steps runs of each method, made on first use."""
    root = tmp_path_factory.mktemp("runs")
    made = {}

    def get(method: str):
        if method not in all_methods():
            pytest.skip(f"method '{method}' is not registered yet (being written concurrently)")
        if method not in made:
            cfg = RunConfig(method=method, preset="tiny", steps=2, dataset_count=64, image_size=16, log_every=1,
                            sample_every=100, checkpoint_every=100, device="cpu")
            assert Trainer(cfg, run_dir=root / method).run() == "finished"
            made[method] = root / method
        return made[method]

    return get


def onnxruntime_session(path):
    ort = pytest.importorskip("onnxruntime")
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def export(run, out, *extra: str) -> None:
    assert main(["export", "--run", str(run), "--out", str(out), *extra]) == 0


def inputs_for(sidecar: dict, n: int, seed: int = 7) -> dict[str, np.ndarray]:
    """Feed the generator from the sidecar alone, as a consumer without the studio would."""
    rng = np.random.default_rng(seed)
    feeds = {}
    for spec in sidecar["generator"]["inputs"]:
        if spec["name"] == "z":
            size = spec["shape"][1]
            if spec["distribution"] == "uniform":
                feeds["z"] = rng.uniform(spec["low"], spec["high"], (n, size)).astype(np.float32)
            else:
                feeds["z"] = rng.standard_normal((n, size)).astype(np.float32)
        elif spec["name"] == "labels":
            feeds["labels"] = np.eye(spec["shape"][1], dtype=np.float32)[np.arange(n) % spec["shape"][1]]
    return feeds


def pytorch_samples(run, feeds: dict[str, np.ndarray]) -> np.ndarray:
    method = load_method(run, "cpu").method
    labels = torch.from_numpy(feeds["labels"]) if "labels" in feeds else None
    return method.sample(torch.from_numpy(feeds["z"]), labels).numpy()


@pytest.mark.parametrize("method", ["dcgan", "cgan", "vae"])
def test_onnx_generator_matches_pytorch(method, runs, tmp_path):
    pytest.importorskip("onnx")
    run = runs(method)
    out = tmp_path / "G.onnx"
    export(run, out, "--format", "onnx")
    sidecar = json.loads((tmp_path / "G.json").read_text())
    session = onnxruntime_session(out)
    assert [i.name for i in session.get_inputs()] == [i["name"] for i in sidecar["generator"]["inputs"]]
    for n in (1, 5):  # the batch axis is dynamic
        feeds = inputs_for(sidecar, n)
        got = session.run(None, feeds)[0]
        assert got.shape == (n, 3, 16, 16)
        np.testing.assert_allclose(got, pytorch_samples(run, feeds), atol=1e-5, rtol=1e-4)
    if method == "cgan":
        feeds = inputs_for(sidecar, 4)
        one_class = dict(feeds, labels=np.repeat(feeds["labels"][:1], 4, axis=0))
        assert not np.allclose(session.run(None, feeds)[0], session.run(None, one_class)[0]), "labels are ignored"


def test_onnx_encoder_matches_pytorch(runs, tmp_path):
    pytest.importorskip("onnx")
    run = runs("vae")
    export(run, tmp_path / "G.onnx")
    sidecar = json.loads((tmp_path / "G.json").read_text())
    assert sidecar["encoder"]["file"] == "G.encoder.onnx"
    session = onnxruntime_session(tmp_path / "G.encoder.onnx")
    images = np.random.default_rng(3).uniform(-1, 1, (3, 3, 16, 16)).astype(np.float32)
    codes = session.run(None, {"images": images})[0]
    assert codes.shape == (3, sidecar["latent"]["size"])
    expected = load_method(run, "cpu").method.encode(torch.from_numpy(images)).numpy()
    np.testing.assert_allclose(codes, expected, atol=1e-5, rtol=1e-4)


@pytest.mark.filterwarnings("ignore:.*torch.jit.load.*:FutureWarning")
def test_torchscript_generator_matches_pytorch(runs, tmp_path):
    run = runs("dcgan")
    export(run, tmp_path / "G.pt", "--format", "torchscript")
    sidecar = json.loads((tmp_path / "G.json").read_text())
    assert sidecar["format"] == "torchscript" and sidecar["generator"]["file"] == "G.pt"
    model = torch.jit.load(str(tmp_path / "G.pt"))
    feeds = inputs_for(sidecar, 6)
    with torch.no_grad():
        got = model(torch.from_numpy(feeds["z"])).numpy()
    np.testing.assert_allclose(got, pytorch_samples(run, feeds), atol=1e-5, rtol=1e-4)


def test_sidecar_describes_inputs_outputs_and_labels(runs, tmp_path):
    export(runs("cgan"), tmp_path / "G.pt")  # the format follows the suffix
    doc = json.loads((tmp_path / "G.json").read_text())
    assert doc["method"] == "cgan" and doc["step"] == 2 and doc["format"] == "torchscript"
    assert doc["latent"] == {"size": 16, "distribution": "normal", "mean": 0.0, "std": 1.0,
                             "description": "standard normal N(0, 1)"}
    assert doc["labels"]["names"] == SHAPES and doc["labels"]["size"] == 4 and doc["labels"]["multi_hot"] is False
    assert [i["name"] for i in doc["generator"]["inputs"]] == ["z", "labels"]
    assert doc["generator"]["inputs"][1]["shape"] == ["batch", 4]
    assert doc["generator"]["output"] == {"name": "images", "shape": ["batch", 3, 16, 16], "dtype": "float32",
                                          "layout": "NCHW", "range": [-1.0, 1.0]}
    assert doc["image"]["channels"] == 3 and doc["image"]["size"] == 16 and doc["image"]["layout"] == "NCHW"
    assert doc["encoder"] is None


def test_sidecar_says_began_draws_uniform_latents(runs, tmp_path):
    export(runs("began"), tmp_path / "G.pt")
    doc = json.loads((tmp_path / "G.json").read_text())
    assert (doc["latent"]["distribution"], doc["latent"]["low"], doc["latent"]["high"]) == ("uniform", -1.0, 1.0)
    assert doc["generator"]["inputs"][0]["distribution"] == "uniform"


# --- errors ----------------------------------------------------------------------------------------
def test_run_without_checkpoint_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "D").mkdir()
    assert main(["export", "--run", str(tmp_path / "D"), "--out", str(tmp_path / "G.pt")]) == 2
    err = capsys.readouterr().err
    assert "no checkpoint" in err and "studio train" in err and str(tmp_path / "D") in err


def test_unknown_format_is_a_clear_error(runs, tmp_path, capsys):
    assert main(["export", "--run", str(runs("dcgan")), "--out", str(tmp_path / "G.bin")]) == 2
    err = capsys.readouterr().err
    assert "G.bin" in err and "--format onnx" in err
    with pytest.raises(SystemExit):
        main(["export", "--run", str(runs("dcgan")), "--format", "keras"])
    assert "invalid choice: 'keras'" in capsys.readouterr().err


def test_onnx_without_the_package_says_how_to_install(runs, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "onnx", None)
    assert main(["export", "--run", str(runs("dcgan")), "--out", str(tmp_path / "G.onnx")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install onnx" in err[0]
    assert not (tmp_path / "G.onnx").exists()


def test_sampling_that_draws_noise_inside_the_model_is_refused(runs, tmp_path, capsys):
    """U-Net VAE-GAN perturbs the skip maps with noise while sampling: no file could reproduce it."""
    assert main(["export", "--run", str(runs("unet-vae-gan")), "--out", str(tmp_path / "G.pt")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "random numbers" in err[0] and "studio sample" in err[0]
    assert not list(tmp_path.glob("G*"))
