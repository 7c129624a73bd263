"""pytorch-fid's InceptionV3 (2048-d pool features), built from a local weights file, never downloaded
behind the user's back; where the weights come from, and an explicit download on request.

Lookup order: the path in the studio's settings ("fid_weights"), $STUDIO_FID_WEIGHTS, then torch's
hub cache (<torch.hub.get_dir()>/checkpoints/pt_inception-2015-12-05-6726825d.pth), which is
where pytorch-fid itself keeps them.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from pathlib import Path
from typing import Callable

import torch

from .errors import MetricError

WEIGHTS_FILE = "pt_inception-2015-12-05-6726825d.pth"
WEIGHTS_SHA256_PREFIX = "6726825d"  # torch hub convention: the file name carries its hash prefix
ENV_WEIGHTS = "STUDIO_FID_WEIGHTS"
ENV_WEIGHTS_URL = "STUDIO_FID_WEIGHTS_URL"  # lets tests (or a mirror) replace pytorch-fid's URL
FEATURE_DIM = 2048
# A key of the last block: a file without it is not pytorch-fid's FID Inception state_dict.
_CHECK_KEY = "Mixed_7c.branch_pool.conv.weight"

_build_lock = threading.Lock()
_identity_cache: dict[tuple[str, int, int], str] = {}


def hub_weights_path() -> Path:
    """Where pytorch-fid (and `studio fid --download-weights`) keep the weights."""
    return Path(torch.hub.get_dir()) / "checkpoints" / WEIGHTS_FILE


def weights_candidates() -> list[tuple[str, Path]]:
    """(where it came from, path) for each configured place, in lookup order."""
    from ..settings import get_setting

    found: list[tuple[str, Path]] = []
    setting = get_setting("fid_weights")
    if setting:
        found.append(("the settings' fid_weights", Path(str(setting)).expanduser()))
    env = os.environ.get(ENV_WEIGHTS)
    if env:
        found.append((f"${ENV_WEIGHTS}", Path(env).expanduser()))
    found.append(("torch's hub cache", hub_weights_path()))
    return found


def find_weights() -> Path | None:
    """The first existing weights file in lookup order, or None."""
    return next((path for _, path in weights_candidates() if path.is_file()), None)


def missing_weights_message() -> str:
    """One line naming the missing file and every way to provide it."""
    from ..settings import settings_path

    return (f"FID/KID need pytorch-fid's Inception weights ({WEIGHTS_FILE}), which were not found: "
            f"run `studio fid --download-weights` (saves them to {hub_weights_path()}), or set "
            f"\"fid_weights\" in {settings_path()} or ${ENV_WEIGHTS} to the path of a copy of that file")


def weights_path() -> Path:
    """The weights file to use; MetricError in one line saying how to provide it when there is none."""
    path = find_weights()
    if path is None:
        raise MetricError(missing_weights_message())
    return path


def weights_identity(path: Path) -> str:
    """A fingerprint of the weights file's content (memoised by path, size and mtime)."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _identity_cache:
        digest = hashlib.sha1()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        _identity_cache[key] = f"{WEIGHTS_FILE}:{digest.hexdigest()}"
    return _identity_cache[key]


def load_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Read a weights file (tensors only) and check it is pytorch-fid's FID Inception state_dict."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure means the same thing to the user
        raise MetricError(f"{path}: not a readable Inception weights file ({str(exc).splitlines()[0]}); "
                          f"delete it and run `studio fid --download-weights`") from None
    if not isinstance(state, dict) or _CHECK_KEY not in state:
        raise MetricError(f"{path}: not pytorch-fid's Inception weights (expected the state_dict in {WEIGHTS_FILE}); "
                          f"delete it and run `studio fid --download-weights`")
    return state


def fid_inception_trunk() -> torch.nn.Module:
    """pytorch-fid's FID Inception network with untrained weights (its `fid_inception_v3`, minus the download)."""
    from pytorch_fid import inception as pf

    net = pf._inception_v3(num_classes=1008, aux_logits=False, weights=None)
    net.Mixed_5b = pf.FIDInceptionA(192, pool_features=32)
    net.Mixed_5c = pf.FIDInceptionA(256, pool_features=64)
    net.Mixed_5d = pf.FIDInceptionA(288, pool_features=64)
    net.Mixed_6b = pf.FIDInceptionC(768, channels_7x7=128)
    net.Mixed_6c = pf.FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6d = pf.FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6e = pf.FIDInceptionC(768, channels_7x7=192)
    net.Mixed_7b = pf.FIDInceptionE_1(1280)
    net.Mixed_7c = pf.FIDInceptionE_2(2048)
    return net


def build_inception(path: Path | None, device: torch.device | str = "cpu") -> torch.nn.Module:
    """pytorch-fid's `InceptionV3([3])` (its resize to 299 and [0, 1] input scaling) with the weights in `path`
    (None: untrained weights, for speed measurements only: `studio bench`)."""
    from pytorch_fid import inception as pf

    state = load_state_dict(path) if path is not None else None  # first: a bad file fails before seconds of work
    trunk = fid_inception_trunk()
    if state is not None:
        trunk.load_state_dict(state)
    # InceptionV3 takes its trunk from the module-level fid_inception_v3(), which downloads; hand it ours.
    with _build_lock:
        original = pf.fid_inception_v3
        pf.fid_inception_v3 = lambda: trunk
        try:
            model = pf.InceptionV3([pf.InceptionV3.BLOCK_INDEX_BY_DIM[FEATURE_DIM]], use_fid_inception=True)
        finally:
            pf.fid_inception_v3 = original
    return model.to(device).eval()


def weights_url() -> str:
    """pytorch-fid's URL for the weights, unless $STUDIO_FID_WEIGHTS_URL names another."""
    from pytorch_fid.inception import FID_WEIGHTS_URL

    return os.environ.get(ENV_WEIGHTS_URL) or FID_WEIGHTS_URL


def download_weights(url: str | None = None, dest: Path | None = None,
                     progress: Callable[[int, int], None] | None = None) -> Path:
    """Fetch the weights into torch's hub cache (resumable, checked, atomic); return the file."""
    from ..data.sources.download import DownloadError, download

    url = url or weights_url()
    dest = dest or hub_weights_path()
    if dest.is_file():
        return dest
    partial = dest.with_name(dest.name + ".download")
    try:
        download(url, partial, progress=progress)
    except DownloadError as exc:
        raise MetricError(f"could not download the Inception weights: {exc}; check the connection and try again, "
                          f"or copy {WEIGHTS_FILE} to {dest}") from None
    from pytorch_fid.inception import FID_WEIGHTS_URL

    if url == FID_WEIGHTS_URL and not _sha256(partial).startswith(WEIGHTS_SHA256_PREFIX):
        partial.unlink()
        raise MetricError(f"{url}: the downloaded file does not match its published checksum; it was deleted, try again")
    try:
        load_state_dict(partial)
    except MetricError:
        partial.unlink()
        raise MetricError(f"{url}: the downloaded file is not pytorch-fid's Inception weights; it was deleted") from None
    os.replace(partial, dest)
    return dest


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def print_progress(done: int, total: int) -> None:
    """A one-line byte counter on stderr (rewritten in place on a terminal)."""
    text = f"{done / 1e6:.1f} MB" + (f" of {total / 1e6:.1f} MB ({100 * done / total:.0f}%)" if total else "")
    end = "\r" if sys.stderr.isatty() else "\n"
    if sys.stderr.isatty() or done == total:
        print(f"downloading Inception weights: {text}", end=end, file=sys.stderr, flush=True)
