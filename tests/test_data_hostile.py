"""Hostile datasets: a generated corpus of odd inputs, then one test per kind of attack or breakage.

Properties checked throughout: no crash, no hang, one reason per rejected file, good files still
loaded, and a source with nothing usable gives exactly one DatasetError.
"""

from __future__ import annotations

import io
import os
import pickle
import struct
import time
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageFile

from studio.data import DatasetError, open_dataset
from studio.data.decode import images as images_mod
from studio.data.decode.images import pil_guard
from studio.data.options import LoadOptions
from studio.data.sources.safe_pickle import safe_loads
from studio.data.sources.zips import unsafe_member, zip_members

SIZES = [(1, 1), (2, 3), (7, 5), (16, 16), (31, 17), (64, 64)]
PNG_MODES = ["1", "L", "LA", "P", "P+trns", "RGB", "RGBA", "I;16"]


def noisy(size, mode="RGB", seed=0) -> Image.Image:
    """A random image of any mode (noise compresses badly, so truncation always cuts pixel data)."""
    w, h = size
    rng = np.random.default_rng(seed)
    if mode == "I;16":
        return Image.fromarray(rng.integers(0, 65536, (h, w), dtype=np.uint16))
    if mode in ("P", "P+trns"):
        img = Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).convert("P")
        if mode == "P+trns":
            img.info["transparency"] = 0
        return img
    if mode == "F":
        return Image.fromarray(rng.random((h, w), dtype=np.float32))
    return Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).convert(mode)


def encode(img: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    kwargs = {"transparency": img.info["transparency"]} if "transparency" in img.info and fmt == "PNG" else {}
    img.save(buf, fmt, **kwargs)
    return buf.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(w: int, h: int) -> bytes:
    """A tiny PNG whose header claims w×h pixels: a decompression bomb if decoded."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 4096, 9)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def build_corpus(root: Path) -> tuple[set[str], set[str]]:
    """Write >100 odd files into root; return (names that must load, names that must be skipped)."""
    root.mkdir(parents=True, exist_ok=True)
    good: set[str] = set()
    bad: set[str] = set()

    def put(name: str, data: bytes, ok: bool) -> None:
        (root / name).write_bytes(data)
        (good if ok else bad).add(name)

    for i, size in enumerate(SIZES):
        for mode in PNG_MODES:
            put(f"png_{mode.replace(';', '')}_{size[0]}x{size[1]}.png", encode(noisy(size, mode, i), "PNG"), True)
    for size in [(1, 1), (16, 16), (31, 17)]:
        for mode in ["L", "RGB", "CMYK"]:
            put(f"jpeg_{mode}_{size[0]}x{size[1]}.jpg", encode(noisy(size, mode), "JPEG"), True)
        put(f"bmp_{size[0]}.bmp", encode(noisy(size), "BMP"), True)
        put(f"gif_{size[0]}.gif", encode(noisy(size, "P"), "GIF"), True)
        put(f"tiff_{size[0]}.tiff", encode(noisy(size), "TIFF"), True)
        put(f"tiff16_{size[0]}.tif", encode(noisy(size, "I;16"), "TIFF"), True)
        put(f"tiff_float_{size[0]}.tif", encode(noisy(size, "F"), "TIFF"), True)
        if "WEBP" in Image.SAVE:
            put(f"webp_{size[0]}.webp", encode(noisy(size, "RGBA"), "WEBP"), True)

    png = encode(noisy((32, 32)), "PNG")
    jpeg = encode(noisy((32, 32)), "JPEG")
    for frac in [0.02, 0.1, 0.3, 0.5, 0.7, 0.9]:
        put(f"trunc_png_{int(frac * 100)}.png", png[: int(len(png) * frac)], False)
        put(f"trunc_jpeg_{int(frac * 100)}.jpg", jpeg[: int(len(jpeg) * frac)], False)
    for cut in [1, 8, 16, 33]:
        put(f"trunc_png_head_{cut}.png", png[:cut], False)
    for ext in ["png", "jpg", "gif", "bmp", "webp", "tiff"]:
        put(f"zero.{ext}", b"", False)
    for ext in ["png", "jpg", "gif"]:
        put(f"text.{ext}", b"This is a text file pretending to be an image.\n" * 3, False)
    rng = np.random.default_rng(9)
    for i, ext in enumerate(["png", "jpg", "bmp", "tiff", "gif", "webp", "png", "jpg"]):
        put(f"random{i}.{ext}", rng.integers(0, 256, 500 + i * 37, dtype=np.uint8).tobytes(), False)
    put("png_sig_garbage.png", b"\x89PNG\r\n\x1a\n" + b"\xff" * 64, False)
    put("jpeg_soi_garbage.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 64, False)
    for w, h in [(10_000, 10_000), (100_000, 100_000), (65_535, 65_535), (1_000_000, 100)]:
        put(f"bomb_{w}x{h}.png", bomb_png(w, h), False)
    put("bomb.gif", b"GIF89a" + struct.pack("<HH", 65535, 65535) + b"\x00\x00\x00;", False)
    for ext in ["txt", "csv", "json", "py", "md"]:
        put(f"notes.{ext}", b"a,b\n1,2\n", False)
    put("._resource_fork.png", b"\x00\x05\x16\x07", False)
    put(".DS_Store", b"\x00\x00\x00\x01Bud1", False)

    if hasattr(os, "mkfifo"):
        os.mkfifo(root / "pipe.png")  # opening it would block forever
        bad.add("pipe.png")
    os.symlink(root / "loopB.png", root / "loopA.png")
    os.symlink(root / "loopA.png", root / "loopB.png")
    os.symlink(root / "missing.png", root / "dangling.png")
    os.symlink(root, root / "self_link")
    bad |= {"loopA.png", "loopB.png", "dangling.png", "self_link"}
    (root / "folder.png").mkdir()  # a folder with an image name: walked, holds nothing
    return good, bad


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile") / "corpus"
    good, bad = build_corpus(root)
    assert len(good) + len(bad) >= 100
    return root, good, bad


def test_corpus_loads_good_files_and_reports_every_bad_one(corpus):
    root, good, bad = corpus
    start = time.monotonic()
    ds = open_dataset(root)
    assert time.monotonic() - start < 30
    reasons = {s.path: s.reason for s in ds.skipped}
    assert set(reasons) == bad, set(reasons) ^ bad
    assert all(r.strip() for r in reasons.values())
    assert len(ds) == len(good) and ds.data.dtype == torch.uint8 and ds.channels == 3
    assert "decompression bomb" in reasons["bomb_100000x100000.png"]
    assert "symbolic link loop" in reasons["loopA.png"] and "loop" in reasons["self_link"]
    assert "not a regular file" in reasons.get("pipe.png", "not a regular file")


def test_corpus_with_size_and_grey(corpus):
    root, good, bad = corpus
    ds = open_dataset(root, size=8, channels=1)
    assert tuple(ds.data.shape) == (len(good), 1, 8, 8)
    assert {s.path for s in ds.skipped} == bad


def test_corpus_zipped(corpus, tmp_path):
    root, good, bad = corpus
    archive = tmp_path / "corpus.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(root.iterdir()):
            if path.is_file() and not path.is_symlink() and path.stat().st_size < 10**6:
                zf.write(path, f"corpus/{path.name}")
    ds = open_dataset(archive, size=8)
    assert len(ds) == len(good)
    assert {s.path.split("/", 1)[1] for s in ds.skipped} == {
        n for n in bad if (root / n).is_file() and not (root / n).is_symlink()
    }


def test_each_bad_file_alone_gives_one_dataset_error(corpus):
    root, _good, bad = corpus
    for name in sorted(bad):
        with pytest.raises(DatasetError) as err:
            open_dataset([root / name])
        assert name in str(err.value)


def test_randomly_damaged_files_are_each_loaded_or_reported(tmp_path):
    rng = np.random.default_rng(11)
    sources = [encode(noisy((24, 24), "P" if fmt == "GIF" else "RGB"), fmt) for fmt in ["PNG", "JPEG", "GIF", "BMP"]]
    for i in range(60):
        data = np.frombuffer(sources[i % 4], dtype=np.uint8).copy()
        flips = rng.integers(0, len(data), size=1 + i % 6)
        data[flips] = rng.integers(0, 256, size=len(flips), dtype=np.uint8)
        if i % 3 == 0:
            data = data[: rng.integers(1, len(data))]
        (tmp_path / f"fuzz{i:02d}.{['png', 'jpg', 'gif', 'bmp'][i % 4]}").write_bytes(data.tobytes())
    Image.new("RGB", (24, 24)).save(tmp_path / "intact.png")
    ds = open_dataset(tmp_path, size=16)
    assert len(ds) >= 1 and len(ds) + len(ds.skipped) == 61


# ---------------------------------------------------------------- one test per hostile item


def test_bomb_is_refused_from_the_header_before_decoding(tmp_path, monkeypatch):
    decoded: list[tuple[int, int]] = []
    real_load = ImageFile.ImageFile.load

    def spy(self):
        decoded.append(self.size)
        return real_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    (tmp_path / "bomb.png").write_bytes(bomb_png(100_000, 100_000))
    Image.new("L", (300, 300)).save(tmp_path / "big.png")
    Image.new("L", (20, 20), 90).save(tmp_path / "small.png")
    before = Image.MAX_IMAGE_PIXELS
    ds = open_dataset(tmp_path, max_pixels=50_000)
    assert len(ds) == 1 and Image.MAX_IMAGE_PIXELS == before
    reasons = {s.path: s.reason for s in ds.skipped}
    assert "decompression bomb" in reasons["bomb.png"] and "decompression bomb" in reasons["big.png"]
    assert set(decoded) == {(20, 20)}  # Pillow may call load() more than once per image


def test_pillow_bomb_warning_is_an_error_inside_the_guard(tmp_path):
    Image.new("L", (300, 300)).save(tmp_path / "big.png")
    with pil_guard(60_000), pytest.raises(Image.DecompressionBombWarning):
        Image.open(tmp_path / "big.png")


@pytest.mark.parametrize("fmt,ext", [("PNG", "png"), ("JPEG", "jpg")])
def test_truncated_files(tmp_path, fmt, ext):
    data = encode(noisy((24, 24)), fmt)
    Image.new("RGB", (24, 24)).save(tmp_path / f"ok.{ext}")
    (tmp_path / f"cut.{ext}").write_bytes(data[: len(data) * 2 // 3])
    ds = open_dataset(tmp_path)
    assert len(ds) == 1 and "truncated" in ds.skipped[0].reason.lower()


def test_zero_byte_and_text_named_png(tmp_path):
    Image.new("RGB", (8, 8)).save(tmp_path / "ok.png")
    (tmp_path / "zero.png").write_bytes(b"")
    (tmp_path / "text.png").write_text("hello")
    reasons = {s.path: s.reason for s in open_dataset(tmp_path).skipped}
    assert reasons == {
        "zero.png": "empty file (0 bytes)",
        "text.png": "not a readable image (unknown format or corrupt header)",
    }


def test_16_bit_png_is_scaled_not_clipped(tmp_path):
    values = np.array([[0, 257 * 128, 65535, 1000]], dtype=np.uint16).repeat(4, axis=0)
    Image.fromarray(values).save(tmp_path / "deep.png")
    ds = open_dataset(tmp_path)
    assert ds.channels == 1 and ds.data[0, 0, 0].tolist() == [0, 128, 255, 4]


def test_cmyk_jpeg_becomes_rgb(tmp_path):
    Image.new("RGB", (16, 16), (255, 0, 0)).convert("CMYK").save(tmp_path / "cmyk.jpg")
    ds = open_dataset(tmp_path)
    r, g, b = ds.data[0, :, 8, 8].tolist()
    assert ds.channels == 3 and r > 200 and g < 60 and b < 60


def test_palette_with_transparency_is_flattened_on_white(tmp_path):
    img = Image.new("P", (8, 8), 1)
    img.putpalette([0, 0, 0, 200, 0, 0] + [0] * 762)
    img.paste(0, (0, 0, 4, 8))  # left half uses the transparent index
    img.save(tmp_path / "sprite.png", transparency=0)
    ds = open_dataset(tmp_path)
    assert ds.data[0, :, 4, 1].tolist() == [255, 255, 255] and ds.data[0, :, 4, 6].tolist() == [200, 0, 0]


def test_one_by_one_images_are_resized(tmp_path):
    for i in range(3):
        Image.new("RGB", (12, 12), (i, i, i)).save(tmp_path / f"n{i}.png")
    Image.new("RGB", (1, 1), (250, 10, 10)).save(tmp_path / "dot.png")
    ds = open_dataset(tmp_path)
    assert tuple(ds.data.shape) == (4, 3, 12, 12) and ds.data[0, 0].min() > 240


def test_symlink_loops_do_not_hang(tmp_path):
    Image.new("RGB", (8, 8)).save(tmp_path / "ok.png")
    sub = tmp_path / "sub"
    sub.mkdir()
    os.symlink(tmp_path, sub / "up")  # a folder link back to the root
    os.symlink(sub / "b.png", sub / "a.png")
    os.symlink(sub / "a.png", sub / "b.png")
    ds = open_dataset(tmp_path)
    reasons = {s.path: s.reason for s in ds.skipped}
    assert len(ds) == 1 and "loop" in reasons["sub/up"] and reasons["sub/a.png"] == "symbolic link loop"


def test_unreadable_file(tmp_path, monkeypatch):
    Image.new("RGB", (8, 8)).save(tmp_path / "ok.png")
    locked = tmp_path / "locked.png"
    Image.new("RGB", (8, 8)).save(locked)
    locked.chmod(0)
    if os.geteuid() == 0:  # root reads anything: simulate the permission error instead
        real = images_mod._open_fd

        def deny(path):
            if Path(path) == locked:
                raise PermissionError(13, "Permission denied", str(path))
            return real(path)

        monkeypatch.setattr(images_mod, "_open_fd", deny)
    try:
        ds = open_dataset(tmp_path)
    finally:
        locked.chmod(0o644)
    assert len(ds) == 1 and ds.skipped[0].reason == "cannot read: permission denied"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_fifo_named_png_does_not_block(tmp_path):
    Image.new("RGB", (8, 8)).save(tmp_path / "ok.png")
    os.mkfifo(tmp_path / "pipe.png")
    start = time.monotonic()
    ds = open_dataset(tmp_path)
    assert time.monotonic() - start < 10 and len(ds) == 1 and "not a regular file" in ds.skipped[0].reason


def test_non_image_files_are_reported(tmp_path):
    Image.new("RGB", (8, 8)).save(tmp_path / "ok.png")
    for name in ["labels.csv", "model.pt", "Makefile"]:
        (tmp_path / name).write_text("x")
    reasons = {s.path: s.reason for s in open_dataset(tmp_path).skipped}
    assert reasons["Makefile"] == "not an image file (no extension)" and "(.csv)" in reasons["labels.csv"]


def test_zip_slip_members_are_rejected_and_nothing_is_written(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    archive = work / "evil.zip"
    good = encode(noisy((8, 8)), "PNG")
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("good.png", good)
        for name in [
            "../evil.png",
            "../../evil2.png",
            "a/../../evil3.png",
            "/tmp/evil4.png",
            "C:/evil5.png",
            "..\\evil6.png",
        ]:
            zf.writestr(zipfile.ZipInfo(name), good)  # ZipInfo keeps the name as given
    snapshot = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    ds = open_dataset(archive)
    assert len(ds) == 1
    reasons = [s.reason for s in ds.skipped]
    assert len(reasons) == 6 and all("zip-slip" in r for r in reasons), reasons
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == snapshot
    assert not Path("/tmp/evil4.png").exists()
    assert unsafe_member("fine/sub/x.png") is None and unsafe_member("x\x00.png") is not None


def test_nested_zip_is_reported(tmp_path):
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("x.png", encode(noisy((8, 8)), "PNG"))
    with zipfile.ZipFile(tmp_path / "outer.zip", "w") as zf:
        zf.writestr("y.png", encode(noisy((8, 8)), "PNG"))
        zf.writestr("inner.zip", inner.getvalue())
    ds = open_dataset(tmp_path / "outer.zip")
    assert len(ds) == 1 and "nested archive" in ds.skipped[0].reason
    with zipfile.ZipFile(tmp_path / "only_nested.zip", "w") as zf:
        zf.writestr("inner.zip", inner.getvalue())
    with pytest.raises(DatasetError, match="nested archive"):
        open_dataset(tmp_path / "only_nested.zip")


def test_corrupt_zip_and_oversized_member(tmp_path):
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04" + b"\x00" * 50)
    with pytest.raises(DatasetError, match="zip"):
        open_dataset(tmp_path / "broken.zip")
    with zipfile.ZipFile(tmp_path / "big.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.png", b"\x00" * 100_000)  # compresses to ~100 bytes
    skipped = []
    with zipfile.ZipFile(tmp_path / "big.zip") as zf:
        assert zip_members(zf, LoadOptions(max_file_bytes=10_000), skipped) == {}
    assert "over the 10,000-byte limit" in skipped[0].reason


class Evil:
    """Unpickling this with plain pickle would run a shell command."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_restricted_unpickler_refuses_code_execution(tmp_path):
    marker = tmp_path / "pwned"
    folder = tmp_path / "cifar"
    folder.mkdir()
    (folder / "data_batch_1").write_bytes(pickle.dumps({"data": Evil(marker), "labels": [0]}))
    with pytest.raises(DatasetError) as err:
        open_dataset(folder)
    assert "refused to load" in str(err.value) and "system" in str(err.value)
    assert not marker.exists()
    # A good batch beside it still loads; the evil one is reported.
    good = {"data": np.zeros((2, 3072), np.uint8), "labels": [1, 2]}
    (folder / "data_batch_2").write_bytes(pickle.dumps(good))
    ds = open_dataset(folder)
    assert len(ds) == 2 and "refused" in ds.skipped[0].reason and not marker.exists()


@pytest.mark.parametrize(
    "payload",
    [
        pickle.dumps(Evil(Path("/nonexistent/never"))),
        b"cbuiltins\neval\n(S'1+1'\ntR.",  # protocol 0: builtins.eval("1+1")
        b"csubprocess\nPopen\n(S'true'\ntR.",
        pickle.dumps(np.array([1, None], dtype=object)),
        pickle.dumps(np.zeros(2, dtype=[("a", "O")])),
    ],
)
def test_restricted_unpickler_allow_list(payload):
    with pytest.raises(pickle.UnpicklingError, match="refused"):
        safe_loads(payload)


def test_restricted_unpickler_allows_plain_data():
    value = {"a": [1, 2.5, "x", b"y", (None, True)], "s": {1, 2}, "arr": np.arange(6, dtype=np.uint8).reshape(2, 3)}
    for protocol in (2, 4, 5):
        out = safe_loads(pickle.dumps(value, protocol=protocol))
        assert out["a"] == value["a"] and out["s"] == {1, 2} and np.array_equal(out["arr"], value["arr"])


def test_hostile_idx_headers(tmp_path):
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03" + struct.pack(">III", 2**32 - 1, 28, 28))
    start = time.monotonic()
    with pytest.raises(DatasetError, match="more than any IDX set holds"):
        open_dataset(tmp_path)
    assert time.monotonic() - start < 5
    (tmp_path / "train-images-idx3-ubyte").unlink()
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b\x08\x00" + b"\x00" * 30)
    with pytest.raises(DatasetError, match="cannot read"):
        open_dataset(tmp_path)


def test_hostile_arrays(tmp_path):
    buf = io.BytesIO()
    np.save(buf, np.zeros((100, 784), np.uint8))
    (tmp_path / "cut.npy").write_bytes(buf.getvalue()[:5000])
    (tmp_path / "garbage.npy").write_bytes(b"\x93NUMPY garbage")
    np.save(tmp_path / "empty.npy", np.zeros((0, 28, 28), np.uint8))
    np.save(tmp_path / "scalar.npy", np.float32(3))
    np.savez(tmp_path / "many.npz", a=np.zeros((2, 4, 4)), b=np.zeros((3, 4, 4)))
    for name in ["cut.npy", "garbage.npy", "empty.npy", "scalar.npy", "many.npz"]:
        with pytest.raises(DatasetError) as err:
            open_dataset(tmp_path / name)
        assert name in str(err.value)


def test_the_quick_extension_check_agrees_with_splitext():
    from studio.data.decode.collection import is_metadata
    from studio.data.decode.images import is_image_name
    from studio.data.sources.folders import split_candidates

    names = ["a.png", "A.JPG", ".png", "..png", "x..png", "d.jpg/file", "d/.png", "d/..jpeg", "d/x.JpEg",
             "noext", "trail.", "._a.png", "__MACOSX/a.png", "a.png.txt", "a.tar.gz", "dir.d/b.webp", "b.tif"]
    expected = [n for n in names if not is_metadata(n) and is_image_name(n)]
    assert split_candidates(names, []) == expected
