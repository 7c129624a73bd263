"""Foundation acceptance for the data layer: every source kind, written by the tests into tmp_path."""

from __future__ import annotations

import gzip
import http.server
import io
import pickle
import struct
import threading
import urllib.error
import urllib.parse
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from studio.data import DatasetError, DatasetKind, list_builtins, list_sources, open_dataset
from studio.data.sources import download as download_mod


def save_image(path: Path, size=(16, 16), colour=(200, 30, 30), mode="RGB", fmt=None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.new(mode, size, colour if mode != "L" else colour[0])
    img.save(path, format=fmt)
    return path


def png_bytes(size=(16, 16), colour=(10, 200, 10)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


# ---------------------------------------------------------------- folders


def test_folder_loads_good_files_and_reports_each_bad_one(tmp_path):
    for i in range(5):
        save_image(tmp_path / f"good{i}.png", colour=(i * 40, 10, 10))
    good = png_bytes()
    (tmp_path / "truncated.png").write_bytes(good[: len(good) // 2])
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "notes.jpg").write_text("this is not a JPEG at all\n")
    (tmp_path / "README.txt").write_text("hello")

    ds = open_dataset(tmp_path)

    assert len(ds) == 5 and ds.data.dtype == torch.uint8 and tuple(ds.data.shape) == (5, 3, 16, 16)
    reasons = {s.path: s.reason for s in ds.skipped}
    assert set(reasons) == {"truncated.png", "empty.png", "notes.jpg", "README.txt"}
    assert "truncated" in reasons["truncated.png"]
    assert "empty" in reasons["empty.png"]
    assert "not a readable image" in reasons["notes.jpg"]
    assert "not an image" in reasons["README.txt"]
    assert ds.labels is None and ds.describe()["skipped"] == 4


def test_empty_folder_raises_clear_error(tmp_path):
    with pytest.raises(DatasetError) as err:
        open_dataset(tmp_path)
    assert str(tmp_path) in str(err.value) and "no images found" in str(err.value)


def test_folder_of_only_bad_files_raises_one_error(tmp_path):
    (tmp_path / "a.png").write_bytes(b"")
    (tmp_path / "b.png").write_text("nope")
    with pytest.raises(DatasetError) as err:
        open_dataset(tmp_path)
    assert "all 2 files were skipped" in str(err.value)


def test_missing_source_and_unknown_file(tmp_path):
    with pytest.raises(DatasetError, match="no such file or folder"):
        open_dataset(tmp_path / "nowhere")
    (tmp_path / "data.bin").write_bytes(b"\x01\x02")
    with pytest.raises(DatasetError, match="not a recognised dataset file"):
        open_dataset(tmp_path / "data.bin")


def test_subfolders_become_labels(tmp_path):
    for i in range(3):
        save_image(tmp_path / "train" / "cats" / f"{i}.png", colour=(250, 0, 0))
        save_image(tmp_path / "train" / "dogs" / f"{i}.png", colour=(0, 0, 250))
    ds = open_dataset(tmp_path)
    assert ds.label_names == ["cats", "dogs"]
    assert ds.labels.dtype == torch.int64 and ds.labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert ds.data[0, 0, 8, 8] > 200 and ds.data[5, 2, 8, 8] > 200
    assert ds.label_dim == 2


def test_single_subfolder_is_not_a_label(tmp_path):
    for i in range(3):
        save_image(tmp_path / "img_align" / f"{i}.png")
    assert open_dataset(tmp_path).labels is None


def test_mixed_sizes_and_channels(tmp_path):
    for i in range(3):
        save_image(tmp_path / f"a{i}.png", size=(16, 16), mode="L", colour=(100, 0, 0))
    save_image(tmp_path / "wide.png", size=(40, 20), mode="L", colour=(100, 0, 0))
    ds = open_dataset(tmp_path)
    assert tuple(ds.data.shape) == (4, 1, 16, 16)  # the most common size; all grey -> one channel
    ds = open_dataset(tmp_path, size=8, channels=3)
    assert tuple(ds.data.shape) == (4, 3, 8, 8)
    save_image(tmp_path / "colour.png", size=(16, 16), mode="RGB")
    assert open_dataset(tmp_path).channels == 3  # one colour image makes the set colour


def test_folder_progress_reaches_the_total(tmp_path):
    for i in range(4):
        save_image(tmp_path / f"{i}.png")
    calls = []
    open_dataset(tmp_path, progress=lambda done, total: calls.append((done, total)))
    assert calls[-1][0] == calls[-1][1] > 0 and all(a[0] <= b[0] for a, b in zip(calls, calls[1:], strict=False))


def test_count_takes_a_seeded_subset(tmp_path):
    for i in range(10):
        save_image(tmp_path / f"{i}.png", colour=(i * 20, 0, 0))
    a = open_dataset(tmp_path, count=4, seed=1)
    b = open_dataset(tmp_path, count=4, seed=1)
    assert len(a) == 4 and torch.equal(a.data, b.data)


def test_list_of_files(tmp_path):
    files = [save_image(tmp_path / f"{i}.png") for i in range(3)]
    (tmp_path / "bad.png").write_bytes(b"")
    ds = open_dataset([*files, tmp_path / "bad.png"])
    assert len(ds) == 3 and len(ds.skipped) == 1


def test_zip_of_a_folder(tmp_path):
    archive = tmp_path / "set.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for i in range(2):
            zf.writestr(f"mydata/circles/{i}.png", png_bytes(colour=(255, 0, 0)))
            zf.writestr(f"mydata/squares/{i}.png", png_bytes(colour=(0, 0, 255)))
        zf.writestr("mydata/notes.txt", "hi")
        zf.writestr("__MACOSX/mydata/._0.png", b"junk")
    ds = open_dataset(archive)
    assert len(ds) == 4 and ds.label_names == ["circles", "squares"]
    assert sorted(s.path for s in ds.skipped) == ["__MACOSX/mydata/._0.png", "mydata/notes.txt"]


def test_large_folder_streams_from_disk(tmp_path):
    for i in range(6):
        save_image(tmp_path / ("a" if i % 2 else "b") / f"{i}.png", colour=(i * 40, 0, 0))
    ds = open_dataset(tmp_path, memory_limit=1000)
    assert ds.stream_paths is not None and len(ds) == 6 and ds.data.shape[1:] == (3, 16, 16)
    loader = torch.utils.data.DataLoader(ds.torch_dataset(), batch_size=4)
    images, labels = next(iter(loader))
    assert images.shape == (4, 3, 16, 16) and images.dtype == torch.uint8 and labels.tolist() == [0, 0, 0, 1]
    # A file broken after probing is replaced by the next one, and remembered.
    Path(ds.stream_paths[0]).write_bytes(b"")
    stream = ds.torch_dataset()
    image, _ = stream[0]
    assert image.shape == (3, 16, 16) and str(ds.stream_paths[0]) in stream.failures


def test_zip_can_stream_too(tmp_path):
    archive = tmp_path / "set.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for i in range(3):
            zf.writestr(f"{i}.png", png_bytes())
    ds = open_dataset(archive, stream=True)
    assert ds.stream_archive == archive and len(ds) == 3
    assert ds.torch_dataset()[2][0].shape == (3, 16, 16)


def test_in_memory_torch_dataset():
    ds = open_dataset("builtin:shapes", count=10)
    x, y = ds.torch_dataset()[3]
    assert torch.equal(x, ds.data[3]) and y == ds.labels[3]


# ---------------------------------------------------------------- arrays


def test_npy_quickdraw_bitmaps(tmp_path):
    arr = np.random.default_rng(0).integers(0, 256, (20, 784), dtype=np.uint8)
    np.save(tmp_path / "cat.npy", arr)
    ds = open_dataset(tmp_path / "cat.npy")
    assert tuple(ds.data.shape) == (20, 1, 28, 28)
    assert np.array_equal(ds.data.numpy().reshape(20, 784), arr)
    assert len(open_dataset(tmp_path / "cat.npy", count=5)) == 5


@pytest.mark.parametrize(
    "shape,dtype,scale",
    [
        ((4, 8, 8), np.uint8, 255),
        ((4, 8, 8, 3), np.float32, 1.0),
        ((4, 3, 8, 8), np.float64, -1.0),
        ((4, 8, 8, 1), np.bool_, 1),
    ],
)
def test_npy_layouts_and_ranges(tmp_path, shape, dtype, scale):
    rng = np.random.default_rng(1)
    arr = rng.random(shape)
    arr = (arr * 2 - 1) if scale == -1.0 else arr * scale
    arr = arr.astype(dtype) if dtype != np.bool_ else arr > 0.5
    np.save(tmp_path / "x.npy", arr)
    ds = open_dataset(tmp_path / "x.npy")
    channels = 3 if 3 in shape[1:] else 1
    assert tuple(ds.data.shape) == (4, channels, 8, 8) and ds.data.dtype == torch.uint8


def test_npy_rejects_nan_wrong_dtype_wrong_shape_and_objects(tmp_path):
    bad = {
        "nan.npy": np.full((3, 8, 8), np.nan, dtype=np.float32),
        "complex.npy": np.zeros((3, 8, 8), dtype=np.complex64),
        "shape.npy": np.zeros((3, 5), dtype=np.uint8),
        "range.npy": np.full((3, 8, 8), 1000.0),
    }
    for name, arr in bad.items():
        np.save(tmp_path / name, arr)
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    expected = {
        "nan.npy": "NaN",
        "complex.npy": "complex64",
        "shape.npy": "square",
        "range.npy": "[0,1]",
        "objects.npy": "Python objects",
    }
    for name, words in expected.items():
        with pytest.raises(DatasetError) as err:
            open_dataset(tmp_path / name)
        assert name in str(err.value) and words in str(err.value), str(err.value)


def test_npz_with_labels(tmp_path):
    np.savez(tmp_path / "d.npz", x=np.zeros((6, 8, 8), np.uint8), y=np.array([0, 1, 2, 0, 1, 2]))
    ds = open_dataset(tmp_path / "d.npz")
    assert ds.labels.tolist() == [0, 1, 2, 0, 1, 2] and ds.label_names == ["0", "1", "2"]


# ---------------------------------------------------------------- IDX


def write_idx(path: Path, arr: np.ndarray, gz: bool = False) -> None:
    code = {np.uint8: 0x08}[arr.dtype.type]
    blob = struct.pack(">BBBB", 0, 0, code, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()
    path.write_bytes(gzip.compress(blob) if gz else blob)


@pytest.mark.parametrize("gz", [False, True])
def test_idx_round_trip(tmp_path, gz):
    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, (12, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 12, dtype=np.uint8)
    suffix = ".gz" if gz else ""
    write_idx(tmp_path / f"train-images-idx3-ubyte{suffix}", images, gz)
    write_idx(tmp_path / f"train-labels-idx1-ubyte{suffix}", labels, gz)
    ds = open_dataset(tmp_path)
    assert np.array_equal(ds.data.numpy()[:, 0], images)
    assert ds.labels.tolist() == labels.tolist() and ds.label_names == [str(i) for i in range(10)]
    one = open_dataset(tmp_path / f"train-images-idx3-ubyte{suffix}", count=3)
    assert len(one) == 3 and one.labels.tolist() == labels[:3].tolist()


def test_idx_bad_magic_and_short_data(tmp_path):
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x99\x03" + b"\x00" * 20)
    with pytest.raises(DatasetError, match="magic"):
        open_dataset(tmp_path)
    images = np.zeros((10, 28, 28), np.uint8)
    write_idx(tmp_path / "train-images-idx3-ubyte", images)
    data = (tmp_path / "train-images-idx3-ubyte").read_bytes()
    (tmp_path / "train-images-idx3-ubyte").write_bytes(data[:2000])
    with pytest.raises(DatasetError, match="cut short"):
        open_dataset(tmp_path)


def test_idx_bad_labels_are_reported_not_fatal(tmp_path):
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((5, 28, 28), np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(3, np.uint8))
    ds = open_dataset(tmp_path)
    assert len(ds) == 5 and ds.labels is None and "labels not used" in ds.skipped[0].reason


# ---------------------------------------------------------------- CIFAR


def write_cifar(folder: Path, batches=2, n=10, protocol=pickle.DEFAULT_PROTOCOL, bytes_keys=False):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(3)
    key = (lambda k: k.encode()) if bytes_keys else (lambda k: k)
    written = []
    for b in range(1, batches + 1):
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, n)]
        batch = {
            key("batch_label"): f"batch {b}",
            key("labels"): labels,
            key("data"): data,
            key("filenames"): [f"{i}.png" for i in range(n)],
        }
        (folder / f"data_batch_{b}").write_bytes(pickle.dumps(batch, protocol=protocol))
        written.append((data, labels))
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    (folder / "batches.meta").write_bytes(pickle.dumps({key("label_names"): names}, protocol=protocol))
    return written


@pytest.mark.parametrize("protocol,bytes_keys", [(pickle.DEFAULT_PROTOCOL, False), (2, True), (5, False)])
def test_cifar_batches(tmp_path, protocol, bytes_keys):
    written = write_cifar(tmp_path / "cifar-10-batches-py", protocol=protocol, bytes_keys=bytes_keys)
    ds = open_dataset(tmp_path)
    assert tuple(ds.data.shape) == (20, 3, 32, 32) and ds.label_names[3] == "cat"
    first, labels = written[0]
    assert np.array_equal(ds.data[0].numpy().reshape(3072), first[0])
    assert ds.labels[:10].tolist() == labels


def test_cifar_batch_that_is_not_a_dict_is_rejected(tmp_path):
    (tmp_path / "data_batch_1").write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.raises(DatasetError, match="not a dict"):
        open_dataset(tmp_path)


# ---------------------------------------------------------------- CelebA


def write_celeba(root: Path, n=6) -> list[str]:
    names = ["Bald", "Eyeglasses", "Male", "Smiling"]
    lines = [str(n), " ".join(names)]
    for i in range(1, n + 1):
        fname = f"{i:06d}.jpg"
        save_image(root / "img_align_celeba" / fname, size=(18, 22), colour=(i * 30, 100, 100))
        values = [1 if (i >> k) & 1 else -1 for k in range(len(names))]
        lines.append(f"{fname} " + " ".join(f"{v:2d}" for v in values))
    (root / "list_attr_celeba.txt").write_text("\n".join(lines) + "\n")
    return names


def test_celeba_attributes(tmp_path):
    names = write_celeba(tmp_path)
    save_image(tmp_path / "img_align_celeba" / "stray.jpg")
    ds = open_dataset(tmp_path)
    assert ds.multi_label and ds.label_names == names and ds.labels.dtype == torch.float32
    assert tuple(ds.data.shape) == (6, 3, 18, 18)
    assert ds.labels[0].tolist() == [1, 0, 0, 0] and ds.labels[2].tolist() == [1, 1, 0, 0]
    assert [s.path for s in ds.skipped] == ["stray.jpg"]
    sub = open_dataset(tmp_path, attributes=["Smiling", "male"], size=8)
    assert sub.label_names == ["Smiling", "Male"] and sub.labels[4].tolist() == [0, 1]
    assert sub.label_dim == 2 and tuple(sub.data.shape[1:]) == (3, 8, 8)
    with pytest.raises(DatasetError, match="unknown attribute"):
        open_dataset(tmp_path, attributes=["Wings"])


def test_celeba_images_in_a_zip_with_partition(tmp_path):
    write_celeba(tmp_path)
    with zipfile.ZipFile(tmp_path / "img_align_celeba.zip", "w") as zf:
        for path in sorted((tmp_path / "img_align_celeba").iterdir()):
            zf.write(path, f"img_align_celeba/{path.name}")
    for path in (tmp_path / "img_align_celeba").iterdir():
        path.unlink()
    (tmp_path / "img_align_celeba").rmdir()
    (tmp_path / "list_eval_partition.txt").write_text("".join(f"{i:06d}.jpg {i % 3}\n" for i in range(1, 7)))
    ds = open_dataset(tmp_path)
    assert len(ds) == 2 and ds.labels.shape == (2, 4)  # 000003.jpg and 000006.jpg are split 0 (train)
    assert len(open_dataset(tmp_path, split="all")) == 6


def test_hidden_folders_and_mixed_layout(tmp_path):
    save_image(tmp_path / "top.png")
    save_image(tmp_path / "cats" / "a.png")
    (tmp_path / ".git" / "objects").mkdir(parents=True)
    (tmp_path / ".git" / "objects" / "ab").write_bytes(b"x")
    ds = open_dataset(tmp_path)
    assert [(s.path, s.reason) for s in ds.skipped] == [(".git", "hidden folder, not read")]
    assert ds.labels is None and "no class labels" in ds.notes[0]


# ---------------------------------------------------------------- quickdraw download


class Server:
    """A local HTTP server for the download tests; behaviour is set per test."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.requests: list[tuple[str, str | None]] = []
        self.cut_first_at: int | None = None  # close the first response after this many bytes
        self.short_always = False  # announce the full size, send half, every time
        self.honour_range = True


@pytest.fixture
def server():
    state = Server()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            state.requests.append((self.path, self.headers.get("Range")))
            body = state.files.get(urllib.parse.unquote(self.path.rsplit("/", 1)[-1]))
            if body is None:
                self.send_error(404)
                return
            start = 0
            rng = self.headers.get("Range")
            if rng and state.honour_range:
                start = int(rng.split("=")[1].split("-")[0])
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            else:
                self.send_response(200)
            part = body[start:]
            self.send_header("Content-Length", str(len(part)))
            self.end_headers()
            if state.cut_first_at is not None:
                part, state.cut_first_at = part[: state.cut_first_at], None
            elif state.short_always:
                part = part[: len(part) // 2]
            self.wfile.write(part)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/numpy_bitmap"
    yield state
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def npy_bytes(n=40) -> tuple[bytes, np.ndarray]:
    arr = np.random.default_rng(4).integers(0, 256, (n, 784), dtype=np.uint8)
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue(), arr


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch):
    monkeypatch.setattr(download_mod, "BACKOFF_S", 0.0)


def test_quickdraw_download_progress_and_cache(tmp_path, server):
    body, arr = npy_bytes()
    server.files["The Eiffel Tower.npy"] = body
    calls = []
    ds = open_dataset(
        "quickdraw:The Eiffel Tower",
        cache_dir=tmp_path,
        quickdraw_url=server.url,
        progress=lambda d, t: calls.append((d, t)),
    )
    assert tuple(ds.data.shape) == (40, 1, 28, 28) and np.array_equal(ds.data.numpy().reshape(40, 784), arr)
    assert server.requests[0][0].endswith("/The%20Eiffel%20Tower.npy")
    assert calls[-1] == (len(body), len(body)) and all(a[0] <= b[0] for a, b in zip(calls, calls[1:], strict=False))
    cached = tmp_path / "quickdraw" / "The Eiffel Tower.npy"
    assert cached.read_bytes() == body and not (cached.parent / "The Eiffel Tower.npy.part").exists()
    again = open_dataset("quickdraw:The Eiffel Tower", cache_dir=tmp_path, quickdraw_url=server.url, count=7)
    assert len(again) == 7 and len(server.requests) == 1  # served from the cache


def test_quickdraw_env_overrides(tmp_path, server, monkeypatch):
    server.files["cat.npy"] = npy_bytes(5)[0]
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("STUDIO_QUICKDRAW_URL", server.url)
    assert len(open_dataset("quickdraw:cat")) == 5
    assert (tmp_path / "cache" / "quickdraw" / "cat.npy").is_file()


def test_quickdraw_interrupted_download_resumes_with_range(tmp_path, server):
    body, arr = npy_bytes()
    server.files["cat.npy"] = body
    server.cut_first_at = 10_000
    final = tmp_path / "quickdraw" / "cat.npy"
    with pytest.raises(DatasetError, match="download failed"):
        open_dataset("quickdraw:cat", cache_dir=tmp_path, quickdraw_url=server.url, retries=0)
    part = final.with_name("cat.npy.part")
    assert not final.exists() and part.stat().st_size == 10_000
    ds = open_dataset("quickdraw:cat", cache_dir=tmp_path, quickdraw_url=server.url, retries=0)
    assert server.requests[-1][1] == "bytes=10000-"
    assert final.read_bytes() == body and not part.exists()
    assert np.array_equal(ds.data.numpy().reshape(-1, 784), arr)


def test_quickdraw_retries_within_one_call(tmp_path, server):
    body, _ = npy_bytes()
    server.files["cat.npy"] = body
    server.cut_first_at = 3_000
    ds = open_dataset("quickdraw:cat", cache_dir=tmp_path, quickdraw_url=server.url, retries=2)
    assert len(ds) == 40 and [r[1] for r in server.requests] == [None, "bytes=3000-"]


def test_quickdraw_restarts_when_server_ignores_range(tmp_path, server):
    body, _ = npy_bytes()
    server.files["cat.npy"] = body
    server.cut_first_at = 3_000
    server.honour_range = False
    assert len(open_dataset("quickdraw:cat", cache_dir=tmp_path, quickdraw_url=server.url, retries=1)) == 40


def test_quickdraw_size_mismatch_leaves_no_final_file(tmp_path, server):
    server.files["cat.npy"] = npy_bytes()[0]
    server.short_always = True
    server.honour_range = False
    with pytest.raises(DatasetError) as err:
        open_dataset("quickdraw:cat", cache_dir=tmp_path, quickdraw_url=server.url, retries=1)
    assert "got" in str(err.value) and "of" in str(err.value)
    assert not (tmp_path / "quickdraw" / "cat.npy").exists()


def test_quickdraw_corrupt_download_is_deleted(tmp_path, server):
    server.files["cat.npy"] = b"not an npy file at all" * 10
    with pytest.raises(DatasetError, match="re-download"):
        open_dataset("quickdraw:cat", cache_dir=tmp_path, quickdraw_url=server.url)
    assert not (tmp_path / "quickdraw" / "cat.npy").exists()


def test_quickdraw_unknown_category_and_bad_names(tmp_path, server):
    with pytest.raises(DatasetError, match="no such Quick, Draw! category"):
        open_dataset("quickdraw:unicornz", cache_dir=tmp_path, quickdraw_url=server.url)
    with pytest.raises(DatasetError, match="not a valid category"):
        open_dataset("quickdraw:../etc/passwd", cache_dir=tmp_path, quickdraw_url=server.url)


def test_quickdraw_offline_is_a_clean_error(tmp_path):
    # Port 9 on 127.0.0.1 refuses connections: the same as being offline, without touching the internet.
    with pytest.raises(DatasetError, match="work offline"):
        open_dataset("quickdraw:cat", cache_dir=tmp_path, quickdraw_url="http://127.0.0.1:9", retries=0)


@pytest.mark.parametrize("name", ["mnist", "cifar10"])
def test_torchvision_offline_is_a_clean_error(tmp_path, monkeypatch, name):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("offline (test)")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(DatasetError) as err:
        open_dataset(f"torchvision:{name}", cache_dir=tmp_path)
    assert "download failed" in str(err.value) and "builtin:" in str(err.value)


# ---------------------------------------------------------------- built-ins and listings


@pytest.mark.parametrize(
    "name,kind,shape",
    [
        ("shapes", DatasetKind.IMAGES, (3, 16, 16)),
        ("shapes-attributes", DatasetKind.IMAGES, (3, 16, 16)),
        ("outlines2shapes", DatasetKind.PAIRED, (3, 16, 16)),
        ("outlines|shapes", DatasetKind.UNPAIRED, (3, 16, 16)),
        ("rings", DatasetKind.POINTS, (2,)),
        ("grid", DatasetKind.POINTS, (2,)),
    ],
)
def test_builtins_deterministic_kinds_and_shapes(name, kind, shape):
    a = open_dataset(f"builtin:{name}", size=16, count=50, seed=3)
    b = open_dataset(f"builtin:{name}", size=16, count=50, seed=3)
    c = open_dataset(f"builtin:{name}", size=16, count=50, seed=4)
    assert a.kind == kind and tuple(a.data.shape) == (50, *shape) and len(a) == 50
    assert torch.equal(a.data, b.data) and not torch.equal(a.data, c.data)
    if kind == DatasetKind.IMAGES:
        assert a.data.dtype == torch.uint8


def test_shapes_attributes_match_shapes():
    shapes = open_dataset("builtin:shapes", count=200, seed=5)
    attrs = open_dataset("builtin:shapes-attributes", count=200, seed=5)
    assert torch.equal(shapes.data, attrs.data)
    assert attrs.multi_label and attrs.labels.dtype == torch.float32 and attrs.label_dim == 6
    is_circle = (shapes.labels == 0).float()
    assert torch.equal(attrs.labels[:, 0], is_circle) and torch.equal(attrs.labels[:, 1], 1 - is_circle)
    assert set(attrs.labels[:, 2:].unique().tolist()) == {0.0, 1.0}
    assert 0 < attrs.labels[:, 5].mean() < 1


def test_builtin_channels_and_unknown():
    assert open_dataset("builtin:outlines2shapes", count=4, channels=1).targets.shape[1] == 1
    with pytest.raises(DatasetError, match="no such built-in"):
        open_dataset("builtin:nope")


def test_list_sources_and_builtins():
    builtins = list_builtins()
    assert {b["name"]: b["kind"] for b in builtins}["builtin:outlines2shapes"] == "paired"
    assert all(set(b) >= {"name", "kind", "description"} for b in builtins)
    sources = list_sources()
    online = {s["name"] for s in sources if s.get("online")}
    assert {"quickdraw:<category>", "torchvision:mnist", "torchvision:celeba"} <= online
    assert not any(s["online"] for s in builtins)


def test_bad_options_are_clear():
    with pytest.raises(DatasetError, match="channels=2"):
        open_dataset("builtin:shapes", channels=2)


def test_a_folder_split_into_train_val_test_reads_the_split_and_labels_below_it(tmp_path):
    """train/cats, val/cats, …: the split option picks the part (train by default), and the classes are
    the folders below it; train/ and val/ used to become two classes."""
    for split, n in (("train", 3), ("val", 2)):
        for label, colour in (("cats", (200, 30, 30)), ("dogs", (30, 30, 200))):
            for i in range(n):
                save_image(tmp_path / "pets" / split / label / f"{i}.png", colour=colour)
    root = tmp_path / "pets"
    train = open_dataset(root)
    assert len(train) == 6 and train.label_names == ["cats", "dogs"]
    assert any("read train/" in note for note in train.notes)
    val = open_dataset(root, split="val")
    assert len(val) == 4 and val.label_names == ["cats", "dogs"]
    both = open_dataset(root, split="all")
    assert len(both) == 10 and both.label_names == ["cats", "dogs"]
    with pytest.raises(DatasetError, match=r"no test/ sub-folder.*'train' or 'val' or 'all'"):
        open_dataset(root, split="test")
    save_image(tmp_path / "pets" / "extra.png")  # an image outside the split folders: no split folders then
    assert len(open_dataset(root)) == 11


def test_open_dataset_names_an_option_it_does_not_have():
    """The options are LoadOptions' fields, carried as one value to the decoders: a misspelt one is named."""
    with pytest.raises(TypeError, match=r"no option 'sise'; the options are classes, .*size"):
        open_dataset("builtin:shapes", sise=16)
    assert len(open_dataset("builtin:shapes", size=8, count=5, cache_dir="")) == 5
