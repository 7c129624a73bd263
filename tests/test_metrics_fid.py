"""`studio fid` against pytorch-fid itself with calibrated random Inception weights; weights lookup,
the one-line error without them, and the download (from a local server only)."""

from __future__ import annotations

import functools
import http.server
import json
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from studio.cli import main
from studio.metrics import MetricError, frechet_distance, load_statistics
from studio.metrics import inception as inception_mod
from studio.metrics.inception import WEIGHTS_FILE, download_weights, fid_inception_trunk, find_weights


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No real settings, hub cache, weights or stats cache leak into a test."""
    monkeypatch.setenv("STUDIO_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("STUDIO_FID_WEIGHTS", raising=False)
    monkeypatch.delenv("STUDIO_FID_WEIGHTS_URL", raising=False)


@pytest.fixture(scope="module")
def calibrated_weights(tmp_path_factory) -> Path:
    """Random weights in pytorch-fid's architecture, calibrated as METHODS.md says so features do not vanish."""
    torch.manual_seed(0)
    net = fid_inception_trunk()
    for module in net.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.reset_running_stats()
            module.momentum = None  # a cumulative average: one batch sets the statistics exactly
    net.train()
    with torch.no_grad():
        net(torch.rand(2, 3, 299, 299) * 2 - 1)
    path = tmp_path_factory.mktemp("weights") / WEIGHTS_FILE
    torch.save(net.state_dict(), path)
    return path


def write_pngs(folder: Path, count: int, draw) -> Path:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(len(folder.name))
    for i in range(count):
        Image.fromarray(draw(rng)).save(folder / f"{i:02d}.png")
    return folder


def noise(rng):
    return rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)


def two_bands(rng):
    img = np.zeros((24, 24, 3), np.uint8)
    img[:, :12], img[:, 12:] = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    return img


@pytest.mark.slow  # pytorch-fid's own sqrtm of a 2048×2048 product takes most of a minute on a small CPU
def test_studio_fid_matches_pytorch_fid_on_two_folders(tmp_path, monkeypatch, capsys, calibrated_weights):
    import pytorch_fid.fid_score as fid_score
    import pytorch_fid.inception as pf_inception

    a = write_pngs(tmp_path / "a", 6, noise)
    b = write_pngs(tmp_path / "b", 6, two_bands)
    monkeypatch.setenv("STUDIO_FID_WEIGHTS", str(calibrated_weights))
    stats_file = tmp_path / "a_stats.npz"
    assert main(["fid", str(a), str(b), "--json", "--kid", "--save-stats", str(stats_file), "--device", "cpu"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["n_a"] == 6 and result["n_b"] == 6
    assert result["fid"] > 100.0  # calibrated: the features have a healthy spread, two sets differ clearly
    assert np.isfinite(result["kid_mean"]) and result["kid_std"] >= 0
    assert "N=6 is below 10,000" in captured.err

    # pytorch-fid on the same folders, loading the same weights instead of downloading, spied on
    # so its Fréchet distance on these rank-deficient 2048-d statistics can be checked as well.
    state = torch.load(calibrated_weights, weights_only=True)
    monkeypatch.setattr(pf_inception, "load_state_dict_from_url", lambda *args, **kwargs: state)
    seen = []
    original = fid_score.calculate_frechet_distance

    def spy(mu1, sigma1, mu2, sigma2, eps=1e-6):
        value = original(mu1, sigma1, mu2, sigma2, eps)
        seen.append((mu1, sigma1, mu2, sigma2, value))
        return value

    monkeypatch.setattr(fid_score, "calculate_frechet_distance", spy)
    expected = fid_score.calculate_fid_given_paths([str(a), str(b)], 50, "cpu", 2048, num_workers=0)
    assert result["fid"] == pytest.approx(expected, rel=1e-3)

    mu1, sigma1, mu2, sigma2, reference = seen[0]
    assert np.linalg.matrix_rank(sigma1) < 2048
    assert frechet_distance(mu1, sigma1, mu2, sigma2) == pytest.approx(float(np.real(reference)), rel=1e-6)

    # --save-stats wrote A's statistics in pytorch-fid's format.
    stats = load_statistics(stats_file)
    np.testing.assert_allclose(stats.mu, mu1, rtol=1e-3, atol=1e-3 * np.abs(mu1).max())


def test_two_statistics_files_compare_without_any_weights(tmp_path, capsys):
    rng = np.random.default_rng(0)
    for name, shift in (("a", 0.0), ("b", 1.0)):
        x = rng.normal(size=(30, 64)) + shift
        np.savez(tmp_path / f"{name}.npz", mu=x.mean(0), sigma=np.cov(x, rowvar=False))  # as pytorch-fid writes
    assert main(["fid", str(tmp_path / "a.npz"), str(tmp_path / "b.npz"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["fid"] > 30 and result["n_a"] is None
    assert main(["fid", str(tmp_path / "a.npz"), str(tmp_path / "b.npz"), "--kid"]) == 1
    assert "a.npz: holds only statistics" in capsys.readouterr().err


def test_without_weights_studio_fid_fails_in_one_line_saying_how_to_get_them(tmp_path, monkeypatch, capsys):
    a = write_pngs(tmp_path / "a", 2, noise)
    monkeypatch.setenv("STUDIO_FID_WEIGHTS", str(tmp_path / "nowhere.pth"))
    assert main(["fid", str(a), str(a)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("studio fid: error:") and WEIGHTS_FILE in err
    for way in ("studio fid --download-weights", "fid_weights", "STUDIO_FID_WEIGHTS", str(tmp_path / "torch")):
        assert way in err


def test_weights_lookup_order_is_settings_then_environment_then_hub(tmp_path, monkeypatch):
    from studio.settings import update_settings

    hub = Path(torch.hub.get_dir()) / "checkpoints" / WEIGHTS_FILE
    assert str(hub).startswith(str(tmp_path / "torch"))
    env, setting = tmp_path / "env.pth", tmp_path / "setting.pth"
    assert find_weights() is None
    hub.parent.mkdir(parents=True)
    hub.write_bytes(b"x")
    assert find_weights() == hub
    env.write_bytes(b"x")
    monkeypatch.setenv("STUDIO_FID_WEIGHTS", str(env))
    assert find_weights() == env
    setting.write_bytes(b"x")
    update_settings(fid_weights=str(setting))
    assert find_weights() == setting
    with pytest.raises(MetricError, match="setting.pth: not a readable Inception weights file"):
        inception_mod.build_inception(setting)


class Server:
    """A local HTTP server on 127.0.0.1 serving one folder."""

    def __init__(self, folder: Path):
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
        handler.log_message = lambda *args: None
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_download_weights_from_a_local_server_into_the_hub_cache(tmp_path, monkeypatch, capsys):
    served = tmp_path / "served"
    served.mkdir()
    # A stand-in with the key that marks pytorch-fid's state_dict (the real file is 91 MB).
    torch.save({"Mixed_7c.branch_pool.conv.weight": torch.ones(2, 2)}, served / WEIGHTS_FILE)
    (served / "junk.pth").write_bytes(b"not weights")
    with Server(served) as server:
        monkeypatch.setenv("STUDIO_FID_WEIGHTS_URL", f"{server.url}/{WEIGHTS_FILE}")
        assert main(["fid", "--download-weights"]) == 0
        hub = Path(torch.hub.get_dir()) / "checkpoints" / WEIGHTS_FILE
        assert hub.is_file() and find_weights() == hub
        assert "downloading Inception weights" in capsys.readouterr().err
        # A file that is not the weights is refused and removed, never left where lookup would find it.
        other = tmp_path / "other" / WEIGHTS_FILE
        with pytest.raises(MetricError, match="not pytorch-fid's Inception weights"):
            download_weights(f"{server.url}/junk.pth", other)
        assert not other.exists() and not list(other.parent.glob("*.download*"))
        with pytest.raises(MetricError, match="HTTP 404"):
            download_weights(f"{server.url}/missing.pth", other)


@pytest.mark.slow  # Inception on 24 images at 299×299: half a minute on a small CPU
def test_prdc_prints_all_four_with_k_and_n_in_inception_features(tmp_path, monkeypatch, capsys, calibrated_weights):
    from prdc import compute_prdc

    from studio.data import open_dataset
    from studio.metrics.features import InceptionFeatures
    from studio.metrics.stats import real_statistics

    a = write_pngs(tmp_path / "a", 12, noise)
    b = write_pngs(tmp_path / "b", 12, two_bands)
    monkeypatch.setenv("STUDIO_FID_WEIGHTS", str(calibrated_weights))
    assert main(["fid", str(a), str(b), "--prdc", "--json", "--device", "cpu"]) == 0
    result = json.loads(capsys.readouterr().out)
    figures = result["prdc"]
    assert figures["features"] == "inception" and result["fid"] > 100
    assert (figures["k_precision_recall"], figures["k_density_coverage"], figures["n_real"], figures["n_generated"]) \
        == (3, 5, 12, 12)
    extractor = InceptionFeatures(calibrated_weights, "cpu")  # the features the command kept: read, not computed
    real, fake = (real_statistics(open_dataset(str(folder)), extractor, keep_features=True).features.double().numpy()
                  for folder in (a, b))
    for k, names in ((3, ("precision", "recall")), (5, ("density", "coverage"))):
        expected = compute_prdc(real, fake, nearest_k=k)
        for name in names:
            assert figures[name] == pytest.approx(float(expected[name]), abs=1e-6)
    assert main(["fid", str(a), str(a), "--prdc", "--device", "cpu"]) == 0  # a set against itself
    out = capsys.readouterr().out
    assert "precision 1.0000  recall 1.0000  (k=3)" in out and "coverage 1.0000  (k=5)" in out
    assert "N=12 real (A), M=12 generated (B), inception features" in out


def test_prdc_without_weights_says_which_features_it_used_and_skips_fid(tmp_path, monkeypatch, capsys):
    a = write_pngs(tmp_path / "a", 12, noise)
    b = write_pngs(tmp_path / "b", 12, two_bands)
    monkeypatch.setenv("STUDIO_FID_WEIGHTS", str(tmp_path / "nowhere.pth"))
    assert main(["fid", str(a), str(b), "--prdc"]) == 0
    captured = capsys.readouterr()
    assert "FID" not in captured.out and "pixels features" in captured.out and "precision 0." in captured.out
    assert "\nFID not measured and precision/recall/density/coverage in pixels features: " in captured.err
    assert WEIGHTS_FILE in captured.err
    assert main(["fid", str(a), str(b), "--prdc", "--save-stats", str(tmp_path / "s.npz")]) == 2
    assert "--save-stats writes Inception statistics" in capsys.readouterr().err
    few = write_pngs(tmp_path / "few", 4, noise)
    assert main(["fid", str(few), str(b), "--prdc"]) == 1
    assert "need at least 6 real images" in capsys.readouterr().err
